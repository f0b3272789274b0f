"""Pacing: achieved writes per second against MaxWritesPerSecond, across 4 segments.

    .venv/bin/python bench/pacing.py [--targets 50,200,1000] [--seconds 15] [--segments 4] [--json]

For each target, an Update migration over `target x seconds` items runs on the emulator with
`MaxWritesPerSecond: target`; every write's time is recorded, counted per whole second from the
first write (the last, partial second left out), and compared with the target: the mean over the
run, and the busiest second. Target of the design: within 10% of the target on average, and no
second more than 10% above it. The emulator itself serves about 200 writes/s on this machine, so a
higher target measures the emulator, not the pacing.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.engine import load, status_update
from dynamigrate.local import emulator
from dynamigrate.local.emulator import emulated_aws
from dynamigrate.local.engine import LocalEngine

TABLE = "Bench"


def measure(target: int, seconds: int, segments: int) -> dict[str, Any]:
    items = target * seconds
    with emulated_aws():
        engine = LocalEngine()
        load(engine, TABLE, items)
        spec = status_update(f"pacing-{target}", "PACED", segments, MaxWritesPerSecond=target)
        emulator.WRITE_TIMES = []
        try:
            result = engine.run(spec, timeout=7200)
            times = list(emulator.WRITE_TIMES)
        finally:
            emulator.WRITE_TIMES = None
    if result.status != "SUCCEEDED":
        raise SystemExit(f"run failed: {result.message}")
    start = min(times)
    per_second = Counter(int(t - start) for t in times)
    whole = [per_second[s] for s in range(math.floor(max(times) - start))] or [len(times)]
    mean = sum(whole) / len(whole)
    busiest = max(whole)
    return {
        "target": target,
        "items": items,
        "seconds_measured": len(whole),
        "mean_writes_per_second": round(mean, 1),
        "busiest_second": busiest,
        "mean_vs_target": round(mean / target, 3),
        "busiest_vs_target": round(busiest / target, 3),
        "within_10_percent": abs(mean / target - 1) <= 0.10 and busiest <= 1.10 * target,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default="50,200,1000")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--segments", type=int, default=4)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = [measure(int(t), args.seconds, args.segments) for t in args.targets.split(",")]
    if args.json:
        print(json.dumps(rows))
        return
    print(f"{args.segments} segments, about {args.seconds} s per target")
    print(
        f"{'target/s':>8}  {'mean/s':>7}  {'busiest s':>9}  {'mean/target':>11}  "
        f"{'busiest/target':>14}  within 10%"
    )
    for r in rows:
        print(
            f"{r['target']:>8}  {r['mean_writes_per_second']:>7}  {r['busiest_second']:>9}  "
            f"{r['mean_vs_target']:>11}  {r['busiest_vs_target']:>14}  {r['within_10_percent']}"
        )


if __name__ == "__main__":
    main()
