"""The emulator's capacity model: what a DynamoDB table and each of its GSIs serve per second.

moto serves every request at once; DynamoDB throttles. Adaptation 6 of
dynamigrate.local.emulator puts every DynamoDB request of every client through this model, so an
application's requests are throttled exactly like a migration's. Each rule, with its source
(Amazon DynamoDB Developer Guide unless said otherwise):

1. Units ("Read/write capacity mode", "Item sizes and formats"): a write costs ceil(size / 1 KB)
   write units, an UpdateItem on the larger of the item before and after; a read ceil(size / 4 KB)
   read units, half for an eventually consistent one; a Scan or Query the sum of the items it
   read (before its filter), rounded up to 4 KB.
2. Provisioned ("Burst capacity", burst-adaptive-capacity.html): a table or GSI serves its
   provisioned units per second and retains up to 300 seconds of unused capacity as burst.
3. On-demand ("Initial throughput and scaling properties", on-demand-capacity-mode.html;
   "Understanding DynamoDB warm throughput", warm-throughput.html; AWS re:Post knowledge center
   "on-demand-table-throttling-dynamodb"): a table or GSI serves at once its warm throughput
   (DescribeTable's WarmThroughput; 4,000 write / 12,000 read units for a new table), and up to
   double its previous peak within 30 minutes; never above `OnDemandThroughput`'s maximum when
   set ("DynamoDB maximum throughput for on-demand tables"), nor the per-table quota of 40,000.
4. Partitions ("Understanding DynamoDB warm throughput in different scenarios"): a partition
   serves at most 1,000 write and 3,000 read units per second, whatever the table's capacity;
   modelled per partition-key value (a hot key), the least a partition holds.
5. GSIs ("Provisioned throughput considerations for Global Secondary Indexes",
   GSI.ThroughputConsiderations.html): a write that puts, changes or removes an item in an index
   consumes write units there too (a change of the index's key: a delete and a put); a GSI short of
   write capacity throttles the write on the base table (back-pressure).
6. Metrics ("DynamoDB Metrics and dimensions", metrics-dimensions.html): per table and per GSI,
   `ConsumedReadCapacityUnits`, `ConsumedWriteCapacityUnits` (Sum per period),
   `ReadThrottleEvents`, `WriteThrottleEvents` and, per table, `ThrottledRequests`, in namespace
   AWS/DynamoDB, one datum per period (60 s as DynamoDB publishes them; `period` scales it for
   tests).

The model is pure: time comes from an injected clock, and it never touches moto.
"""

from __future__ import annotations

import base64
import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["read", "write"]
Clock = Callable[[], float]

BURST_SECONDS = 300.0  # rule 2
PEAK_WINDOW_SECONDS = 1800.0  # rule 3: twice the previous peak within 30 minutes
TABLE_QUOTA = 40_000.0  # rule 3: per-table on-demand quota (adjustable on AWS)
PARTITION_UNITS = {"write": 1000.0, "read": 3000.0}  # rule 4
NEW_TABLE_WARM = {"write": 4000.0, "read": 12000.0}  # rule 3


# Rule 1: sizes and units ---------------------------------------------------------------------


def _number_size(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").lstrip("0") or "0"
    return (len(digits.rstrip("0") or "0") + 1) // 2 + 1


def value_size(value: dict[str, Any]) -> int:
    """Bytes of one attribute value in DynamoDB JSON ("Item sizes and formats")."""
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(str(inner).encode())
    if kind == "N":
        return _number_size(str(inner))
    if kind == "B":
        return len(base64.b64decode(inner)) if isinstance(inner, str) else len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(s).encode()) for s in inner)
    if kind == "NS":
        return sum(_number_size(str(n)) for n in inner)
    if kind == "BS":
        return sum(value_size({"B": b}) for b in inner)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in inner.items())
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: dict[str, Any] | None) -> int:
    """Bytes of an item: its attribute names plus their values."""
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(v) for name, v in item.items())


def write_units(*sizes: int) -> float:
    """Write units of a write whose item is `sizes` bytes before/after: the larger, per 1 KB."""
    return float(max(1, math.ceil(max(sizes, default=0) / 1024)))


def read_units(size: int, consistent: bool) -> float:
    """Read units of reading `size` bytes (one item, or a whole Scan/Query page)."""
    units = max(1, math.ceil(size / 4096))
    return float(units) if consistent else units / 2


# Rules 2-4: capacity of one resource ----------------------------------------------------------


@dataclass
class Meter:
    """One resource's capacity for reads or writes: a bucket of units, refilled per second.

    A request is admitted while the bucket holds the units it is expected to cost (at most what
    the bucket can hold), then charged what it did cost, which may leave the bucket in debt.
    """

    rate: float
    retain_seconds: float
    tokens: float
    stamp: float
    on_demand: bool = False
    warm: float = 0.0
    maximum: float | None = None
    seconds: deque[tuple[int, float]] = field(default_factory=deque)  # (second, units) for peaks

    def limit(self, now: float | None = None) -> float:
        """Units per second it serves now (on-demand: warm, or twice the previous peak)."""
        if not self.on_demand:
            return self.rate
        while now is not None and self.seconds and self.seconds[0][0] < now - PEAK_WINDOW_SECONDS:
            self.seconds.popleft()
        peak = max((units for _, units in self.seconds), default=0.0)
        served = max(self.warm, 2 * peak)
        return min(served, self.maximum or TABLE_QUOTA, TABLE_QUOTA)

    def _refill(self, now: float) -> None:
        self.rate = self.limit(now)
        cap = self.rate * self.retain_seconds
        self.tokens = min(cap, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def admits(self, units: float, now: float) -> bool:
        self._refill(now)
        return self.tokens + 1e-9 >= min(units, self.rate * self.retain_seconds)

    def charge(self, units: float, now: float) -> None:
        self.tokens -= units
        if self.on_demand:
            second = int(now)
            if self.seconds and self.seconds[-1][0] == second:
                self.seconds[-1] = (second, self.seconds[-1][1] + units)
            else:
                self.seconds.append((second, units))


@dataclass(frozen=True)
class Throughput:
    """What DescribeTable says a table or GSI has, as the model needs it."""

    on_demand: bool
    read: float  # provisioned units, or warm throughput for on-demand
    write: float
    max_read: float | None = None  # OnDemandThroughput
    max_write: float | None = None

    @classmethod
    def of(cls, description: dict[str, Any], on_demand: bool) -> Throughput:
        """From a TableDescription or a GlobalSecondaryIndexDescription."""
        if not on_demand:
            provisioned = description.get("ProvisionedThroughput") or {}
            return cls(
                False,
                float(provisioned.get("ReadCapacityUnits") or 0),
                float(provisioned.get("WriteCapacityUnits") or 0),
            )
        warm = description.get("WarmThroughput") or {}
        maximum = description.get("OnDemandThroughput") or {}
        return cls(
            True,
            float(warm.get("ReadUnitsPerSecond") or NEW_TABLE_WARM["read"]),
            float(warm.get("WriteUnitsPerSecond") or NEW_TABLE_WARM["write"]),
            _positive(maximum.get("MaxReadRequestUnits")),
            _positive(maximum.get("MaxWriteRequestUnits")),
        )


def _positive(value: Any) -> float | None:
    return float(value) if value is not None and float(value) > 0 else None


def meter_for(throughput: Throughput, kind: Kind, now: float) -> Meter:
    rate = throughput.read if kind == "read" else throughput.write
    if not throughput.on_demand:
        return Meter(rate, BURST_SECONDS, rate, now)
    maximum = throughput.max_read if kind == "read" else throughput.max_write
    meter = Meter(rate, 1.0, 0.0, now, on_demand=True, warm=rate, maximum=maximum)
    meter.tokens = meter.limit()
    return meter


# Requests ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Charge:
    """Units one request consumes on one resource (the table, or one of its GSIs)."""

    table: str
    index: str | None
    kind: Kind
    units: float
    key: str | None = None  # the partition-key value, for rule 4


class Throttled(Exception):
    """A request DynamoDB would refuse with ProvisionedThroughputExceededException."""

    def __init__(self, charge: Charge, reason: str) -> None:
        where = f"index {charge.index} of table {charge.table}" if charge.index else charge.table
        super().__init__(
            f"The level of configured provisioned throughput for the {where} was exceeded "
            f"({reason}). Consider increasing your provisioning level with the UpdateTable API."
        )
        self.charge = charge


Publish = Callable[[list[dict[str, Any]]], None]  # CloudWatch MetricData for AWS/DynamoDB


class CapacityModel:
    """The capacity of every table the emulator serves, and the metrics DynamoDB would publish."""

    def __init__(
        self,
        clock: Clock = time.monotonic,
        period: float = 60.0,
        publish: Publish | None = None,
        epoch: float | None = None,
    ) -> None:
        self.clock = clock
        self.period = period
        self.publish = publish
        self.epoch = (time.time() - clock()) if epoch is None else epoch
        self.enabled = True
        self._lock = threading.Lock()
        self._throughput: dict[tuple[str, str | None], Throughput] = {}
        self._meters: dict[tuple[str, str | None, Kind], Meter] = {}
        self._keys: dict[tuple[str, str | None, Kind, str], Meter] = {}
        self._period_start: float | None = None
        self._sums: defaultdict[tuple[str, str | None, str], float] = defaultdict(float)

    def reset(self) -> None:
        """Forget every table (a fresh emulator)."""
        with self._lock:
            self._throughput.clear()
            self._meters.clear()
            self._keys.clear()
            self._sums.clear()
            self._period_start = None

    def configure(self, table: str, index: str | None, throughput: Throughput) -> None:
        """The capacity of a table or GSI (CreateTable/UpdateTable/DescribeTable tell it)."""
        with self._lock:
            if self._throughput.get((table, index)) == throughput:
                return
            self._throughput[(table, index)] = throughput
            now = self.clock()
            for kind in ("read", "write"):
                old = self._meters.get((table, index, kind))
                meter = meter_for(throughput, kind, now)
                if old is not None:  # a capacity change keeps what was consumed
                    meter.tokens, meter.seconds = min(old.tokens, meter.tokens), old.seconds
                self._meters[(table, index, kind)] = meter

    def forget(self, table: str) -> None:
        with self._lock:
            self._throughput = {k: v for k, v in self._throughput.items() if k[0] != table}
            self._meters = {k: v for k, v in self._meters.items() if k[0] != table}
            self._keys = {k: v for k, v in self._keys.items() if k[0] != table}

    def known(self, table: str) -> bool:
        return (table, None) in self._throughput

    def admit(self, charges: list[Charge]) -> None:
        """Raise Throttled if any resource a request reaches lacks the units it would take."""
        with self._lock:
            now = self.clock()
            self._roll(now)
            for charge in charges:
                meter = self._meters.get((charge.table, charge.index, charge.kind))
                if meter is not None and not meter.admits(charge.units, now):
                    self._throttle(charge)
                    raise Throttled(charge, f"{meter.limit():g} {charge.kind} units/s")
                if charge.key is not None:
                    per_key = self._key_meter(charge, now)
                    if not per_key.admits(charge.units, now):
                        self._throttle(charge)
                        raise Throttled(
                            charge,
                            f"a partition serves {PARTITION_UNITS[charge.kind]:g} "
                            f"{charge.kind} units/s",
                        )

    def charge(self, charges: list[Charge]) -> None:
        """Take what a served request consumed, and count it for the metrics."""
        with self._lock:
            now = self.clock()
            for charge in charges:
                meter = self._meters.get((charge.table, charge.index, charge.kind))
                if meter is not None:
                    meter.charge(charge.units, now)
                if charge.key is not None:
                    self._key_meter(charge, now).charge(charge.units, now)
                metric = f"Consumed{charge.kind.capitalize()}CapacityUnits"
                self._sums[(charge.table, charge.index, metric)] += charge.units

    def _key_meter(self, charge: Charge, now: float) -> Meter:
        assert charge.key is not None
        slot = (charge.table, charge.index, charge.kind, charge.key)
        meter = self._keys.get(slot)
        if meter is None:
            rate = PARTITION_UNITS[charge.kind]
            meter = self._keys[slot] = Meter(rate, 1.0, rate, now)
        return meter

    def _throttle(self, charge: Charge) -> None:
        self._sums[(charge.table, charge.index, f"{charge.kind.capitalize()}ThrottleEvents")] += 1
        if charge.index is None:
            self._sums[(charge.table, None, "ThrottledRequests")] += 1

    # Rule 6: metrics -----------------------------------------------------------------------

    def _roll(self, now: float) -> None:
        """Publish the sums of every period that ended; idle key meters are dropped."""
        if self._period_start is None:
            self._period_start = self._start_of(now)
        if now < self._period_start + self.period:
            return
        self._flush()
        self._period_start = self._start_of(now)
        idle = [k for k, m in self._keys.items() if m.stamp < now - 2]
        for key in idle:
            del self._keys[key]

    def _start_of(self, now: float) -> float:
        """The start of the period holding `now`, on the model's clock: periods are whole
        minutes (or scaled periods) of epoch time, as CloudWatch aligns DynamoDB's one-minute
        data (GetMetricData API reference, StartTime: "Round down to the nearest whole minute";
        a 5-30 s period to "even ... divisions of a minute"), so
        a client counting by `time.time() // period` counts in the same periods."""
        return math.floor((self.epoch + now) / self.period) * self.period - self.epoch

    def flush(self) -> None:
        """Publish what the current period counted so far (the end of a run, a test)."""
        with self._lock:
            self._flush()
            self._period_start = None

    def _flush(self) -> None:
        if not self._sums or self.publish is None or self._period_start is None:
            self._sums.clear()
            return
        stamp = self.epoch + self._period_start
        data: list[dict[str, Any]] = []
        for (table, index, metric), value in sorted(
            self._sums.items(), key=lambda kv: (kv[0][0], kv[0][1] or "", kv[0][2])
        ):
            dimensions = [{"Name": "TableName", "Value": table}]
            if index:
                dimensions.append({"Name": "GlobalSecondaryIndexName", "Value": index})
            data.append(
                {
                    "MetricName": metric,
                    "Dimensions": dimensions,
                    "Value": value,
                    "Timestamp": stamp,
                    "Unit": "Count",
                }
            )
        self._sums.clear()
        self.publish(data)
