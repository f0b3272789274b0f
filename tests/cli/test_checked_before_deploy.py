"""Every mistake of issue 14 fails at `render` (exit 1, one located line each, no traceback) and
in the macro (status failure, an errorMessage naming the resource), before any stack changes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dynamigrate.cli import main
from macro import handler as macro_handler
from tests.unit.macro.test_handler import ENV, event

HEADER = "Transform: [DynamoMigrations, AWS::Serverless-2016-10-31]\n"
TABLE = """\
  Orders:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
"""


def migration(up: str, extra: str = "") -> str:
    return (
        "  M1:\n    Type: Custom::DynamoMigration\n    Properties:\n"
        f"      TableName: !Ref Orders\n      Up: {up}\n{extra}"
    )


# (case, migration text, the one located line render prints)
EXPRESSION_CASES = [
    (
        "syntax",
        migration('{Update: {Expression: "SET #s = ", Names: {"#s": status}}}'),
        "Resource [M1] property Up.Update.Expression: expected a value: a :value, a path, "
        "if_not_exists(...) or list_append(...), found the end of the expression, at character "
        '10 of "SET #s = "',
    ),
    (
        "undefined-name",
        migration('{Update: {Expression: "SET #t = :v", Values: {":v": 1}}}'),
        "Resource [M1] property Up.Update.Expression: #t (at character 5) is not defined: add it "
        'to Up.Update.Names, e.g. Names: {"#t": <attribute name>}',
    ),
    (
        "undefined-name-in-condition",
        migration(
            '{Update: {Expression: "SET a = :v", Condition: "attribute_exists(#t)", '
            'Values: {":v": 1}}}'
        ),
        "Resource [M1] property Up.Update.Condition: #t (at character 18) is not defined: add it "
        'to Up.Update.Names, e.g. Names: {"#t": <attribute name>}',
    ),
    (
        "undefined-value-in-filter",
        migration("{Delete: {}}", '      Source: {Scan: {Filter: "a = :v"}}\n'),
        "Resource [M1] property Source.Scan.Filter: :v (at character 5) is not defined: add it "
        "to Source.Scan.Values",
    ),
    (
        "unused-value",
        migration('{Update: {Expression: "SET a = :v", Values: {":v": 1, ":unused": 2}}}'),
        "Resource [M1] property Up.Update.Values.:unused: is not used by Up.Update.Expression: "
        "DynamoDB rejects a request with an unused value; remove it",
    ),
    (
        "reserved-word",
        migration('{Update: {Expression: "SET status = :v", Values: {":v": 1}}}'),
        "Resource [M1] property Up.Update.Expression: status (at character 5) is a DynamoDB "
        'reserved word: write #status and add Names: {"#status": "status"}',
    ),
    (
        "substitution-in-a-value",
        migration('{Update: {Expression: "SET a = :v", Values: {":v": "${Stage}"}}}'),
        "Resource [M1] property Up.Update.Values.:v: must not contain '${' (CloudFormation would "
        "substitute it)",
    ),
    (
        "key-condition-on-a-non-key",
        migration(
            "{Delete: {}}", '      Source: {Query: {KeyCondition: "sk = :v", Values: {":v": 1}}}\n'
        ),
        "Resource [M1] property Source.Query.KeyCondition: sk (at character 1) is not a key of "
        "the table (its keys: pk); filter on it with Filter instead",
    ),
]
TEMPLATE_CASES = [
    (
        "no-transform",
        "",
        "Transform: the template declares Custom::DynamoMigration resources but its Transform "
        "list lacks DynamoMigrations, so CloudFormation would not expand them: write Transform: "
        "[DynamoMigrations]",
    ),
    (
        "misspelled-transform",
        "Transform: DynamoMigration\n",
        "Transform: 'DynamoMigration' is not the macro's name; did you mean DynamoMigrations?",
    ),
    (
        "after-sam",
        "Transform: [AWS::Serverless-2016-10-31, DynamoMigrations]\n",
        "Transform: DynamoMigrations must come before AWS::Serverless-2016-10-31 (CloudFormation "
        "runs them in the listed order): write Transform: [DynamoMigrations, "
        "AWS::Serverless-2016-10-31]",
    ),
]
REFERENCE_CASES = [
    (
        "no-such-function",
        migration("{Function: !GetAtt NoSuchFunction.Arn}"),
        "Resource [M1] property Up.Function: NoSuchFunction is not a resource or parameter of "
        "this template (it has: Orders, M1) (cfn-lint E1010, line 13)",
    ),
    (
        "no-such-table",
        migration("{Delete: {}}").replace("!Ref Orders", "!Ref NoSuchTable"),
        "Resource [M1] property TableName: NoSuchTable is not a resource or parameter of this "
        "template (it has: Orders, M1) (cfn-lint E1020, line 12)",
    ),
]


def _render(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    path = tmp_path / "template.yaml"
    path.write_text(text)
    code = main(["render", str(path), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert lines[0] == f"dynamigrate: error: {path}: Invalid template: {len(lines) - 1} " + (
        "error" if len(lines) == 2 else "errors"
    )
    located = [re.match(rf"^{re.escape(str(path))}:\d+:\d+: (.*)$", line) for line in lines[1:]]
    assert all(located), lines  # each problem at its file:line:column, as lint gives it
    return code, "\n".join(m[1] for m in located if m)


@pytest.mark.parametrize(
    ("text", "line"),
    [(t, line) for _, t, line in EXPRESSION_CASES + REFERENCE_CASES],
    ids=[c[0] for c in EXPRESSION_CASES + REFERENCE_CASES],
)
def test_render_refuses_each_mistake_with_one_located_line(tmp_path, capsys, text, line):
    code, printed = _render(tmp_path, HEADER + "Resources:\n" + TABLE + text, capsys)
    assert code == 1
    assert printed == line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("header", "line"),
    [(h, line) for _, h, line in TEMPLATE_CASES],
    ids=[c[0] for c in TEMPLATE_CASES],
)
def test_render_refuses_a_wrong_transform_list(tmp_path, capsys, header, line):
    text = header + "Resources:\n" + TABLE + migration("{Delete: {}}")
    code, printed = _render(tmp_path, text, capsys)
    assert (code, printed) == (1, line)


def test_local_run_refuses_the_same_before_running(tmp_path, capsys):
    path = tmp_path / "template.yaml"
    path.write_text(
        "Resources:\n"
        + TABLE
        + migration('{Update: {Expression: "SET status = :v", Values: {":v": 1}}}')
    )
    assert main(["local", "run", str(path), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[1].startswith(f"{path}:1:1: Transform: the template declares")
    assert err[2].startswith(f"{path}:")
    assert "Resource [M1] property Up.Update.Expression: status" in err[2]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("text", "line"),
    [(t, line) for _, t, line in EXPRESSION_CASES],
    ids=[c[0] for c in EXPRESSION_CASES],
)
def test_the_macro_fails_the_transform_naming_the_resource(monkeypatch, tmp_path, text, line):
    from dynamigrate.templates import load_template

    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    path = tmp_path / "template.yaml"
    path.write_text(HEADER + "Resources:\n" + TABLE + text)
    request = event({})
    request["fragment"] = load_template(path)
    answer = macro_handler.handler(request, None)
    assert answer["status"] == "failure"
    assert answer["requestId"] == "req-1"
    assert line in answer["errorMessage"]


def test_the_readme_example_prints_what_the_readme_says(tmp_path, capsys):
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme.split("naming the resource and the property", 1)[1]
    template = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    shown = section.split("$ .venv/bin/dynamigrate render bad.yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "bad.yaml"
    path.write_text(template)
    assert main(["render", str(path), "-o", str(tmp_path / "out")]) == 1
    printed = capsys.readouterr().err.replace(str(path), "bad.yaml")
    assert printed == shown


def test_lint_reports_the_expression_and_transform_checks_at_their_lines(tmp_path, capsys):
    path = tmp_path / "template.yaml"
    path.write_text(
        "Transform: [AWS::Serverless-2016-10-31, DynamoMigrations]\nResources:\n"
        + TABLE
        + migration('{Update: {Expression: "SET status = :v", Values: {":v": 1}}}')
    )
    assert main(["lint", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{path}:1:1:1:2:E9001:Transform: DynamoMigrations must come before")
    assert lines[1].startswith(
        f"{path}:13:21:13:22:E9001:Resource [M1] property Up.Update.Expression: status (at "
        "character 5) is a DynamoDB reserved word"
    )
