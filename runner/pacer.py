"""One worker's side of the run's shared pace: budget, shared rate, its segment's buckets.

At its start and then at most every `SYNC_SECONDS` (checked at each page commit) a worker syncs
with the run's pace record (runner.pace_store): one conditional write that reports its throttles
and consumption and returns the rate all segments follow (runner.rate). Once per metric period
(a minute, CloudWatch's for DynamoDB) the syncing worker re-reads the budget: DescribeTable (auto
scaling changes capacity) and CloudWatch (what the application uses: runner.headroom); a rise of
the table's throttle events there counts as a throttle. The segment's share is the run's rate
divided by the segments working at once (those that synced lately: a finished segment's share
goes to the others). The metered client also asks for a sync after each request (`tick`), so a
segment whose page takes longer than `SYNC_SECONDS` to write still shares its units and adopts
the run's pace within `SYNC_SECONDS`: the application's use is read only from minutes whose own
units every segment has shared (runner.settled), and a throttle reaches every segment at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from runner.capacity import Budget, budget, indexes_reached, read_limit, resources
from runner.errors import MigrationError, RoleNotReadyError
from runner.headroom import Usage, application_usage
from runner.history import RunRef
from runner.metered import Metered
from runner.pace_store import ACTIVE_SECONDS, PaceStore, Synced, active_segments
from runner.pacing import TokenBucket
from runner.rate import Pace, advance, rebudget, start
from runner.settled import settled_until
from runner.spec import Direction, MigrationSpec

logger = logging.getLogger(__name__)

SYNC_SECONDS = 2.0
SYNC_ATTEMPTS = 3

# (own consumption per (kind, minute), now, own units complete until) -> (budget, usage)
Refresh = Callable[[dict[tuple[str, int], float], float, float], tuple[Budget, Usage]]


@dataclass
class Observed:
    throttles: int = 0
    units: dict[tuple[str, int], float] = field(default_factory=dict)  # runner.metered.Units


class Pacer:
    """Keeps one segment's buckets at its share of the run's shared rate."""

    def __init__(
        self,
        store: PaceStore,
        run: RunRef,
        running: int,
        refresh: Refresh,
        writes: TokenBucket,
        reads: TokenBucket,
        clock: Callable[[], float] = time.time,
        period: int = 60,
        segment: int = 0,
    ) -> None:
        self.store = store
        self.run = run
        self.running = max(1, running)
        self.refresh = refresh
        self.writes = writes
        self.reads = reads
        self.clock = clock
        self.period = period
        self.segment = segment
        self.active = self.running
        self.started = clock()
        self.pace: Pace | None = None
        self.last_sync = -1e18
        self.pending = Observed()
        self.metered: Metered | None = None
        self.seen_minute: int | None = None  # the latest minute whose throttle events counted
        self.own: dict[tuple[str, int], float] = {}  # the run's own units per (kind, minute)
        self.stamps: dict[int, float] = {}  # segment -> its last sync, as the record showed it
        self._lock = threading.RLock()  # the page loop and the write threads (tick) both sync

    def observe(self, metered: Metered) -> None:
        self.metered = metered
        metered.tick = self.tick

    def tick(self) -> None:
        """After each request: sync when SYNC_SECONDS passed (one check of the clock else)."""
        if self.clock() - self.last_sync >= SYNC_SECONDS:
            self.sync()

    def leave(self) -> None:
        """The segment is done: its share goes to the segments still working."""
        self.sync(force=True, leaving=True)

    def sync(self, force: bool = False, leaving: bool = False) -> Pace | None:
        """Share what this worker saw and adopt the run's pace (at most every SYNC_SECONDS)."""
        with self._lock:
            return self._sync(force, leaving)

    def _sync(self, force: bool, leaving: bool) -> Pace | None:
        now = self.clock()
        if not force and now - self.last_sync < SYNC_SECONDS:
            return self.pace
        self.last_sync = now
        if self.metered is not None:
            units, throttles = self.metered.take()
            self.pending.throttles += throttles
            for slot, value in units.items():
                self.pending.units[slot] = self.pending.units.get(slot, 0.0) + value
        current = self.store.load(self.run) if self.pace is None else None
        version = current.pace.version if current and current.pace else None
        pace = current.pace if current else self.pace
        own = current.own if current else self.own
        if current is not None:
            self.stamps = current.active or {}
        for _ in range(SYNC_ATTEMPTS):
            proposal = self._propose(pace, own, now)
            synced = self.store.propose(
                self.run,
                version if pace is None else pace.version,
                proposal,
                self.pending.units,
                int(now // self.period),
                self.segment,
                now,
                leaving,
            )
            self.own = own = synced.own
            self.stamps = synced.active or {}
            if now - self.started >= ACTIVE_SECONDS:  # by then every running segment synced
                self.active = min(self.running, active_segments(synced, now))
            if synced.won:
                self.pending = Observed()
                return self._adopt(synced)
            pace = synced.pace
            version = pace.version if pace else None
        if pace is not None:
            self._set(pace)
        return self.pace

    def _propose(self, pace: Pace | None, own: dict[tuple[str, int], float], now: float) -> Pace:
        throttled = self.pending.throttles
        if pace is None or now - pace.budget_at >= self.period:
            mine = dict(own)  # and what this sync adds: this worker's units are in up to now
            for slot, value in self.pending.units.items():
                mine[slot] = mine.get(slot, 0.0) + value
            settled = settled_until(self.stamps, self.segment, now, ACTIVE_SECONDS)
            budget, usage = self.refresh(mine, now, settled)
            if usage.minute is not None and usage.minute != self.seen_minute:
                if usage.throttle_events > 0:
                    throttled += 1  # the table throttled someone in a new minute: the application?
                self.seen_minute = usage.minute
            if pace is None:
                pace = start(budget.write, budget.read, budget.reason, now)
            else:
                pace = rebudget(pace, budget.write, budget.read, budget.reason, now)
        return advance(pace, throttled, now)

    def _adopt(self, synced: Synced) -> Pace | None:
        if synced.pace is not None:
            self._set(synced.pace)
        return self.pace

    def _set(self, pace: Pace) -> None:
        if self.pace is None or (pace.write, pace.read) != (self.pace.write, self.pace.read):
            logger.info("run %s: %s", self.run.run_id, pace.holding)
        self.pace = pace
        self.writes.set_rate(pace.write / self.active)
        self.reads.set_rate(pace.read / self.active)

    def item_share(self, writes_per_second: float | None) -> float | None:
        """The segment's writes per second: the lower of MaxWritesPerSecond's share and the
        units share (a write costs at least one unit), for sizing its write threads."""
        units = self.pace.write / self.active if self.pace else None
        shares = [s for s in (writes_per_second, units) if s]
        return min(shares) if shares else None

    def paced_reads(
        self, request: dict[str, Any], client: Any, spec: MigrationSpec
    ) -> dict[str, Any]:
        """The read request with a `Limit` of about one second of the segment's read share."""
        if self.pace is None:
            return request
        table = client.describe_table(TableName=spec.table_name)["Table"]
        count, size = int(table.get("ItemCount") or 0), int(table.get("TableSizeBytes") or 0)
        item_bytes = size / count if count and size else DEFAULT_ITEM_BYTES
        limit = read_limit(self.pace.read / self.active, item_bytes, spec.source.consistent_read)
        if "Limit" in request and request["Limit"] <= limit:
            return request
        return {**request, "Limit": limit}


DEFAULT_ITEM_BYTES = 1024.0  # when DescribeTable has no size yet (it updates about every 6 hours)


def table_refresh(
    client: Any,
    cloudwatch: Any,
    spec: MigrationSpec,
    direction: Direction,
    percent: float,
    period: int = 60,
) -> Refresh:
    """Budget and usage from DescribeTable (the table, or the Target it writes) and CloudWatch."""

    def refresh(
        own: dict[tuple[str, int], float], now: float, settled: float
    ) -> tuple[Budget, Usage]:
        source = client.describe_table(TableName=spec.table_name)["Table"]
        written = source
        if spec.target:
            written = client.describe_table(TableName=spec.target)["Table"]
        reached = indexes_reached(written, spec.operation(direction))
        writes_to = resources(written, reached)
        reads_from = next(
            (r for r in resources(source) if r.index == spec.source.index_name),
            resources(source, [])[0],
        )
        usage = _usage(
            cloudwatch, written["TableName"], [None, *reached], own, now, period, settled
        )
        used = dict(usage.used)
        if spec.target or spec.source.index_name:
            reading = _usage(
                cloudwatch, spec.table_name, [spec.source.index_name], own, now, period, settled
            )
            used.update({k: v for k, v in reading.used.items() if k[1] == "read"})
        return budget(writes_to, reads_from, percent, used), usage

    return refresh


def _usage(
    cloudwatch: Any,
    table: str,
    indexes: list[str | None],
    own: dict[tuple[str, int], float],
    now: float,
    period: int,
    settled: float,
) -> Usage:
    """The application's usage, or none known when CloudWatch cannot tell (a data role from
    before this version lacks cloudwatch:GetMetricData: the budget then assumes an idle table)."""
    if cloudwatch is None:
        return Usage({}, None, 0.0)
    try:
        return application_usage(cloudwatch, table, indexes, own, now, period, settled)
    except (ClientError, MigrationError, RoleNotReadyError) as exc:
        logger.warning("cannot read %s's consumption from CloudWatch: %s", table, exc)
        return Usage({}, None, 0.0)
