"""The normalized migration spec the macro renders into the state machine and the worker reads.

The spec uses the property names of the `Custom::DynamoMigration` contract, with intrinsics
already resolved (the state machine carries the resolved values).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from runner.errors import MigrationError

Direction = Literal["up", "down"]


@dataclass(frozen=True)
class Source:
    """Where items come from: a (parallel) Scan or a Query."""

    kind: Literal["Scan", "Query"]
    index_name: str | None = None
    key_condition: str | None = None
    filter: str | None = None
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    consistent_read: bool = False
    page_size: int | None = None
    item_collections: bool = False  # hand the function whole item collections (runner.collections)


@dataclass(frozen=True)
class Operation:
    """What happens to each item: exactly one of Update, Delete, Function; a `Down` may also be
    Restore (from the Up's before-images, runner.restore) or Keep (changes stay)."""

    kind: Literal["Update", "Delete", "Function", "Restore", "Keep"]
    expression: str | None = None
    condition: str | None = None
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    function: str | None = None


@dataclass(frozen=True)
class MigrationSpec:
    migration_id: str
    table_name: str
    source: Source
    up: Operation
    down: Operation | None = None
    target: str | None = None

    @property
    def restores(self) -> bool:
        """Whether a rollback restores the Up's before-images (Down absent or Restore)."""
        return self.down is None or self.down.kind == "Restore"

    def operation(self, direction: Direction) -> Operation:
        if direction == "up":
            return self.up
        if self.down is None:
            return Operation(kind="Restore")  # the default Down (README, "Lifecycle")
        return self.down


def _source(raw: dict[str, Any] | None) -> Source:
    if not raw:
        return Source(kind="Scan")
    if "Query" in raw:
        q = raw["Query"]
        return Source(
            kind="Query",
            index_name=q.get("IndexName"),
            key_condition=q["KeyCondition"],
            filter=q.get("Filter"),
            names=dict(q.get("Names", {})),
            values=dict(q.get("Values", {})),
            consistent_read=bool(q.get("ConsistentRead", False)),
            page_size=q.get("PageSize"),
            item_collections=bool(q.get("ItemCollections", False)),
        )
    s = raw.get("Scan", {})
    return Source(
        kind="Scan",
        index_name=s.get("IndexName"),
        filter=s.get("Filter"),
        names=dict(s.get("Names", {})),
        values=dict(s.get("Values", {})),
        consistent_read=bool(s.get("ConsistentRead", False)),
        page_size=s.get("PageSize"),
        item_collections=bool(s.get("ItemCollections", False)),
    )


def _operation(raw: dict[str, Any]) -> Operation:
    for kind in ("Restore", "Keep"):
        if kind in raw:
            return Operation(kind=kind)
    if "Update" in raw:
        u = raw["Update"]
        return Operation(
            kind="Update",
            expression=u["Expression"],
            condition=u.get("Condition"),
            names=dict(u.get("Names", {})),
            values=dict(u.get("Values", {})),
        )
    if "Delete" in raw:
        d = raw["Delete"] or {}
        return Operation(
            kind="Delete",
            condition=d.get("Condition"),
            names=dict(d.get("Names", {})),
            values=dict(d.get("Values", {})),
        )
    return Operation(kind="Function", function=raw["Function"])


def parse_spec(raw: dict[str, Any]) -> MigrationSpec:
    """Build a MigrationSpec from the rendered (already validated) spec object."""
    try:
        return MigrationSpec(
            migration_id=raw["MigrationId"],
            table_name=raw["TableName"],
            source=_source(raw.get("Source")),
            up=_operation(raw["Up"]),
            down=_operation(raw["Down"]) if raw.get("Down") else None,
            target=raw.get("Target"),
        )
    except (KeyError, TypeError) as exc:
        mid = raw.get("MigrationId", "?") if isinstance(raw, dict) else "?"
        raise MigrationError(f"Migration {mid}: malformed spec ({exc!r})") from exc
