"""Loading CloudFormation templates (YAML or JSON, short-form tags) with cfn-lint's decoder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class TemplateError(Exception):
    """A template file that cannot be read or parsed."""


def load_template(path: Path) -> dict[str, Any]:
    """The template as plain dicts and lists (`!Ref X` becomes `{"Ref": "X"}`)."""
    from cfnlint.decode import decode_str  # noqa: PLC0415 - heavy; only when a template is read

    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise TemplateError(f"{path}: cannot read ({exc.strerror})") from exc
    template, matches = decode_str(text)
    if matches:
        first = matches[0]  # the YAML or JSON error, at its line and column
        raise TemplateError(f"{path}:{first.linenumber}:{first.columnnumber}: {first.message}")
    if not isinstance(template, dict):
        raise TemplateError(f"{path}: not a template (expected a map)")
    plain: dict[str, Any] = json.loads(json.dumps(template))
    return plain


def table_logical_id(template: dict[str, Any], given: str) -> str:
    """A table's logical id from `given`: the logical id itself, or in a synthesized CDK
    template the construct's id (its `aws:cdk:path` is `<Stack>/<given>/Resource`)."""
    resources = template.get("Resources") or {}
    if given in resources:
        return given
    for logical_id, resource in resources.items():
        path = ((resource or {}).get("Metadata") or {}).get("aws:cdk:path", "")
        if isinstance(path, str) and path.split("/")[1:] == [given, "Resource"]:
            return str(logical_id)
    return given
