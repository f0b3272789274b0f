"""`dynamigrate render`: the same expand as the macro, files out, clear errors, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from dynamigrate.cli import main
from tests.unit.macro.golden import INPUTS

CHAINED = next(p for p in INPUTS if p.stem == "chained_tables")


def test_render_writes_parent_and_nested_templates(tmp_path, capsys):
    assert main(["render", str(CHAINED), "-o", str(tmp_path)]) == 0
    parent = json.loads((tmp_path / "template.json").read_text())
    assert parent["Resources"]["OrdersFirst"]["Type"] == "Custom::DynamoMigration"
    nested = sorted(p.name for p in (tmp_path / "nested").iterdir())
    assert nested == ["LegacyCleanup.json", "OrdersFirst.json", "OrdersSecond.json"]
    machine = json.loads((tmp_path / "nested" / "OrdersFirst.json").read_text())
    assert machine["Resources"]["StateMachine"]["Type"] == "AWS::StepFunctions::StateMachine"
    assert capsys.readouterr().out.splitlines()[0] == str(tmp_path / "template.json")


def test_invalid_template_exits_1_with_every_error_and_no_traceback(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "Transform: DynamoMigrations\n"
        "Resources:\n  M:\n    Type: Custom::DynamoMigration\n    Properties: {Up: {}}\n"
    )
    assert main(["render", str(bad), "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"dynamigrate: error: {bad}: Invalid template: 2 errors\n"
        f"{bad}:5:5: Resource [M] property TableName: is required\n"
        f"{bad}:5:18: Resource [M] property Up: must have exactly one of Update, Delete, Function "
        "(found none)\n"
    )
    assert not (tmp_path / "out").exists()


def test_missing_and_malformed_files_are_one_line_errors(tmp_path, capsys):
    assert main(["render", str(tmp_path / "nope.yaml")]) == 1
    assert capsys.readouterr().err == (
        f"dynamigrate: error: {tmp_path / 'nope.yaml'}: cannot read (No such file or directory)\n"
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text("Resources: [\n")
    assert main(["render", str(broken)]) == 1
    assert "Traceback" not in capsys.readouterr().err


def test_the_installed_command_is_on_path():
    exe = Path(sys.executable).parent / "dynamigrate"
    result = subprocess.run(
        [str(exe), "render", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert "expand" not in result.stderr
    assert "--out" in result.stdout


def test_render_writes_the_template_url_the_macro_emits_for_any_partition(tmp_path):
    assert main(["render", str(CHAINED), "-o", str(tmp_path), "--region", "cn-north-1"]) == 0
    parent = json.loads((tmp_path / "template.json").read_text())
    url = parent["Resources"]["OrdersFirstStack"]["Properties"]["TemplateURL"]
    assert url["Fn::Sub"].startswith("https://dynamigrate-artifacts.s3.${AWS::Region}.")
    assert "${AWS::URLSuffix}/" in url["Fn::Sub"]
    token = parent["Resources"]["OrdersFirst"]["Properties"]["ServiceToken"]
    assert token.startswith("arn:aws-cn:lambda:cn-north-1:")


def test_a_template_with_a_byte_order_mark_is_read(tmp_path):
    bom = tmp_path / "bom.yaml"
    bom.write_bytes(b"\xef\xbb\xbf" + CHAINED.read_bytes())
    assert main(["render", str(bom), "-o", str(tmp_path / "out")]) == 0


def test_a_tab_is_called_a_tab(tmp_path, capsys):
    tabbed = tmp_path / "tab.yaml"
    tabbed.write_text("Resources:\n\tA: 1\n")
    assert main(["render", str(tabbed)]) == 1
    assert capsys.readouterr().err == (
        f"dynamigrate: error: {tabbed}:2:1: found a tab character at column 1: YAML indents "
        "with spaces only; use spaces\n"
    )
