"""A worker's pacer: syncs between requests, and reads only settled minutes of its own units."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from runner.capacity import Budget
from runner.headroom import Usage
from runner.history import RunRef
from runner.metered import Metered
from runner.pace_store import Synced
from runner.pacer import SYNC_SECONDS, Pacer
from runner.pacing import TokenBucket
from runner.rate import Pace

RUN = RunRef("Orders", "m1", "up", "r1")


class Store:
    """The run's pace record in memory, with segment 1 last synced at `other`."""

    def __init__(self, other: float) -> None:
        self.pace: Pace | None = None
        self.own: dict[tuple[str, int], float] = {("w", 1): 40.0}
        self.active = {1: other}
        self.proposals = 0

    def load(self, run: RunRef) -> Synced:
        return Synced(self.pace, False, dict(self.own), dict(self.active))

    def propose(self, run, seen, proposal, own, minute, segment=0, now=0.0, leaving=False):
        self.proposals += 1
        for slot, units in own.items():
            self.own[slot] = self.own.get(slot, 0.0) + units
        self.active[segment] = now
        self.pace = replace(proposal, version=proposal.version + 1)
        return Synced(self.pace, True, dict(self.own), dict(self.active))


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Refresh:
    def __init__(self) -> None:
        self.asked: list[tuple[dict[tuple[str, int], float], float, float]] = []

    def __call__(self, own: dict[tuple[str, int], float], now: float, settled: float) -> Any:
        self.asked.append((dict(own), now, settled))
        return Budget(100.0, 100.0, "why"), Usage({}, None, 0.0)


class Client:
    def update_item(self, **kwargs: Any) -> dict[str, Any]:
        return {"ConsumedCapacity": {"CapacityUnits": 2.0}}


def pacer(clock: Clock, store: Store, refresh: Refresh) -> tuple[Pacer, Metered]:
    writes, reads = TokenBucket(None), TokenBucket(None)
    paced = Pacer(store, RUN, 2, refresh, writes, reads, clock=clock, period=60)  # type: ignore[arg-type]
    metered = Metered(Client(), writes, reads, period=60, clock=clock)
    paced.observe(metered)
    return paced, metered


def test_the_budget_reads_own_units_up_to_the_other_segments_last_sync_and_its_own_too():
    clock, store, refresh = Clock(125.0), Store(other=120.0), Refresh()
    paced, metered = pacer(clock, store, refresh)
    paced.sync(force=True)
    assert refresh.asked[-1][2] == 120.0  # segment 1 shared its units up to 120 s only
    clock.now, store.active[1] = 180.0, 179.0
    metered.update_item(Key="a")  # 2 units in minute 3; the request's tick syncs them
    clock.now, store.active[1] = 185.5, 185.0  # a minute after the last budget: read again
    refresh.asked.clear()
    metered.update_item(Key="b")  # 2 more units in minute 3, shared by this very sync
    own, _, settled = refresh.asked[-1]
    assert settled == 179.0  # segment 1's last sync as the record showed it at 180 s
    assert own[("w", 3)] == 4.0  # the record's 2 and this worker's pending 2


def test_a_long_page_still_syncs_every_few_seconds_from_its_requests():
    clock, store, refresh = Clock(130.0), Store(other=130.0), Refresh()
    paced, metered = pacer(clock, store, refresh)
    paced.sync(force=True)
    assert store.proposals == 1
    clock.now += SYNC_SECONDS / 2
    metered.update_item(Key="a")
    assert store.proposals == 1  # not yet: at most one sync every SYNC_SECONDS
    clock.now += SYNC_SECONDS / 2
    metered.update_item(Key="b")
    assert store.proposals == 2  # mid-page, no page commit needed
    assert store.own[("w", 2)] == 4.0  # both requests' units shared
