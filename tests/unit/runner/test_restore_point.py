"""The restore point before a run's first write, against an in-memory fake client (no I/O)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from runner.errors import MigrationError
from runner.history import RunRef
from runner.restore_point import RestorePointRecord, backup_name, ensure

RUN = RunRef("Orders", "m1", "up", "run-1")
SPEC = {"MigrationId": "m1", "TableName": "Orders", "Up": {"Delete": {}}}


class FakeDynamoDB:
    """Tables' PITR status and items, the backups taken, and a history table as a dict."""

    def __init__(self, pitr: set[str] = frozenset(), refuse: str | None = None) -> None:
        self.pitr, self.refuse = set(pitr), refuse
        self.items: dict[str, int] = {"Orders": 3, "OrdersV2": 0}
        self.backups: list[dict[str, str]] = []
        self.history: dict[tuple[str, str], dict[str, Any]] = {}

    def describe_continuous_backups(self, TableName: str) -> dict[str, Any]:
        status = "ENABLED" if TableName in self.pitr else "DISABLED"
        return {
            "ContinuousBackupsDescription": {
                "ContinuousBackupsStatus": "ENABLED",
                "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": status},
            }
        }

    def create_backup(self, TableName: str, BackupName: str) -> dict[str, Any]:
        if self.refuse:
            raise ClientError({"Error": {"Code": self.refuse, "Message": "no"}}, "CreateBackup")
        self.backups.append({"table": TableName, "name": BackupName})
        arn = f"arn:aws:dynamodb:us-east-1:1:table/{TableName}/backup/{len(self.backups)}"
        return {"BackupDetails": {"BackupArn": arn, "BackupName": BackupName}}

    def scan(self, TableName: str, Limit: int, Select: str) -> dict[str, Any]:
        return {"Count": min(Limit, self.items[TableName])}

    def get_item(self, TableName: str, Key: dict[str, Any], **kw: Any) -> dict[str, Any]:
        item = self.history.get((Key["pk"]["S"], Key["sk"]["S"]))
        return {"Item": item} if item else {}

    def put_item(self, TableName: str, Item: dict[str, Any], **kw: Any) -> dict[str, Any]:
        key = (Item["pk"]["S"], Item["sk"]["S"])
        if key in self.history:
            raise ClientError(
                {"Error": {"Code": "ConditionalCheckFailedException", "Message": "x"}}, "PutItem"
            )
        self.history[key] = Item
        return {}


def run_ensure(client: FakeDynamoDB, spec: dict[str, Any] = SPEC, run: RunRef = RUN, t=1000.7):
    return ensure(client, RestorePointRecord(client, "History"), run, spec, now=lambda: t)


def test_a_table_with_pitr_gets_the_run_start_as_restore_time_and_no_backup():
    client = FakeDynamoDB(pitr={"Orders"})
    out = run_ensure(client)
    assert out == {
        "restorePoints": [{"table": "Orders", "kind": "pitr", "restoreTime": 1000}],
        "settleSeconds": 0,
    }
    assert client.backups == []


def test_without_pitr_an_on_demand_backup_is_taken_and_the_run_waits_for_it_to_settle():
    client = FakeDynamoDB()
    out = run_ensure(client)
    assert client.backups == [{"table": "Orders", "name": "dynamigrate-m1-run-1-0"}]
    assert out["restorePoints"] == [
        {
            "table": "Orders",
            "kind": "backup",
            "backupArn": "arn:aws:dynamodb:us-east-1:1:table/Orders/backup/1",
        }
    ]
    assert out["settleSeconds"] == 60
    # recorded in the run's history
    recorded = client.history[(RUN.pk, "restore-point")]
    assert recorded["points"]["L"][0]["M"]["backupArn"]["S"].endswith("/backup/1")


def test_a_retried_step_takes_no_second_backup_and_waits_only_what_is_left():
    client = FakeDynamoDB()
    run_ensure(client, t=1000.0)
    again = run_ensure(client, t=1045.0)
    assert len(client.backups) == 1
    assert again["restorePoints"][0]["backupArn"].endswith("/backup/1")
    assert again["settleSeconds"] == 15
    assert run_ensure(client, t=2000.0)["settleSeconds"] == 0


def test_required_fails_before_any_write_when_create_backup_is_refused():
    client = FakeDynamoDB(refuse="LimitExceededException")
    with pytest.raises(MigrationError) as info:
        run_ensure(client, spec={**SPEC, "Backup": "Required"})
    message = str(info.value)
    assert "Migration m1" in message
    assert "Backup is Required" in message
    assert "table Orders" in message
    assert "LimitExceededException" in message
    assert client.history == {}  # nothing recorded: the run stops here


def test_auto_carries_on_without_a_restore_point_and_says_why():
    client = FakeDynamoDB(refuse="AccessDeniedException")
    out = run_ensure(client)
    (point,) = out["restorePoints"]
    assert point["kind"] == "none"
    assert "AccessDeniedException" in point["reason"]
    assert "point-in-time recovery is not enabled" in point["reason"]
    assert out["settleSeconds"] == 0


@pytest.mark.parametrize(
    ("spec", "run"),
    [
        ({**SPEC, "Backup": "None"}, RUN),
        (SPEC, RunRef("Orders", "m1", "up", "run-1", dry_run=True)),
    ],
    ids=["backup-none", "dry-run"],
)
def test_no_restore_point_when_nothing_is_to_be_kept(spec, run):
    client = FakeDynamoDB()
    assert run_ensure(client, spec=spec, run=run) == {"restorePoints": [], "settleSeconds": 0}
    assert client.backups == []
    assert client.history == {}


def test_a_target_that_already_holds_items_gets_its_own_restore_point():
    spec = {**SPEC, "Up": {"Function": "fn"}, "Target": "OrdersV2"}
    client = FakeDynamoDB(pitr={"Orders"})
    assert [p["table"] for p in run_ensure(client, spec=spec)["restorePoints"]] == ["Orders"]
    client = FakeDynamoDB(pitr={"Orders"})
    client.items["OrdersV2"] = 1
    points = run_ensure(client, spec=spec)["restorePoints"]
    assert [(p["table"], p["kind"]) for p in points] == [("Orders", "pitr"), ("OrdersV2", "backup")]


def test_backup_names_are_valid_for_create_backup():
    name = backup_name("2026-01-10 add/status" + "x" * 300, "run:1")
    assert len(name) <= 250
    assert all(c.isalnum() or c in "_.-" for c in name)


DOWN = RunRef("Orders", "m1", "down", "run-1")


def test_a_down_takes_its_own_restore_point_before_it_writes():
    client = FakeDynamoDB()
    (point,) = run_ensure(client, run=DOWN)["restorePoints"]
    assert point["kind"] == "backup"
    assert len(client.backups) == 1
    assert DOWN.pk in str(client.history)  # recorded under the Down run, apart from the Up's


def test_required_fails_a_down_before_it_writes_when_no_restore_point_can_be_taken():
    client = FakeDynamoDB(refuse="AccessDeniedException")
    with pytest.raises(MigrationError, match="Backup is Required"):
        run_ensure(client, spec={**SPEC, "Backup": "Required"}, run=DOWN)
    assert client.history == {}


def test_backup_none_skips_the_down_too():
    client = FakeDynamoDB()
    out = run_ensure(client, spec={**SPEC, "Backup": "None"}, run=DOWN)
    assert out == {"restorePoints": [], "settleSeconds": 0}
