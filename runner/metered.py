"""A DynamoDB client that paces and measures a migration's requests in capacity units.

Every read and write asks DynamoDB what it consumed (`ReturnConsumedCapacity: TOTAL`, which
counts the indexes a write reached too: API reference, ConsumedCapacity), takes a unit before the
request from the segment's bucket for its kind and the rest of what it consumed after it, and
counts throttles (ProvisionedThroughputExceededException and the other throttling codes of
runner.retry), so runner.rate can back the whole run off.
"""

from __future__ import annotations

import threading
from typing import Any

from botocore.exceptions import ClientError

from runner.pacing import TokenBucket
from runner.retry import is_throttling

WRITES = frozenset({"update_item", "put_item", "delete_item"})
READS = frozenset({"scan", "query", "get_item"})


class Metered:
    """Wraps a DynamoDB client; `writes`/`reads` are the segment's unit buckets."""

    def __init__(self, client: Any, writes: TokenBucket, reads: TokenBucket) -> None:
        self._client = client
        self.writes = writes
        self.reads = reads
        self._lock = threading.Lock()
        self.consumed = {"write": 0.0, "read": 0.0}
        self.throttles = 0

    def take(self) -> dict[str, float | int]:
        """What was consumed and throttled since the last call, and reset."""
        with self._lock:
            out: dict[str, float | int] = {**self.consumed, "throttles": self.throttles}
            self.consumed = {"write": 0.0, "read": 0.0}
            self.throttles = 0
        return out

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
                raise
            units = float((response.get("ConsumedCapacity") or {}).get("CapacityUnits") or 1.0)
            bucket.debit(units - 1.0)
            with self._lock:
                self.consumed[kind] += units
            return response

        return call
