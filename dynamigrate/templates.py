"""Loading CloudFormation templates (YAML or JSON, short-form tags) with cfn-lint's decoder."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dynamigrate.cdk_assembly import construct_logical_id
from macro.errors import Problem


class TemplateError(Exception):
    """A template file that cannot be read or parsed."""


@dataclass(frozen=True)
class Located:
    """A 1-based line and column of a template file."""

    line: int
    column: int


def load_template(path: Path) -> dict[str, Any]:
    """The template as plain dicts and lists (`!Ref X` becomes `{"Ref": "X"}`)."""
    return load_decoded(path)[0]


def load_decoded(path: Path) -> tuple[dict[str, Any], Any]:
    """The template as plain dicts and lists, and as cfn-lint decoded it (with each key's mark)."""
    from cfnlint.decode import decode_str  # noqa: PLC0415 - heavy; only when a template is read

    try:
        text = Path(path).read_text(encoding="utf-8-sig")  # a Windows editor's BOM is no error
    except OSError as exc:
        raise TemplateError(f"{path}: cannot read ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise TemplateError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    template, matches = decode_str(text)
    if matches:
        first = matches[0]  # the YAML or JSON error, at its line and column
        message = _tab(text, first.linenumber, first.columnnumber) or first.message
        raise TemplateError(f"{path}:{first.linenumber}:{first.columnnumber}: {message}")
    if not isinstance(template, dict):
        raise TemplateError(f"{path}: not a template (expected a map)")
    plain: dict[str, Any] = json.loads(json.dumps(template))
    return plain, template


def _tab(text: str, line: int, column: int) -> str | None:
    """YAML's error for a tab, said plainly (YAML indents with spaces only)."""
    lines = text.splitlines()
    if not 0 < line <= len(lines) or "\t" not in lines[line - 1][: max(column, 1)]:
        return None
    at = lines[line - 1].index("\t") + 1
    return f"found a tab character at column {at}: YAML indents with spaces only; use spaces"


def mark(decoded: Any, path: Sequence[Any]) -> Located:
    """The line of the deepest element of `path` present in the decoded template."""
    best = Located(1, 1)
    node = decoded
    for key in path:
        if isinstance(node, dict):
            found = next((k for k in node if k == key), None)
            if found is None:
                break
            start = getattr(found, "start_mark", None)
            if start is not None:
                best = Located(start.line + 1, start.column + 1)
            node = node[found]
        elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
            node = node[key]
            start = getattr(node, "start_mark", None)
            if start is not None:
                best = Located(start.line + 1, start.column + 1)
        else:
            break
    return best


def problem_path(problem: Problem) -> list[str]:
    """Where a problem is in the template, as a path of keys (cfn-lint's path)."""
    if problem.logical_id is None:
        return [problem.section] if problem.line is None else []
    where = ["Resources", problem.logical_id]
    return where + (["Properties", *problem.property_path] if problem.path else [])


def located_problem(decoded: Any, problem: Problem) -> Located:
    """The line and column a problem is at in the decoded template."""
    if problem.logical_id is None and problem.line is not None:
        return Located(problem.line, 1)
    return mark(decoded, problem_path(problem))


def table_logical_id(template: dict[str, Any], given: str) -> str:
    """A table's logical id from `given`: the logical id itself, or in a synthesized CDK
    template the construct's id or path below the stack (its `aws:cdk:path` is
    `<Stack>/<given>/Resource`; without that metadata, as a plain `cdk.App()` writes it, the
    logical id CDK derives from that path)."""
    resources = template.get("Resources") or {}
    if given in resources:
        return given
    for logical_id, resource in resources.items():
        path = ((resource or {}).get("Metadata") or {}).get("aws:cdk:path", "")
        if isinstance(path, str) and path.split("/")[1:] == [*given.split("/"), "Resource"]:
            return str(logical_id)
    try:
        derived = construct_logical_id(given)
    except ValueError:
        return given
    return derived if derived in resources else given
