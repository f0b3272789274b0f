"""The whole run's rate, shared by its segments: additive increase, multiplicative decrease.

Pure. Every worker proposes the next `Pace` from the last one it saw and what it observed since
(throttles, the table's throttle metrics); runner.history stores it in the run's `pace` record
with a version check, so all segments follow one rate. A throttle anywhere halves the rate for
every segment at once (at most once per `COOLDOWN_SECONDS`, however many segments saw it);
`INCREASE_SECONDS` of success add a tenth of the budget, up to the budget. This is TCP's
congestion control (AIMD), the shape the AWS SDKs' adaptive retry mode also takes for throttling.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

DECREASE_FACTOR = 0.5
INCREASE_FRACTION = 0.1
INCREASE_SECONDS = 5.0
COOLDOWN_SECONDS = 5.0
FLOOR_UNITS = 1.0


@dataclass(frozen=True)
class Pace:
    """The run's current rates (units/s for the whole run) and what they were chosen from."""

    write: float
    read: float
    budget_write: float
    budget_read: float
    reason: str
    changed_at: float = 0.0
    decreased_at: float = -1e18
    budget_at: float = -1e18
    throttles: int = 0
    version: int = 0

    @property
    def holding(self) -> str:
        return holding_line(self.write, self.read, self.reason)


def holding_line(write: float, read: float, reason: str) -> str:
    """What a user reads: `holding at 180 WCU/s, 500 RCU/s: table T: the application uses ...`."""
    return f"holding at {write:,.0f} WCU/s, {read:,.0f} RCU/s: {reason}"


def start(budget_write: float, budget_read: float, reason: str, now: float) -> Pace:
    """A run's first pace: the whole budget (it already leaves the application its share)."""
    return Pace(budget_write, budget_read, budget_write, budget_read, reason, now, budget_at=now)


def rebudget(pace: Pace, budget_write: float, budget_read: float, reason: str, now: float) -> Pace:
    """A fresh budget (capacity re-read, the application's use measured): rates stay within it.

    A rate held only by its budget follows the budget up at once, as a run's first pace takes
    its whole budget (the budget already leaves the application its share); a rate a throttle
    backed off stays below its old budget and rises by additive increase.
    """
    return replace(
        pace,
        write=_follow(pace.write, pace.budget_write, budget_write),
        read=_follow(pace.read, pace.budget_read, budget_read),
        budget_write=budget_write,
        budget_read=budget_read,
        reason=reason,
        budget_at=now,
    )


def _follow(rate: float, old_budget: float, new_budget: float) -> float:
    return new_budget if rate >= old_budget else min(rate, new_budget)


def advance(pace: Pace, throttled: int, now: float) -> Pace:
    """The pace after a worker saw `throttled` throttles since its last look (0: success)."""
    if throttled:
        seen = pace.throttles + throttled
        if now - pace.decreased_at < COOLDOWN_SECONDS:
            return replace(pace, throttles=seen)  # another segment already backed off for it
        return replace(
            pace,
            write=max(FLOOR_UNITS, pace.write * DECREASE_FACTOR),
            read=max(FLOOR_UNITS, pace.read * DECREASE_FACTOR),
            decreased_at=now,
            changed_at=now,
            throttles=seen,
        )
    if now - max(pace.changed_at, pace.decreased_at) < INCREASE_SECONDS:
        return pace
    write = min(pace.budget_write, pace.write + pace.budget_write * INCREASE_FRACTION)
    read = min(pace.budget_read, pace.read + pace.budget_read * INCREASE_FRACTION)
    if (write, read) == (pace.write, pace.read):
        return pace
    return replace(pace, write=write, read=read, changed_at=now)
