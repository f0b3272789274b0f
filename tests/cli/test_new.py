"""`dynamigrate new`: a migration added to the template, formatting kept, ready to render."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from dynamigrate.cli import main
from dynamigrate.templates import load_template

DEMO = Path(__file__).resolve().parents[2] / "migrations" / "template.yaml"


@pytest.fixture
def template(tmp_path: Path) -> Path:
    copy = tmp_path / "template.yaml"
    shutil.copy(DEMO, copy)
    return copy


@pytest.mark.parametrize("kind", ["update", "delete", "function"])
def test_a_new_migration_is_inserted_and_renders(template, kind, capsys):
    original = template.read_text()
    assert (
        main(
            [
                "new",
                "Backfill Totals",
                "--table",
                "Orders",
                "--kind",
                kind,
                "--template",
                str(template),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert out.startswith("added OrdersBackfillTotals (MigrationId 20")
    text = template.read_text()
    # Every original line is still there, comments included, in the same order.
    kept = iter(text.splitlines())
    assert all(line in kept for line in original.splitlines())
    assert "# 1. Update with reserved words (status, date)" in text
    resource = load_template(template)["Resources"]["OrdersBackfillTotals"]
    assert resource["Properties"]["MigrationId"].endswith("-backfill-totals")
    assert main(["render", str(template), "-o", str(template.parent / "out")]) == 0


def test_a_function_migration_gets_a_module_a_test_and_a_function(template, capsys):
    assert (
        main(
            [
                "new",
                "tag vip",
                "--table",
                "Customers",
                "--kind",
                "function",
                "--template",
                str(template),
            ]
        )
        == 0
    )
    created = [Path(line.split(" ", 1)[1]) for line in capsys.readouterr().out.splitlines()[1:]]
    module, test = created
    assert test.name == f"test_{module.name}"
    resources = load_template(template)["Resources"]
    function = resources["CustomersTagVipFunction"]["Properties"]
    assert function["Handler"] == f"{module.stem}.handler"
    assert resources["CustomersTagVip"]["Properties"]["Up"] == {
        "Function": {"Fn::GetAtt": ["CustomersTagVipFunction", "Arn"]}
    }
    spec = importlib.util.spec_from_file_location("scaffolded", module)
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    page = {"items": [{"id": {"S": "c-1"}}]}
    assert loaded.handler(page, None) == page


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["new", "x", "--table", "Nope"],
            "--table Nope: not an AWS::DynamoDB::Table of the template (Customers, Orders)",
        ),
        (["new", "***", "--table", "Orders"], "NAME '***': use letters or digits"),
        (["new", "split name", "--table", "Customers"], ""),
    ],
)
def test_bad_requests_exit_1_with_one_line(template, argv, message, capsys):
    before = template.read_text()
    assert main([*argv, "--template", str(template)]) == 1
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1
    assert template.read_text() == before


def test_the_scaffolded_test_uses_the_tables_own_key_schema(tmp_path, capsys):
    template = tmp_path / "template.yaml"
    template.write_text(
        "Transform: [DynamoMigrations, AWS::Serverless-2016-10-31]\n"
        "Resources:\n"
        "  Events:\n"
        "    Type: AWS::DynamoDB::Table\n"
        "    Properties:\n"
        "      BillingMode: PAY_PER_REQUEST\n"
        "      AttributeDefinitions:\n"
        "        - {AttributeName: pk, AttributeType: S}\n"
        "        - {AttributeName: sk, AttributeType: N}\n"
        "      KeySchema:\n"
        "        - {AttributeName: pk, KeyType: HASH}\n"
        "        - {AttributeName: sk, KeyType: RANGE}\n"
    )
    argv = ["new", "bump", "--table", "Events", "--kind", "function", "--template", str(template)]
    assert main(argv) == 0
    module, test = [
        Path(line.split(" ", 1)[1]) for line in capsys.readouterr().out.splitlines()[1:]
    ]
    assert '{"pk": {"S": "example"}, "sk": {"N": "1"}}' in test.read_text()
    # a transform that reads the sort key passes its own scaffolded test
    body = module.read_text().replace(
        "    new = dict(item)\n",
        '    new = dict(item)\n    new["next"] = {"N": str(int(item["sk"]["N"]) + 1)}\n',
    )
    module.write_text(body)
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)],
        capture_output=True,
        text=True,
        cwd=module.parent,
        check=False,
    )
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize(
    ("shape", "page", "reply"),
    [
        ("fanout", [{"pk": {"S": "o-1"}}], [[{"pk": {"S": "o-1"}}]]),
        ("collections", [[{"pk": {"S": "o-1"}}]], [[{"pk": {"S": "o-1"}}]]),
    ],
)
def test_a_fanout_or_collections_function_is_scaffolded_renders_and_passes_its_test(
    template, shape, page, reply, capsys
):
    argv = ["new", "split", "--table", "Orders", "--kind", "function", "--shape", shape]
    assert main([*argv, "--template", str(template)]) == 0
    module, test = [
        Path(line.split(" ", 1)[1]) for line in capsys.readouterr().out.splitlines()[1:]
    ]
    source = load_template(template)["Resources"]["OrdersSplit"]["Properties"].get("Source")
    assert source == ({"Scan": {"ItemCollections": True}} if shape == "collections" else None)
    spec = importlib.util.spec_from_file_location(f"scaffolded_{shape}", module)
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    assert loaded.handler({"items": page}, None) == {"items": reply}
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)],
        capture_output=True,
        text=True,
        cwd=module.parent,
        check=False,
    )
    assert result.returncode == 0, result.stdout
    assert main(["render", str(template), "-o", str(template.parent / "out")]) == 0


def test_a_shape_needs_a_function(template, capsys):
    argv = ["new", "x", "--table", "Orders", "--kind", "update", "--shape", "fanout"]
    assert main([*argv, "--template", str(template)]) == 1
    assert "--shape fanout is the shape of a transform: use --kind function" in (
        capsys.readouterr().err
    )
