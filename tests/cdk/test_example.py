"""examples/cdk: synthesized by the CDK CLI's `cdk synth` (and in-process, as `python app.py`
does), then run by `dynamigrate local run` and `local deploy` end to end, its Python transform
function loaded in-process from its asset directory in cdk.out."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

from dynamigrate.cli import main
from tests.unit.macro.golden import expand_template

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cdk"
CDK_CLI = EXAMPLE / "node_modules" / ".bin" / "cdk"  # `make test` installs it (package-lock.json)


def _cdk_synth(out: Path) -> Path:
    """`cdk synth` by the CDK CLI, with this environment's Python running the app."""
    assert CDK_CLI.exists(), "the CDK CLI is missing: `make test` installs it with npm ci"
    env = {**os.environ, "CDK_DISABLE_CLI_TELEMETRY": "true"}
    app = f"{sys.executable} app.py"
    command = [str(CDK_CLI), "synth", "--no-notices", "-q", "--app", app, "-o", str(out)]
    done = subprocess.run(
        command, cwd=EXAMPLE, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out / "Shop.template.json"


def _synthesize(out: Path) -> Path:
    spec = importlib.util.spec_from_file_location("cdk_example_app", EXAMPLE / "app.py")
    assert spec is not None
    assert spec.loader is not None
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    app.main(str(out))
    return out / "Shop.template.json"


def test_cdk_synth_of_the_example_runs_locally_and_ends_with_the_expected_items(tmp_path, capsys):
    template = _cdk_synth(tmp_path / "cdk.out")
    synthesized = json.loads(template.read_text())
    assert synthesized["Transform"] == "DynamoMigrations"
    expanded = expand_template(json.loads(template.read_text()))["template"]
    # A macro gets the whole template but its Transform section and returns it (User Guide,
    # "Create a CloudFormation macro definition", fragment): CDK's bootstrap Rules must survive.
    for section in ("Parameters", "Conditions", "Rules"):
        assert expanded[section] == synthesized[section]
    data = f"Customers={EXAMPLE / 'customers.jsonl'}"  # the construct's id, as in the CDK app
    out = tmp_path / "run"
    assert main(["local", "run", str(template), "--data", data, "--out", str(out)]) == 0
    assert capsys.readouterr().out.count("SUCCESS ") == 3
    (table_file,) = out.glob("Customers*.jsonl")
    items = {row["Item"]["id"]["S"]: row["Item"] for row in map(json.loads, table_file.open())}
    assert items["c-1"]["first_name"] == {"S": "Ada"}
    assert items["c-2"]["last_name"] == {"S": "Hopper"}
    assert all("name" not in item and item["tier"] == {"S": "BASIC"} for item in items.values())
    assert {k for k, item in items.items() if item.get("vip") == {"BOOL": True}} == {"c-1", "c-3"}


def _plain_synth(out: Path) -> Path:
    """The example's stack in a plain `cdk.App()`, synthesized as `python app.py` does without
    the CDK CLI's context: no path metadata, no asset metadata."""
    import aws_cdk as cdk

    spec = importlib.util.spec_from_file_location("cdk_example_plain", EXAMPLE / "app.py")
    assert spec is not None
    assert spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    app = cdk.App(outdir=str(out))
    example.Shop(app, "Shop")
    app.synth()
    return out / "Shop.template.json"


def test_a_plain_cdk_app_runs_locally_by_construct_id_and_asset_manifest(tmp_path, capsys):
    template = _plain_synth(tmp_path / "cdk.out")
    metadata = [
        r.get("Metadata") or {} for r in json.loads(template.read_text())["Resources"].values()
    ]
    assert not [m for m in metadata if "aws:cdk:path" in m or "aws:asset:path" in m]
    data = f"Customers={EXAMPLE / 'customers.jsonl'}"  # the construct's id: no path metadata
    out = tmp_path / "run"
    assert main(["local", "run", str(template), "--data", data, "--out", str(out)]) == 0
    assert capsys.readouterr().out.count("SUCCESS ") == 3
    (table_file,) = out.glob("Customers*.jsonl")
    items = {row["Item"]["id"]["S"]: row["Item"] for row in map(json.loads, table_file.open())}
    assert items["c-1"]["first_name"] == {"S": "Ada"}  # the function, from the asset manifest


def test_the_synthesized_example_deploys_to_local_serve_once(server, tmp_path, capsys):
    import boto3

    template = _synthesize(tmp_path / "cdk.out")
    data = f"Customers={EXAMPLE / 'customers.jsonl'}"
    deploy = ["local", "deploy", str(template), "--data", data, "--endpoint-url", server]
    assert main(deploy) == 0
    assert capsys.readouterr().out.count("SUCCESS ") == 3
    client = boto3.client("dynamodb", endpoint_url=server, region_name="us-east-1")
    (table,) = [t for t in client.list_tables()["TableNames"] if t.startswith("local-Customers")]
    items = {i["id"]["S"]: i for i in client.scan(TableName=table)["Items"]}
    assert items["c-1"]["first_name"] == {"S": "Ada"}
    assert {k for k, item in items.items() if item.get("vip") == {"BOOL": True}} == {"c-1", "c-3"}
    assert main([*deploy[:3], "--endpoint-url", server]) == 0  # again: every migration applied
    assert capsys.readouterr().out.count("unchanged") == 3
    # plan names the table by its construct id too, as --data does
    plan = ["plan", str(template), "--table", f"Customers={table}", "--endpoint-url", server]
    assert main([*plan, "--json"]) == 0
    planned = json.loads(capsys.readouterr().out)
    assert [(p["migrationId"], p["state"]) for p in planned] == [
        ("2026-03-01-add-tier", "applied"),
        ("2026-03-02-split-name", "applied"),
        ("2026-03-03-flag-vip", "applied"),
    ]
