"""Up to when the run's own units in its pace record are complete.

Pure. A worker adds the units it consumed to the run's pace record when it syncs
(runner.pace_store) and stamps `seg_<n>` with the time of that sync, so the record holds every
unit a segment consumed before its stamp and none after it. CloudWatch's minute, less the run's
own units in that minute, is the application's use only when every segment's units of that
minute are in: a minute that ended after some working segment's last sync still counts part of
the migration's own writes as the application's, and a budget read from it starves the run.
runner.headroom therefore reads only minutes that ended by the horizon this module computes.
"""

from __future__ import annotations


def settled_until(
    stamps: dict[int, float], segment: int, now: float, active_seconds: float
) -> float:
    """The time before which the record holds every working segment's units.

    `stamps` are the segments' last syncs as the record showed them; the caller (`segment`) adds
    its own units with the sync it is making at `now`. A segment that has not synced within
    `active_seconds` no longer works (it finished, or its worker ended) and does not hold the
    horizon back.
    """
    others = [
        at for seg, at in stamps.items() if seg != segment and now - active_seconds <= at <= now
    ]
    return min([now, *others])


def settled_minutes(minutes: list[int], period: int, until: float) -> list[int]:
    """The minutes (periods since the epoch) that ended by `until`; all of them when none did,
    so a missing horizon overstates the application's use rather than understating it."""
    ended = [m for m in minutes if (m + 1) * period <= until]
    return ended or minutes
