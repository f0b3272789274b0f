"""The run's shared pace in the history table: one `pace` record per run, versioned.

pk `run#<table>#<migration>#<direction>[-dry]#<run id>` (the run's, runner.history), sk `pace`.
A worker's proposal is written only over the version it saw (optimistic concurrency); a lost
race returns the record as it is (`ReturnValuesOnConditionCheckFailure`, UpdateItem API
reference), so a sync is one request. The same write adds the run's own consumption to a
per-minute counter (`own_w_<minute>`, `own_r_<minute>`): runner.headroom subtracts it from
CloudWatch's figure for that minute to find what the application uses. Counters older than
`KEEP_MINUTES` are removed by the same write. Each segment also stamps `seg_<n>` with the time
of its sync (removed when it finishes), so the rate is shared by the segments still working.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from runner.errors import HistoryError
from runner.history import PACE_SK, RunRef
from runner.rate import Pace

KEEP_MINUTES = 10
_FIELDS = {
    "write": "write",
    "read": "read",
    "budget_write": "budgetWrite",
    "budget_read": "budgetRead",
    "changed_at": "changedAt",
    "decreased_at": "decreasedAt",
    "budget_at": "budgetAt",
    "throttles": "throttles",
    "version": "version",
}


@dataclass(frozen=True)
class Synced:
    """The pace as stored, whether the proposal won, and the run's own units per minute."""

    pace: Pace | None
    won: bool
    own: dict[tuple[str, int], float]
    active: dict[int, float] | None = None  # segment -> time of its last sync


ACTIVE_SECONDS = 10.0  # a segment that has not synced for this long no longer counts


def active_segments(synced: Synced, now: float) -> int:
    """Segments that synced within ACTIVE_SECONDS (at least one: the caller)."""
    stamps = synced.active or {}
    return max(1, sum(1 for at in stamps.values() if at >= now - ACTIVE_SECONDS))


def _parse(item: dict[str, Any] | None) -> Synced:
    if not item or "version" not in item:
        return Synced(None, False, {})
    values: dict[str, Any] = {f: float(item[a]["N"]) for f, a in _FIELDS.items() if a in item}
    values["throttles"] = int(values.get("throttles", 0))
    values["version"] = int(values["version"])
    pace = Pace(reason=item.get("reason", {}).get("S", ""), **values)
    own: dict[tuple[str, int], float] = {}
    active: dict[int, float] = {}
    for name, value in item.items():
        if name.startswith("own_"):
            _, kind, minute = name.split("_")
            own[(kind, int(minute))] = float(value["N"])
        elif name.startswith("seg_"):
            active[int(name[4:])] = float(value["N"])
    return Synced(pace, False, own, active)


def _number(value: float) -> dict[str, str]:
    return {"N": f"{value:.6f}" if isinstance(value, float) else str(value)}


class PaceStore:
    def __init__(self, client: Any, table_name: str) -> None:
        self.client = client
        self.table_name = table_name

    def load(self, run: RunRef) -> Synced:
        try:
            resp = self.client.get_item(
                TableName=self.table_name,
                Key={"pk": {"S": run.pk}, "sk": {"S": PACE_SK}},
                ConsistentRead=True,
            )
        except ClientError as exc:
            raise HistoryError(f"history table: reading the run's pace failed ({exc})") from exc
        return _parse(resp.get("Item"))

    def propose(
        self,
        run: RunRef,
        seen: int | None,
        proposal: Pace,
        own: dict[tuple[str, int], float],
        minute: int,
        segment: int = 0,
        now: float = 0.0,
        leaving: bool = False,
    ) -> Synced:
        """Write `proposal` if the record is still at version `seen` (None: absent), add the
        run's own units by (kind, minute); stamp `segment` as working at `now`, or remove its
        stamp when it is `leaving`."""
        names = {f"#{f}": a for f, a in _FIELDS.items()}
        values: dict[str, Any] = {
            f":{f}": _number(getattr(proposal, f)) for f in _FIELDS if f != "version"
        }
        values[":version"] = _number(proposal.version + 1)
        values[":reason"] = {"S": proposal.reason[:500]}
        sets = [f"#{f} = :{f}" for f in _FIELDS] + ["reason = :reason"]
        if not leaving:
            sets.append(f"seg_{segment} = :now")
            values[":now"] = _number(float(now))
        adds = []
        for n, ((kind, at), units) in enumerate(sorted(own.items())):
            if units and at > minute - KEEP_MINUTES:
                adds.append(f"own_{kind}_{at} :own{n}")
                values[f":own{n}"] = _number(float(units))
        removes = [f"own_{k}_{minute - KEEP_MINUTES}" for k in ("w", "r")]
        if leaving:
            removes.append(f"seg_{segment}")
        expression = "SET " + ", ".join(sets)
        if adds:
            expression += " ADD " + ", ".join(adds)
        expression += " REMOVE " + ", ".join(removes)
        if seen is None:
            condition = "attribute_not_exists(#version)"
        else:
            condition = "#version = :seen"
            values[":seen"] = _number(seen)
        try:
            resp = self.client.update_item(
                TableName=self.table_name,
                Key={"pk": {"S": run.pk}, "sk": {"S": PACE_SK}},
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return _parse(exc.response.get("Item"))
            raise HistoryError(f"history table: writing the run's pace failed ({exc})") from exc
        synced = _parse(resp["Attributes"])
        return Synced(synced.pace, True, synced.own, synced.active)
