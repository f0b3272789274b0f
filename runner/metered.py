"""A DynamoDB client that paces and measures a migration's requests in capacity units.

Every read and write asks DynamoDB what it consumed (`ReturnConsumedCapacity: TOTAL`, which
counts the indexes a write reached too: API reference, ConsumedCapacity), takes a unit before the
request from the segment's bucket for its kind and the rest of what it consumed after it, and
counts throttles (ProvisionedThroughputExceededException and the other throttling codes of
runner.retry), so runner.rate can back the whole run off. Units are kept by the metric period
(CloudWatch's minute) in which DynamoDB answered, so runner.headroom subtracts them from the very
minute CloudWatch counts them in. `totals()` keeps what `take()` hands the pacer, for the
worker's metrics: the units DynamoDB reported (none is assumed for an answer without them) and
the throttles, over the client's life (one worker invocation).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from runner.pacing import TokenBucket
from runner.retry import is_throttling

Units = dict[tuple[str, int], float]  # ("w" | "r", period since the epoch) -> units

WRITES = frozenset({"update_item", "put_item", "delete_item", "transact_write_items"})
READS = frozenset({"scan", "query", "get_item"})


def reported_units(consumed: Any) -> float:
    """The units a response reports (0 when none): one ConsumedCapacity, or TransactWriteItems'
    list of them, one per table (API reference, TransactWriteItems: "ConsumedCapacity: Array of
    ConsumedCapacity")."""
    parts = consumed if isinstance(consumed, list) else [consumed or {}]
    return float(sum(float(p.get("CapacityUnits") or 0.0) for p in parts))


class Metered:
    """Wraps a DynamoDB client; `writes`/`reads` are the segment's unit buckets."""

    def __init__(
        self,
        client: Any,
        writes: TokenBucket,
        reads: TokenBucket,
        period: int = 60,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self.writes = writes
        self.reads = reads
        self.period = period
        self.clock = clock
        self._lock = threading.Lock()
        self.consumed: Units = {}
        self.throttles = 0
        self._totals = {"readUnits": 0.0, "writeUnits": 0.0, "throttles": 0.0}
        self.tick: Callable[[], None] | None = None  # called after each request (the pacer's)

    def totals(self) -> dict[str, float]:
        """Read and write units DynamoDB reported and throttles seen since the client was made."""
        with self._lock:
            return dict(self._totals)

    def take(self) -> tuple[Units, int]:
        """The units consumed (by kind and period) and the throttles seen since the last call."""
        with self._lock:
            out = (self.consumed, self.throttles)
            self.consumed, self.throttles = {}, 0
        return out

    def _ticked(self) -> None:
        if self.tick is not None:
            self.tick()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name not in WRITES and name not in READS:
            return attribute
        kind = "write" if name in WRITES else "read"
        bucket = self.writes if kind == "write" else self.reads

        def call(**kwargs: Any) -> Any:
            bucket.take()
            try:
                response = attribute(ReturnConsumedCapacity="TOTAL", **kwargs)
            except ClientError as exc:
                if is_throttling(exc):
                    with self._lock:
                        self.throttles += 1
                        self._totals["throttles"] += 1
                    self._ticked()
                raise
            reported = reported_units(response.get("ConsumedCapacity"))
            units = reported or 1.0
            bucket.debit(units - 1.0)
            slot = (kind[0], int(self.clock() // self.period))
            with self._lock:
                self.consumed[slot] = self.consumed.get(slot, 0.0) + units
                self._totals[kind + "Units"] += reported
            self._ticked()
            return response

        return call
