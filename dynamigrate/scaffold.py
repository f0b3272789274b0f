"""`dynamigrate new`: add a migration to a template, keeping the user's formatting and comments.

The resource is inserted as text at the end of the template's `Resources` block (YAML), so nothing
else in the file changes. A `function` migration also gets its transform module, a test for it,
and the `AWS::Serverless::Function` that runs it.
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dynamigrate.data_files import KeySpec
from dynamigrate.scaffold_shapes import SHAPES, TESTS, TRANSFORMS, collections_source
from dynamigrate.templates import TemplateError, load_template
from macro.contract import validate

KINDS = ("update", "delete", "function")
_TOP_LEVEL = re.compile(r"^[A-Za-z][A-Za-z0-9]*\s*:")


class ScaffoldError(Exception):
    """The migration cannot be added (bad name, unknown table, template not editable)."""


@dataclass(frozen=True)
class NewMigration:
    logical_id: str
    migration_id: str
    created: list[Path]


def slug(name: str) -> str:
    text = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not text:
        raise ScaffoldError(f"NAME {name!r}: use letters or digits, e.g. add-status")
    return text[:60]


# cfn-lint checks the template before the macro adds the ServiceToken (cfn-lint runs no custom
# transform: aws-cloudformation/cfn-lint issue 4020); its maintainers' advice is to ignore the
# rule for the resource; `dynamigrate lint` checks the expanded template in full.
LINT_METADATA = (
    "    Metadata:  # the macro adds ServiceToken, which cfn-lint cannot know (README: Linting)\n"
    "      cfn-lint: {config: {ignore_checks: [E3003]}}\n"
)


def camel(text: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", text) if part)


def _body(kind: str, table: str, migration_id: str, logical_id: str, shape: str = "item") -> str:
    head = (
        f"  {logical_id}:\n"
        f"    Type: Custom::DynamoMigration\n"
        f"{LINT_METADATA}"
        f"    Properties:\n"
        f"      TableName: !Ref {table}\n"
        f"      MigrationId: {migration_id}\n"
        f"      Description: TODO say what changes and why\n"
    )
    if kind == "update":
        return head + (
            "      Up:\n"
            "        Update:\n"
            '          Expression: "SET #attr = :value"\n'
            '          Condition: "attribute_not_exists(#attr)"\n'
            '          Names: {"#attr": new_attribute}\n'
            '          Values: {":value": initial}\n'
            "      Down:\n"
            "        Update:\n"
            '          Expression: "REMOVE #attr"\n'
            '          Names: {"#attr": new_attribute}\n'
        )
    if kind == "delete":
        return head + (
            "      Source:\n"
            "        Scan:\n"
            '          Filter: "#attr = :value"\n'
            '          Names: {"#attr": kind}\n'
            '          Values: {":value": obsolete}\n'
            "      Up:\n"
            "        Delete:\n"
            '          Condition: "#attr = :value"\n'
            '          Names: {"#attr": kind}\n'
            '          Values: {":value": obsolete}\n'
        )
    if shape == "collections":
        head += collections_source()
    return head + (
        "      Up:\n"
        f"        Function: !GetAtt {logical_id}Function.Arn\n"
        "\n"
        f"  {logical_id}Function:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        f"      Description: dynamigrate transform of {migration_id}\n"
        "      CodeUri: functions/\n"
        f"      Handler: {_module(migration_id)}.handler\n"
        "      Runtime: python3.12\n"
        "      Timeout: 60\n"
    )


def _module(migration_id: str) -> str:
    return "m_" + re.sub(r"[^a-z0-9]+", "_", migration_id.lower())


TRANSFORM = '''"""Transform of migration {migration_id} (DynamoDB JSON in, DynamoDB JSON out).

Return one result per item, in order: the new item, the item unchanged (nothing is written), or
None to delete it. Keep it pure and idempotent: a re-run gets items already transformed.
"""

from __future__ import annotations

from typing import Any

Item = dict[str, dict[str, Any]]


def transform(item: Item) -> Item | None:
    new = dict(item)
    # TODO: change `new`, e.g. new["status"] = {{"S": "PENDING"}}
    return new


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {{"items": [transform(item) for item in event["items"]]}}
'''

TRANSFORM_TEST = '''"""`pytest {directory}` checks the transform of {migration_id}, without AWS."""

from {module} import handler


def test_a_transformed_item_transforms_to_itself():
    page = {{"items": [{example}]}}  # an item of the table: its key attributes, typed
    once = handler(page, None)["items"]
    assert handler({{"items": once}}, None)["items"] == once
'''


EXAMPLE_VALUES = {"S": {"S": "example"}, "N": {"N": "1"}, "B": {"B": "AA=="}}


def _example(table: Any) -> str:
    """An item with the table's key attributes, of their declared types (pk alone if unclear)."""
    keys = KeySpec.of_table(table)
    types = keys.types if keys else {"pk": "S"}
    return json.dumps({name: EXAMPLE_VALUES[kind] for name, kind in types.items()})


def _insert(text: str, block: str) -> str:
    """`block` appended to the end of the top-level Resources mapping of YAML `text`."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if re.match(r"^Resources\s*:", line)), None)
    if start is None:
        raise ScaffoldError("the template has no top-level Resources: block")
    end = len(lines)
    for i in range(start + 1, len(lines)):
        if _TOP_LEVEL.match(lines[i]):
            end = i
            break
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    before, after = lines[:end], lines[end:]
    if before and not before[-1].endswith("\n"):
        before[-1] += "\n"
    separator = "\n" if after and after[0].strip() != "" else ""
    return "".join(before) + "\n" + block + separator + "".join(after)


def new_migration(
    template_path: Path,
    name: str,
    table: str,
    kind: str,
    now: datetime.datetime | None = None,
    shape: str = "item",
) -> NewMigration:
    """Add the migration to the template (and scaffold its function); return what was made.
    `shape` (a function's: dynamigrate.scaffold_shapes) is item, fanout or collections."""
    if kind not in KINDS:
        raise ScaffoldError(f"--kind {kind!r}: expected one of {', '.join(KINDS)}")
    if shape not in SHAPES:
        raise ScaffoldError(f"--shape {shape!r}: expected one of {', '.join(SHAPES)}")
    if shape != "item" and kind != "function":
        raise ScaffoldError(f"--shape {shape} is the shape of a transform: use --kind function")
    if template_path.suffix == ".json":
        raise ScaffoldError(f"{template_path}: new edits YAML templates (JSON has no comments)")
    try:
        template = load_template(template_path)
    except TemplateError as exc:
        raise ScaffoldError(str(exc)) from exc
    resources = template.get("Resources") or {}
    if (resources.get(table) or {}).get("Type") != "AWS::DynamoDB::Table":
        tables = sorted(k for k, v in resources.items() if v.get("Type") == "AWS::DynamoDB::Table")
        known = ", ".join(tables) or "none"
        raise ScaffoldError(
            f"--table {table}: not an AWS::DynamoDB::Table of the template ({known})"
        )
    stamp = (now or datetime.datetime.now(tz=datetime.UTC)).strftime("%Y-%m-%d-%H%M%S")
    migration_id = f"{stamp}-{slug(name)}"
    logical_id = f"{table}{camel(slug(name))}"[:255]
    if logical_id in resources or f"{logical_id}Function" in resources:
        raise ScaffoldError(
            f"the template already has a resource {logical_id}; choose another NAME"
        )
    text = template_path.read_text()
    updated = _insert(text, _body(kind, table, migration_id, logical_id, shape))
    created: list[Path] = []
    if kind == "function":
        directory = template_path.parent / "functions"
        module = _module(migration_id)
        files = {
            directory / f"{module}.py": TRANSFORMS.get(shape, TRANSFORM).format(
                migration_id=migration_id
            ),
            directory / f"test_{module}.py": TESTS.get(shape, TRANSFORM_TEST).format(
                migration_id=migration_id,
                module=module,
                directory=directory,
                example=_example(resources[table]),
            ),
        }
        for path in files:
            if path.exists():
                raise ScaffoldError(f"{path} exists already")
        directory.mkdir(exist_ok=True)
        for path, body in files.items():
            path.write_text(body)
            created.append(path)
    template_path.write_text(updated)
    problems = validate(
        logical_id, load_template(template_path)["Resources"][logical_id]["Properties"]
    )
    if problems:  # pragma: no cover - the scaffold itself is checked by the tests
        raise ScaffoldError("; ".join(str(p) for p in problems))
    return NewMigration(logical_id, migration_id, created)
