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
        "Resource [M] property TableName: is required\n"
        "Resource [M] property Up: must have exactly one of Update, Delete, Function (found none)\n"
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
