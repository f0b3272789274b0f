"""A synthesized CDK app (its cloud assembly, `cdk.out`) read without the CDK: the logical id a
construct path gets, and the asset directory a function's code comes from.

A plain `cdk.App()` synthesized by `python app.py` writes neither `aws:cdk:path` nor
`aws:asset:path` into the template's metadata (the CDK CLI's `cdk synth` asks for both through
its context); these two give the same answers from what every synthesis writes.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from pathlib import Path
from typing import Any

HIDDEN_ID, HIDDEN_FROM_HUMAN_ID = "Default", "Resource"
HASH_LEN, MAX_HUMAN_LEN, MAX_ID_LEN = 8, 240, 255
ASSET_PATH = "aws:asset:path"


def _alphanumeric(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", text)


def make_unique_id(components: list[str]) -> str:
    """The logical id CDK gives the construct at `components` (its path below the stack): a
    port of `makeUniqueId` in aws-cdk-lib/core/lib/private/uniqueid.ts (aws/aws-cdk): `Default`
    is dropped; a single component is its own id; otherwise the human-readable components
    (`Resource` hidden, a component the previous one ends with skipped) and 8 hex digits of the
    MD5 of the whole path."""
    components = [c for c in components if c != HIDDEN_ID]
    if not components:
        raise ValueError("a construct path has at least one component")
    if len(components) == 1 and len(_alphanumeric(components[0])) <= MAX_ID_LEN:
        return _alphanumeric(components[0])
    digest = hashlib.md5("/".join(components).encode(), usedforsecurity=False).hexdigest()
    human: list[str] = []
    for component in components:
        if not human or not human[-1].endswith(component):
            human.append(component)
    readable = "".join(_alphanumeric(c) for c in human if c != HIDDEN_FROM_HUMAN_ID)
    return readable[:MAX_HUMAN_LEN] + digest[:HASH_LEN].upper()


def construct_logical_id(construct_path: str) -> str:
    """The logical id of an L2 construct's resource (`<path>/Resource`), e.g. a `Table`'s."""
    return make_unique_id([*construct_path.strip("/").split("/"), HIDDEN_FROM_HUMAN_ID])


def asset_directories(assembly: Path) -> dict[str, Path]:
    """Every file asset of the cloud assembly's asset manifests (`*.assets.json`): the S3 object
    key a template names (a function's `Code.S3Key`) -> the directory or file in `assembly`."""
    found: dict[str, Path] = {}
    for manifest in sorted(assembly.glob("*.assets.json")):
        try:
            files = json.loads(manifest.read_text()).get("files") or {}
        except (OSError, ValueError):
            continue  # not an asset manifest: the function's error names what is missing
        for asset in files.values():
            source = (asset.get("source") or {}).get("path")
            for destination in (asset.get("destinations") or {}).values():
                key = destination.get("objectKey")
                if isinstance(source, str) and isinstance(key, str):
                    found[key] = assembly / source
    return found


def with_asset_paths(template: dict[str, Any], assembly: Path) -> dict[str, Any]:
    """The template with `aws:asset:path` metadata on each Lambda function whose code is a file
    asset of the assembly beside it (as `cdk synth` would have written it); others unchanged."""
    assets: dict[str, Path] | None = None
    out = template
    for logical_id, resource in (template.get("Resources") or {}).items():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::Lambda::Function":
            continue
        if ASSET_PATH in (resource.get("Metadata") or {}):
            continue
        key = ((resource.get("Properties") or {}).get("Code") or {}).get("S3Key")
        assets = asset_directories(assembly) if assets is None else assets
        if not isinstance(key, str) or key not in assets:
            continue
        if out is template:
            out = copy.deepcopy(template)
        metadata = out["Resources"][logical_id].setdefault("Metadata", {})
        metadata[ASSET_PATH] = str(assets[key])
    return out
