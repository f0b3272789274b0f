"""`dynamigrate status` and `history` on the embedded emulator, with a migration running."""

from __future__ import annotations

import json

import boto3

from dynamigrate.cli import commands, main
from dynamigrate.local.emulator import emulated_aws
from dynamigrate.local.engine import create_history_table, set_default_environment
from runner.history import RUNNING
from runner.ledger import MigrationLedger
from tests.functional.conftest import create_table, load

set_default_environment()


def test_status_shows_a_running_migrations_progress(capsys, monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with emulated_aws():
        client = boto3.client("dynamodb")
        create_history_table(client)
        create_table(client, "Orders")
        load(client, "Orders", [{"pk": {"S": f"o{i}"}} for i in range(40)])
        ledger = MigrationLedger(client, "dynamigrate-history")
        ledger.acquire("Orders", "m1", "req-1", "sum", 600)
        counters = {"scanned": 10, "updated": 7}
        point = {"table": "Orders", "kind": "pitr", "restoreTime": 1_800_000_000}
        changes = {
            "status": RUNNING,
            "counters": counters,
            "startedAt": 1_800_000_000,
            "restorePoints": [point],
        }
        ledger.update_owned("Orders", "m1", "req-1", changes)
        monkeypatch.setattr(commands, "clock", lambda: 1_800_000_005.0)  # 5 s into the run
        assert main(["status"]) == 0
        out = capsys.readouterr().out
        assert (
            "Orders m1 RUNNING [#######.......................]  25% 10 scanned, 7 changed, "
            "2 items/s, 15 s left\n" in out  # 10 items in 5 s; 30 of the 40 to go
        )
        assert "  restore point: PITR 2027-01-15 08:00:00\n" in out
        assert out.rstrip().endswith("1 running; 1 RUNNING")
        assert main(["status", "--json"]) == 0
        shown = json.loads(capsys.readouterr().out)
        (running,) = shown["running"]
        assert (running["migrationId"], running["counters"]["updated"]) == ("m1", 7)
        assert (running["itemsPerSecond"], running["secondsLeft"]) == (2.0, 15)
        assert shown["counts"] == {"RUNNING": 1}
        assert running["restorePoints"] == [point]
        assert main(["history", "--table", "Nope"]) == 0
        assert capsys.readouterr().out == "no migrations recorded yet\n"


def test_history_of_a_missing_table_is_one_line(capsys, monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with emulated_aws():
        assert main(["history", "--history-table", "nope"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("dynamigrate: error: history table nope: ")
    assert err.count("\n") == 1
