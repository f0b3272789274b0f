"""Write units of a collection migration against the per-item (1:N) baseline, on the emulator.

    .venv/bin/python bench/cost.py --collections [--orders 200]

The README's single-table example (migrations/functions/split_order.py: each order into its
header and 3 lines) runs twice over the same table of `--orders` orders:
- per-item:    `split_items`, a 1:N result per item: each write its own UpdateItem;
- collections: `split` with `ItemCollections: true`: each collection's writes in one
               TransactWriteItems (all or nothing).
Counted on the emulator: the requests by kind and the run's counters. Write units follow
DynamoDB's pricing rules (every item here is under 1 KB): 1 per UpdateItem/DeleteItem, and "two
write capacity units (WCU) for each item written" in a transaction (Developer Guide, "Amazon
DynamoDB Transactions: How it works", capacity management). Read units: 0.5 per 4 KB read by a
Scan or Query page, approximated as one unit per request here (pages are small).
"""

from __future__ import annotations

from typing import Any

from bench.prices import WRITE_UNIT
from dynamigrate.local.emulator import (
    COUNT_REQUESTS,
    DYNAMODB_REQUESTS,
    deploy_function,
    emulated_aws,
)
from dynamigrate.local.engine import LocalEngine
from migrations.functions.split_order import split, split_items

TABLE = "BenchOrders"


def _orders(client: Any, orders: int) -> None:
    client.create_table(
        TableName=TABLE,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for n in range(orders):
        lines = [{"M": {"sku": {"S": f"SKU-{i}"}, "qty": {"N": str(i + 1)}}} for i in range(3)]
        client.put_item(
            TableName=TABLE,
            Item={"pk": {"S": f"ORDER#{n:05d}"}, "sk": {"S": "ORDER"}, "lines": {"L": lines}},
        )


def measure(design: str, orders: int) -> dict[str, Any]:
    with emulated_aws():
        engine = LocalEngine()
        _orders(engine.dynamodb, orders)
        handler = split if design == "collections" else split_items
        fn = deploy_function(f"bench-{design}", handler)
        source: dict[str, Any] = {"Scan": {"Segments": 1}}
        if design == "collections":
            source["Scan"]["ItemCollections"] = True
        DYNAMODB_REQUESTS.clear()
        COUNT_REQUESTS["on"] = True
        result = engine.run(
            {
                "MigrationId": f"bench-{design}",
                "TableName": TABLE,
                "Source": source,
                "Up": {"Function": fn},
            },
            timeout=3600,
        )
        if result.status != "SUCCEEDED":
            raise SystemExit(f"{design} failed: {result.message}")
        requests = dict(DYNAMODB_REQUESTS)
    counters = result.output["counters"]
    written = counters.get("created", 0) + counters.get("updated", 0) + counters.get("deleted", 0)
    singles = requests.get(f"UpdateItem:{TABLE}", 0) + requests.get(f"DeleteItem:{TABLE}", 0)
    transactions = requests.get("TransactWriteItems:", 0)  # no top-level TableName
    in_transactions = written - singles if transactions else 0
    write_units = singles + 2 * in_transactions
    return {
        "design": design,
        "orders": orders,
        "items_written": written,
        "update_requests": singles,
        "transactions": transactions,
        "write_units": write_units,
        "write_usd_per_million_orders": round(write_units * WRITE_UNIT * 1e6 / orders, 4),
        "reads": requests.get(f"Scan:{TABLE}", 0) + requests.get(f"Query:{TABLE}", 0),
    }


def report(orders: int) -> None:
    rows = [measure("per-item", orders), measure("collections", orders)]
    keys = list(rows[0])
    widths = [max(len(k), *(len(str(r[k])) for r in rows)) for k in keys]
    print("  ".join(k.rjust(w) for k, w in zip(keys, widths, strict=True)))
    for row in rows:
        print("  ".join(str(row[k]).rjust(w) for k, w in zip(keys, widths, strict=True)))
    base, coll = rows
    print(
        f"collections: {coll['write_units'] / base['write_units']:.2f}x the write units of the "
        f"per-item baseline for the same {coll['items_written']} writes (all or nothing per "
        f"order), {coll['reads'] / max(base['reads'], 1):.1f}x its read requests"
    )
