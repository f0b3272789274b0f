"""`dynamigrate.cdk.DynamoMigration`: synthesized by aws-cdk-lib, expanded by the macro."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb

from dynamigrate.cdk import DynamoMigration, Query, Update, use_transform
from tests.cdk.twins import TWINS, table
from tests.unit.macro.golden import INPUTS, expand_case, expand_template

SAM = "AWS::Serverless-2016-10-31"


def _synth(app: Any, stack: str) -> dict[str, Any]:
    return dict(app.synth().get_stack_by_name(stack).template)


MACRO_MADE = ("Custom::DynamoMigration", "AWS::CloudFormation::Stack")


def _migrations(expanded: dict[str, Any]) -> dict[str, Any]:
    """The resources the macro writes: each migration and its nested stack (no Metadata: the
    construct adds cfn-lint's per-resource E3003 ignore, a hand-written template need not)."""
    return {
        logical_id: {k: v for k, v in resource.items() if k != "Metadata"}
        for logical_id, resource in expanded["template"]["Resources"].items()
        if resource["Type"] in MACRO_MADE
    }


def test_every_golden_case_with_a_migration_has_a_cdk_twin():
    cases = {path.stem for path in INPUTS}
    assert cases - set(TWINS) == {"no_migrations"}


@pytest.mark.parametrize("case", sorted(TWINS))
def test_the_construct_expands_exactly_as_the_hand_written_template(case):
    app = cdk.App()
    stack = cdk.Stack(app, "Twin")
    TWINS[case](stack)
    synthesized = expand_template(_synth(app, "Twin"))
    written = expand_case(next(p for p in INPUTS if p.stem == case))
    assert _migrations(written)  # the case has something to compare
    assert _migrations(synthesized) == _migrations(written)
    assert synthesized["nested"] == written["nested"]


def test_a_contract_error_fails_synth_with_the_construct_path_and_the_property():
    app = cdk.App()
    stack = cdk.Stack(app, "Shop")
    DynamoMigration(
        stack,
        "Broken",
        table=table(stack, "Orders"),
        migration_id="m1",
        up=Update("SET status = :v", values={":v": 1}),
        max_concurrency=5000,
    )
    with pytest.raises(RuntimeError) as info:
        app.synth()
    message = str(info.value)
    assert (
        "[Shop/Broken] property MaxConcurrency: must be an integer from 1 to 1000, got 5000"
        in message
    )
    assert (
        "[Shop/Broken] property Up.Update.Expression: status (at character 5) is a DynamoDB "
        'reserved word: write #status and add Names: {"#status": "status"}'
    ) in message


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ([], [], "DynamoMigrations"),
        ([SAM], [], ["DynamoMigrations", SAM]),
        ([], [SAM], ["DynamoMigrations", SAM]),
    ],
    ids=["alone", "sam-added-first", "sam-added-later"],
)
def test_the_transform_is_added_once_and_before_sam(before, after, expected):
    app = cdk.App()
    stack = cdk.Stack(app, "Shop")
    for transform in before:
        stack.add_transform(transform)
    orders = table(stack, "Orders")
    for name in ("One", "Two"):
        DynamoMigration(stack, name, table=orders, migration_id=name, up=Update("REMOVE obsolete"))
    use_transform(stack)  # idempotent
    for transform in after:
        stack.add_transform(transform)
    assert _synth(app, "Shop")["Transform"] == expected


def test_two_stacks_each_get_their_migrations_and_attributes():
    app = cdk.App()
    first, second = cdk.Stack(app, "First"), cdk.Stack(app, "Second")
    one = DynamoMigration(
        first,
        "Backfill",
        table=table(first, "Orders"),
        migration_id="m1",
        source=Query("pk = :p", values={":p": "ORDER"}),
        up=Update("SET v = :one", values={":one": 1}),
    )
    DynamoMigration(
        second, "Cleanup", table="legacy", migration_id="m2", up=Update("REMOVE obsolete")
    )
    cdk.CfnOutput(first, "Status", value=one.attr_status)
    cdk.CfnOutput(first, "Updated", value=one.counter("Updated"))
    templates = {name: _synth(app, name) for name in ("First", "Second")}
    kinds = {
        name: sorted(r["Type"] for r in t["Resources"].values() if r["Type"].startswith("Custom::"))
        for name, t in templates.items()
    }
    assert kinds == {"First": ["Custom::DynamoMigration"], "Second": ["Custom::DynamoMigration"]}
    assert all(t["Transform"] == "DynamoMigrations" for t in templates.values())
    logical_id = one.resource.logical_id
    outputs = templates["First"]["Outputs"]
    resolved = cdk.Stack.of(one).resolve(logical_id)
    assert outputs["Status"]["Value"] == {"Fn::GetAtt": [resolved, "Status"]}
    assert outputs["Updated"]["Value"] == {"Fn::GetAtt": [resolved, "Updated"]}
    cleanup = next(r for r in templates["Second"]["Resources"].values() if "Properties" in r)
    assert cleanup["Properties"]["TableName"] == "legacy"


def _synth_problems(build: Any) -> str:
    app = cdk.App()
    build(cdk.Stack(app, "Shop"))
    with pytest.raises(RuntimeError) as info:
        app.synth()
    return str(info.value)


def test_a_key_condition_is_checked_at_synth_against_the_cdk_tables_keys():
    def build(stack: cdk.Stack) -> None:
        events = dynamodb.Table(
            stack,
            "Events",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="at", type=dynamodb.AttributeType.NUMBER),
        )
        events.add_global_secondary_index(
            index_name="ByKind",
            partition_key=dynamodb.Attribute(name="kind", type=dynamodb.AttributeType.STRING),
        )
        DynamoMigration(
            stack,
            "WrongKey",
            table=events,
            migration_id="m1",
            source=Query("kind = :k", values={":k": "SESSION"}),
            up=Update("SET pk = :v", values={":v": "x"}),
        )
        DynamoMigration(
            stack,
            "WrongIndex",
            table=events,
            migration_id="m2",
            source=Query("kind = :k", index_name="ByKnd", values={":k": "SESSION"}),
            up=Update("REMOVE obsolete"),
        )
        DynamoMigration(
            stack,
            "RightIndex",
            table=events,
            migration_id="m3",
            source=Query("kind = :k", index_name="ByKind", values={":k": "SESSION"}),
            up=Update("REMOVE obsolete"),
        )

    message = _synth_problems(build)
    assert (
        "[Shop/WrongKey] property Source.Query.KeyCondition: kind (at character 1) is not a key"
        in message
    )
    assert (
        "[Shop/WrongKey] property Up.Update.Expression: pk (at character 5) is the table's key"
        in message
    )
    assert "[Shop/WrongIndex] property Source.Query.IndexName:" in message
    assert "ByKind" in message  # the index the table does declare
    assert "Shop/RightIndex" not in message


def test_a_table_v2_key_schema_is_checked_at_synth():
    def build(stack: cdk.Stack) -> None:
        DynamoMigration(
            stack,
            "WrongKey",
            table=dynamodb.TableV2(
                stack,
                "Orders",
                partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            ),
            migration_id="m1",
            source=Query("pk = :p", values={":p": "x"}),
            up=Update("REMOVE obsolete"),
        )

    assert "[Shop/WrongKey] property Source.Query.KeyCondition: pk (at character 1)" in (
        _synth_problems(build)
    )


def test_a_table_the_app_does_not_declare_is_not_key_checked():
    app = cdk.App()
    stack = cdk.Stack(app, "Shop")
    imported = dynamodb.Table.from_table_name(stack, "Legacy", "legacy")
    DynamoMigration(
        stack,
        "Backfill",
        table=imported,
        migration_id="m1",
        source=Query("anything = :p", values={":p": "x"}),
        up=Update("REMOVE obsolete"),
    )
    assert _synth(app, "Shop")["Resources"]


def test_every_contract_property_has_a_typed_argument():
    import inspect
    import re

    from macro.contract import PROPERTIES

    arguments = set(inspect.signature(DynamoMigration.__init__).parameters)

    def snake(name: str) -> str:
        return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()

    missing = {p for p in PROPERTIES if snake(p) not in arguments and p != "TableName"}
    assert missing == set()
    assert "table" in arguments  # TableName: an ITable or a name
