"""The README's CDK example is code that synthesizes, and the macro expands what it synthesizes."""

from __future__ import annotations

import re
from pathlib import Path

import aws_cdk as cdk

from tests.unit.macro.golden import expand_template

README = Path(__file__).resolve().parents[2] / "README.md"


def _cdk_example() -> str:
    section = README.read_text().split("## Using the AWS CDK", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "the CDK section shows a Python example"
    return match.group(1)


def test_the_readme_cdk_example_synthesizes_and_expands():
    namespace: dict[str, object] = {}
    exec(compile(_cdk_example(), "README.md", "exec"), namespace)
    app = cdk.App()
    namespace["Shop"](app, "Shop")  # type: ignore[operator]
    template = app.synth().get_stack_by_name("Shop").template
    assert template["Transform"] == "DynamoMigrations"
    resources = expand_template(dict(template))["template"]["Resources"]
    kinds = sorted(r["Type"] for r in resources.values())
    assert kinds.count("Custom::DynamoMigration") == 1
    assert kinds.count("AWS::CloudFormation::Stack") == 1
