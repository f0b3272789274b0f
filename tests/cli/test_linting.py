"""Templates with migrations pass the linters teams already run, before and after the macro.

cfn-lint sees a `Custom::DynamoMigration` before the macro adds its ServiceToken (cfn-lint runs no
custom transform: aws-cloudformation/cfn-lint issue 4020), so the demo and every scaffolded
migration carry the resource-level metadata that ignores exactly E3003; everything else is linted.
`make test` also runs `sam validate --lint` on the demo (Makefile, sam-validate).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cfnlint.api
import pytest

from dynamigrate.cli import main
from dynamigrate.templates import load_template
from tests.unit.macro.test_golden import lint as lint_expanded

DEMO = Path(__file__).resolve().parents[2] / "migrations" / "template.yaml"


def lint(path: Path) -> list[str]:
    return [str(m) for m in cfnlint.api.lint(path.read_text(), regions=["us-east-1"])]


def test_the_demo_lints_clean_and_ignores_only_the_service_token_rule():
    assert lint(DEMO) == []
    resources = load_template(DEMO)["Resources"]
    migrations = [r for r in resources.values() if r["Type"] == "Custom::DynamoMigration"]
    assert migrations
    for resource in migrations:
        assert resource["Metadata"]["cfn-lint"] == {"config": {"ignore_checks": ["E3003"]}}


@pytest.mark.parametrize("kind", ["update", "delete", "function"])
def test_a_scaffolded_migration_lints_clean(tmp_path, kind, capsys):
    template = tmp_path / "template.yaml"
    shutil.copy(DEMO, template)
    assert (
        main(["new", "backfill", "--table", "Orders", "--kind", kind, "--template", str(template)])
        == 0
    )
    assert lint(template) == []


def test_the_expanded_demo_lints_clean_without_any_ignore(tmp_path, capsys):
    assert main(["render", str(DEMO), "-o", str(tmp_path)]) == 0
    rendered = [tmp_path / "template.json", *sorted((tmp_path / "nested").glob("*.json"))]
    assert len(rendered) == 5
    for path in rendered:
        body = json.loads(path.read_text())
        for resource in body.get("Resources", {}).values():
            resource.pop("Metadata", None)  # nothing left for the ignore to ignore
        assert lint_expanded(body) == [], path.name
