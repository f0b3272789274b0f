"""Every command against `dynamigrate local serve`, a real server process, as a user runs them.

v1 deploys two migrations, v2 adds one (only it runs), v3 adds a failing one (the deploy rolls
back and v2's migration... stays, v3's own Down runs); history, status and plan read the same state.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dynamigrate.cli import main
from tests.serve import free_port

ROOT = Path(__file__).resolve().parents[2]

V1 = """
Transform: DynamoMigrations
Resources:
  Items:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: items
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
  AddA:
    Type: Custom::DynamoMigration
    Properties:
      TableName: !Ref Items
      MigrationId: m1-add-a
      Up: {Update: {Expression: "SET a = :t", Values: {":t": 1}}}
  AddB:
    Type: Custom::DynamoMigration
    Properties:
      TableName: !Ref Items
      MigrationId: m2-add-b
      Up: {Update: {Expression: "SET b = a + :t", Values: {":t": 1}}}
"""
V2 = (
    V1
    + """
  AddC:
    Type: Custom::DynamoMigration
    Properties:
      TableName: !Ref Items
      MigrationId: m3-add-c
      Up: {Update: {Expression: "SET c = :t", Values: {":t": 3}}}
      Down: {Update: {Expression: "REMOVE c"}}
"""
)
V3 = (
    V2
    + """
  AddD:
    Type: Custom::DynamoMigration
    Properties:
      TableName: !Ref Items
      MigrationId: m4-add-d
      Up: {Update: {Expression: "SET d = c + :t", Values: {":t": 1}}}
      Down: {Update: {Expression: "REMOVE d"}}
  Broken:
    Type: Custom::DynamoMigration
    Properties:
      TableName: !Ref Items
      MigrationId: m5-broken
      Up: {Update: {Expression: "SET e = absent + :t", Values: {":t": 1}}}
"""
)


def boto3_client(url: str):
    import boto3

    return boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1")


def items(url: str) -> dict[str, dict]:
    return {i["pk"]["S"]: i for i in boto3_client(url).scan(TableName="items")["Items"]}


def test_every_command_against_local_serve(server, tmp_path, capsys):
    data = tmp_path / "items.jsonl"
    data.write_text("".join(f'{{"pk": "i{i}"}}\n' for i in range(30)))
    for name, body in (("v1", V1), ("v2", V2), ("v3", V3)):
        (tmp_path / f"{name}.yaml").write_text(body)
    endpoint = ["--endpoint-url", server]

    assert (
        main(["local", "deploy", str(tmp_path / "v1.yaml"), "--data", f"Items={data}", *endpoint])
        == 0
    )
    printed = capsys.readouterr()
    assert printed.out.count("SUCCESS") == 2
    for migration in ("m1-add-a", "m2-add-b"):  # the events, as they come
        assert f"event: Migration Started items/{migration} (up, run " in printed.out
        assert f"event: Migration Succeeded items/{migration} (up, run " in printed.out
    assert printed.err.startswith("AddA ")  # progress labelled by logical id, as `local run` does
    assert "?" not in printed.err  # a percentage of the table's items, as `local run` shows
    assert "] 100%       30 scanned       30 changed  SUCCEEDED" in printed.err
    assert {i["b"]["N"] for i in items(server).values()} == {"2"}

    assert (
        main(["plan", str(tmp_path / "v2.yaml"), "--table", "Items=items", "--json", *endpoint])
        == 0
    )
    planned = {p["migrationId"]: p for p in json.loads(capsys.readouterr().out)}
    assert [planned[m]["state"] for m in ("m1-add-a", "m2-add-b", "m3-add-c")] == [
        "applied",
        "applied",
        "pending",
    ]
    assert planned["m3-add-c"]["estimate"]["items"] == 30
    assert planned["m3-add-c"]["estimate"]["readUnits"] == 0.5  # measured: the emulator says 0 B
    # --stack asks the server's CloudFormation for the table's name (no literal TableName here)
    unnamed = tmp_path / "unnamed.yaml"
    unnamed.write_text(V2.replace("      TableName: items\n", ""))
    assert main(["plan", str(unnamed), "--stack", "local", "--json", *endpoint]) == 0
    assert {p["table"] for p in json.loads(capsys.readouterr().out)} == {"items"}
    assert main(["plan", str(unnamed), "--stack", "nope", *endpoint]) == 1
    assert "--stack nope: finding Items: ValidationError" in capsys.readouterr().err

    assert main(["local", "deploy", str(tmp_path / "v2.yaml"), *endpoint]) == 0
    out = capsys.readouterr().out
    assert "SUCCESS     AddA (m1-add-a): unchanged" in out
    assert "SUCCESS     AddC (m3-add-c)\n" in out

    assert main(["local", "deploy", str(tmp_path / "v3.yaml"), *endpoint]) == 2
    out = capsys.readouterr().out
    assert "ROLLED_BACK AddD (m4-add-d)" in out
    assert "FAILED      Broken (m5-broken): Migration m5-broken on table items failed" in out
    assert "event: Migration Failed items/m5-broken (up, run " in out
    assert "event: Migration Rolled Back items/m4-add-d (down, run " in out
    assert "items/m1-add-a" not in out  # only this deploy's events
    state = items(server)
    assert all("d" not in i and i["c"]["N"] == "3" for i in state.values())  # v2's c stays

    assert main(["history", "--json", *endpoint]) == 0
    history = {h["migrationId"]: h["status"] for h in json.loads(capsys.readouterr().out)}
    assert history == {
        "m1-add-a": "SUCCEEDED",
        "m2-add-b": "SUCCEEDED",
        "m3-add-c": "SUCCEEDED",
        "m4-add-d": "ROLLED_BACK",
        "m5-broken": "ROLLED_BACK",  # no Down: restored from its before-images
    }
    assert main(["history", "--table", "items", *endpoint]) == 0
    assert "m4-add-d" in capsys.readouterr().out
    assert main(["history", "--table", "Items", *endpoint]) == 0  # the logical id, locally
    assert "m4-add-d" in capsys.readouterr().out
    assert main(["status", *endpoint]) == 0
    assert "0 running; 2 ROLLED_BACK, 3 SUCCEEDED" in capsys.readouterr().out
    assert main(["status", "--json", *endpoint]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "running": [],
        "counts": {"ROLLED_BACK": 2, "SUCCEEDED": 3},
    }

    _plan_and_remove(server, tmp_path, capsys)


def _plan_and_remove(server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """After v3 failed: plan shows what resumes, an edit, and a removal (of test_every_command)."""
    endpoint = ["--endpoint-url", server]
    assert main(["plan", str(tmp_path / "v3.yaml"), "--table", "Items=items", *endpoint]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split()[2] for line in out.splitlines()[1:] if line.strip()}
    assert rows["m4-add-d"] == "pending"  # its Down ran
    assert rows["m5-broken"] == "pending"  # restored from its before-images: it runs afresh
    # What a rollback of each run does: its own Down, or (no Down) a restore of its before-images
    lines = {line.split()[0]: line.rstrip() for line in out.splitlines()[1:] if line.strip()}
    assert lines["m4-add-d"].endswith("runs Down")
    assert lines["m5-broken"].endswith("restores before-images")
    assert "m5-broken: before-images for a restore: up to " in out
    assert "m4-add-d: before-images" not in out  # its Down undoes it: none are kept

    # An applied migration edited: plan exits 3 in both output forms (a CI gate trips on either).
    edited = tmp_path / "edited.yaml"
    edited.write_text(
        V2.replace('SET a = :t", Values: {":t": 1}', 'SET a = :t", Values: {":t": 7}')
    )
    for form in ([], ["--json"]):
        assert main(["plan", str(edited), "--table", "Items=items", *form, *endpoint]) == 3
    assert "changed" in capsys.readouterr().out

    # A migration removed from the template is reported, and its changes stay (no rollback).
    assert main(["local", "deploy", str(tmp_path / "v1.yaml"), *endpoint]) == 0
    out = capsys.readouterr().out
    assert "REMOVED     AddC (m3-add-c): removed from the template" in out
    assert all(i["c"]["N"] == "3" for i in items(server).values())


def test_local_deploy_without_a_server_says_how_to_start_one(tmp_path, capsys):
    template = tmp_path / "t.yaml"
    template.write_text(V1)
    url = f"http://127.0.0.1:{free_port()}"
    assert main(["local", "deploy", str(template), "--endpoint-url", url]) == 1
    err = capsys.readouterr().err
    assert f"no dynamigrate emulator at {url}" in err
    assert "dynamigrate local serve" in err


def test_rollback_disabled_then_local_rollback_and_delete(server, tmp_path, capsys):
    data = tmp_path / "items.jsonl"
    data.write_text("".join(f'{{"pk": "i{i}"}}\n' for i in range(30)))
    for name, body in (("v1", V1), ("v3", V3)):
        (tmp_path / f"{name}.yaml").write_text(body)
    endpoint = ["--endpoint-url", server]
    assert (
        main(["local", "deploy", str(tmp_path / "v1.yaml"), "--data", f"Items={data}", *endpoint])
        == 0
    )
    capsys.readouterr()

    v3 = ["local", "deploy", str(tmp_path / "v3.yaml"), "--disable-rollback", *endpoint]
    assert main(v3) == 2
    out = capsys.readouterr().out
    assert "FAILED      Broken (m5-broken)" in out
    assert "stack local: UPDATE_FAILED (rollback disabled)" in out
    assert all(i["d"]["N"] == "4" for i in items(server).values())  # nothing undone yet

    assert main(["local", "rollback", *endpoint]) == 0
    out = capsys.readouterr().out
    assert "ROLLED_BACK AddD (m4-add-d)" in out
    assert "stack local: UPDATE_ROLLBACK_COMPLETE" in out
    assert all("c" not in i and "d" not in i for i in items(server).values())
    assert main(["history", "--json", *endpoint]) == 0
    history = {h["migrationId"]: h["status"] for h in json.loads(capsys.readouterr().out)}
    # m5-broken has no Down: the rollback restores what it wrote from its before-images
    assert (history["m3-add-c"], history["m4-add-d"], history["m5-broken"]) == (
        "ROLLED_BACK",
        "ROLLED_BACK",
        "ROLLED_BACK",
    )

    assert main(["local", "rollback", *endpoint]) == 1  # nothing failed to roll back now
    assert "only a stack whose deploy failed with rollback disabled" in capsys.readouterr().err
    assert main(["local", "delete", *endpoint]) == 0
    out = capsys.readouterr().out
    assert "stack local: DELETE_COMPLETE" in out
    assert "stack local: deleted tables Items (DeletionPolicy)" in out  # none: Delete
    assert "items" not in boto3_client(server).list_tables()["TableNames"]
    assert main(["history", "--json", *endpoint]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 5  # the history stays
    assert main(["local", "delete", "--stack", "nope", *endpoint]) == 1
    assert "no stack nope was deployed to this server" in capsys.readouterr().err


NODE_UP = """
Transform: [DynamoMigrations, AWS::Serverless-2016-10-31]
Resources:
  Items:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: items
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
  Fn:
    Type: AWS::Serverless::Function
    Properties: {Runtime: nodejs20.x, Handler: index.handler, CodeUri: fn/}
  Transform:
    Type: Custom::DynamoMigration
    Properties: {TableName: !Ref Items, Up: {Function: !GetAtt Fn.Arn}}
"""


def test_a_function_the_server_cannot_run_is_refused_before_any_table_is_created(
    server, tmp_path, capsys
):
    import boto3

    template, data = tmp_path / "t.yaml", tmp_path / "items.jsonl"
    template.write_text(NODE_UP)
    data.write_text('{"pk": "a"}\n')
    deploy = ["local", "deploy", str(template), "--data", f"Items={data}"]
    assert main([*deploy, "--endpoint-url", server]) == 1
    err = capsys.readouterr().err
    assert "Resource [Transform] property Up.Function: Fn is a nodejs20.x function" in err
    client = boto3.client("dynamodb", endpoint_url=server, region_name="us-east-1")
    assert "items" not in client.list_tables()["TableNames"]
