"""The runner's decision for each request type and history state (pure, no I/O)."""

from __future__ import annotations

import pytest

from runner.history import FAILED, ROLLED_BACK, RUNNING, SUCCEEDED
from runner.ledger import MigrationRecord
from runner.lifecycle import Decision, Request, Stack, decide, restores_old_properties

STACK = "arn:aws:cloudformation:us-east-1:123456789012:stack/app/guid"
OP = "2026-01-01T00:00:00.000000+00:00"  # the operation that started the run
UPDATING = Stack("UPDATE_IN_PROGRESS", OP)


def event(request_type="Create", **props):
    base = {
        "MigrationId": "m1",
        "TableName": "Orders",
        "Checksum": "a" * 64,
        "HasDown": "true",
        "DryRun": "false",
        **props,
    }
    return {
        "RequestType": request_type,
        "StackId": STACK,
        "LogicalResourceId": "AddV",
        "ResourceProperties": base,
    }


def record(
    status,
    checksum="a" * 64,
    run_id="r1",
    stack=STACK,
    physical="Orders/m1/t1",
    operation=OP,
    logical="AddV",
    direction="up",
):
    return MigrationRecord(
        "Orders",
        "m1",
        status=status,
        checksum=checksum,
        run_id=run_id,
        attributes={
            "stackId": {"S": stack},
            "physicalId": {"S": physical},
            "operation": {"S": operation},
            "logicalId": {"S": logical},
            "direction": {"S": direction},
        },
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
        (record(FAILED, direction="down"), Decision("start")),
        (record(ROLLED_BACK), Decision("start")),
    ],
    ids=[
        "new",
        "applied",
        "running",
        "failed-resumes",
        "failed-then-edited",
        "failed-down-starts-afresh",
        "rolled-back",
    ],
)
def test_create_and_update(history, expected):
    for request_type in ("Create", "Update"):
        assert decide(Request.from_event(event(request_type)), history, UPDATING) == expected


@pytest.mark.parametrize(
    "status", ["CREATE_COMPLETE", "ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", None]
)
def test_a_request_delivered_after_its_operation_ended_runs_nothing(status):
    for request_type in ("Create", "Update"):
        decision = decide(Request.from_event(event(request_type)), None, Stack(status, OP))
        assert (decision.action, decision.status) == ("answer", "FAILED")
        assert "the operation that sent this request has ended" in decision.reason


def test_an_edited_applied_migration_fails_with_what_to_do():
    decision = decide(Request.from_event(event()), record(SUCCEEDED, checksum="b" * 64), UPDATING)
    assert decision.status == "FAILED"
    assert decision.reason == (
        "Migration m1 on table Orders was already applied with checksum bbbbbbbbbbbb; its "
        "definition has changed since (now aaaaaaaaaaaa). Applied migrations are immutable: "
        "revert this change and add a new migration with a new MigrationId instead."
    )


def test_a_dry_run_always_runs():
    req = Request.from_event(event(DryRun="true"))
    assert decide(req, record(SUCCEEDED), UPDATING) == Decision("start")


RAN_HERE = "Orders/m1/t1"  # the physical id of the resource whose request started the run
GENERATED = "app-AddV-1A2B3C4D5E6F"  # an id CloudFormation made up for a cancelled Create
CLEANUP = "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"


@pytest.mark.parametrize(
    ("history", "stack_status", "has_down", "physical", "action", "status"),
    [
        (record(SUCCEEDED), CLEANUP, "true", RAN_HERE, "down", None),
        (record(SUCCEEDED), "ROLLBACK_IN_PROGRESS", "true", RAN_HERE, "down", None),
        (record(SUCCEEDED), "UPDATE_ROLLBACK_IN_PROGRESS", "true", RAN_HERE, "down", None),
        (record(FAILED), "ROLLBACK_IN_PROGRESS", "true", RAN_HERE, "down", None),
        (record(RUNNING), "ROLLBACK_IN_PROGRESS", "true", GENERATED, "down", None),
        (record(RUNNING), CLEANUP, "true", GENERATED, "down", None),
        (record(FAILED, direction="down"), CLEANUP, "true", RAN_HERE, "down", None),
        (record(SUCCEEDED), CLEANUP, "false", RAN_HERE, "answer", "SUCCESS"),
        (record(SUCCEEDED, stack="other"), CLEANUP, "true", RAN_HERE, "answer", "SUCCESS"),
        (record(SUCCEEDED, logical="Other"), CLEANUP, "true", GENERATED, "answer", "SUCCESS"),
        (record(SUCCEEDED, operation="earlier"), CLEANUP, "true", RAN_HERE, "answer", "SUCCESS"),
        (
            record(SUCCEEDED, operation="earlier"),
            "ROLLBACK_IN_PROGRESS",
            "true",
            GENERATED,
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
        (record(RUNNING), "DELETE_IN_PROGRESS", "true", GENERATED, "answer", "SUCCESS"),
        (None, "ROLLBACK_IN_PROGRESS", "true", RAN_HERE, "answer", "SUCCESS"),
        (record(ROLLED_BACK), CLEANUP, "true", RAN_HERE, "answer", "SUCCESS"),
    ],
    ids=[
        "update-rollback-cleanup-deletes-what-the-update-created",
        "create-rollback",
        "update-rollback-names-the-run",
        "failed-run-is-undone",
        "cancelled-create",
        "cancelled-create-in-an-update",
        "a-failed-down-is-retried",
        "no-down",
        "other-stack",
        "other-logical-id",
        "an-earlier-operation-ran-it",
        "an-earlier-operation-ran-it-cancelled",
        "another-request-ran-it",
        "delete-after-a-create-that-ran-nothing",
        "update-cleanup",
        "stack-deleted",
        "stack-deleted-while-running",
        "never-ran",
        "already-rolled-back",
    ],
)
def test_a_rollback_runs_down_only_for_the_run_of_the_operation_rolling_back(
    history, stack_status, has_down, physical, action, status
):
    req = Request.from_event({**event("Delete", HasDown=has_down), "PhysicalResourceId": physical})
    decision = decide(req, history, Stack(stack_status, OP))
    assert (decision.action, decision.status) == (action, status)


def test_an_update_back_to_the_old_properties_undoes_the_run_of_the_failed_ones():
    """The undoing Update reads the migration from OldResourceProperties (the failed update's)."""
    old = event("Update")["ResourceProperties"]
    rollback = {
        **event("Update", MigrationId="m0", Checksum="0" * 64),
        "OldResourceProperties": old,
        "PhysicalResourceId": RAN_HERE,
    }
    assert restores_old_properties(rollback, "UPDATE_ROLLBACK_IN_PROGRESS")
    assert not restores_old_properties(rollback, "UPDATE_IN_PROGRESS")
    req = Request.from_event(rollback, old=True)
    assert req.migration_id == "m1"
    rolling_back = Stack("UPDATE_ROLLBACK_IN_PROGRESS", OP)
    assert decide(req, record(SUCCEEDED), rolling_back) == Decision("down")
    # Naming the id held before (CloudFormation cancelled the Update while its run went on).
    cancelled = Request.from_event({**rollback, "PhysicalResourceId": "Orders/m1/t0"}, old=True)
    assert decide(cancelled, record(RUNNING), rolling_back) == Decision("down")
    # A run an earlier operation started (this one changed only, say, the Description).
    assert decide(req, record(SUCCEEDED, operation="earlier"), rolling_back) == Decision(
        "answer", "SUCCESS", "The stack is rolling back; nothing was run"
    )


def test_a_dry_run_is_never_undone():
    req = Request.from_event({**event("Delete", DryRun="true"), "PhysicalResourceId": RAN_HERE})
    decision = decide(req, record(SUCCEEDED), Stack("ROLLBACK_IN_PROGRESS", OP))
    assert decision == Decision("answer", "SUCCESS", "A dry run wrote nothing; nothing to undo")


def test_nothing_runs_forwards_while_the_stack_rolls_back():
    req = Request.from_event(event("Create"))
    decision = decide(req, None, Stack("ROLLBACK_IN_PROGRESS", OP))
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
    decision = decide(Request.from_event(event(Dispose="true")), history, UPDATING)
    assert (decision.action, decision.status) == ("answer", status)
    assert reason in decision.reason


def test_a_request_that_runs_a_migration_gets_a_new_physical_id():
    req = Request.from_event({**event("Update"), "PhysicalResourceId": "Orders/m1/abc"})
    assert (req.plain_physical_id, req.run_physical_id("xyz")) == ("Orders/m1", "Orders/m1/xyz")
