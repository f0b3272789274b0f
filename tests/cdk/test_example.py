"""examples/cdk: synthesized like `cdk synth`, then run by `dynamigrate local run` end to end, its
Python transform function loaded in-process from its asset directory in cdk.out."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from dynamigrate.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cdk"


def _synthesize(out: Path) -> Path:
    spec = importlib.util.spec_from_file_location("cdk_example_app", EXAMPLE / "app.py")
    assert spec is not None
    assert spec.loader is not None
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    app.main(str(out))
    return out / "Shop.template.json"


def test_the_synthesized_example_runs_locally_and_ends_with_the_expected_items(tmp_path, capsys):
    template = _synthesize(tmp_path / "cdk.out")
    assert json.loads(template.read_text())["Transform"] == "DynamoMigrations"
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
