"""What the application consumes: CloudWatch's figure for the table, less the migration's own.

DynamoDB publishes `ConsumedReadCapacityUnits` / `ConsumedWriteCapacityUnits` (Sum per minute)
and `ReadThrottleEvents` / `WriteThrottleEvents` per table and per GSI (dimension
`GlobalSecondaryIndexName`), in namespace AWS/DynamoDB ("DynamoDB Metrics and dimensions",
Developer Guide). The latest complete minute's Sum, less what the run itself consumed in that
minute (measured with ReturnConsumedCapacity, runner.metered, kept per minute in the run's pace
record), divided by the period, is the application's units per second; the busiest of the latest
`RECENT_PERIODS` minutes counts (a minute the application only began in, or a lull, would
understate it). Only minutes whose own units are all in the record count (runner.settled):
CloudWatch may show a minute before every segment has added its units of it (the docs give no
bound on the delay: design for a minute that shows at once and one that shows late). One
GetMetricData request
reads every figure (IAM: cloudwatch:GetMetricData supports no resource-level permissions, so its
Resource is "*": Service Authorization Reference, "Actions defined by Amazon CloudWatch").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from runner.capacity import Kind
from runner.settled import settled_minutes

LOOKBACK_PERIODS = 5
RECENT_PERIODS = 3  # the busiest of the latest three minutes: a lull does not invite a surge


@dataclass(frozen=True)
class Usage:
    """Per (index or None, kind): units/s the application used in the latest minute, the
    minute it was (epoch // period), and throttle events the table saw in it."""

    used: dict[tuple[str | None, Kind], float]
    minute: int | None
    throttle_events: float


def _query(qid: str, table: str, index: str | None, metric: str, period: int) -> dict[str, Any]:
    dimensions = [{"Name": "TableName", "Value": table}]
    if index:
        dimensions.append({"Name": "GlobalSecondaryIndexName", "Value": index})
    return {
        "Id": qid,
        "MetricStat": {
            "Metric": {"Namespace": "AWS/DynamoDB", "MetricName": metric, "Dimensions": dimensions},
            "Period": period,
            "Stat": "Sum",
        },
        "ReturnData": True,
    }


def application_usage(
    cloudwatch: Any,
    table: str,
    indexes: list[str | None],
    own: dict[tuple[str, int], float],
    now: float,
    period: int = 60,
    settled: float | None = None,
) -> Usage:
    """The application's consumption of `table` and `indexes` (None: the table itself), from
    the minutes that ended by `settled` (runner.settled: `own` holds all of their units)."""
    queries, slots = [], {}
    for n, index in enumerate(indexes):
        for kind in ("write", "read"):
            qid = f"c{n}{kind[0]}"
            metric = f"Consumed{kind.capitalize()}CapacityUnits"
            queries.append(_query(qid, table, index, metric, period))
            slots[qid] = (index, kind)
    queries.append(_query("t", table, None, "WriteThrottleEvents", period))
    queries.append(_query("tr", table, None, "ReadThrottleEvents", period))
    # Periods start on whole periods of the epoch, as CloudWatch aligns minute data
    # (GetMetricData API reference, StartTime), so each datum is one minute of DynamoDB's.
    start = (int(now) // period - LOOKBACK_PERIODS) * period
    response = cloudwatch.get_metric_data(
        MetricDataQueries=queries,
        StartTime=datetime.fromtimestamp(start, UTC),
        EndTime=datetime.fromtimestamp(now, UTC),
        ScanBy="TimestampDescending",
    )
    results = {r["Id"]: r for r in response.get("MetricDataResults", [])}
    minutes = sorted(
        {int(t.timestamp() // period) for r in results.values() for t in r.get("Timestamps", [])}
    )
    used: dict[tuple[str | None, Kind], float] = {}
    if not minutes:
        return Usage(used, None, 0.0)
    latest = settled_minutes(minutes, period, now if settled is None else settled)[-1]

    def at(qid: str, minute: int) -> float:
        result = results.get(qid) or {}
        pairs = zip(result.get("Timestamps", []), result.get("Values", []), strict=False)
        return float(sum(v for t, v in pairs if int(t.timestamp() // period) == minute))

    recent = range(latest - RECENT_PERIODS + 1, latest + 1)
    for qid, (index, kind) in slots.items():
        # The run's own units are measured on the table; on an index its writes reach, a write
        # costs about the same, so the table's figure stands for it.
        used[(index, kind)] = max(  # type: ignore[index]
            max(0.0, at(qid, minute) - own.get((kind[0], minute), 0.0)) / period
            for minute in recent
        )
    return Usage(used, latest, at("t", latest) + at("tr", latest))
