"""`dynamigrate local run`: the demo end to end, a failing deploy that rolls back, and bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from dynamigrate.cli import main
from migrations import sample_data
from runner import observability
from tests.emf import check_emf

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "migrations" / "template.yaml"


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def demo_data(tmp_path: Path) -> dict[str, Path]:
    assert (
        sample_data.main(["--out", str(tmp_path / "data"), "--orders", "200", "--customers", "30"])
        == 0
    )
    return {
        "Orders": tmp_path / "data" / "orders.jsonl",
        "Customers": tmp_path / "data" / "customers.jsonl",
    }


def test_the_demo_runs_all_four_migrations(tmp_path, demo_data, capsys):
    out = tmp_path / "out"
    argv = ["local", "run", str(DEMO), "--out", str(out)]
    for logical_id, path in demo_data.items():
        argv += ["--data", f"{logical_id}={path}"]
    assert main(argv) == 0
    printed = capsys.readouterr()
    assert printed.out.count("SUCCESS ") == 4
    assert "History:" in printed.out
    assert "OrdersAddStatus" in printed.err
    assert "100%" in printed.err
    # the rate each run held and why (the demo's tables are on-demand: their warm throughput)
    assert "holding at 2,000 WCU/s, 6,000 RCU/s: table " in printed.err
    assert "WCU/s, cap 50 %; 0 throttles" in printed.err
    orders = [row["Item"] for row in lines(out / "Orders.jsonl")]
    assert [o["pk"]["S"] for o in orders] == sorted(o["pk"]["S"] for o in orders)
    assert not [o for o in orders if o["customer"]["S"].startswith("test-")]
    assert all("status" in o for o in orders)
    assert {o["review"]["S"] for o in orders if o["customer"]["S"] == "c-13"} == {"HOLD"}
    customers = [row["Item"] for row in lines(out / "Customers.jsonl")]
    assert all("first_name" in c and "name" not in c for c in customers)
    history = json.loads((out / "history.json").read_text())
    assert [h["status"] for h in history] == ["SUCCEEDED"] * 4
    assert all(h["executionArn"] and h["checksum"] for h in history)


FAILING = """
Transform: DynamoMigrations
Resources:
  Items:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: items
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
  AddFlag:
    Type: Custom::DynamoMigration
    Properties:
      TableName: !Ref Items
      MigrationId: m1
      Up: {Update: {Expression: "SET flag = :t", Values: {":t": true}}}
      Down: {Update: {Expression: "REMOVE flag"}}
  Broken:
    Type: Custom::DynamoMigration
    Properties:
      TableName: !Ref Items
      MigrationId: m2
      Up: {Update: {Expression: "SET n = n + :one", Values: {":one": 1}}}
"""


ITEM_KEY = re.compile(r'"i\d+"')
SENTINEL = "sentinel-value-7f3a9c"  # in every item: no log line may ever show it


@pytest.fixture
def debug_logs():
    """The runner's lines at DEBUG for one test (item keys may show there, values never)."""
    observability.set_level("DEBUG")
    yield
    observability.set_level("INFO")


def test_a_failing_migration_exits_2_and_the_rollback_runs_down(tmp_path, capsys, debug_logs):
    template = tmp_path / "template.yaml"
    template.write_text(FAILING)
    data = tmp_path / "items.jsonl"
    big = "12345678901234567890123456789012345678"
    data.write_text(
        "".join(f'{{"pk": "i{i}", "big": {big}, "note": "{SENTINEL}"}}\n' for i in range(20))
    )
    out = tmp_path / "out"
    assert main(["local", "run", str(template), "--data", f"Items={data}", "--out", str(out)]) == 2
    printed = capsys.readouterr().out
    assert "ROLLED_BACK AddFlag (m1)" in printed
    assert "FAILED      Broken (m2): Migration m2 on table items failed" in printed
    history = printed.split("History:\n", 1)[1].splitlines()
    # every run, in the order it started: m1's Up, m2's failed Up, m2's restore (it has no
    # Down, so its before-images undo whatever it wrote before failing), then m1's Down
    assert history[1].split()[:5] == ["items", "m1", "up", "SUCCEEDED", "20/20"]
    assert history[2].split()[:4] == ["items", "m2", "up", "FAILED"]
    assert "does not exist in the item" in history[2]  # the cause, not a cut prefix
    assert history[3].split()[:5] == ["items", "m2", "down", "ROLLED_BACK", "0/0"]
    assert history[4].split()[:5] == ["items", "m1", "down", "ROLLED_BACK", "20/20"]
    assert "\nItems: deleted by the rollback, as CloudFormation deletes" in printed
    items = [row["Item"] for row in lines(out / "Items.jsonl")]  # as the Down left them
    assert len(items) == 20
    assert all("flag" not in item for item in items)  # Down undid m1
    assert {item["big"]["N"] for item in items} == {big}  # 38 digits, exactly
    _check_events(lines(out / "events.jsonl"))
    _check_metrics((out / "metrics.jsonl").read_text().splitlines())
    _check_logs((out / "logs.jsonl").read_text().splitlines())


def _check_events(events: list[dict]) -> None:
    """What EventBridge delivered: each run's start and end, with the record's essentials."""
    assert {e["source"] for e in events} == {"dynamigrate"}
    runs: dict[tuple[str, str], list[str]] = {}
    for event in events:
        detail = event["detail"]
        runs.setdefault((detail["migration"], detail["direction"]), []).append(event["detail-type"])
        assert detail["table"] == "items"
        assert detail["runId"]
        assert detail["stack"].startswith("arn:aws:cloudformation:")
        assert event["resources"] == [detail["executionArn"]]
    assert runs == {
        ("m1", "up"): ["Migration Started", "Migration Succeeded"],
        ("m2", "up"): ["Migration Started", "Migration Failed"],
        ("m2", "down"): ["Migration Started", "Migration Rolled Back"],  # its restore
        ("m1", "down"): ["Migration Started", "Migration Rolled Back"],
    }
    ended = {(e["detail"]["migration"], e["detail"]["direction"]): e["detail"] for e in events}
    assert ended["m1", "up"]["counters"]["updated"] == 20
    assert ended["m1", "down"]["counters"]["scanned"] == 20
    assert ended["m1", "down"]["durationSeconds"] >= 0
    assert "does not exist in the item" in ended["m2", "up"]["error"]
    assert ended["m1", "up"]["error"] is None


def _check_metrics(metric_lines: list[str]) -> None:
    """Valid EMF, per table and migration; outcomes also under [service] for the alarm."""
    docs = [check_emf(line) for line in metric_lines]
    assert {d["_aws"]["CloudWatchMetrics"][0]["Namespace"] for d in docs} == {"dynamigrate"}
    assert all(
        ["Table", "Migration"] in d["_aws"]["CloudWatchMetrics"][0]["Dimensions"] for d in docs
    )

    def total(name: str, migration: str, direction: str) -> float:
        return sum(
            sum(d[name])
            for d in docs
            if name in d and d["Migration"] == migration and d["direction"] == direction
        )

    assert total("ItemsScanned", "m1", "up") == 20
    assert total("ItemsChanged", "m1", "up") == 20
    assert total("ItemsScanned", "m1", "down") == 20
    assert total("RunsSucceeded", "m1", "up") == 1
    assert total("RunsRolledBack", "m1", "down") == 1
    assert total("RunsFailed", "m2", "up") == 1
    assert total("RunsStarted", "m2", "up") == 1
    failed = next(d for d in docs if "RunsFailed" in d)
    assert ["service"] in failed["_aws"]["CloudWatchMetrics"][0]["Dimensions"]
    assert failed["service"] == "dynamigrate"


def _check_logs(log_lines: list[str]) -> None:
    """JSON lines, each with its migration's and requests' keys; no item value, even at DEBUG."""
    logs = [json.loads(line) for line in log_lines]
    assert not [line for line in log_lines if SENTINEL in line]
    keys_at_debug = [
        log for log in logs if log["level"] == "DEBUG" and ITEM_KEY.search(log["message"])
    ]
    assert keys_at_debug  # the lines were scanned at DEBUG, where item keys show
    by_function: dict[str, list[dict]] = {}
    for log in logs:
        by_function.setdefault(log["function_name"], []).append(log)
    request_keys = {"stack", "logical_id", "cloudformation_request_id", "function_request_id"}
    for log in logs:
        assert {"level", "message", "service", "migration", "table"} <= set(log), log
        assert request_keys <= set(log), log
    controller = by_function["dynamigrate-controller"]
    assert all("controller_execution" in log for log in controller)
    assert any({"run_id", "direction"} <= set(log) for log in controller)
    worker = by_function["dynamigrate-worker"]
    assert all({"run_id", "direction"} <= set(log) for log in worker)
    assert any("segment" in log for log in worker)
    assert "DynamoMigrations-runner" in by_function  # the custom resource's handler


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("missing-template", "nope.yaml: cannot read"),
        ("missing-data", "--data Items={data}: no such file"),
        ("no-migrations", "the template declares no Custom::DynamoMigration resource"),
        (
            "unknown-table",
            "--data Nope: the template has no AWS::DynamoDB::Table Nope; its tables: Items",
        ),
        (
            "mistyped-table",
            "--data Itmes: the template has no AWS::DynamoDB::Table Itmes; did you mean Items?",
        ),
        ("malformed-line", "items.jsonl:2: not JSON"),
        ("invalid-template", "Resource [Broken] property Up: must have exactly one of"),
        ("bad-pair", "--data 'Items': expected NAME=VALUE"),
    ],
)
def test_bad_input_gets_one_clear_line_and_exit_1(tmp_path, capsys, case, expected):
    template = tmp_path / "template.yaml"
    data = tmp_path / "items.jsonl"
    data.write_text('{"pk": "a"}\n{"pk": \n')
    body = FAILING
    pair = f"Items={data}"
    if case == "missing-template":
        template = tmp_path / "nope.yaml"
    elif case == "missing-data":
        pair = f"Items={tmp_path / 'missing.jsonl'}"
        expected = expected.format(data=tmp_path / "missing.jsonl")
    elif case == "no-migrations":
        body = FAILING.split("  AddFlag:", maxsplit=1)[0]
    elif case == "unknown-table":
        pair = f"Nope={data}"
    elif case == "mistyped-table":
        pair = f"Itmes={data}"
    elif case == "invalid-template":
        body = FAILING.replace(
            'Up: {Update: {Expression: "SET n = n + :one", Values: {":one": 1}}}', "Up: {}"
        )
    elif case == "bad-pair":
        pair = "Items"
    if case != "missing-template":
        template.write_text(body)
    assert main(["local", "run", str(template), "--data", pair, "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("dynamigrate: error: ")
    assert expected in err
    assert "Traceback" not in err
    # one line; an invalid template adds one line per problem (here one)
    assert len(err.strip().splitlines()) == (2 if case == "invalid-template" else 1)


COPY = """
Transform: [DynamoMigrations, AWS::Serverless-2016-10-31]
Resources:
  Items:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
  Copies:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
  RekeyFn:
    Type: AWS::Serverless::Function
    Properties: {Runtime: python3.12, Handler: rekey.handler, CodeUri: fn/}
  CopyItems:
    Type: Custom::DynamoMigration
    Properties:
      TableName: !Ref Items
      MigrationId: m1-copy
      Up: {Function: !GetAtt RekeyFn.Arn}
      Target: !Ref Copies
"""
REKEY = """
def handler(event, context):
    return {"items": [{"id": {"S": "new-" + i["pk"]["S"]}, "n": i["n"]} for i in event["items"]]}
"""


@pytest.fixture
def copy_template(tmp_path: Path) -> list[str]:
    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / "rekey.py").write_text(REKEY)
    (tmp_path / "template.yaml").write_text(COPY)
    data = tmp_path / "items.jsonl"
    data.write_text("".join(f'{{"pk": "i{i}", "n": {i}}}\n' for i in range(12)))
    template, out = tmp_path / "template.yaml", tmp_path / "out"
    return ["local", "run", str(template), "--data", f"Items={data}", "--out", str(out)]


def test_the_summary_samples_a_target_table(copy_template, capsys):
    assert main(copy_template) == 0
    printed = capsys.readouterr().out
    assert "\nItems: no item changed\n" in printed  # a Target run writes only the Target
    sample = printed.split("\nCopies, first item written:\n", 1)[1].splitlines()[0]
    assert sample == '  after:  {"id": {"S": "new-i0"}, "n": {"N": "0"}}'


def test_a_dry_run_prints_its_final_line(copy_template, capsys):
    assert main([*copy_template, "--dry-run"]) == 0
    progress = capsys.readouterr().err.splitlines()
    assert "PENDING" not in "\n".join(progress)  # the dry run's own record, from its first line
    assert progress[-1].startswith("CopyItems ")
    assert "] 100%       12 scanned       12 changed  SUCCEEDED  in " in progress[-1]
