"""Progress of running migrations: the figures (done, rate, time left) as pure functions, and the
lines `local run`, `local deploy` and `status` draw from them (redrawn in place on a terminal)."""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from boto3.dynamodb.types import TypeSerializer

from runner.history import RUNNING, RunRef
from runner.ledger import MigrationLedger, MigrationRecord
from runner.run_records import recorded

WIDTH = 30
INTERVAL_SECONDS = 10.0  # away from a terminal, a running migration's line at least this often
DRY_SUFFIX = "#dry-run"
ACTIVE = (RUNNING, "ROLLING_BACK")


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


@dataclasses.dataclass(frozen=True)
class Estimate:
    """How fast a run goes and how long it has left (None: not known yet)."""

    elapsed: float | None
    rate: float | None  # items scanned per second
    seconds_left: float | None


def estimate(done: int, total: int, elapsed: float | None) -> Estimate:
    """The rate so far, and the time left at that rate for the items not yet scanned.

    The total is the table's item count (0: unknown, so no time left); a run past it (the table
    grew) has none left to show either.
    """
    if elapsed is None or elapsed <= 0 or done <= 0:
        return Estimate(elapsed, None, None)
    rate = done / elapsed
    left = (total - done) / rate if total > done else None
    return Estimate(elapsed, rate, left)


def _epoch(record: MigrationRecord, name: str) -> int | None:
    value = record.attributes.get(name, {}).get("N")
    return int(value) if value is not None else None


def run_estimate(record: MigrationRecord | None, total: int, now: float) -> Estimate:
    """A record's figures from its counters and timestamps: `startedAt` to `now` while it runs,
    to `endedAt` once it ended."""
    if record is None:
        return Estimate(None, None, None)
    started = _epoch(record, "startedAt")
    end = now if record.status in ACTIVE else _epoch(record, "endedAt")
    elapsed = None if started is None or end is None else max(0.0, end - started)
    return estimate(counters(record).get("scanned", 0), total, elapsed)


def duration(seconds: float) -> str:
    """`42 s`, `3m05s`, `2h07m`."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def pace(figures: Estimate, running: bool) -> str:
    """`120 items/s, 1m05s left` while running; `in 42 s, 120 items/s` once ended."""
    rate = f"{figures.rate:.0f} items/s" if figures.rate is not None else ""
    if not running:
        took = f"in {duration(figures.elapsed)}" if figures.elapsed is not None else ""
        return ", ".join(part for part in (took, rate) if part)
    if figures.seconds_left is not None:
        return f"{rate}, {duration(figures.seconds_left)} left"
    return rate


def live(ledger: MigrationLedger, record: MigrationRecord | None) -> MigrationRecord | None:
    """The record with the counters its current run's segments have committed so far.

    The record's own counters are refreshed only when the controller polls, and until its first
    poll of a new run (a Down, a fresh re-run) they are still the previous run's; the run's
    segment items (runner.history) move with every page and start at zero.
    """
    attrs = record.attributes if record else {}
    run_id = attrs.get("runId", {}).get("S")
    if record is None or record.status not in ACTIVE or not run_id:
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
    counted = {"M": {name: {"N": str(n)} for name, n in totals.items()}}
    kept = {k: _serializer.serialize(v) for k, v in recorded(found.records).items()}
    return dataclasses.replace(record, attributes={**attrs, **paced, **kept, "counters": counted})


_serializer = TypeSerializer()


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


def run_identity(record: MigrationRecord | None) -> tuple[Any, ...] | None:
    """What tells one run of a record from the next: a progress line shows a record only once
    this differs from what it was before the request (until then it is the previous run's)."""
    if record is None:
        return None
    attrs = record.attributes
    return tuple(
        next(iter(attrs.get(name, {"NULL": True}).values()))
        for name in ("status", "runId", "direction", "startedAt")
    )


def progress_line(label: str, record: MigrationRecord | None, total: int, now: float) -> str:
    """One migration's line: bar, counts, status and pace (the same in every command)."""
    status = record.status if record else "PENDING"
    found = counters(record)
    scanned = found.get("scanned", 0)
    changed = sum(found.get(k, 0) for k in ("created", "updated", "deleted"))
    running = status in (*ACTIVE, "PENDING")
    shown = bar(1, 1) if not running and status != "FAILED" else bar(scanned, total)
    line = f"{label:<32} {shown} {scanned:>8} scanned {changed:>8} changed  {status}"
    figures = pace(run_estimate(record, total, now), running)
    line = f"{line}  {figures}" if figures else line
    paced = pacing(record)  # the rate it holds (or held last) and why, and throttles
    return f"{line}  {paced}" if paced else line


class ProgressPrinter:
    """One line per migration; on a terminal the line is redrawn, elsewhere printed when it first
    shows, at least every `interval` seconds while it runs (even when no page completed), and when
    it ends. `clock` is the wall clock the history's timestamps are in."""

    def __init__(
        self,
        stream: TextIO | Any = None,
        interval: float = INTERVAL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval, self.clock = interval, clock
        self.last: dict[str, str] = {}
        self.printed_at: dict[str, float] = {}

    def __call__(self, logical_id: str, record: MigrationRecord | None, total: int) -> None:
        direction = record.attributes.get("direction", {}).get("S", "up") if record else "up"
        label = f"{logical_id} ({direction})" if direction == "down" else logical_id
        now = self.clock()
        line = progress_line(label, record, total, now)
        final = record is not None and record.status not in ACTIVE
        changed = self.last.get(label) != line
        if self.tty:
            if not changed:
                return
            self.stream.write("\r" + line + ("\n" if final else ""))
        elif label not in self.last or (
            changed if final else now - self.printed_at[label] >= self.interval
        ):
            self.stream.write(line + "\n")
            self.printed_at[label] = now
        else:
            return  # not due yet
        self.stream.flush()
        self.last[label] = line
