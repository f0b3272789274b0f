"""Live traffic: an application and a migration on one table, with the emulator's capacity model.

    .venv/bin/python bench/live_traffic.py [--items 600] [--capacity 40] [--app-writes 6]
        [--app-reads 10] [--warmup 6] [--modes provisioned,on-demand]
        [--ways unpaced,static,default] [--json] [--trace 5]

A simulated application writes and reads steadily (a fifth of its requests on one hot key; items
of 1.5 KB, so a write costs 2 write units and an eventually consistent read half a read unit)
on a table of `--capacity` write and read units: provisioned, or on-demand with that
`OnDemandThroughput` maximum. The emulator serves a few hundred requests per second in all, so
the capacities are scaled down to it. After a warm-up of `--warmup` seconds (CloudWatch then shows
the application's use; a provisioned table has banked the capacity the application left unused as
burst, at most 300 s of it), a migration updates every one of `--items` items over 4 segments, three
ways:

- unpaced: the worker before capacity pacing (today's default without `MaxWritesPerSecond`);
- static: that worker with `MaxWritesPerSecond` as a user would guess it, half the table's
  capacity (EMR's `dynamodb.throughput.write.percent` default), counted in items;
- default: the new default, `MaxCapacityPercent` 50 against the table's capacity, less what the
  application uses.

Printed per row: the application's throttled share of its requests (each tried once), the
migration's achieved write units/s against the spare capacity it is allowed (50 % of capacity
less the application's use), and its duration. The emulator publishes CloudWatch figures every
5 s here (the worker reads the same period), so a short benchmark sees the application's use.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import boto3
from botocore.config import Config

from bench import pace_trace
from dynamigrate.local import emulator
from dynamigrate.local.emulator import emulated_aws
from dynamigrate.local.engine import LocalEngine
from runner import pacer

TABLE = "Live"
PAYLOAD = "x" * 1500  # 1.5 KB: 2 write units per write
UNITS_PER_WRITE = 2
PERIOD_SECONDS = 5
HOT_SHARE = 5  # one request in five on the hot key


class Application(threading.Thread):
    """Steady writes and reads at fixed rates, each request tried once; counts throttles."""

    def __init__(self, writes: float, reads: float, keys: int, trace: Any = None) -> None:
        super().__init__(daemon=True)
        self.writes, self.reads, self.keys = writes, reads, keys
        self.trace = trace
        self.client = boto3.client("dynamodb", config=Config(retries={"total_max_attempts": 1}))
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.counts = {"requests": 0, "throttled": 0, "written": 0}

    def reset(self) -> None:
        with self.lock:
            self.counts = dict.fromkeys(self.counts, 0)

    def run(self) -> None:
        period = 1 / (self.writes + self.reads)
        step, due = 0, time.monotonic()
        while not self.stop.is_set():
            step += 1
            key = "hot" if step % HOT_SHARE == 0 else f"app-{step % self.keys}"
            share = self.writes / (self.writes + self.reads)
            write = int(step * share) != int((step - 1) * share)
            try:
                if write:
                    item = {"pk": {"S": key}, "d": {"S": PAYLOAD}}
                    self.client.put_item(TableName=TABLE, Item=item)
                else:
                    self.client.get_item(TableName=TABLE, Key={"pk": {"S": key}})
                throttled = False
            except self.client.exceptions.ProvisionedThroughputExceededException:
                throttled = True
            with self.lock:
                self.counts["requests"] += 1
                self.counts["throttled"] += throttled
                self.counts["written"] += write and not throttled
            if self.trace is not None and write and not throttled:
                self.trace.app_wrote(UNITS_PER_WRITE)
            due += period
            time.sleep(max(0.0, due - time.monotonic()))


def create(engine: LocalEngine, mode: str, capacity: int, items: int) -> None:
    kwargs: dict[str, Any] = {}
    if mode == "provisioned":
        kwargs["BillingMode"] = "PROVISIONED"
        kwargs["ProvisionedThroughput"] = {
            "ReadCapacityUnits": capacity,
            "WriteCapacityUnits": capacity,
        }
    else:
        kwargs["BillingMode"] = "PAY_PER_REQUEST"
        kwargs["OnDemandThroughput"] = {
            "MaxReadRequestUnits": capacity,
            "MaxWriteRequestUnits": capacity,
        }
    engine.dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        **kwargs,
    )
    emulator.CAPACITY.enabled = False  # loading the sample data is not part of the measurement
    try:
        for start in range(0, items, 25):
            batch = [
                {"PutRequest": {"Item": {"pk": {"S": f"m-{i:06d}"}, "d": {"S": PAYLOAD}}}}
                for i in range(start, min(items, start + 25))
            ]
            engine.dynamodb.batch_write_item(RequestItems={TABLE: batch})
    finally:
        emulator.CAPACITY.enabled = True
    emulator.CAPACITY.reset()  # a table that served nothing yet: no burst banked from the load


def unpaced() -> Any:
    """The worker as it was before capacity pacing: its pacer never sets a rate."""
    original = pacer.Pacer.sync
    pacer.Pacer.sync = lambda self, force=False: None  # type: ignore[method-assign,assignment]
    return lambda: setattr(pacer.Pacer, "sync", original)


def measure(mode: str, way: str, args: argparse.Namespace) -> dict[str, Any]:
    os.environ["METRIC_PERIOD_SECONDS"] = str(PERIOD_SECONDS)
    with emulated_aws():
        emulator.CAPACITY.period = PERIOD_SECONDS
        engine = LocalEngine()
        create(engine, mode, args.capacity, args.items)
        trace = pace_trace.Trace(TABLE) if args.trace else None
        app = Application(args.app_writes, args.app_reads, keys=200, trace=trace)
        app.start()
        time.sleep(args.warmup)
        app.reset()
        if trace is not None:
            trace.start()
        spec: dict[str, Any] = {
            "MigrationId": f"live-{way}",
            "TableName": TABLE,
            "Source": {"Scan": {"Segments": 4}},
            "Up": {
                "Update": {"Expression": "SET #s = :v", "Names": {"#s": "s"}, "Values": {":v": 1}}
            },
        }
        restore = None
        if way == "static":
            spec["MaxWritesPerSecond"] = args.capacity // 2
        if way in ("static", "unpaced"):
            restore = unpaced()
        began = time.monotonic()
        try:
            result = engine.run(spec, timeout=3600)
        finally:
            if restore:
                restore()
        seconds = time.monotonic() - began
        app.stop.set()
        app.join()
        emulator.CAPACITY.period = 60.0
        if trace is not None:
            trace.close()
            print(f"{mode} {way}: the run's pace, every {args.trace:g} s", flush=True)
            pace_trace.print_rows(trace.rows(args.trace, args.capacity, 50))
    if result.status != "SUCCEEDED":
        raise SystemExit(f"{mode}/{way}: the run failed: {result.cause}")
    counts = app.counts
    app_units = counts["written"] * UNITS_PER_WRITE / seconds
    allowed = max(1.0, args.capacity * 0.5 - app_units)
    achieved = args.items * UNITS_PER_WRITE / seconds
    return {
        "mode": mode,
        "way": way,
        "app_requests": counts["requests"],
        "app_throttled_percent": round(100 * counts["throttled"] / max(1, counts["requests"]), 2),
        "app_write_units_per_second": round(app_units, 1),
        "migration_units_per_second": round(achieved, 1),
        "allowed_spare_units_per_second": round(allowed, 1),
        "of_allowed_percent": round(100 * achieved / allowed, 1),
        "seconds": round(seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=600)
    parser.add_argument("--capacity", type=int, default=40)
    parser.add_argument("--app-writes", type=float, default=6.0)
    parser.add_argument("--app-reads", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=6.0)
    parser.add_argument("--modes", default="provisioned,on-demand")
    parser.add_argument("--ways", default="unpaced,static,default")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--trace", type=float, default=0.0, help="print the run's pace every TRACE seconds"
    )
    args = parser.parse_args()
    rows = []
    for mode in args.modes.split(","):
        for way in args.ways.split(","):
            rows.append(measure(mode, way, args))
            if not args.json:
                r = rows[-1]
                print(
                    f"{r['mode']:<12} {r['way']:<8} "
                    f"app throttled {r['app_throttled_percent']:>6} % "
                    f"of {r['app_requests']:>5}  migration {r['migration_units_per_second']:>6} "
                    f"WCU/s of {r['allowed_spare_units_per_second']:>5} allowed "
                    f"({r['of_allowed_percent']:>5} %)  {r['seconds']:>6} s",
                    flush=True,
                )
    if args.json:
        print(json.dumps(rows))


if __name__ == "__main__":
    main()
