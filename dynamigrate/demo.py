"""`make demo`: two migrations of a sample Orders table, run on the embedded emulator.

The same worker and state machine that run on AWS run here: an Update with a reserved-word
attribute name over 8 parallel scan segments, then a Function that re-shapes items.
"""

from __future__ import annotations

import json
import logging
import random
import sys
import time
from typing import Any

from dynamigrate.emulator import deploy_function, emulated_aws
from dynamigrate.local_engine import LocalEngine, RunResult
from migrations import transforms

ITEMS = 2000
log = logging.getLogger("dynamigrate.demo")

MIGRATIONS: list[dict[str, Any]] = [
    {
        "MigrationId": "2026-01-10-add-status",
        "TableName": "Orders",
        "Description": "every order gets a status",
        "Source": {
            "Scan": {"Segments": 8, "Filter": "attribute_not_exists(#s)", "Names": {"#s": "status"}}
        },
        "Up": {
            "Update": {
                "Expression": "SET #s = :pending",
                "Condition": "attribute_not_exists(#s)",
                "Names": {"#s": "status"},
                "Values": {":pending": "PENDING"},
            }
        },
    },
    {
        "MigrationId": "2026-02-01-split-name",
        "TableName": "Orders",
        "Description": "split name into first_name and last_name; drop test orders",
        "Source": {"Scan": {"Segments": 4}},
        "Up": {"Function": "split-name"},
    },
]


def sample_orders(count: int) -> list[dict[str, Any]]:
    rng = random.Random(42)
    firsts, lasts = ["Ada", "Grace", "Alan", "Edsger", "Barbara"], ["Lovelace", "Hopper", "Turing"]
    orders = []
    for i in range(count):
        order = {
            "pk": {"S": f"ORDER#{i:06d}"},
            "customer": {"S": ("test-" if i % 25 == 0 else "c-") + str(rng.randrange(900))},
            "name": {"S": f"{rng.choice(firsts)} {rng.choice(lasts)}"},
            "total": {"N": f"{rng.randrange(100, 100000) / 100:.2f}"},
        }
        if i % 4 == 0:
            order["status"] = {"S": "SHIPPED"}
        orders.append(order)
    return orders


def show(title: str, item: dict[str, Any] | None) -> None:
    print(f"  {title}: {json.dumps(item, sort_keys=True) if item else '(deleted)'}")


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    with emulated_aws():
        engine = LocalEngine()
        ddb = engine.dynamodb
        ddb.create_table(
            TableName="Orders",
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        )
        orders = sample_orders(ITEMS)
        for start in range(0, ITEMS, 25):
            ddb.batch_write_item(
                RequestItems={
                    "Orders": [{"PutRequest": {"Item": o}} for o in orders[start : start + 25]]
                }
            )
        deploy_function("split-name", transforms.handler)
        watched = [{"pk": {"S": "ORDER#000001"}}, {"pk": {"S": "ORDER#000025"}}]
        print(f"Orders table: {ITEMS} items on the embedded emulator\n")
        failed = False
        for spec in MIGRATIONS:
            before = [ddb.get_item(TableName="Orders", Key=k).get("Item") for k in watched]
            started = time.monotonic()
            result: RunResult = engine.run(spec)
            seconds = time.monotonic() - started
            print(f"{spec['MigrationId']}: {spec['Description']}")
            if result.status != "SUCCEEDED":
                print(f"  FAILED: {result.message}")
                failed = True
                continue
            counters = result.output["counters"] if result.output else {}
            rate = counters.get("scanned", 0) / seconds
            print(
                f"  {result.status} in {seconds:.1f}s ({rate:.0f} items/s scanned): "
                + ", ".join(f"{k} {v}" for k, v in counters.items() if v)
            )
            for key, old in zip(watched, before, strict=True):
                show("before", old)
                show("after ", ddb.get_item(TableName="Orders", Key=key).get("Item"))
            print()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
