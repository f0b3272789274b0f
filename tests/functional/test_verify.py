"""Verify after Up, through the real state machine: DynamoDB counts the items that violate."""

from __future__ import annotations

from typing import Any

from dynamigrate.local.engine import HISTORY_TABLE
from runner.history import RunRef
from tests.functional.conftest import create_table, load, scan_all

ITEMS = [{"pk": {"S": f"k{i:02d}"}, "n": {"N": str(i)}} for i in range(12)]
UP = {"Update": {"Expression": "SET #s = :p", "Names": {"#s": "status"}, "Values": {":p": "OK"}}}
VERIFY = {"Condition": "#s = :ok", "Names": {"#s": "status"}, "Values": {":ok": "OK"}}


def spec(**extra: Any) -> dict[str, Any]:
    return {
        "MigrationId": "m1",
        "TableName": "Orders",
        "Source": {"Scan": {"Segments": 3}},
        "Up": UP,
        "Backup": "None",
        **extra,
    }


def verification(engine: Any, run_id: str) -> dict[str, Any]:
    pk = RunRef("Orders", "m1", "up", run_id).pk
    resp = engine.dynamodb.get_item(
        TableName=HISTORY_TABLE, Key={"pk": {"S": pk}, "sk": {"S": "verification"}}
    )
    item: dict[str, Any] = resp["Item"]
    return item


def test_a_passing_verification_checks_every_item_and_is_recorded(engine):
    create_table(engine.dynamodb, "Orders")
    load(engine.dynamodb, "Orders", ITEMS)
    result = engine.run(spec(Verify=VERIFY), run_id="ok")
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["counters"]["updated"] == len(ITEMS)  # the Summarize output, as before
    found = verification(engine, "ok")
    assert (found["checked"]["N"], found["violations"]["N"]) == (str(len(ITEMS)), "0")
    assert found["passed"]["BOOL"] is True


def test_too_many_violations_fail_the_run_with_sample_keys(engine):
    create_table(engine.dynamodb, "Orders")
    load(engine.dynamodb, "Orders", ITEMS)
    # Up skips the items with n >= 9: three items violate, one more than MaxViolations allows
    up = {"Update": {**UP["Update"], "Condition": "n < :nine", "Values": {":p": "OK", ":nine": 9}}}
    result = engine.run(spec(Up=up, Verify={**VERIFY, "MaxViolations": 2}), run_id="bad")
    assert result.status == "FAILED"
    assert result.error == "VerificationFailed"
    message = result.message or ""
    assert "3 of 12 items do not meet Verify.Condition '#s = :ok' (MaxViolations 2)" in message
    for key in ("k09", "k10", "k11"):
        assert f'{{"pk": {{"S": "{key}"}}}}' in message
    found = verification(engine, "bad")
    assert found["passed"]["BOOL"] is False
    assert len(found["sampleKeys"]["L"]) == 3
    assert engine.run(spec(Up=up, Verify={**VERIFY, "MaxViolations": 3}), run_id="b2").status == (
        "SUCCEEDED"
    )


def test_a_down_and_a_dry_run_skip_the_verification(engine):
    create_table(engine.dynamodb, "Orders")
    load(engine.dynamodb, "Orders", ITEMS)
    down = {"Update": {"Expression": "REMOVE #s", "Names": {"#s": "status"}}}
    assert engine.run(spec(Verify=VERIFY, DryRun=True), run_id="d", dry_run=True).status == (
        "SUCCEEDED"
    )
    result = engine.run(spec(Verify=VERIFY, Down=down), run_id="dn", direction="down")
    assert result.status == "SUCCEEDED", result.cause
    assert all("status" not in i for i in scan_all(engine.dynamodb, "Orders").values())


def test_a_failing_verification_fails_the_deploy_which_rolls_back_through_down(tmp_path):
    """The second deploy adds a migration whose Verify fails: CloudFormation gets the error with
    sample keys, rolls the update back, and the rollback runs Down over every item."""
    import copy

    import boto3

    from dynamigrate.history_view import rows
    from dynamigrate.local.app import LocalApp
    from dynamigrate.local.cloudformation.deployer import LocalDeployer
    from dynamigrate.local.cloudformation.protocol import response_receiver
    from dynamigrate.local.emulator import emulated_aws

    table = {
        "Type": "AWS::DynamoDB::Table",
        "Properties": {
            "TableName": "items",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        },
    }
    seed = {
        "Type": "Custom::DynamoMigration",
        "Properties": {
            "TableName": {"Ref": "Items"},
            "MigrationId": "m0",
            "Up": {"Update": {"Expression": "SET z = :z", "Values": {":z": 0}}},
        },
    }
    first = {"Transform": "DynamoMigrations", "Resources": {"Items": table, "Seed": seed}}
    second = copy.deepcopy(first)
    second["Resources"]["M"] = {
        "Type": "Custom::DynamoMigration",
        "Properties": {
            "TableName": {"Ref": "Items"},
            "MigrationId": "m1",
            "Up": {"Update": {"Expression": "SET a = :t", "Values": {":t": 1}}},
            "Down": {"Update": {"Expression": "REMOVE a"}},
            "Verify": {"Condition": "a = :two", "Values": {":two": 2}},  # never true: all fail
        },
    }
    items = [{"pk": {"S": f"i{n}"}} for n in range(4)]
    with emulated_aws(), response_receiver() as receiver:
        deployer = LocalDeployer(LocalApp(poll_seconds=1), receiver)
        assert deployer.deploy(first, tmp_path, {"Items": items}).succeeded
        outcome = deployer.deploy(second, tmp_path, {})
        assert not outcome.succeeded
        left = boto3.client("dynamodb").scan(TableName="items")["Items"]
        records = deployer.ledger.records("items")
    assert "VerificationFailed" in str(outcome), outcome
    assert "4 of 4 items do not meet Verify.Condition" in str(outcome)
    assert sorted(i["pk"]["S"] for i in left) == ["i0", "i1", "i2", "i3"]
    assert all("a" not in i for i in left)  # Down ran over every item
    shown = [(r[2], r[3], r[9]) for r in rows(records) if r[1] == "m1"]
    assert shown == [
        ("up", "FAILED", "FAILED: 4 of 4 items violate (max 0)"),
        ("down", "ROLLED_BACK", "-"),
    ]
