"""The key schema of a migration's table and its indexes, where the template declares them.

A migration's TableName is usually `!Ref` a table of the same template, or that table's literal
TableName: then the template says which attributes are keys, and the key condition and update
checks can use it. Anything else (an import, a parameter, a table of another stack) is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from macro.expressions import KeySchema

TABLE_TYPES = ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")
SIMPLE_TABLE = "AWS::Serverless::SimpleTable"


@dataclass(frozen=True)
class TableKeys:
    logical_id: str
    table: KeySchema
    indexes: dict[str, KeySchema] = field(default_factory=dict)

    def of(self, index: str | None) -> KeySchema | None:
        return self.table if index is None else self.indexes.get(index)


def _schema(value: Any) -> KeySchema | None:
    if not isinstance(value, list):
        return None
    roles = {}
    for element in value:
        if not isinstance(element, dict):
            return None
        name, role = element.get("AttributeName"), element.get("KeyType")
        if not isinstance(name, str) or role not in ("HASH", "RANGE"):
            return None
        roles[role] = name
    if "HASH" not in roles:
        return None
    return KeySchema(roles["HASH"], roles.get("RANGE"))


def _indexes(props: dict[str, Any]) -> dict[str, KeySchema] | None:
    found: dict[str, KeySchema] = {}
    for prop in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        declared = props.get(prop, [])
        if not isinstance(declared, list):
            return None
        for index in declared:
            name = index.get("IndexName") if isinstance(index, dict) else None
            schema = _schema(index.get("KeySchema")) if isinstance(index, dict) else None
            if not isinstance(name, str) or schema is None:
                return None  # an intrinsic or a mistake cfn-lint reports: say nothing
            found[name] = schema
    return found


def _keys(logical_id: str, resource: dict[str, Any]) -> TableKeys | None:
    props = resource.get("Properties")
    if not isinstance(props, dict):
        return None
    if resource.get("Type") == SIMPLE_TABLE:
        primary = props.get("PrimaryKey", {"Name": "id"})
        name = primary.get("Name") if isinstance(primary, dict) else None
        return TableKeys(logical_id, KeySchema(name)) if isinstance(name, str) else None
    schema = _schema(props.get("KeySchema"))
    indexes = _indexes(props)
    if schema is None or indexes is None:
        return None
    return TableKeys(logical_id, schema, indexes)


def table_keys(table_name: Any, resources: dict[str, Any]) -> TableKeys | None:
    """The keys of the table a migration's TableName names, when the template declares it."""
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict) or resource.get("Type") not in (
            *TABLE_TYPES,
            SIMPLE_TABLE,
        ):
            continue
        named = (resource.get("Properties") or {}).get("TableName")
        if table_name == {"Ref": logical_id} or (
            isinstance(table_name, str) and named == table_name
        ):
            return _keys(logical_id, resource)
    return None
