"""The runner's structured logs and EMF metrics (runner.observability)."""

from __future__ import annotations

import json
import logging
import threading

import pytest

from runner import observability
from tests.emf import check_emf


@pytest.fixture
def lines(monkeypatch):
    """Log and metric lines the runner writes during a test."""
    out: dict[str, list[str]] = {"logs": [], "metrics": []}
    monkeypatch.setattr(observability.SINKS, "logs", out["logs"].append)
    monkeypatch.setattr(observability.SINKS, "metrics", out["metrics"].append)
    return out


class Context:
    function_name = "dynamigrate-worker"
    aws_request_id = "invocation-1"


def test_every_line_of_an_invocation_carries_its_keys_module_loggers_included(lines):
    with observability.invocation(Context(), migration="m1", table="t", run_id="r1") as log:
        log.info("from the handler")
        observability.bind(segment=3)
        logging.getLogger("runner.worker").info("from a module")
    logging.getLogger("runner.worker").info("after the invocation")
    first, second, after = (json.loads(line) for line in lines["logs"])
    for line in (first, second):
        assert line["migration"] == "m1"
        assert line["run_id"] == "r1"
        assert line["function_request_id"] == "invocation-1"
        assert line["function_name"] == "dynamigrate-worker"
        assert line["service"] == "dynamigrate-runner"
    assert "segment" not in first
    assert second["segment"] == 3
    assert second["message"] == "from a module"
    assert "migration" not in after


def test_invocations_side_by_side_never_mix_their_keys(lines):
    """Local mode runs each invocation in its own thread of one process."""
    barrier = threading.Barrier(2)

    def invoke(migration: str) -> None:
        with observability.invocation(None, migration=migration) as log:
            barrier.wait()
            log.info("working on %s", migration)

    threads = [threading.Thread(target=invoke, args=(m,)) for m in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    logged = [json.loads(line) for line in lines["logs"]]
    assert sorted((log["migration"], log["message"]) for log in logged) == [
        ("a", "working on a"),
        ("b", "working on b"),
    ]


def test_a_segments_metrics_are_one_valid_emf_line_per_migration_and_table(lines):
    result = {"counters": {"scanned": 100, "updated": 40, "conflicts": 2}, "pages": 3}
    with observability.invocation(None, run_id="r1", segment=7):
        observability.emit(observability.segment_metrics("orders", "m1", result, seconds=4.0))
    (line,) = lines["metrics"]
    doc = check_emf(line)
    (directive,) = doc["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "dynamigrate"
    assert directive["Dimensions"] == [["Table", "Migration"]]
    assert (doc["Table"], doc["Migration"]) == ("orders", "m1")
    units = {m["Name"]: m["Unit"] for m in directive["Metrics"]}
    assert units == {
        "ItemsScanned": "Count",
        "ItemsChanged": "Count",
        "Conflicts": "Count",
        "Pages": "Count",
        "ItemsPerSecond": "Count/Second",
    }
    assert (doc["ItemsScanned"], doc["ItemsChanged"], doc["Pages"]) == ([100.0], [40.0], [3.0])
    assert doc["ItemsPerSecond"] == [25.0]
    assert (doc["run_id"], doc["segment"]) == ("r1", 7)  # properties, not dimensions


def test_the_emf_check_refuses_a_dimension_that_is_not_a_member():
    result = {"counters": {"scanned": 1}, "pages": 1}
    doc = observability.segment_metrics("orders", "m1", result, seconds=1.0).document()
    del doc["Table"]
    with pytest.raises(AssertionError, match="dimension Table not a member"):
        check_emf(json.dumps(doc))


def test_a_set_without_metrics_writes_no_line(lines):
    observability.emit(observability.MetricSet("orders", "m1"))
    assert lines["metrics"] == []


def test_units_and_throttles_become_metrics_once_the_worker_counts_them(lines):
    counters = {"scanned": 10, "readUnits": 5, "writeUnits": 7.5, "throttles": 1}
    result = {"counters": counters, "pages": 1}
    doc = check_emf(
        json.dumps(observability.segment_metrics("orders", "m1", result, 1.0).document())
    )
    assert (doc["ReadUnits"], doc["WriteUnits"], doc["Throttles"]) == ([5.0], [7.5], [1.0])
