"""Backoff for DynamoDB throttling: throttled requests are retried, never dropped."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from botocore.exceptions import ClientError

from runner.errors import ThrottledError

T = TypeVar("T")

THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TransactionInProgressException",
    }
)


# A transaction DynamoDB cancels for want of capacity says so in its cancellation reasons (API
# reference, TransactionCanceledException: "There is insufficient provisioned capacity for the
# transaction to be completed"; reason codes ProvisionedThroughputExceeded and ThrottlingError).
THROTTLING_REASONS = frozenset({"ProvisionedThroughputExceeded", "ThrottlingError"})


def is_throttling(exc: ClientError) -> bool:
    code = exc.response.get("Error", {}).get("Code")
    if code == "TransactionCanceledException":
        reasons = exc.response.get("CancellationReasons") or []
        return any(r.get("Code") in THROTTLING_REASONS for r in reasons)
    return code in THROTTLING_CODES


def call_with_backoff(
    call: Callable[[], T],
    attempts: int = 12,
    base: float = 0.05,
    cap: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `call`, retrying throttling with capped exponential backoff and full jitter.

    After `attempts` throttled tries it raises ThrottledError so the state machine's own Retry
    takes over (the page is then resumed from its checkpoint).
    """
    for attempt in range(attempts):
        try:
            return call()
        except ClientError as exc:
            if not is_throttling(exc):
                raise
            if attempt == attempts - 1:
                raise ThrottledError(
                    f"DynamoDB throttled {attempts} times in a row: {exc}"
                ) from exc
            sleep(random.uniform(0, min(cap, base * 2**attempt)))
    raise AssertionError("unreachable")
