"""Issue 28, point 11: `dynamigrate lint` warns when the expansion passes 51,200 bytes.

AWS CloudFormation User Guide, "CloudFormation quotas" (template body size in a request: 51,200
bytes; in an S3 object: 1 MB) and "Troubleshooting processed templates". The macro protocol has
only success and failure, so the deploy itself cannot warn; lint (and the macro's log) does.
"""

from __future__ import annotations

import json
from pathlib import Path

from dynamigrate.lint import exit_code, lint_template
from tests.unit.macro.golden import SETTINGS


def _template(tmp_path: Path, padding: int) -> Path:
    template = {
        "Transform": ["DynamoMigrations"],
        "Metadata": {"Notes": "x" * padding},
        "Resources": {
            "Orders": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "BillingMode": "PAY_PER_REQUEST",
                    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                },
            },
            "OrdersAddV": {
                "Type": "Custom::DynamoMigration",
                "Properties": {
                    "TableName": {"Ref": "Orders"},
                    "Up": {"Update": {"Expression": "SET v = :t", "Values": {":t": True}}},
                },
            },
        },
    }
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template, indent=1))
    return path


def test_an_expansion_past_the_inline_limit_is_a_warning_not_an_error(tmp_path):
    findings = lint_template(_template(tmp_path, 52_000), SETTINGS)
    warnings = [f for f in findings if f.rule.id == "W9002"]
    assert len(warnings) == 1
    assert "51200" in warnings[0].message
    assert exit_code(findings, "error") == 0
    assert exit_code(findings, "warning") == 1


def test_a_small_expansion_has_no_such_warning(tmp_path):
    findings = lint_template(_template(tmp_path, 10), SETTINGS)
    assert [f for f in findings if f.rule.id == "W9002"] == []


def test_render_warns_past_the_inline_limit_and_still_writes(tmp_path, capsys):
    from dynamigrate.cli import main

    path = _template(tmp_path, 52_000)
    assert main(["render", str(path), "-o", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert err.startswith(f"dynamigrate: warning: {path}: Template: ")
    assert "may hold 51200" in err
    assert (tmp_path / "out" / "template.json").is_file()
    assert main(["render", str(_template(tmp_path, 10)), "-o", str(tmp_path / "small")]) == 0
    assert capsys.readouterr().err == ""
