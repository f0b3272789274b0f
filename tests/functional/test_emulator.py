"""Each emulator adaptation, shown necessary: the behaviour without it, then with it."""

from __future__ import annotations

import gc
import json
import os
import threading
import time
import warnings
import weakref
from datetime import UTC, datetime

import boto3
import pytest
from moto.awslambda.models import LambdaFunction
from moto.core.base_backend import BackendDict, backend_lock
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import Item as DynamoItem
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler

from dynamigrate.local import emulator
from dynamigrate.local.emulator import TRANSITIONS, deploy_function, emulated_aws


def test_lambda_runs_in_process_with_lambda_error_shapes(aws, monkeypatch):
    def handler(event, context):
        if event.get("fail"):
            raise ValueError("bad input")
        return {"echo": event, "left": context.get_remaining_time_in_millis() > 0}

    deploy_function("echo", handler, timeout=30)
    client = boto3.client("lambda")
    ok = client.invoke(FunctionName="echo", Payload=json.dumps({"a": 1}))
    assert json.loads(ok["Payload"].read()) == {"echo": {"a": 1}, "left": True}
    bad = client.invoke(FunctionName="echo", Payload=json.dumps({"fail": True}))
    assert bad["FunctionError"]
    payload = json.loads(bad["Payload"].read())
    assert (payload["errorType"], payload["errorMessage"]) == ("ValueError", "bad input")

    # Without the adaptation moto hands the invocation to Docker, which is not there.
    monkeypatch.setattr(LambdaFunction, "_invoke_lambda", emulator._ORIGINAL_INVOKE)
    without = client.invoke(FunctionName="echo", Payload=json.dumps({"a": 1}))
    raw = without["Payload"].read()
    assert without["FunctionError"]
    assert b"echo" not in raw


def test_lambda_enforces_its_timeout_and_payload_quotas(aws):
    """As Lambda does (Lambda quotas; the Sandbox.Timedout error Step Functions sees)."""
    seen: list[int] = []

    def slow(event, context):
        time.sleep(1.5)
        seen.append(context.get_remaining_time_in_millis())
        return {"late": True}

    deploy_function("slow", slow, timeout=1)
    client = boto3.client("lambda")
    timed_out = client.invoke(FunctionName="slow", Payload=b"{}")
    payload = json.loads(timed_out["Payload"].read())
    assert timed_out["FunctionError"]
    assert payload["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in payload["errorMessage"]
    deadline = time.monotonic() + 5
    while not seen and time.monotonic() < deadline:
        time.sleep(0.1)
    assert seen == [0]  # the abandoned handler is told no time is left

    deploy_function("echo", lambda event, context: event, timeout=30)
    big = json.dumps({"blob": "x" * emulator.MAX_PAYLOAD_BYTES})
    with pytest.raises(client.exceptions.RequestTooLargeException):
        client.invoke(FunctionName="echo", Payload=big)
    deploy_function("grow", lambda event, context: {"blob": "y" * emulator.MAX_PAYLOAD_BYTES})
    grown = client.invoke(FunctionName="grow", Payload=b"{}")
    assert json.loads(grown["Payload"].read())["errorType"] == "Function.ResponseSizeTooLarge"


def test_backend_lookup_does_not_wait_for_the_global_lock(aws, monkeypatch):
    boto3.client("dynamodb").list_tables()  # the account's backend now exists
    looked_up = threading.Event()

    def lookup():
        _ = dynamodb_backends["123456789012"]
        looked_up.set()

    with backend_lock:  # another thread holds moto's global lock
        threading.Thread(target=lookup, daemon=True).start()
        assert looked_up.wait(2)
    monkeypatch.setattr(
        BackendDict, "_create_account_specific_backend", emulator._ORIGINAL_CREATE_BACKEND
    )
    looked_up.clear()
    with backend_lock:
        threading.Thread(target=lookup, daemon=True).start()
        assert not looked_up.wait(0.5)  # without the adaptation every request queues on it
    assert looked_up.wait(2)


def test_transitions_of_map_children_are_counted(aws):
    deploy_function("noop", lambda event, context: {"done": True})
    definition = {
        "StartAt": "Fan",
        "States": {
            "Fan": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Call",
                    "States": {
                        "Call": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::lambda:invoke",
                            "Parameters": {"FunctionName": "noop"},
                            "End": True,
                        }
                    },
                },
                "End": True,
            }
        },
    }
    sfn = boto3.client("stepfunctions")
    role = boto3.client("iam").create_role(RoleName="sm", AssumeRolePolicyDocument="{}")["Role"]
    arn = sfn.create_state_machine(
        name="fan", definition=json.dumps(definition), roleArn=role["Arn"]
    )["stateMachineArn"]
    TRANSITIONS.reset()
    execution = sfn.start_execution(stateMachineArn=arn, name="x", input='{"items": [1, 2, 3]}')
    while sfn.describe_execution(executionArn=execution["executionArn"])["status"] == "RUNNING":
        time.sleep(0.05)
    events = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
    parent = sum(1 for e in events if e["type"].endswith("StateEntered"))
    assert parent == 1  # moto's history holds only the parent's Map state
    # plus, per child, its Task and its start: "you're charged one state transition for each
    # child workflow execution the Distributed Map state starts" (Developer Guide, Transitions)
    assert TRANSITIONS.state_transitions == 1 + 3 + 3


def _delete_during_a_scan(monkeypatch) -> tuple[list[BaseException], bool]:
    """Pause a Scan inside moto's table iteration, delete an item from another thread meanwhile.

    Returns what the Scan raised and whether the delete completed while the Scan was paused.
    """
    client = boto3.client("dynamodb")
    client.create_table(
        TableName="Race",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for i in range(10):
        client.put_item(TableName="Race", Item={"pk": {"S": str(i)}})
    paused, resume = threading.Event(), threading.Event()

    def pausing_all_items(self):
        items = []
        for hash_set in self.items.values():
            items.append(hash_set)
            if not paused.is_set():
                paused.set()
                resume.wait(1)
        return items

    monkeypatch.setattr(Table, "all_items", pausing_all_items)
    errors: list[BaseException] = []

    def scan():
        try:
            client.scan(TableName="Race")
        except Exception as exc:
            errors.append(exc)

    scanner = threading.Thread(target=scan)
    scanner.start()
    assert paused.wait(5)
    deleter = threading.Thread(
        target=lambda: client.delete_item(TableName="Race", Key={"pk": {"S": "5"}})
    )
    deleter.start()
    deleter.join(0.3)
    deleted_meanwhile = not deleter.is_alive()
    resume.set()
    scanner.join()
    deleter.join()
    return errors, deleted_meanwhile


def test_dynamodb_requests_are_atomic_under_threads(aws, monkeypatch):
    errors, deleted_meanwhile = _delete_during_a_scan(monkeypatch)
    assert (errors, deleted_meanwhile) == ([], False)  # the delete waited for the scan
    boto3.client("dynamodb").delete_table(TableName="Race")
    monkeypatch.setattr(DynamoHandler, "call_action", emulator._ORIGINAL_DYNAMODB_CALL)
    errors, deleted_meanwhile = _delete_during_a_scan(monkeypatch)
    assert deleted_meanwhile
    assert [str(e) for e in errors] == ["dictionary changed size during iteration"]


def test_adaptation_5_a_simulated_operation_shows_in_describe_stacks():

    from dynamigrate.local.emulator import set_stack_status

    with emulated_aws():
        cloudformation = boto3.client("cloudformation")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            stack_id = cloudformation.create_stack(
                StackName="app",
                TemplateBody=json.dumps(
                    {"Resources": {"P": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}}
                ),
            )["StackId"]
        describe = cloudformation.describe_stacks
        # moto completes the stack at once, never enters a rollback and keeps no update time...
        stack = describe(StackName=stack_id)["Stacks"][0]
        assert (stack["StackStatus"], stack.get("LastUpdatedTime")) == ("CREATE_COMPLETE", None)
        began = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
        set_stack_status(stack_id, "UPDATE_IN_PROGRESS", updated_at=began)
        set_stack_status(stack_id, "UPDATE_ROLLBACK_IN_PROGRESS")
        # ...so the local driver sets what the runner must see during an update and its rollback.
        stack = describe(StackName=stack_id)["Stacks"][0]
        assert stack["StackStatus"] == "UPDATE_ROLLBACK_IN_PROGRESS"
        assert stack["LastUpdatedTime"] == began


def test_every_thread_the_block_started_ends_before_the_emulator_stops():
    """A thread still working when the block's body ends (a poller, a Lambda handler) finishes
    against the emulator: moto stops only after it ended, never under it."""
    from dynamigrate.local.seal import LeftEmulatorError

    outcome: list[object] = []
    release = threading.Event()

    def poller() -> None:
        release.wait()
        time.sleep(0.3)  # its next poll comes after the block's body has ended
        try:
            outcome.append(boto3.client("dynamodb").list_tables()["TableNames"])
        except LeftEmulatorError as exc:
            outcome.append(exc)

    with emulated_aws():
        boto3.client("dynamodb").create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        threading.Thread(target=poller, daemon=True).start()
        release.set()
    assert outcome == [["t"]]


def test_a_thread_still_running_after_the_drain_is_refused_not_sent():
    """One that outlives the drain's bound cannot reach AWS: its request is refused, unsent."""
    from dynamigrate.local.seal import LeftEmulatorError

    outcome: list[object] = []
    release = threading.Event()

    def straggler() -> None:
        release.wait()
        try:
            boto3.client("dynamodb", region_name="us-east-1").list_tables()
        except LeftEmulatorError as exc:
            outcome.append(exc)

    with emulated_aws(drain_seconds=0):
        threading.Thread(target=straggler, daemon=True).start()
    release.set()
    deadline = time.monotonic() + 10
    while not outcome and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [type(o) for o in outcome] == [LeftEmulatorError]


def test_adaptation_7_moto_backups_are_exact_at_the_request(aws):
    """Why a local worker waits no settle time after CreateBackup: moto's backup holds exactly
    what the table held at the request, and nothing written right after it (on AWS writes
    within a minute of the request may or may not be in it: API Reference, CreateBackup)."""
    from dynamigrate.local.engine import LocalEngine

    client = boto3.client("dynamodb")
    client.create_table(
        TableName="Snap",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.put_item(TableName="Snap", Item={"pk": {"S": "before"}})
    arn = client.create_backup(TableName="Snap", BackupName="snap")["BackupDetails"]["BackupArn"]
    client.put_item(TableName="Snap", Item={"pk": {"S": "after"}})
    client.delete_item(TableName="Snap", Key={"pk": {"S": "before"}})
    client.restore_table_from_backup(TargetTableName="SnapRestored", BackupArn=arn)
    restored = client.scan(TableName="SnapRestored")["Items"]
    assert restored == [{"pk": {"S": "before"}}]
    os.environ.pop("BACKUP_SETTLE_SECONDS", None)
    LocalEngine()
    assert emulator.LOCAL_BACKUP_SETTLE_SECONDS == 0
    assert os.environ.get("BACKUP_SETTLE_SECONDS") == "0"


def _versions_alive() -> tuple[int, int]:
    """Write one item ten times; how many of its overwritten versions are still alive, and how
    many items moto tracks."""
    client = boto3.client("dynamodb")
    client.create_table(
        TableName="Versions",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    table = dynamodb_backends["123456789012"]["us-east-1"].get_table("Versions")
    versions = []
    for n in range(10):
        client.put_item(TableName="Versions", Item={"pk": {"S": "a"}, "n": {"N": str(n)}})
        versions.append(weakref.ref(table.items[next(iter(table.items))]))
    gc.collect()
    alive = sum(ref() is not None for ref in versions[:-1])
    client.delete_table(TableName="Versions")
    return alive, len(DynamoItem.instances_tracked)


def test_adaptation_8_an_overwritten_item_is_freed(aws, monkeypatch):
    """moto tracks every Item it constructs: without the adaptation each version stays alive."""
    assert _versions_alive() == (0, 0)
    monkeypatch.setattr(DynamoItem, "__new__", emulator._ORIGINAL_ITEM_NEW)
    alive, tracked = _versions_alive()
    assert alive == 9
    assert tracked >= 10
