"""Peak memory of `local run` against the number of items, beside the emulator alone.

    .venv/bin/python bench/memory.py [--items 0,5000,50000] [--trace] [--top 12] [--json]

Each size runs in a fresh process (peak RSS only grows): the template below (one table, one
Update of every item) through `dynamigrate.local.run.run_local`, as `local run` does. Items 0 is
the baseline: the emulator, the application installed and the same migration over an empty
table. Printed per size: peak RSS (`ru_maxrss`) and, with `--trace`, from a second process under
tracemalloc (one frame per allocation; it slows the run and its own records would count in the
RSS), the Python heap's peak, where the heap grew during the deploy and what it held near its
peak, by line of source.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.functional.templates import items_template, migration  # noqa: E402

TEMPLATE = items_template(  # the table named by CloudFormation, as an application's
    {
        "AddStatus": migration(
            "m1-add-status",
            {
                "Update": {
                    "Expression": "SET #s = :p",
                    "Names": {"#s": "status"},
                    "Values": {":p": "PENDING"},
                }
            },
        )
    },
    table_name=None,
)


def item(i: int) -> str:
    """About 200 bytes, the shape of a small order."""
    return json.dumps(
        {
            "pk": f"ORDER#{i:08d}",
            "customer": f"c-{i % 997}",
            "total": f"{i * 7 % 100000}.25",
            "lines": [{"sku": f"S{i % 50}", "qty": i % 5 + 1}],
            "note": "x" * 80,
        }
    )


def measure(items: int, trace: bool, top: int) -> dict[str, Any]:
    """One `local run` in this process: its peaks, and with `trace` the heap's growth by line."""
    from dynamigrate.local.cloudformation import deployer  # noqa: PLC0415 - in the child only
    from dynamigrate.local.run import run_local  # noqa: PLC0415

    work = Path(tempfile.mkdtemp(prefix="dynamigrate-memory-"))
    data = work / "items.jsonl"
    data.write_text("".join(item(i) + "\n" for i in range(items)))
    if trace:  # its own bookkeeping would count in the RSS: only in the traced pass
        tracemalloc.start(1)
    held: dict[str, Any] = {}
    deploy = deployer.LocalDeployer.deploy

    def traced_deploy(self: Any, *args: Any, **kwargs: Any) -> Any:
        if trace:
            held["before"] = tracemalloc.take_snapshot()
        out = deploy(self, *args, **kwargs)
        if trace:  # inside the emulator still: what the run keeps
            held["after"] = tracemalloc.take_snapshot()
        return out

    deployer.LocalDeployer.deploy = traced_deploy  # type: ignore[method-assign]
    watcher = PeakWatcher() if trace else None
    started = time.monotonic()
    result = run_local(TEMPLATE, work, {"Items": data}, work / "out")
    seconds = time.monotonic() - started
    if watcher is not None:
        watcher.stop()
    figures: dict[str, Any] = {
        "items": items,
        "scanned": result.scanned,
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if trace:
        figures["heap_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 1e6, 1)
        growth = held["after"].compare_to(held["before"], "lineno")
        figures["growth"] = [
            {"where": str(stat.traceback[0]), "mb": round(stat.size_diff / 1e6, 2)}
            for stat in growth[:top]
        ]
        if watcher is not None and watcher.snapshot is not None:
            figures["at_peak_mb"] = round(watcher.peak / 1e6, 1)
            figures["at_peak"] = [
                {"where": str(stat.traceback[0]), "mb": round(stat.size / 1e6, 2)}
                for stat in watcher.snapshot.statistics("lineno")[:top]
            ]
    return figures


class PeakWatcher(threading.Thread):
    """Every 0.2 s, a snapshot of the heap when it is 5 % above the largest seen: what it
    held near its peak (the last such snapshot), by line of source."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0
        self.snapshot: tracemalloc.Snapshot | None = None
        self._done = threading.Event()
        self.start()

    def run(self) -> None:
        while not self._done.wait(0.2):
            current = tracemalloc.get_traced_memory()[0]
            if current > self.peak * 1.05:
                self.peak = current
                self.snapshot = tracemalloc.take_snapshot()

    def stop(self) -> None:
        self._done.set()
        self.join()


def _child(command: list[str]) -> dict[str, Any]:
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", default="0,5000,50000")
    parser.add_argument("--trace", action="store_true", help="where the heap grew, by line")
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child process's size
    args = parser.parse_args(argv)
    if args.one is not None:
        print(json.dumps(measure(args.one, args.trace, args.top)))
        return 0
    rows = []
    for items in (int(n) for n in args.items.split(",")):
        command = [sys.executable, __file__, "--one", str(items), "--top", str(args.top)]
        row = _child(command)
        if args.trace:  # a second process: tracemalloc's own memory stays out of the RSS above
            traced = _child([*command, "--trace"])
            row.update(
                {
                    k: traced[k]
                    for k in ("heap_peak_mb", "growth", "at_peak_mb", "at_peak")
                    if k in traced
                }
            )
        rows.append(row)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'items':>8} {'scanned':>8} {'seconds':>8} {'peak RSS MB':>12} {'heap peak MB':>13}")
    for row in rows:
        print(
            f"{row['items']:>8} {row['scanned']:>8} {row['seconds']:>8} "
            f"{row['peak_rss_mb']:>12} {row.get('heap_peak_mb', '-'):>13}"
        )
        for grew in row.get("growth", []):
            print(f"{'':>10}{grew['mb']:>8} MB  {grew['where']}")
        if row.get("at_peak"):
            print(f"{'':>10}near the heap's peak ({row['at_peak_mb']} MB), what it held:")
            for held in row["at_peak"]:
                print(f"{'':>10}{held['mb']:>8} MB  {held['where']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
