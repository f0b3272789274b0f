"""The `Custom::DynamoMigration` property contract and its validation.

Validation never raises: it returns every problem of one resource, each located by property path,
so `expand` can report all resources' problems at once.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable
from typing import Any

from macro.errors import Problem, located
from macro.expressions import check_expressions
from macro.item_collections import check_item_collections
from macro.state_machine import MAX_SEGMENTS
from macro.table_keys import table_keys
from macro.verify_checks import MAX_VIOLATIONS, verify_conflicts

INTRINSICS = frozenset(
    {
        "Ref",
        "Fn::GetAtt",
        "Fn::Sub",
        "Fn::ImportValue",
        "Fn::Join",
        "Fn::Select",
        "Fn::If",
        "Fn::FindInMap",
    }
)
MIGRATION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
NAME_PLACEHOLDER = re.compile(r"^#[A-Za-z0-9_]+$")
VALUE_PLACEHOLDER = re.compile(r"^:[A-Za-z0-9_]+$")
MAX_WRITES_PER_SECOND = 40_000  # the default on-demand table quota
MAX_PAGE_SIZE = 10_000

Check = Callable[[Any, str, list[tuple[str, str]]], None]


def is_intrinsic(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in INTRINSICS


_NO_SUB = "must not contain '${' (CloudFormation would substitute it)"


def _string(value: Any, path: str, out: list[tuple[str, str]]) -> None:
    if not isinstance(value, str) or not value.strip():
        out.append((path, f"must be a non-empty string, got {_show(value)}"))
    elif "${" in value:
        out.append((path, _NO_SUB))


def _substitutes(value: Any) -> bool:
    """Whether a plain value holds a string with '${' anywhere inside."""
    if isinstance(value, str):
        return "${" in value
    if isinstance(value, dict):
        return any(_substitutes(k) or _substitutes(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_substitutes(v) for v in value)
    return False


def _reference(value: Any, path: str, out: list[tuple[str, str]]) -> None:
    """A literal name/ARN, or an intrinsic (Ref, GetAtt, Sub, ...) CloudFormation resolves."""
    if is_intrinsic(value):
        return
    if not isinstance(value, str) or not value.strip():
        out.append((path, f"must be a name, an ARN or an intrinsic function, got {_show(value)}"))


def _bool(value: Any, path: str, out: list[tuple[str, str]]) -> None:
    if not isinstance(value, bool):
        out.append((path, f"must be true or false, got {_show(value)}"))


def _int_range(low: int, high: int) -> Check:
    def check(value: Any, path: str, out: list[tuple[str, str]]) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            out.append((path, f"must be an integer from {low} to {high}, got {_show(value)}"))

    return check


def _choice(*allowed: str) -> Check:
    def check(value: Any, path: str, out: list[tuple[str, str]]) -> None:
        if value not in allowed:
            out.append((path, f"must be one of {', '.join(allowed)}, got {_show(value)}"))

    return check


def _placeholders(pattern: re.Pattern[str], kind: str, values_are_strings: bool) -> Check:
    def check(value: Any, path: str, out: list[tuple[str, str]]) -> None:
        if not isinstance(value, dict):
            out.append((path, f"must be a map of {kind} placeholders, got {_show(value)}"))
            return
        for key, item in value.items():
            if not pattern.match(str(key)):
                example = "#name" if kind == "name" else ":value"
                out.append((f"{path}.{key}", f"is not a {kind} placeholder like {example}"))
            elif values_are_strings:
                _string(item, f"{path}.{key}", out)
            elif item is None or is_intrinsic(item):
                out.append(
                    (f"{path}.{key}", "must be a plain value (string, number, bool, list, map)")
                )
            elif not _finite(item):
                out.append((f"{path}.{key}", "numbers must be finite"))
            elif _substitutes(item):
                out.append((f"{path}.{key}", _NO_SUB))

    return check


NAMES = _placeholders(NAME_PLACEHOLDER, "name", values_are_strings=True)
VALUES = _placeholders(VALUE_PLACEHOLDER, "value", values_are_strings=False)

Shape = dict[
    str, tuple[Check | dict[str, Any], bool]
]  # property -> (check or nested shape, required)

SCAN: Shape = {
    "Segments": (_int_range(1, MAX_SEGMENTS), False),
    "Filter": (_string, False),
    "Names": (NAMES, False),
    "Values": (VALUES, False),
    "IndexName": (_string, False),
    "ConsistentRead": (_bool, False),
    "PageSize": (_int_range(1, MAX_PAGE_SIZE), False),
    "ItemCollections": (_bool, False),
}
QUERY: Shape = {
    "KeyCondition": (_string, True),
    "IndexName": (_string, False),
    "Filter": (_string, False),
    "Names": (NAMES, False),
    "Values": (VALUES, False),
    "ConsistentRead": (_bool, False),
    "PageSize": (_int_range(1, MAX_PAGE_SIZE), False),
    "ItemCollections": (_bool, False),
}
UPDATE: Shape = {
    "Expression": (_string, True),
    "Condition": (_string, False),
    "Names": (NAMES, False),
    "Values": (VALUES, False),
}
DELETE: Shape = {"Condition": (_string, False), "Names": (NAMES, False), "Values": (VALUES, False)}
VERIFY: Shape = {
    "Condition": (_string, True),
    "Names": (NAMES, False),
    "Values": (VALUES, False),
    "MaxViolations": (_int_range(0, MAX_VIOLATIONS), False),
}
OPERATIONS = {"Update": UPDATE, "Delete": DELETE, "Function": _reference}
# A Down may also say what a rollback does without an operation (macro.rollback): both take {}.
DOWNS = {**OPERATIONS, "Restore": {}, "Keep": {}}
SOURCES = {"Scan": SCAN, "Query": QUERY}

PROPERTIES: Shape = {
    "TableName": (_reference, True),
    "MigrationId": (_string, False),
    "Description": (_string, False),
    "Source": ({}, False),
    "Up": ({}, True),
    "Down": ({}, False),
    "Target": (_reference, False),
    "MaxWritesPerSecond": (_int_range(1, MAX_WRITES_PER_SECOND), False),
    "MaxConcurrency": (_int_range(1, MAX_SEGMENTS), False),
    "MaxCapacityPercent": (_int_range(1, 100), False),
    "Backup": (_choice("Auto", "Required", "None"), False),
    "Verify": ({}, False),
    "DryRun": (_bool, False),
    "Dispose": (_bool, False),
    "OnTimeout": (_choice("Fail", "Continue"), False),
    "ServiceTimeout": (_int_range(60, 3600), False),
}


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _unknown(name: str, known: list[str], path: str, out: list[tuple[str, str]]) -> None:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]}?" if close else f"; expected one of {', '.join(known)}"
    if not known:
        hint = f"; {path} takes none: write {{}}"
    out.append((f"{path}.{name}".lstrip("."), f"is not a known property{hint}"))


def _shape(value: Any, shape: Shape, path: str, out: list[tuple[str, str]]) -> None:
    if not isinstance(value, dict):
        out.append((path, f"must be a map, got {_show(value)}"))
        return
    for name, (check, required) in shape.items():
        here = f"{path}.{name}".lstrip(".")
        if name not in value:
            if required:
                out.append((here, "is required"))
        elif callable(check):
            check(value[name], here, out)
    for name in value:
        if name not in shape:
            _unknown(str(name), list(shape), path, out)


def _one_of(value: Any, options: dict[str, Any], path: str, out: list[tuple[str, str]]) -> None:
    """Exactly one key of `options`, validated against its shape."""
    if not isinstance(value, dict):
        out.append((path, f"must be a map with exactly one of {', '.join(options)}"))
        return
    present = [k for k in value if k in options]
    for name in value:
        if name not in options:
            _unknown(str(name), list(options), path, out)
    if len(present) != 1:
        if not [k for k in value if k not in options]:
            found = ", ".join(present) if present else "none"
            out.append((path, f"must have exactly one of {', '.join(options)} (found {found})"))
        return
    kind = present[0]
    check = options[kind]
    if callable(check):
        check(value[kind], f"{path}.{kind}", out)
    else:
        _shape(
            {} if value[kind] is None and kind in ("Delete", "Restore", "Keep") else value[kind],
            check,
            f"{path}.{kind}",
            out,
        )


def _index_names(properties: dict[str, Any], resources: dict[str, Any]) -> Any:
    """The table's key schemas for the expression checks; unknown indexes as problems."""
    keys = table_keys(properties.get("TableName"), resources)
    if keys is None:
        return None, []
    problems = []
    source = properties.get("Source")
    for kind, body in source.items() if isinstance(source, dict) else []:
        index = body.get("IndexName") if isinstance(body, dict) else None
        if isinstance(index, str) and keys.of(index) is None:
            known = ", ".join(keys.indexes) or "none"
            problems.append(
                (
                    f"Source.{kind}.IndexName",
                    f"{index!r} is not an index of {keys.logical_id} (its indexes: {known})",
                )
            )
    return keys.of, problems


def validate(
    logical_id: str, properties: Any, resources: dict[str, Any] | None = None
) -> list[Problem]:
    """Every problem of one Custom::DynamoMigration, each at its property.

    `resources` (the template's) lets the expression checks use the table's key schema.
    """
    out: list[tuple[str, str]] = []
    if not isinstance(properties, dict):
        return [located(logical_id, "", "Properties must be a map")]
    _shape(properties, PROPERTIES, "", out)
    if "Source" in properties:
        _one_of(properties["Source"], SOURCES, "Source", out)
    up = properties.get("Up")
    misplaced = [k for k in ("Restore", "Keep") if isinstance(up, dict) and k in up]
    for kind in misplaced:
        out.append((f"Up.{kind}", "is only allowed in Down (what a rollback does), not in Up"))
    if "Up" in properties and not misplaced:
        _one_of(up, OPERATIONS, "Up", out)
    if "Down" in properties:
        _one_of(properties["Down"], DOWNS, "Down", out)
    if "Verify" in properties:
        _shape(properties["Verify"], VERIFY, "Verify", out)
        out.extend(verify_conflicts(properties))
    mid = properties.get("MigrationId", logical_id)
    if isinstance(mid, str) and not MIGRATION_ID.match(mid):
        path = "MigrationId" if "MigrationId" in properties else ""
        out.append((path, f"{mid!r} must be 1-100 letters, digits, '.', '_' or '-'"))
    if "Target" in properties and not (
        isinstance(properties.get("Up"), dict) and "Function" in properties["Up"]
    ):
        out.append(("Target", "is only allowed with Up.Function (items are copied through it)"))
    out.extend(check_item_collections(properties))
    keys_of, index_problems = _index_names(properties, resources or {})
    out.extend(index_problems)
    # One mistake, one message: a section the contract already faults is not parsed further.
    faulted = {path.split(".")[0] for path, _ in out}
    expressions = check_expressions(properties, keys_of, skip=faulted)
    return [located(logical_id, path, message) for path, message in out] + [
        problem.of(logical_id) for problem in expressions
    ]
