"""What the application consumes: CloudWatch's figure for the table, less the migration's own.

DynamoDB publishes `ConsumedReadCapacityUnits` / `ConsumedWriteCapacityUnits` (Sum per minute)
and `ReadThrottleEvents` / `WriteThrottleEvents` per table and per GSI (dimension
`GlobalSecondaryIndexName`), in namespace AWS/DynamoDB ("DynamoDB Metrics and dimensions",
Developer Guide). The latest complete minute's Sum, less what the run itself consumed in that
minute (measured with ReturnConsumedCapacity, runner.metered, kept per minute in the run's pace
record), divided by the period, is the application's units per second; the busiest of the latest
`RECENT_PERIODS` minutes counts (a minute the application only began in, or a lull, would
understate it). One GetMetricData request
reads every figure (IAM: cloudwatch:GetMetricData supports no resource-level permissions, so its
Resource is "*": Service Authorization Reference, "Actions defined by Amazon CloudWatch").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from runner.capacity import Kind

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
) -> Usage:
    """The application's consumption of `table` and `indexes` (None: the table itself)."""
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
    latest: int | None = None
    for result in results.values():
        for stamp in result.get("Timestamps", []):
            latest = max(latest or 0, int(stamp.timestamp() // period))
    used: dict[tuple[str | None, Kind], float] = {}
    if latest is None:
        return Usage(used, None, 0.0)

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
