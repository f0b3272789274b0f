"""The restore point a run takes before its first write, through the real state machine."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dynamigrate.local.engine import HISTORY_TABLE
from runner.handlers import worker as worker_handler
from runner.history import RunRef
from tests.functional.conftest import create_table, load, scan_all

ITEMS = [
    {
        "pk": {"S": f"k{i}"},
        "big": {"N": "1234567890123456789012345678901234567" + str(i)},
        "tags": {"SS": ["a", f"t{i}"]},
        "blob": {"B": bytes([i, 0, 255])},
        "doc": {"M": {"nested": {"L": [{"N": "1.5"}, {"NULL": True}]}}},
    }
    for i in range(6)
]
DELETE_ALL = {"Delete": {}}


def spec(**extra: Any) -> dict[str, Any]:
    return {"MigrationId": "m1", "TableName": "Orders", "Up": DELETE_ALL, **extra}


def recorded(engine: Any, run_id: str) -> dict[str, Any] | None:
    pk = RunRef("Orders", "m1", "up", run_id).pk
    resp = engine.dynamodb.get_item(
        TableName=HISTORY_TABLE, Key={"pk": {"S": pk}, "sk": {"S": "restore-point"}}
    )
    item: dict[str, Any] | None = resp.get("Item")
    return item


@pytest.fixture
def orders(engine: Any) -> Any:
    create_table(engine.dynamodb, "Orders")
    load(engine.dynamodb, "Orders", ITEMS)
    return engine


@pytest.fixture
def refused_backups() -> Iterator[list[str]]:
    """CreateBackup refused to the worker, as AWS refuses it (e.g. a policy that denies it)."""
    client = worker_handler._data_client("dynamodb", None)
    refused: list[str] = []

    def refuse(params: dict[str, Any], **_: Any) -> None:
        refused.append(params["TableName"])
        raise ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": "denied"}}, "CreateBackup"
        )

    client.meta.events.register("before-parameter-build.dynamodb.CreateBackup", refuse)
    yield refused
    client.meta.events.unregister("before-parameter-build.dynamodb.CreateBackup", refuse)


def test_without_pitr_an_on_demand_backup_holds_every_item_as_it_was(orders):
    result = orders.run(spec(), run_id="r1")
    assert result.status == "SUCCEEDED", result.cause
    assert scan_all(orders.dynamodb, "Orders") == {}
    point = recorded(orders, "r1")["points"]["L"][0]["M"]
    assert point["kind"]["S"] == "backup"
    arn = point["backupArn"]["S"]
    orders.dynamodb.restore_table_from_backup(TargetTableName="Restored", BackupArn=arn)
    restored = scan_all(orders.dynamodb, "Restored")
    assert restored == {i["pk"]["S"]: i for i in ITEMS}  # byte-identical, every type


def test_with_pitr_the_run_start_is_the_restore_time_and_no_backup_is_taken(orders):
    orders.dynamodb.update_continuous_backups(
        TableName="Orders", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    result = orders.run(spec(Backup="Required"), run_id="r2")
    assert result.status == "SUCCEEDED", result.cause
    point = recorded(orders, "r2")["points"]["L"][0]["M"]
    assert point["kind"]["S"] == "pitr"
    assert int(point["restoreTime"]["N"]) > 0
    assert orders.dynamodb.list_backups(TableName="Orders")["BackupSummaries"] == []


def test_required_without_pitr_and_a_refused_backup_fails_before_any_write(orders, refused_backups):
    result = orders.run(spec(Backup="Required"), run_id="r3")
    assert result.status == "FAILED"
    assert result.error == "MigrationError"
    assert "Backup is Required" in (result.message or "")
    assert "table Orders" in (result.message or "")
    assert refused_backups == ["Orders"]
    assert len(scan_all(orders.dynamodb, "Orders")) == len(ITEMS)  # nothing deleted
    assert recorded(orders, "r3") is None


def test_auto_with_a_refused_backup_runs_and_records_why(orders, refused_backups):
    result = orders.run(spec(), run_id="r4")
    assert result.status == "SUCCEEDED", result.cause
    point = recorded(orders, "r4")["points"]["L"][0]["M"]
    assert point["kind"]["S"] == "none"
    assert "AccessDeniedException" in point["reason"]["S"]


def test_backup_none_and_dry_runs_take_no_restore_point(orders):
    assert orders.run(spec(Backup="None"), run_id="r5", dry_run=False).status == "SUCCEEDED"
    load(orders.dynamodb, "Orders", ITEMS)
    assert orders.run(spec(), run_id="r6", dry_run=True).status == "SUCCEEDED"
    assert orders.dynamodb.list_backups(TableName="Orders")["BackupSummaries"] == []
    assert recorded(orders, "r5") is None


UP_DOWN = {
    "Up": {"Update": {"Expression": "SET moved = :t", "Values": {":t": True}}},
    "Down": {"Update": {"Expression": "REMOVE moved"}},
}


def test_a_down_takes_its_own_restore_point_holding_what_the_up_wrote(orders):
    assert orders.run(spec(**UP_DOWN), run_id="u1").status == "SUCCEEDED"
    result = orders.run(spec(**UP_DOWN), run_id="d1", direction="down")
    assert result.status == "SUCCEEDED", result.cause
    pk = RunRef("Orders", "m1", "down", "d1").pk
    item = orders.dynamodb.get_item(
        TableName=HISTORY_TABLE, Key={"pk": {"S": pk}, "sk": {"S": "restore-point"}}
    )["Item"]
    arn = item["points"]["L"][0]["M"]["backupArn"]["S"]
    orders.dynamodb.restore_table_from_backup(TargetTableName="BeforeDown", BackupArn=arn)
    assert all("moved" in i for i in scan_all(orders.dynamodb, "BeforeDown").values())
    assert not any("moved" in i for i in scan_all(orders.dynamodb, "Orders").values())


def test_required_fails_a_down_before_it_writes_when_no_restore_point_can_be_taken(
    orders, refused_backups
):
    orders.dynamodb.update_continuous_backups(
        TableName="Orders", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    assert orders.run(spec(Backup="Required", **UP_DOWN), run_id="u2").status == "SUCCEEDED"
    orders.dynamodb.update_continuous_backups(  # PITR turned off between the Up and its Down
        TableName="Orders", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )
    result = orders.run(spec(Backup="Required", **UP_DOWN), run_id="d2", direction="down")
    assert result.status == "FAILED"
    assert "Backup is Required" in (result.message or "")
    assert all("moved" in i for i in scan_all(orders.dynamodb, "Orders").values())  # untouched
