"""The horizon before which the run's own units are all in its pace record."""

from __future__ import annotations

from runner.settled import settled_minutes, settled_until


def test_the_horizon_is_the_oldest_sync_of_the_other_working_segments():
    stamps = {0: 95.0, 1: 98.0, 2: 80.0}  # segment 2 stopped syncing 20 s ago: it left
    assert settled_until(stamps, segment=1, now=100.0, active_seconds=10.0) == 95.0
    assert settled_until({1: 90.0}, segment=1, now=100.0, active_seconds=10.0) == 100.0


def test_only_minutes_that_ended_by_the_horizon_are_read_or_all_when_none_did():
    assert settled_minutes([10, 11, 12], period=60, until=12 * 60 + 30) == [10, 11]
    assert settled_minutes([12], period=60, until=12 * 60 + 30) == [12]
