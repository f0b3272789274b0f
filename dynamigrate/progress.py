"""Progress bars for running migrations, drawn on stderr (redrawn in place on a terminal)."""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from runner.history import COUNTERS, RunRef
from runner.ledger import MigrationLedger, MigrationRecord

WIDTH = 30
INTERVAL_SECONDS = 10.0  # away from a terminal, a running migration's line at most this often
DRY_SUFFIX = "#dry-run"


def bar(done: int, total: int, width: int = WIDTH) -> str:
    """`[#########.....]  61%` for done of total; a bare count when the total is unknown."""
    if total <= 0:
        return f"[{'?' * width}]"
    fraction = min(1.0, done / total)
    filled = int(fraction * width)
    return f"[{'#' * filled}{'.' * (width - filled)}] {fraction:4.0%}"


def counters(record: MigrationRecord | None) -> dict[str, int]:
    raw = (record.attributes.get("counters", {}).get("M", {})) if record else {}
    return {name: int(value.get("N", "0")) for name, value in raw.items()}


def live(ledger: MigrationLedger, record: MigrationRecord | None) -> MigrationRecord | None:
    """The record with the counters its run's segments have committed so far, page by page.

    The record's own counters are refreshed only when the controller polls; the run's segment
    items (runner.history) move with every page.
    """
    attrs = record.attributes if record else {}
    run_id = attrs.get("runId", {}).get("S")
    if record is None or record.status not in ("RUNNING", "ROLLING_BACK") or not run_id:
        return record
    run = RunRef(
        record.table,
        record.migration_id.removesuffix(DRY_SUFFIX),
        attrs.get("direction", {}).get("S", "up"),
        run_id,
        attrs.get("dryRun", {}).get("BOOL", False),
    )
    found = ledger.run_totals(run)
    totals = found.counters
    paced = _paced(found.pacing)
    if not any(totals.get(name) for name in COUNTERS):
        return dataclasses.replace(record, attributes={**attrs, **paced}) if paced else record
    counted = {"M": {name: {"N": str(n)} for name, n in totals.items()}}
    return dataclasses.replace(record, attributes={**attrs, **paced, "counters": counted})


def _paced(pacing: dict[str, Any]) -> dict[str, Any]:
    if not pacing:
        return {}
    return {"pacing": {"S": pacing["pacing"]}, "throttles": {"N": str(pacing["throttles"])}}


def pacing(record: MigrationRecord | None) -> str:
    """`holding at 180 WCU/s, ...: table T: the application uses 320 of 1,000 WCU/s, cap 50 %;
    2 throttles`, or "" before the run's first page."""
    attrs = record.attributes if record else {}
    line = attrs.get("pacing", {}).get("S", "")
    if not line:
        return ""
    throttles = int(attrs.get("throttles", {}).get("N", "0"))
    return f"{line}; {throttles} throttle{'s' if throttles != 1 else ''}"


class ProgressPrinter:
    """One line per migration; on a terminal the line is redrawn, elsewhere printed on change."""

    def __init__(
        self,
        stream: TextIO | Any = None,
        interval: float = INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval, self.clock = interval, clock
        self.last: dict[str, str] = {}
        self.printed_at: dict[str, float] = {}

    def __call__(self, logical_id: str, record: MigrationRecord | None, total: int) -> None:
        status = record.status if record else "PENDING"
        found = counters(record)
        scanned = found.get("scanned", 0)
        changed = found.get("updated", 0) + found.get("deleted", 0)
        direction = record.attributes.get("direction", {}).get("S", "up") if record else "up"
        label = f"{logical_id} ({direction})" if direction == "down" else logical_id
        final = status not in ("RUNNING", "ROLLING_BACK", "PENDING")
        shown = bar(1, 1) if final and status != "FAILED" else bar(scanned, total)
        line = f"{label:<32} {shown} {scanned:>8} scanned {changed:>8} changed  {status}"
        if pacing(record):  # the rate it holds (or held last) and why, and throttles
            line += f"  {pacing(record)}"
        if self.last.get(label) == line:
            return
        now = self.clock()
        if self.tty:
            self.stream.write("\r" + line + ("\n" if final else ""))
        elif final or label not in self.last or now - self.printed_at[label] >= self.interval:
            self.stream.write(line + "\n")
            self.printed_at[label] = now
        else:
            return  # not shown yet: the next call compares against what was printed
        self.stream.flush()
        self.last[label] = line
