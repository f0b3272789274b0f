"""Crashes of the runner and its controller, before and after their side effects, on the emulator.

Whatever step dies, and whenever, CloudFormation gets exactly one answer (or the same one again)
and the migration runs once: retried steps find what they started, a vanished controller's run is
adopted or resumed.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from dynamigrate.local.app import CONTROLLER, LocalApp
from dynamigrate.local.cloudformation.protocol import StackDriver
from dynamigrate.local.emulator import REGISTRY
from runner.history import RUNNING, SUCCEEDED
from tests.functional.conftest import scan_all
from tests.functional.lifecycle_world import (
    ADD_V,
    ITEMS,
    executions,
    ledger,
    migration,
    slow,
    wait_controllers,
)


def crash_once(action: str) -> list[str]:
    """Make the controller function crash (as a killed runtime does) on its first `action` step."""
    crashed: list[str] = []
    handler = REGISTRY.handlers[CONTROLLER]
    runtime_exit = type("Runtime.ExitError", (Exception,), {})

    def crashing(event: dict[str, Any], context: Any) -> Any:
        if event["action"] == action and not crashed:
            crashed.append(action)
            raise runtime_exit("RequestId: x Error: Runtime exited with error: signal: killed")
        return handler(event, context)

    REGISTRY.handlers[CONTROLLER] = crashing
    return crashed


@pytest.mark.parametrize("step", ["begin", "poll", "answer"])
def test_a_crash_at_any_step_still_gives_exactly_one_answer(world, step):
    app, receiver = world
    crashed = crash_once(step)
    stack = StackDriver("app", app.runner_arn, receiver)
    props = migration(app, "m1", ADD_V)
    event = stack.event("Create", "AddV", props)
    stack.deliver(event)
    assert receiver.wait(event["RequestId"])["Status"] == "SUCCESS"
    wait_controllers(app)
    assert crashed == [step]
    assert len(receiver.for_request(event["RequestId"])) == 1
    assert len(executions(app, props["StateMachineArn"])) == 1


def test_an_unreachable_response_url_is_retried(world):
    app, receiver = world
    receiver.refuse = 2  # two HTTP 500s, then the answer goes through
    stack = StackDriver("app", app.runner_arn, receiver)
    assert stack.send("Create", "AddV", migration(app, "m1", ADD_V))["Status"] == "SUCCESS"
    assert (receiver.refused, len(receiver.answers)) == (2, 1)


def test_a_step_that_keeps_failing_answers_failed_with_the_cause(world):
    app, receiver = world

    def broken(event: dict[str, Any], context: Any) -> Any:
        if event["action"] == "fail":
            return original(event, context)
        raise ValueError("history table schema is not what the runner expects")

    original = REGISTRY.handlers[CONTROLLER]
    REGISTRY.handlers[CONTROLLER] = broken
    stack = StackDriver("app", app.runner_arn, receiver)
    answer = stack.send("Create", "AddV", migration(app, "m1", ADD_V))
    assert answer["Status"] == "FAILED"
    assert "history table schema is not what the runner expects" in answer["Reason"]


def test_a_runner_that_cannot_even_import_answers_failed(world, monkeypatch):
    app, receiver = world
    monkeypatch.setitem(__import__("sys").modules, "runner.entry", None)  # ImportError on import
    stack = StackDriver("app", app.runner_arn, receiver)
    invocations = REGISTRY.invocations[app.runner_name]
    answer = stack.send("Create", "AddV", migration(app, "m1", ADD_V))
    assert answer["Status"] == "FAILED"
    assert "could not start: ModuleNotFoundError: import of runner.entry" in answer["Reason"]
    assert REGISTRY.invocations[app.runner_name] == invocations + 1
    assert app.controller_executions() == []


def crash_after(monkeypatch: pytest.MonkeyPatch, owner: Any, method: str) -> list[str]:
    """Make `owner.method` do its work, then crash the step once (a runtime killed right after
    the side effect), so Step Functions retries a step whose effect already happened."""
    crashed: list[str] = []
    original = getattr(owner, method)
    runtime_exit = type("Runtime.ExitError", (Exception,), {})

    def effect_then_crash(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if not crashed:
            crashed.append(method)
            raise runtime_exit("RequestId: x Error: Runtime exited with error: signal: killed")
        return result

    monkeypatch.setattr(owner, method, effect_then_crash)
    return crashed


def steps() -> Any:
    from runner.handlers import controller as controller_handler

    return controller_handler._controller()


def test_a_begin_retried_after_it_started_the_run_finds_the_execution(world, monkeypatch):
    app, receiver = world
    crashed = crash_after(monkeypatch, steps().sfn, "start_execution")
    stack = StackDriver("app", app.runner_arn, receiver)
    props = migration(app, "m1", ADD_V)
    event = stack.event("Create", "AddV", props)
    stack.deliver(event)
    assert receiver.wait(event["RequestId"])["Status"] == "SUCCESS"
    wait_controllers(app)
    assert crashed == ["start_execution"]  # the retried Begin met ExecutionAlreadyExists
    assert len(executions(app, props["StateMachineArn"])) == 1
    assert len(receiver.for_request(event["RequestId"])) == 1
    assert all(i["v"] == {"N": "1"} for i in scan_all(app.dynamodb, "Orders").values())


def test_a_crash_after_the_answer_was_put_sends_the_same_answer_again(world, monkeypatch):
    app, receiver = world
    crashed = crash_after(monkeypatch, steps(), "send")
    stack = StackDriver("app", app.runner_arn, receiver)
    props = migration(app, "m1", ADD_V)
    event = stack.event("Create", "AddV", props)
    stack.deliver(event)
    receiver.wait(event["RequestId"])
    wait_controllers(app)
    answers = receiver.for_request(event["RequestId"])
    assert crashed == ["send"]
    assert len(answers) == 2
    assert answers[0] == answers[1]  # the same answer; CloudFormation keeps the first
    assert answers[0]["Status"] == "SUCCESS"
    assert len(executions(app, props["StateMachineArn"])) == 1


def _start_then_vanish(app: LocalApp, receiver: Any, props: dict[str, Any], stop_run: bool) -> None:
    """A Create starts the run; then its controller dies while the run goes on (or stops too),
    and its lease runs out."""
    first = StackDriver("app", app.runner_arn, receiver)
    first.deliver(first.event("Create", "Slow", props))
    records = ledger(app)
    deadline = time.monotonic() + 60
    while not (record := records.get("Orders", props["MigrationId"])) or not record.attributes.get(
        "pages"
    ):
        assert time.monotonic() < deadline, "the run never started"
        time.sleep(0.2)
    for controller in app.controller_executions():
        if controller["status"] == "RUNNING":
            app.sfn.stop_execution(executionArn=controller["executionArn"])
    if stop_run:
        app.sfn.stop_execution(executionArn=record.execution_arn)
    wait_controllers(app)
    while stop_run and executions(app, props["StateMachineArn"])[0]["status"] == "RUNNING":
        time.sleep(0.2)  # moto stops an execution when its running state returns
    app.dynamodb.update_item(
        TableName="dynamigrate-history",
        Key={"pk": {"S": "Orders"}, "sk": {"S": props["MigrationId"]}},
        UpdateExpression="SET leaseExpires = :past",
        ExpressionAttributeValues={":past": {"N": "0"}},
    )
    assert records.get("Orders", props["MigrationId"]).status == RUNNING


def test_a_run_whose_controller_vanished_is_adopted_not_started_again(world):
    app, receiver = world
    props = slow(app, "slow")
    _start_then_vanish(app, receiver, props, stop_run=False)
    second = StackDriver("other", app.runner_arn, receiver).send("Create", "Slow", props)
    assert second["Status"] == "SUCCESS", second["Reason"]
    assert len(executions(app, props["StateMachineArn"])) == 1  # adopted, not run twice
    record = ledger(app).get("Orders", "slow")
    assert record.status == SUCCEEDED
    assert record.attributes["physicalId"]["S"] == second["PhysicalResourceId"]
    assert all(i["v"] == {"N": "1"} for i in scan_all(app.dynamodb, "Orders").values())


def test_an_expired_lease_on_a_stopped_run_turns_the_join_into_a_resume(world):
    app, receiver = world
    props = slow(app, "slow")
    _start_then_vanish(app, receiver, props, stop_run=True)
    run_id = ledger(app).get("Orders", "slow").run_id
    second = StackDriver("other", app.runner_arn, receiver).send("Create", "Slow", props)
    assert second["Status"] == "SUCCESS", second["Reason"]
    runs = executions(app, props["StateMachineArn"])
    assert sorted(r["status"] for r in runs) == ["ABORTED", "SUCCEEDED"]
    record = ledger(app).get("Orders", "slow")
    assert (record.status, record.run_id) == (SUCCEEDED, run_id)  # the same run, resumed
    assert int(record.attributes["counters"]["M"]["scanned"]["N"]) < 2 * ITEMS
    assert all(i["v"] == {"N": "1"} for i in scan_all(app.dynamodb, "Orders").values())
