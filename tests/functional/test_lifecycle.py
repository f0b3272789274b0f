"""The custom-resource lifecycle end to end on the emulator.

Requests are shaped and delivered as CloudFormation does (an asynchronous invocation of the runner),
the runner starts the controller from template.yaml, the controller runs the migration's state
machine and the worker, and the answer arrives at a local HTTP server standing in for the
pre-signed ResponseURL. Crashes and vanished controllers: test_lifecycle_crashes.py; the request
sequences of each CloudFormation operation: tests/conformance.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from dynamigrate.local.cloudformation.protocol import StackDriver
from runner.history import FAILED, ROLLED_BACK, SUCCEEDED
from runner.lifecycle import DRY_RUN_SUFFIX
from tests.functional.conftest import scan_all
from tests.functional.lifecycle_world import (
    ADD_V,
    ADD_W,
    ITEMS,
    REMOVE_V,
    executions,
    ledger,
    migration,
    slow,
    wait_controllers,
)


def test_a_first_deploy_runs_two_migrations_in_order(world):
    app, receiver = world
    stack = StackDriver("app", app.runner_arn, receiver)
    first = stack.send("Create", "AddV", migration(app, "2026-01-01-v", ADD_V))
    second = stack.send("Create", "AddW", migration(app, "2026-01-02-w", ADD_W))
    assert (first["Status"], second["Status"]) == ("SUCCESS", "SUCCESS"), second["Reason"]
    assert second["Data"]["Updated"] == ITEMS
    assert first["PhysicalResourceId"].startswith("Orders/2026-01-01-v/")
    items = scan_all(app.dynamodb, "Orders")
    assert all(i["w"] == {"N": "2"} for i in items.values())
    records = ledger(app).records("Orders")
    assert [(r.migration_id, r.status) for r in records] == [
        ("2026-01-01-v", SUCCEEDED),
        ("2026-01-02-w", SUCCEEDED),
    ]
    assert all(r.lock_owner is None and r.execution_arn for r in records)


def test_the_same_deploy_again_runs_nothing_and_an_edit_fails_with_what_to_do(world):
    app, receiver = world
    stack = StackDriver("app", app.runner_arn, receiver)
    props = migration(app, "m1", ADD_V)
    assert stack.send("Create", "AddV", props)["Status"] == "SUCCESS"
    # The resource created again (e.g. in a second stack of the same template) and an Update
    # that only changes documentation: answered from the history, no second execution.
    other = StackDriver("other", app.runner_arn, receiver)
    again = other.send("Create", "AddV", props)
    touched = stack.send("Update", "AddV", {**props, "Description": "docs only"})
    assert (again["Status"], again["Reason"]) == ("SUCCESS", "Migration m1 already applied")
    assert touched["Status"] == "SUCCESS"
    assert len(executions(app, props["StateMachineArn"])) == 1
    edited = stack.send("Update", "AddV", {**props, "Checksum": "edited"})
    assert edited["Status"] == "FAILED"
    assert "Applied migrations are immutable" in edited["Reason"]
    assert "add a new migration with a new MigrationId" in edited["Reason"]
    assert edited["PhysicalResourceId"] == stack.physical_ids["AddV"]


def test_a_failure_fails_the_deploy_and_the_rollback_runs_down(world):
    app, receiver = world
    stack = StackDriver("app", app.runner_arn, receiver)
    ok = stack.send("Create", "AddV", migration(app, "m1", ADD_V, Down=REMOVE_V))
    bad_update = {"Update": {"Expression": "SET x = absent + :one", "Values": {":one": 1}}}
    mark = {"Update": {"Expression": "SET brokenDown = :yes", "Values": {":yes": True}}}
    failed = stack.send("Create", "Broken", migration(app, "m2", bad_update, Down=mark))
    assert ok["Status"] == "SUCCESS"
    assert failed["Status"] == "FAILED"
    assert "Migration m2 on table Orders failed" in failed["Reason"]
    assert "does not exist in the item" in failed["Reason"]  # DynamoDB's own error
    assert ledger(app).get("Orders", "m2").status == FAILED

    stack.status("ROLLBACK_IN_PROGRESS")  # CloudFormation deletes what it created, newest first
    assert stack.send("Delete", "Broken")["Status"] == "SUCCESS"
    undone = stack.send("Delete", "AddV")
    assert (undone["Status"], undone["Data"]["Status"]) == ("SUCCESS", ROLLED_BACK)
    items = scan_all(app.dynamodb, "Orders").values()
    assert all("v" not in i for i in items)
    assert all(i["brokenDown"] == {"BOOL": True} for i in items)  # the failed one's own Down ran
    # History keeps each Up run (its cause and counts) beside the Down that undid it.
    broken = ledger(app).get("Orders", "m2").attributes["upRun"]["M"]
    assert broken["status"] == {"S": "FAILED"}
    assert "does not exist in the item" in broken["lastError"]["S"]
    assert "scanned" in broken["counters"]["M"]
    applied = ledger(app).get("Orders", "m1").attributes["upRun"]["M"]
    assert applied["status"] == {"S": "SUCCEEDED"}
    assert int(applied["counters"]["M"]["updated"]["N"]) == len(items)
    assert ledger(app).get("Orders", "m1").status == ROLLED_BACK
    assert ledger(app).get("Orders", "m2").status == ROLLED_BACK


def test_a_removed_migrations_delete_touches_no_data(world):
    app, receiver = world
    stack = StackDriver("app", app.runner_arn, receiver)
    props = migration(app, "m1", ADD_V, Down=REMOVE_V)
    stack.send("Create", "AddV", props)
    before = scan_all(app.dynamodb, "Orders")
    stack.status("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    answer = stack.send("Delete", "AddV")
    assert (answer["Status"], answer["Reason"]) == (
        "SUCCESS",
        "Nothing to do: data and history are kept",
    )
    assert scan_all(app.dynamodb, "Orders") == before
    assert len(executions(app, props["StateMachineArn"])) == 1
    assert ledger(app).get("Orders", "m1").status == SUCCEEDED


def test_a_duplicate_delivery_starts_one_execution(world):
    app, receiver = world
    stack = StackDriver("app", app.runner_arn, receiver)
    props = migration(app, "m1", ADD_V)
    event = stack.event("Create", "AddV", props)
    threads = [threading.Thread(target=stack.deliver, args=(event,)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert receiver.wait(event["RequestId"])["Status"] == "SUCCESS"
    wait_controllers(app)
    assert len(receiver.for_request(event["RequestId"])) == 1
    assert len(app.controller_executions()) == 1
    assert len(executions(app, props["StateMachineArn"])) == 1


def test_two_stacks_racing_for_one_migration_run_it_once(world):
    app, receiver = world
    props = migration(app, "shared", ADD_V)
    stacks = [StackDriver(f"stack{i}", app.runner_arn, receiver) for i in range(2)]
    answers: dict[int, dict[str, Any]] = {}

    def deploy(i: int) -> None:
        answers[i] = stacks[i].send("Create", "AddV", props)

    threads = [threading.Thread(target=deploy, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [answers[i]["Status"] for i in range(2)] == ["SUCCESS", "SUCCESS"]
    assert len(executions(app, props["StateMachineArn"])) == 1
    assert ledger(app).get("Orders", "shared").status == SUCCEEDED


def test_on_timeout_fail_answers_failed_in_time_and_stops_the_run(world):
    app, receiver = world
    stack = StackDriver("app", app.runner_arn, receiver)
    props = slow(app, "slow", ServiceTimeout=8, OnTimeout="Fail")
    answer = stack.send("Create", "Slow", props)
    assert answer["Status"] == "FAILED"
    assert answer["Data"]["Updated"] < ITEMS  # answered before the run could finish
    assert "did not finish within the custom resource's window (8 s" in answer["Reason"]
    wait_controllers(app)
    # moto applies StopExecution when the running state returns (AWS: at once); wait for it.
    deadline = time.monotonic() + 60
    while (run := executions(app, props["StateMachineArn"])[0])["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert run["status"] == "ABORTED"
    assert ledger(app).get("Orders", "slow").status == FAILED


def test_on_timeout_continue_answers_in_time_and_completes_the_history(world):
    app, receiver = world
    stack = StackDriver("app", app.runner_arn, receiver)
    answer = stack.send("Create", "Slow", slow(app, "slow", ServiceTimeout=8, OnTimeout="Continue"))
    # Answered while the run went on: the window (8 s minus the margin), not the run, decided.
    assert (answer["Status"], answer["Data"]["Status"]) == ("SUCCESS", "RUNNING")
    assert answer["Data"]["Updated"] < ITEMS
    # The next migration of the table waits for it rather than running beside it.
    after = stack.send("Create", "AddW", migration(app, "then-next", ADD_W))
    assert after["Status"] == "SUCCESS", after["Reason"]
    wait_controllers(app)
    slow_record = ledger(app).get("Orders", "slow")
    next_record = ledger(app).get("Orders", "then-next")
    assert slow_record.status == SUCCEEDED
    assert slow_record.attributes["counters"]["M"]["updated"] == {"N": str(ITEMS)}
    assert int(next_record.attributes["startedAt"]["N"]) >= int(
        slow_record.attributes["endedAt"]["N"]
    )
    assert len(receiver.answers) == 2
    # Answered, the controller still polls at the local app's interval (AWS's 60 s is for cost).
    assert _wait_seconds(app) == {1}


def _wait_seconds(app: Any) -> set[int]:
    """Every interval the controller executions waited between two polls."""
    seconds = set()
    for controller in app.controller_executions():
        history = app.sfn.get_execution_history(executionArn=controller["executionArn"])
        for event in history["events"]:
            if event["type"] == "WaitStateEntered":
                state = json.loads(event["stateEnteredEventDetails"]["input"])
                seconds.add(state["step"]["value"]["waitSeconds"])
    return seconds


def test_a_long_migration_hands_over_to_fresh_controller_executions(world, monkeypatch):
    app, receiver = world
    monkeypatch.setenv("MAX_POLLS", "3")
    stack = StackDriver("app", app.runner_arn, receiver)
    answer = stack.send("Create", "Slow", slow(app, "slow"))
    assert answer["Status"] == "SUCCESS"
    wait_controllers(app)
    controllers = app.controller_executions()
    assert len(controllers) >= 3
    assert all(c["status"] == "SUCCEEDED" for c in controllers)
    for controller in controllers:  # each execution's history stays bounded by maxPolls
        events = app.sfn.get_execution_history(executionArn=controller["executionArn"])["events"]
        polls = [
            e
            for e in events
            if e["type"] == "TaskStateEntered" and e["stateEnteredEventDetails"]["name"] == "Poll"
        ]
        assert len(polls) <= 3
        assert len(events) <= 12 * 3 + 40
    assert len(receiver.answers) == 1
    assert ledger(app).get("Orders", "slow").status == SUCCEEDED


def test_a_dry_run_counts_and_writes_nothing(world):
    app, receiver = world
    stack = StackDriver("app", app.runner_arn, receiver)
    before = scan_all(app.dynamodb, "Orders")
    answer = stack.send("Create", "AddV", migration(app, "m1", ADD_V, DryRun=True))
    assert (answer["Status"], answer["Data"]["Matched"]) == ("SUCCESS", ITEMS)
    assert scan_all(app.dynamodb, "Orders") == before
    assert ledger(app).get("Orders", "m1") is None
    record = ledger(app).get("Orders", "m1" + DRY_RUN_SUFFIX)
    assert record.status == SUCCEEDED
    assert record.attributes["samples"]["L"]


def test_a_disposed_migration_needs_no_state_machine_once_applied(world):
    app, receiver = world
    stack = StackDriver("app", app.runner_arn, receiver)
    props = migration(app, "m1", ADD_V)
    stack.send("Create", "AddV", props)
    stack.status("UPDATE_IN_PROGRESS")
    disposed = migration(app, "m1", ADD_V, Dispose=True)  # the macro's checksum: unchanged
    assert (disposed["StateMachineArn"], disposed["Checksum"]) == ("", props["Checksum"])
    answer = stack.send("Update", "AddV", disposed)
    assert answer["Status"] == "SUCCESS"
    assert "state machine is disposed" in answer["Reason"]
    never_applied = migration(app, "m2", ADD_W, Dispose=True)
    refused = stack.send("Create", "Other", never_applied)
    assert refused["Status"] == "FAILED"
    assert "has Dispose: true but was never applied" in refused["Reason"]


def test_a_migration_that_waits_for_an_earlier_run_all_its_window_fails_in_time(world):
    app, receiver = world
    stack = StackDriver("app", app.runner_arn, receiver)
    earlier = stack.send(
        "Create", "Slow", slow(app, "slow", ServiceTimeout=8, OnTimeout="Continue")
    )
    assert earlier["Data"]["Status"] == "RUNNING"
    later = stack.send("Create", "AddW", migration(app, "then-next", ADD_W, ServiceTimeout=8))
    assert later["Status"] == "FAILED"
    assert "waited for an earlier run for the whole window (8 s ServiceTimeout)" in later["Reason"]
    never_ran = ledger(app).get("Orders", "then-next")
    assert (never_ran.status, never_ran.lock_owner) == ("PENDING", None)  # nothing waits on it
    wait_controllers(app)
