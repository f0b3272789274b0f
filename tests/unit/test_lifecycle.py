"""The runner's decision for each request type and history state (pure, no I/O)."""

from __future__ import annotations

import pytest

from runner.history import FAILED, ROLLED_BACK, RUNNING, SUCCEEDED, MigrationRecord
from runner.lifecycle import Decision, Request, decide

STACK = "arn:aws:cloudformation:us-east-1:123456789012:stack/app/guid"


def event(request_type="Create", **props):
    base = {
        "MigrationId": "m1",
        "TableName": "Orders",
        "Checksum": "a" * 64,
        "HasDown": "true",
        "DryRun": "false",
        **props,
    }
    return {"RequestType": request_type, "StackId": STACK, "ResourceProperties": base}


def record(status, checksum="a" * 64, run_id="r1", stack=STACK, physical="Orders/m1/t1"):
    return MigrationRecord(
        "Orders",
        "m1",
        status=status,
        checksum=checksum,
        run_id=run_id,
        attributes={"stackId": {"S": stack}, "physicalId": {"S": physical}},
    )


def test_properties_arrive_as_strings_from_cloudformation():
    req = Request.from_event(event(HasDown="false", DryRun="true"))
    assert (req.has_down, req.dry_run) == (False, True)


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        (None, Decision("start")),
        (record(SUCCEEDED), Decision("answer", "SUCCESS", "Migration m1 already applied")),
        (record(RUNNING), Decision("join")),
        (record(FAILED), Decision("start", resume_run_id="r1")),
        (record(FAILED, checksum="b" * 64), Decision("start")),
        (record(ROLLED_BACK), Decision("start")),
    ],
    ids=["new", "applied", "running", "failed-resumes", "failed-then-edited", "rolled-back"],
)
def test_create_and_update(history, expected):
    for request_type in ("Create", "Update"):
        assert decide(Request.from_event(event(request_type)), history, "UPDATE_IN_PROGRESS") == (
            expected
        )


def test_an_edited_applied_migration_fails_with_what_to_do():
    decision = decide(Request.from_event(event()), record(SUCCEEDED, checksum="b" * 64), None)
    assert decision.status == "FAILED"
    assert decision.reason == (
        "Migration m1 on table Orders was already applied with checksum bbbbbbbbbbbb; its "
        "definition has changed since (now aaaaaaaaaaaa). Applied migrations are immutable: "
        "revert this change and add a new migration with a new MigrationId instead."
    )


def test_a_dry_run_always_runs():
    req = Request.from_event(event(DryRun="true"))
    assert decide(req, record(SUCCEEDED), None) == Decision("start")


RAN_HERE = "Orders/m1/t1"  # the physical id of the resource whose request started the run


@pytest.mark.parametrize(
    ("history", "stack_status", "has_down", "physical", "action", "status"),
    [
        (record(SUCCEEDED), "UPDATE_ROLLBACK_IN_PROGRESS", "true", RAN_HERE, "down", None),
        (record(SUCCEEDED), "ROLLBACK_IN_PROGRESS", "true", RAN_HERE, "down", None),
        (record(FAILED), "ROLLBACK_IN_PROGRESS", "true", RAN_HERE, "down", None),
        (record(RUNNING), "UPDATE_ROLLBACK_IN_PROGRESS", "true", RAN_HERE, "down", None),
        (record(SUCCEEDED), "UPDATE_ROLLBACK_IN_PROGRESS", "false", RAN_HERE, "answer", "SUCCESS"),
        (
            record(SUCCEEDED, stack="other"),
            "UPDATE_ROLLBACK_IN_PROGRESS",
            "true",
            RAN_HERE,
            "answer",
            "SUCCESS",
        ),
        (
            record(SUCCEEDED, physical="Orders/m1/t2"),
            "ROLLBACK_IN_PROGRESS",
            "true",
            RAN_HERE,
            "answer",
            "SUCCESS",
        ),
        (record(FAILED), "ROLLBACK_IN_PROGRESS", "true", "Orders/m1", "answer", "SUCCESS"),
        (
            record(SUCCEEDED),
            "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
            "true",
            RAN_HERE,
            "answer",
            "SUCCESS",
        ),
        (record(SUCCEEDED), "DELETE_IN_PROGRESS", "true", RAN_HERE, "answer", "SUCCESS"),
        (None, "ROLLBACK_IN_PROGRESS", "true", RAN_HERE, "answer", "SUCCESS"),
    ],
    ids=[
        "update-rollback",
        "create-rollback",
        "failed-run-is-undone",
        "running-run-is-undone",
        "no-down",
        "other-stack",
        "another-operation-ran-it",
        "delete-after-a-create-that-ran-nothing",
        "removed-from-template",
        "stack-deleted",
        "never-ran",
    ],
)
def test_delete_runs_down_only_for_the_run_of_the_operation_rolling_back(
    history, stack_status, has_down, physical, action, status
):
    req = Request.from_event({**event("Delete", HasDown=has_down), "PhysicalResourceId": physical})
    decision = decide(req, history, stack_status)
    assert (decision.action, decision.status) == (action, status)


def test_nothing_runs_forwards_while_the_stack_rolls_back():
    req = Request.from_event(event("Update"))
    decision = decide(req, record(FAILED), "UPDATE_ROLLBACK_IN_PROGRESS")
    assert decision == Decision("answer", "SUCCESS", "The stack is rolling back; nothing was run")


@pytest.mark.parametrize(
    ("history", "status", "reason"),
    [
        (record(SUCCEEDED), "SUCCESS", "its state machine is disposed"),
        (record(SUCCEEDED, checksum="b" * 64), "FAILED", "Applied migrations are immutable"),
        (record(FAILED), "FAILED", "has Dispose: true but was never applied"),
        (None, "FAILED", "has Dispose: true but was never applied"),
    ],
)
def test_a_disposed_migration_is_answered_from_the_history(history, status, reason):
    decision = decide(Request.from_event(event(Dispose="true")), history, "UPDATE_IN_PROGRESS")
    assert (decision.action, decision.status) == ("answer", status)
    assert reason in decision.reason


def test_a_request_that_runs_a_migration_gets_a_new_physical_id():
    req = Request.from_event({**event("Update"), "PhysicalResourceId": "Orders/m1/abc"})
    assert (req.plain_physical_id, req.run_physical_id("xyz")) == ("Orders/m1", "Orders/m1/xyz")
