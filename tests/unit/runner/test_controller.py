"""The controller's pure parts: the window, names, waiting, and the entry's idempotency."""

from __future__ import annotations

import json
import re

import pytest
from botocore.exceptions import ClientError

from runner.controller_state import execution_name, to_answer, waiting, window_seconds
from runner.entry import controller_input, start_controller


@pytest.mark.parametrize(
    ("timeout", "window"), [(3600, 3480), (600, 570), (60, 55), (8, 3), (3, 1)]
)
def test_the_window_leaves_a_margin_to_answer_in(timeout, window):
    assert window_seconds(timeout) == window


def test_execution_names_are_valid_and_unique_per_request():
    long_id = "x" * 100 + "/ü:*"
    name = execution_name(long_id, "request-1")
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,80}", name)
    assert name != execution_name(long_id, "request-2")
    assert name == execution_name(long_id, "request-1")


def state(**kw):
    return {"deadline": 1000, "pollSeconds": 15, "answered": False, "polls": 0, "maxPolls": 5, **kw}


def test_the_last_wait_before_the_deadline_is_shortened_to_poll_the_deadline_itself():
    assert waiting(state(), "run", now=900)["waitSeconds"] == 15
    assert waiting(state(), "run", now=995)["waitSeconds"] == 5
    assert waiting(state(), "run", now=1005)["waitSeconds"] == 1


def test_after_answering_the_controller_polls_less_often():
    assert waiting(state(answered=True), "run", now=2000)["waitSeconds"] == 60
    fast = state(answered=True, answeredPollSeconds=2)  # a local run's configuration
    assert waiting(fast, "run", now=2000)["waitSeconds"] == 2


def test_the_answered_interval_is_configured_only_where_it_is_set():
    aws = json.loads(controller_input(EVENT, poll_seconds=15, max_polls=1000, now=100))
    assert "answeredPollSeconds" not in aws["config"]
    local = controller_input(EVENT, poll_seconds=1, max_polls=10, now=100, answered_poll_seconds=1)
    assert json.loads(local)["config"]["answeredPollSeconds"] == 1


def test_the_controller_hands_over_after_max_polls():
    assert waiting(state(polls=4), "run", now=0)["phase"] == "wait"
    assert waiting(state(polls=5), "run", now=0)["phase"] == "handover"


def test_an_answer_is_prepared_once():
    pending = to_answer(state(), "SUCCESS", "done", {"Status": "SUCCEEDED"})
    assert pending["phase"] == "answer"
    assert to_answer(state(answered=True), "FAILED", "late", {})["phase"] == "done"


class FakeStepFunctions:
    def __init__(self):
        self.names: set[str] = set()

    def start_execution(self, stateMachineArn, name, input):
        if name in self.names:
            error = {"Error": {"Code": "ExecutionAlreadyExists", "Message": name}}
            raise ClientError(error, "StartExecution")
        self.names.add(name)
        return {"executionArn": f"{stateMachineArn}:{name}"}


EVENT = {
    "RequestType": "Create",
    "RequestId": "req-1",
    "LogicalResourceId": "OrdersAddStatus",
    "ResourceProperties": {"ServiceTimeout": "600"},
}


def test_a_duplicate_delivery_starts_nothing():
    sfn = FakeStepFunctions()
    assert start_controller(EVENT, sfn, "arn:controller", now=0)
    assert start_controller(EVENT, sfn, "arn:controller", now=5) is None
    assert start_controller({**EVENT, "RequestId": "req-2"}, sfn, "arn:controller", now=5)


def test_the_controller_input_carries_the_deadline_of_the_window():
    payload = json.loads(controller_input(EVENT, poll_seconds=15, max_polls=1000, now=100))
    assert payload["config"] == {"pollSeconds": 15, "maxPolls": 1000, "deadline": 670}
    assert payload["event"] == EVENT
