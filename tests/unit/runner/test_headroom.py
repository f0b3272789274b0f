"""The application's use from CloudWatch's minutes, less the run's own."""

from __future__ import annotations

from datetime import UTC, datetime

from runner.headroom import application_usage

M = 29_937_140  # a minute since the epoch


class CloudWatch:
    def __init__(self, writes: dict[int, float], throttles: dict[int, float]) -> None:
        self.writes, self.throttles = writes, throttles
        self.asked: dict = {}

    def get_metric_data(self, **kwargs):
        self.asked = kwargs

        def result(qid: str, by_minute: dict[int, float]) -> dict:
            stamps = [datetime.fromtimestamp(m * 60, UTC) for m in by_minute]
            return {"Id": qid, "Timestamps": stamps, "Values": list(by_minute.values())}

        return {
            "MetricDataResults": [
                result("c0w", self.writes),
                result("c0r", {}),
                result("t", self.throttles),
                result("tr", {}),
            ]
        }


def test_the_busiest_recent_minute_less_the_runs_own_units_counts():
    cloudwatch = CloudWatch({M - 1: 900.0, M: 300.0}, {M: 4.0})
    own = {("w", M - 1): 480.0}  # the run wrote 480 of that minute's 900
    usage = application_usage(cloudwatch, "Orders", [None], own, now=M * 60 + 90)
    assert usage.used[(None, "write")] == 7.0  # max(900 - 480, 300) / 60
    assert usage.throttle_events == 4.0
    assert usage.minute == M
    start = cloudwatch.asked["StartTime"]
    assert start.timestamp() % 60 == 0  # whole minutes, as CloudWatch aligns them


def test_no_figures_means_no_known_use():
    usage = application_usage(CloudWatch({}, {}), "Orders", [None], {}, now=M * 60)
    assert (usage.used, usage.minute) == ({}, None)


def test_a_minute_whose_own_units_are_not_all_in_is_not_read():
    # CloudWatch shows minute M already, but a segment has not shared its units of it yet: read
    # alone, the migration's own 480 units would count as the application's.
    cloudwatch = CloudWatch({M - 1: 300.0, M: 900.0}, {})
    own = {("w", M): 420.0}
    settled = M * 60 + 30  # the slowest working segment synced half-way through minute M
    usage = application_usage(cloudwatch, "Orders", [None], own, M * 60 + 62, settled=settled)
    assert usage.minute == M - 1
    assert usage.used[(None, "write")] == 5.0  # 300 / 60, minute M not read
