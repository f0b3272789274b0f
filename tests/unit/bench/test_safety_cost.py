"""bench/safety_cost.py's baseline and prices: what its figures rest on (never a time)."""

from __future__ import annotations

import pytest

import runner.operations
import runner.recording
from bench import prices
from bench.safety_cost import s3_dollars, writes_every_item
from dynamigrate import plan
from runner.update_eval import changes_nothing
from runner.update_expr import parse_update


def test_the_baseline_writes_every_item_in_both_appliers_then_restores_the_skip() -> None:
    update = parse_update("SET #s = :p", {"#s": "status"})
    item, values = {"pk": {"S": "a"}, "status": {"S": "PENDING"}}, {":p": {"S": "PENDING"}}
    assert changes_nothing(update, item, values)  # the worker skips this write
    originals = (runner.operations.changes_nothing, runner.recording.changes_nothing)
    assert originals == (changes_nothing, changes_nothing)
    with writes_every_item():
        assert runner.operations.changes_nothing(update, item, values) is False
        assert runner.recording.changes_nothing is runner.operations.changes_nothing
        assert runner.recording.changes_nothing is not changes_nothing
    assert (runner.operations.changes_nothing, runner.recording.changes_nothing) == originals


def test_the_baseline_is_restored_when_the_run_fails() -> None:
    with pytest.raises(RuntimeError), writes_every_item():
        raise RuntimeError("the run failed")
    assert runner.operations.changes_nothing is changes_nothing
    assert runner.recording.changes_nothing is changes_nothing


def test_s3_is_priced_per_request_kind_and_per_gb_month() -> None:
    assert s3_dollars({"PUT": 1000}, 0) == pytest.approx(0.005)
    assert s3_dollars({"LIST": 1000}, 0) == pytest.approx(0.005)  # LIST: the PUT tier
    assert s3_dollars({"GET": 1000}, 0) == pytest.approx(0.0004)
    assert s3_dollars({"DELETE": 1000}, 0) == 0.0  # free
    assert s3_dollars({}, 2**30) == pytest.approx(0.023)


def test_dynamodb_step_functions_and_lambda_prices_are_the_plans() -> None:
    assert pytest.approx(plan.WRITE_PER_MILLION) == prices.WRITE_UNIT * 1e6
    assert pytest.approx(plan.READ_PER_MILLION) == prices.READ_UNIT * 1e6
    assert pytest.approx(plan.TRANSITION_PER_THOUSAND) == prices.TRANSITION * 1000
    assert prices.LAMBDA_GB_SECOND == plan.LAMBDA_GB_SECOND
