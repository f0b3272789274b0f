"""How many scan segments a run uses, and each running segment's share of MaxWritesPerSecond.

A migration without `Segments` gets its count from the table's size when a run starts: every
segment costs a fixed four state transitions (its child execution's start is billed as one:
Step Functions Developer Guide, "Transitions") and one worker invocation, so a small table is
cheapest as one segment, and a large one is split so that no segment has more than about
`ITEMS_PER_SEGMENT` items or `BYTES_PER_SEGMENT` bytes. 50,000 items are about four minutes of
one worker at the planner's conservative 200 items/s, and a segment's four transitions cost
0.32 % of its 50,000 writes: a table of a million items runs in minutes, not over an hour.
"""

from __future__ import annotations

import math

ITEMS_PER_SEGMENT = 50_000
BYTES_PER_SEGMENT = 1024**3  # 1 GiB
MAX_SEGMENTS = 1000  # States.ArrayRange yields at most 1,000 items
WRITES_PER_PACED_THREAD = 20.0


def auto_segments(item_count: int, size_bytes: int) -> int:
    """Segments for a table of `item_count` items and `size_bytes` bytes (DescribeTable's)."""
    wanted = max(
        1,
        math.ceil(max(0, item_count) / ITEMS_PER_SEGMENT),
        math.ceil(max(0, size_bytes) / BYTES_PER_SEGMENT),
    )
    return min(MAX_SEGMENTS, wanted)


def running_segments(total_segments: int, max_concurrency: int | None) -> int:
    """Segments that run at once: all of them, or MaxConcurrency."""
    return max(1, min(total_segments, max_concurrency or total_segments))


def writes_share(
    max_writes_per_second: float | None, total_segments: int, max_concurrency: int | None
) -> float | None:
    """One running segment's share of the limit, so all running segments stay at or under it.

    Rounded down to a thousandth; None when the migration is not paced.
    """
    if not max_writes_per_second:
        return None
    running = running_segments(total_segments, max_concurrency)
    return math.floor(float(max_writes_per_second) / running * 1000) / 1000


def paced_concurrency(concurrency: int, share: float | None) -> int:
    """Write threads of one segment: all of them unpaced; paced, one per 20 writes/s of its share.

    Writes granted while the table stalls (a throttle, a slow page) queue up and land together
    when it recovers; with at most a twentieth of a second's share in flight, and the token
    bucket's burst of another twentieth, no second can exceed the limit by more than 10%.
    A thread still has 50 ms per write, ten round trips of DynamoDB's.
    """
    if not share:
        return concurrency
    return max(1, min(concurrency, math.ceil(share / WRITES_PER_PACED_THREAD)))
