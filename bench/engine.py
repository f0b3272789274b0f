"""Engine figures on the embedded emulator: items/s and state transitions per 1,000 items.

    .venv/bin/python bench/engine.py [--items 10000] [--segments N] [--json]

Runs one Update migration (every item gets a status) with this project's state machine and
counts, through the emulator, every state transition of the parent and of the Distributed Map
children, and every Lambda invocation. Without `--segments` the run sizes itself from the table
(its Plan step), as a migration without `Segments` does.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dynamigrate.local.emulator import REGISTRY, TRANSITIONS, emulated_aws
from dynamigrate.local.engine import WORKER_FUNCTION, LocalEngine

STEP_FUNCTIONS_PER_TRANSITION = 0.025 / 1000  # us-east-1 Standard
WRITE_REQUEST_UNIT = 0.625 / 1_000_000  # on-demand, per WRU


def load(engine: LocalEngine, table: str, items: int) -> None:
    engine.dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for start in range(0, items, 25):
        batch = [
            {"PutRequest": {"Item": {"pk": {"S": f"item-{i:07d}"}, "n": {"N": str(i)}}}}
            for i in range(start, min(items, start + 25))
        ]
        engine.dynamodb.batch_write_item(RequestItems={table: batch})


def status_update(
    migration_id: str, status: str, segments: int | None = None, **extra: object
) -> dict[str, object]:
    """The benchmarks' migration: SET status on every item of the Bench table."""
    spec: dict[str, object] = {
        "MigrationId": migration_id,
        "TableName": "Bench",
        "Up": {
            "Update": {
                "Expression": "SET #s = :p",
                "Names": {"#s": "status"},
                "Values": {":p": status},
            }
        },
        **extra,
    }
    if segments is not None:
        spec["Source"] = {"Scan": {"Segments": segments}}
    return spec


def measure(items: int, segments: int | None) -> dict[str, float]:
    with emulated_aws():
        engine = LocalEngine()
        load(engine, "Bench", items)
        spec = status_update("bench-add-status", "PENDING", segments)
        TRANSITIONS.reset()
        REGISTRY.invocations.clear()
        started = time.monotonic()
        result = engine.run(spec, timeout=3600)
        seconds = time.monotonic() - started
        if result.status != "SUCCEEDED":
            raise SystemExit(f"run failed: {result.message}")
        transitions = TRANSITIONS.state_transitions
        invocations = REGISTRY.invocations[WORKER_FUNCTION]
    per_k = 1000 / items
    orchestration = transitions * STEP_FUNCTIONS_PER_TRANSITION
    writes = items * WRITE_REQUEST_UNIT
    return {
        "items": items,
        "segments": int((result.output or {}).get("segments", 0)),
        "seconds": round(seconds, 2),
        "items_per_second": round(items / seconds, 1),
        "state_transitions": transitions,
        "transitions_per_1000_items": round(transitions * per_k, 3),
        "lambda_invocations": invocations,
        "lambda_invocations_per_1000_items": round(invocations * per_k, 3),
        "step_functions_to_write_cost_ratio": round(orchestration / writes, 5),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--segments", type=int, help="default: sized from the table")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = measure(args.items, args.segments)
    if args.json:
        print(json.dumps(figures))
        return
    width = max(map(len, figures))
    for name, value in figures.items():
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
