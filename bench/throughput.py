"""Items per second: the engine's worker against a naive serial script, on one local endpoint.

    .venv/bin/python bench/throughput.py [--items 2000] [--segments 8] [--latency 0.005] [--json]

Both update every item of the same table on the embedded emulator, in turn, with the same
injected DynamoDB round trip (`--latency` seconds per request, slept outside the emulator's lock
so concurrent requests wait concurrently, as on a network):
- naive:  Scan the table, then UpdateItem each item, one at a time;
- engine: this project's state machine with `--segments` scan segments (8 write threads each).
Also printed: the emulator's own service time per request (the naive script at zero latency).
Python's GIL and the emulator's serialized tables cap the engine at about 1 / service time on
this machine, whatever the parallelism; `--latency` values well above the service time show the
design's ratio.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.engine import load, status_update
from dynamigrate.local.emulator import INJECTED_LATENCY, emulated_aws
from dynamigrate.local.engine import LocalEngine

TABLE = "Bench"


def naive(engine: LocalEngine) -> int:
    client = engine.dynamodb
    kwargs: dict[str, Any] = {"TableName": TABLE}
    updated = 0
    while True:
        page = client.scan(**kwargs)
        for item in page["Items"]:
            client.update_item(
                TableName=TABLE,
                Key={"pk": item["pk"]},
                UpdateExpression="SET #s = :p",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":p": {"S": "NAIVE"}},
            )
            updated += 1
        if "LastEvaluatedKey" not in page:
            return updated
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def engine_run(engine: LocalEngine, segments: int) -> int:
    spec = status_update("throughput", "ENGINE", segments)
    result = engine.run(spec, timeout=7200)
    if result.status != "SUCCEEDED":
        raise SystemExit(f"engine failed: {result.message}")
    return int((result.output or {})["counters"]["updated"])


def timed(design: str, items: int, latency: float, segments: int) -> float:
    """Items per second of one design on a fresh emulator and table."""
    with emulated_aws():
        engine = LocalEngine()
        load(engine, TABLE, items)
        INJECTED_LATENCY["seconds"] = latency
        try:
            started = time.monotonic()
            done = naive(engine) if design == "naive" else engine_run(engine, segments)
            seconds = time.monotonic() - started
        finally:
            INJECTED_LATENCY["seconds"] = 0.0
    if done != items:
        raise SystemExit(f"{design} updated {done} of {items} items")
    return items / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--segments", type=int, default=8)
    parser.add_argument("--latency", default="0.005", help="seconds; comma-separated for a sweep")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    service = 1 / timed("naive", args.items, 0.0, args.segments)
    rows = []
    for latency in (float(x) for x in args.latency.split(",")):
        naive_rate = timed("naive", args.items, latency, args.segments)
        engine_rate = timed("engine", args.items, latency, args.segments)
        rows.append(
            {
                "latency_ms": latency * 1000,
                "naive_items_per_second": round(naive_rate, 1),
                "engine_items_per_second": round(engine_rate, 1),
                "ratio": round(engine_rate / naive_rate, 2),
            }
        )
    if args.json:
        print(json.dumps({"service_ms": round(service * 1000, 2), "runs": rows}))
        return
    print(
        f"{args.items} items, {args.segments} segments; emulator service time "
        f"{service * 1000:.2f} ms per request (engine ceiling about {1 / service:.0f} items/s)"
    )
    print(f"{'latency ms':>10}  {'naive items/s':>13}  {'engine items/s':>14}  {'ratio':>6}")
    for r in rows:
        print(
            f"{r['latency_ms']:>10.1f}  {r['naive_items_per_second']:>13}  "
            f"{r['engine_items_per_second']:>14}  {r['ratio']:>5}x"
        )


if __name__ == "__main__":
    main()
