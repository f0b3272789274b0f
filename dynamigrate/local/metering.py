"""Adaptation 6 of dynamigrate.local.emulator: each DynamoDB request through the capacity model.

moto's side of dynamigrate.local.capacity (which holds the rules and their sources): which
resources a request reaches and what it costs, read from the request, moto's stored items before
and after it, and the response. A request the model refuses never reaches moto and answers
ProvisionedThroughputExceededException as DynamoDB does; a served one reports the units it
consumed when asked (`ReturnConsumedCapacity`, which moto answers with a constant).

Modelled: PutItem, UpdateItem, DeleteItem, GetItem, BatchWriteItem (as a whole request), the
Put, Update and Delete actions of TransactWriteItems (as a whole request, each at twice its
single write's units: a transaction "performs two underlying writes for every item", Developer
Guide, "Amazon DynamoDB Transactions: How it works", capacity management), Scan and Query; the
capacity of each table and GSI from CreateTable/UpdateTable/DescribeTable. Not modelled (free,
as moto serves them): a transaction's ConditionCheck (the runner sends none), BatchGetItem and
TransactGetItems (the runner reads with Scan, Query and GetItem).

The wiring lives here too: `CAPACITY` (the one model, publishing to the emulator's CloudWatch),
`METERING` (it, over moto's tables) and `metered_call`, which dynamigrate.local.emulator's
serialized DynamoDB handler calls for every request.
"""

from __future__ import annotations

import json
from binascii import crc32
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from moto.cloudwatch.models import cloudwatch_backends
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler

from dynamigrate.local.capacity import (
    CapacityModel,
    Charge,
    Throttled,
    Throughput,
    item_size,
    read_units,
    write_units,
)
from dynamigrate.local.seal import REGION

Wire = dict[str, Any]
WRITES = ("PutItem", "UpdateItem", "DeleteItem")
MULTI_WRITES = ("BatchWriteItem", "TransactWriteItems")  # one admission for the whole request
TRANSACT_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}
TRANSACTION_FACTOR = 2.0  # "two underlying writes for every item in the transaction"
TABLE_ACTIONS = ("CreateTable", "UpdateTable", "DescribeTable")
THROTTLE_TYPE = "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"
CANCELLED_TYPE = "com.amazonaws.dynamodb.v20120810#TransactionCanceledException"


def _wire(item: Item | None) -> Wire | None:
    return None if item is None else dict(item.to_json()["Attributes"])


def _stored(table: Table, key: Wire) -> Wire | None:
    """The item moto holds under `key` (a primary key in DynamoDB JSON), if any."""
    try:
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        return _wire(table.get_item(hash_value, range_value))
    except Exception:  # a malformed key: moto itself answers the request's error
        return None


def _mean_size(table: Table, sample: int = 64) -> int:
    """The mean size of the table's first `sample` items (1 byte for an empty table): what a
    page whose every item a filter dropped read. DynamoDB bills a Scan or Query for the items
    it read before the filter ("Filter expressions for Scan": "A filter expression is applied
    after a Scan finishes but before the results are returned ... the same amount of read
    capacity": Developer Guide, "Scanning tables in DynamoDB")."""
    sizes: list[int] = []
    for stored in table.items.values():
        items: list[Any] = list(stored.values()) if table.range_key_attr else [stored]
        for item in items:
            sizes.append(item_size(_wire(item)))
            if len(sizes) >= sample:
                return max(1, sum(sizes) // len(sizes))
    return max(1, sum(sizes) // len(sizes)) if sizes else 1


def _key_of(table: Table, item: Wire) -> Wire:
    return {k: item[k] for k in table.table_key_attrs if k in item}


def _partition(table: Table, item: Wire) -> str | None:
    value = item.get(table.hash_key_attr)
    return json.dumps(value, sort_keys=True) if value is not None else None


def _index_writes(table: Table, before: Wire | None, after: Wire | None) -> list[Charge]:
    """Write units on each GSI a write reaches (rule 5 of dynamigrate.local.capacity)."""
    charges = []
    for index in table.global_indexes:
        keys = index.schema_key_attrs

        def projected(item: Wire | None, index: Any = index, keys: list[str] = keys) -> Any:
            if item is None or any(k not in item for k in keys):
                return None
            return _wire(index.project(Item(DynamoType(item[keys[0]]), None, dict(item))))

        old, new = projected(before), projected(after)
        if old == new:
            continue
        moved = old is not None and new is not None and any(old[k] != new[k] for k in keys)
        units = 0.0
        if old is not None and (new is None or moved):
            units += write_units(item_size(old))
        if new is not None:
            units += write_units(item_size(new), 0 if moved else item_size(old))
        charges.append(Charge(table.name, index.name, "write", units))
    return charges


class Metering:
    """Turns requests into the model's charges; one instance serves the whole emulator."""

    def __init__(self, model: CapacityModel, table_of: Callable[[str], Table | None]) -> None:
        self.model = model
        self.table_of = table_of
        self.maximums: dict[str, Wire] = {}  # OnDemandThroughput by table (moto drops it)

    def described(self, action: str, body: Wire, description: Wire) -> bool:
        """Keep a table's `OnDemandThroughput` (CreateTable/UpdateTable) and show it in its
        TableDescription as DynamoDB does (DescribeTable API reference); True if it changed."""
        name = description.get("TableName", "")
        if action == "CreateTable":
            self.maximums.pop(name, None)
        if action in ("CreateTable", "UpdateTable") and body.get("OnDemandThroughput"):
            self.maximums[name] = dict(body["OnDemandThroughput"])
        if name in self.maximums:
            description["OnDemandThroughput"] = self.maximums[name]
        self.sync(description)
        return name in self.maximums

    def sync(self, description: Wire) -> None:
        """Learn a table's (and its GSIs') capacity from a TableDescription."""
        mode = (description.get("BillingModeSummary") or {}).get("BillingMode")
        on_demand = mode == "PAY_PER_REQUEST"
        name = description["TableName"]
        self.model.configure(name, None, Throughput.of(description, on_demand))
        for index in description.get("GlobalSecondaryIndexes") or []:
            self.model.configure(name, index["IndexName"], Throughput.of(index, on_demand))

    def _table(self, name: str) -> Table | None:
        table = self.table_of(name)
        if table is not None and not self.model.known(name):
            description = table.describe(base_key="Table")["Table"]
            if name in self.maximums:
                description["OnDemandThroughput"] = self.maximums[name]
            self.sync(description)
        return table

    def before(self, action: str, body: Wire) -> Any:
        """Admit or refuse a request (raises Throttled); returns what `after` needs."""
        if action == "BatchWriteItem":
            states = []
            for name, requests in (body.get("RequestItems") or {}).items():
                table = self._table(name)
                if table is None:
                    continue
                for request in requests:
                    states.append(self._write_state(table, action, request, name))
            self.model.admit([c for s in states for c in s[3]])
            return states
        if action == "TransactWriteItems":
            states = []
            for entry in body.get("TransactItems") or []:
                for kind, request in entry.items():
                    table = self._table(str(request.get("TableName", "")))
                    if kind in TRANSACT_ACTIONS and table is not None:
                        write = TRANSACT_ACTIONS[kind]
                        states.append(self._write_state(table, write, request, table.name))
            self.model.admit([_doubled(c) for s in states for c in s[3]])
            return states
        table = self._table(str(body.get("TableName", "")))
        if table is None:
            return None
        if action in WRITES:
            state = self._write_state(table, action, body, table.name)
            self.model.admit(state[3])
            return [state]
        if action in ("GetItem", "Scan", "Query"):
            consistent = bool(body.get("ConsistentRead"))
            index = body.get("IndexName") if action != "GetItem" else None
            gsi = index if index in {i.name for i in table.global_indexes} else None
            key = _partition(table, body.get("Key") or {}) if action == "GetItem" else None
            charge = Charge(table.name, gsi, "read", read_units(0, consistent), key)
            self.model.admit([charge])
            return (table, charge, consistent)
        return None

    def _write_state(
        self, table: Table, action: str, request: Wire, name: str
    ) -> tuple[Table, Wire, Wire | None, list[Charge]]:
        if action == "BatchWriteItem":
            put = (request.get("PutRequest") or {}).get("Item")
            key = put if put is not None else (request.get("DeleteRequest") or {}).get("Key", {})
        else:
            put = request.get("Item") if action == "PutItem" else None
            key = put if put is not None else request.get("Key") or {}
        key = _key_of(table, key)
        old = _stored(table, key)
        units = write_units(item_size(old), item_size(put))
        charges = [Charge(name, None, "write", units, _partition(table, key))]
        charges += _index_writes(table, old, put if put is not None else old)
        return table, key, old, charges

    def after(self, action: str, body: Wire, state: Any, response: Wire) -> list[Wire]:
        """Charge what a served request consumed; its ConsumedCapacity entries."""
        if state is None:
            return []
        if action in WRITES or action in MULTI_WRITES:
            consumed = []
            for table, key, old, _ in state:
                new = _stored(table, key)
                charges = [
                    Charge(
                        table.name,
                        None,
                        "write",
                        write_units(item_size(old), item_size(new)),
                        _partition(table, key),
                    )
                ]
                charges += _index_writes(table, old, new)
                if action == "TransactWriteItems":
                    charges = [_doubled(c) for c in charges]
                self.model.charge(charges)
                consumed.append(charges)
            return [_consumed(c, "write") for c in consumed]
        table, estimate, consistent = state
        items = response.get("Items")
        if items is None:  # GetItem
            size = item_size(response.get("Item"))
        else:
            size = sum(item_size(i) for i in items)
            scanned, count = int(response.get("ScannedCount", 0)), len(items)
            if scanned > count:  # filtered out: read too, at the page's (or table's) mean size
                mean = size // count if count else _mean_size(table)
                size += (scanned - count) * mean
        charge = Charge(
            table.name, estimate.index, "read", read_units(size, consistent), estimate.key
        )
        self.model.charge([charge])
        return [_consumed([charge], "read")]


def _doubled(charge: Charge) -> Charge:
    return replace(charge, units=charge.units * TRANSACTION_FACTOR)


def _consumed(charges: list[Charge], kind: str) -> Wire:
    """A ConsumedCapacity entry (INDEXES detail included) for one table's charges."""
    field = "WriteCapacityUnits" if kind == "write" else "ReadCapacityUnits"
    total = sum(c.units for c in charges)
    entry: Wire = {"TableName": charges[0].table, "CapacityUnits": total, field: total}
    base = [c for c in charges if c.index is None]
    indexes = [c for c in charges if c.index is not None]
    entry["Table"] = {
        "CapacityUnits": sum(c.units for c in base),
        field: sum(c.units for c in base),
    }
    if indexes:
        entry["GlobalSecondaryIndexes"] = {
            c.index: {"CapacityUnits": c.units, field: c.units} for c in indexes
        }
    return entry


def report(body: Wire, action: str, consumed: list[Wire], response: Wire) -> bool:
    """Put the measured ConsumedCapacity into a response when the request asked for it."""
    wanted = body.get("ReturnConsumedCapacity", "NONE")
    if wanted not in ("TOTAL", "INDEXES") or not consumed:
        return False
    if wanted == "TOTAL":
        consumed = [
            {k: v for k, v in c.items() if k not in ("Table", "GlobalSecondaryIndexes")}
            for c in consumed
        ]
    if action in MULTI_WRITES:  # a list, one entry per table (API reference of each)
        merged: dict[str, Wire] = {}
        for entry in consumed:
            prior = merged.setdefault(
                entry["TableName"], {"TableName": entry["TableName"], "CapacityUnits": 0.0}
            )
            prior["CapacityUnits"] += entry["CapacityUnits"]
        response["ConsumedCapacity"] = list(merged.values())
    else:
        response["ConsumedCapacity"] = consumed[0]
    return True


def throttle_response(message: str) -> tuple[int, dict[str, str], str]:
    body = json.dumps({"__type": THROTTLE_TYPE, "message": message})
    return 400, {"Content-Type": "application/x-amz-json-1.0"}, body


def cancelled_response(message: str, actions: int) -> tuple[int, dict[str, str], str]:
    """A transaction short of capacity is cancelled, its reasons naming the throughput (API
    reference, TransactionCanceledException: "There is insufficient provisioned capacity for
    the transaction to be completed"; reason code ProvisionedThroughputExceeded). The model
    refuses the request whole, so every action carries the reason."""
    reasons = [{"Code": "ProvisionedThroughputExceeded", "Message": message}] * actions
    body = json.dumps(
        {
            "__type": CANCELLED_TYPE,
            "message": "Transaction cancelled, please refer cancellation reasons for specific "
            f"reasons [{', '.join(r['Code'] for r in reasons)}]",
            "CancellationReasons": reasons,
        }
    )
    return 400, {"Content-Type": "application/x-amz-json-1.0"}, body


# ---- the wiring: one model and one Metering for the whole emulator --------------------------


def _publish_metrics(data: list[dict[str, Any]]) -> None:
    """Adaptation 6: the model's per-period figures into the emulator's CloudWatch."""
    for datum in data:
        # moto keeps naive UTC datetimes (its utcnow())
        datum["Timestamp"] = datetime.fromtimestamp(datum["Timestamp"], UTC).replace(tzinfo=None)
    cloudwatch_backends[DEFAULT_ACCOUNT_ID][REGION].put_metric_data("AWS/DynamoDB", data)


CAPACITY = CapacityModel(publish=_publish_metrics)


def _moto_table(name: str) -> Table | None:
    return dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].tables.get(name)


METERING = Metering(CAPACITY, _moto_table)


def metered_call(handler: DynamoHandler, action: str, serve: Callable[[DynamoHandler], Any]) -> Any:
    """Adaptation 6: admit the request by the capacity model, let moto `serve` it (its original
    `DynamoHandler.call_action`), then charge and report what it consumed."""
    if not CAPACITY.enabled:
        return serve(handler)
    try:
        body = json.loads(handler.body or "{}")
    except (ValueError, TypeError):
        return serve(handler)
    if action == "DeleteTable":
        CAPACITY.forget(str(body.get("TableName", "")))
    try:
        state = METERING.before(action, body)
    except Throttled as exc:
        if action == "TransactWriteItems":
            return cancelled_response(str(exc), len(body.get("TransactItems") or []))
        return throttle_response(str(exc))
    status, headers, text = serve(handler)
    if int(status) != 200 or (state is None and action not in TABLE_ACTIONS):
        return status, headers, text
    response = json.loads(text)
    if action in TABLE_ACTIONS:
        description = response.get("TableDescription") or response.get("Table")
        if not description or not METERING.described(action, body, description):
            return status, headers, text
    else:
        consumed = METERING.after(action, body, state, response)
        if not report(body, action, consumed, response):
            return status, headers, text
    text = json.dumps(response)
    headers = {**headers, "x-amz-crc32": str(crc32(text.encode()) & 0xFFFFFFFF)}
    return status, headers, text
