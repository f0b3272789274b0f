"""A migration's capacity budget: the units per second it may take from its table and indexes.

Pure: the inputs are a DescribeTable answer, the migration's operation, the application's
consumption (runner.headroom reads it from CloudWatch) and the contract's caps.

- Capacity of a table or GSI (DescribeTable; Developer Guide "Understanding DynamoDB warm
  throughput", "DynamoDB maximum throughput for on-demand tables"): provisioned, its
  `ProvisionedThroughput`; on-demand, its `OnDemandThroughput` maximum when set, else its
  `WarmThroughput` (what it serves at once).
- Writes reach the base table and every GSI whose key or projected attributes they may change:
  such a write consumes write units on the index too, and an index short of write capacity
  throttles the table ("Provisioned throughput considerations for Global Secondary Indexes").
  A Delete or a Function may touch any attribute, so it reaches every GSI.
- The budget of each resource is `MaxCapacityPercent` of its capacity less what the application
  consumes there (so the application and the migration together stay within that share, and a
  busy hour slows the migration); the tightest resource governs. It never falls below
  `MIN_UNITS` so a migration always progresses, slowly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from runner.spec import Operation

DEFAULT_PERCENT = 50
MIN_UNITS = 1.0
Kind = Literal["read", "write"]

_WORDS = re.compile(r"#?[A-Za-z_][A-Za-z0-9_]*")
_KEYWORDS = {
    "SET",
    "REMOVE",
    "ADD",
    "DELETE",
    "if_not_exists",
    "list_append",
    "AND",
    "OR",
    "NOT",
    "BETWEEN",
    "IN",
    "size",
}


@dataclass(frozen=True)
class Resource:
    """The capacity of the table or one GSI, in units per second."""

    name: str  # "table Orders", "index ByStatus"
    index: str | None
    on_demand: bool
    read: float
    write: float


def _capacity(description: dict[str, Any], on_demand: bool) -> tuple[float, float]:
    if not on_demand:
        provisioned = description.get("ProvisionedThroughput") or {}
        return (
            float(provisioned.get("ReadCapacityUnits") or 0),
            float(provisioned.get("WriteCapacityUnits") or 0),
        )
    maximum = description.get("OnDemandThroughput") or {}
    warm = description.get("WarmThroughput") or {}
    # MaxRead/WriteRequestUnits of -1 means no maximum (OnDemandThroughput API reference).
    read = float(maximum.get("MaxReadRequestUnits") or -1)
    write = float(maximum.get("MaxWriteRequestUnits") or -1)
    return (
        read if read > 0 else float(warm.get("ReadUnitsPerSecond") or 0),
        write if write > 0 else float(warm.get("WriteUnitsPerSecond") or 0),
    )


def resources(table: dict[str, Any], reached: list[str] | None = None) -> list[Resource]:
    """The table and the GSIs in `reached` (all of them when None), from a TableDescription."""
    mode = (table.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
    on_demand = mode == "PAY_PER_REQUEST"
    out = [Resource(f"table {table['TableName']}", None, on_demand, *_capacity(table, on_demand))]
    for gsi in table.get("GlobalSecondaryIndexes") or []:
        if reached is None or gsi["IndexName"] in reached:
            name = gsi["IndexName"]
            out.append(Resource(f"index {name}", name, on_demand, *_capacity(gsi, on_demand)))
    return out


def attributes_written(operation: Operation) -> set[str] | None:
    """Top-level attributes an Update may change; None when any may (Delete, Function)."""
    if operation.kind != "Update" or not operation.expression:
        return None
    names = set()
    for word in _WORDS.findall(operation.expression):
        if word in _KEYWORDS:
            continue
        names.add(operation.names.get(word, word) if word.startswith("#") else word)
    return names


def indexes_reached(table: dict[str, Any], operation: Operation) -> list[str]:
    """The GSIs whose items a write of `operation` may put, change or remove."""
    written = attributes_written(operation)
    reached = []
    for gsi in table.get("GlobalSecondaryIndexes") or []:
        keys = {k["AttributeName"] for k in gsi.get("KeySchema", [])}
        projection = gsi.get("Projection") or {}
        kind = projection.get("ProjectionType", "ALL")
        if written is None or kind == "ALL":
            touched = written is None or bool(written)
        else:
            projected = keys | set(projection.get("NonKeyAttributes") or [])
            touched = bool(written & projected)
        if touched:
            reached.append(gsi["IndexName"])
    return reached


@dataclass(frozen=True)
class Budget:
    """Units per second the whole run may take, and why, in one line a user reads."""

    write: float
    read: float
    reason: str


def _allowed(capacity: float, used: float, percent: float) -> float:
    return max(MIN_UNITS, capacity * percent / 100 - used)


def budget(
    writes_to: list[Resource],
    reads_from: Resource,
    percent: float = DEFAULT_PERCENT,
    used: dict[tuple[str | None, Kind], float] | None = None,
) -> Budget:
    """The run's write and read budget: the tightest resource governs.

    `used` is the application's consumption per (index or None for the table, kind), units/s.
    """
    used = used or {}
    tightest = min(
        writes_to, key=lambda r: _allowed(r.write, used.get((r.index, "write"), 0), percent)
    )
    write_used = used.get((tightest.index, "write"), 0.0)
    write = _allowed(tightest.write, write_used, percent)
    read = _allowed(reads_from.read, used.get((reads_from.index, "read"), 0.0), percent)
    reason = (
        f"{tightest.name}: the application uses {write_used:,.0f} of {tightest.write:,.0f} "
        f"WCU/s, cap {percent:g} %"
    )
    return Budget(write, read, reason)


def read_limit(units_per_second: float, item_bytes: float, consistent: bool) -> int:
    """Items in one page that reads about one second of `units_per_second` (a read unit is
    4 KB strongly consistent, 8 KB eventually consistent: "Read/write capacity mode")."""
    per_unit = 4096 if consistent else 8192
    return max(1, int(units_per_second * per_unit / max(1.0, item_bytes)))
