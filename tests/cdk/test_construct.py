"""`dynamigrate.cdk.DynamoMigration`: synthesized by aws-cdk-lib, expanded by the macro."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb

from dynamigrate.cdk import DynamoMigration, Function, Query, Scan, Update, use_transform
from dynamigrate.templates import load_template
from macro.expand import expand
from tests.macro.golden import INPUTS, SETTINGS

SAM = "AWS::Serverless-2016-10-31"


def _table(stack: Any, logical_id: str = "Orders") -> Any:
    table = dynamodb.Table(
        stack,
        logical_id,
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
    )
    table.node.default_child.override_logical_id(logical_id)
    return table


def _synth(app: Any, stack: str) -> dict[str, Any]:
    return dict(app.synth().get_stack_by_name(stack).template)


def _expanded(template: dict[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}

    def upload(key: str, body: bytes) -> str:
        nested[key] = json.loads(body)
        return key

    out = expand(template, SETTINGS, upload)
    return {"resources": out["Resources"], "nested": nested}


def test_the_construct_expands_exactly_as_the_hand_written_template():
    app = cdk.App()
    stack = cdk.Stack(app, "Shop")
    status = {"#s": "status"}
    pending = {":pending": "PENDING"}
    migration = DynamoMigration(
        stack,
        "AddStatus",
        table=_table(stack),
        migration_id="2026-01-10-add-status",
        description="every order gets a status",
        source=Scan(segments=16, filter="attribute_not_exists(#s)", names=status),
        up=Update("SET #s = :pending", "attribute_not_exists(#s)", status, pending),
        down=Update("REMOVE #s", "#s = :pending", status, pending),
        max_writes_per_second=500,
    )
    migration.resource.override_logical_id("OrdersAddStatus")
    synthesized = _expanded(_synth(app, "Shop"))
    written = _expanded(load_template(next(p for p in INPUTS if p.stem == "update_scan")))
    for logical_id in ("OrdersAddStatus", "OrdersAddStatusStack"):
        mine = dict(synthesized["resources"][logical_id])
        theirs = dict(written["resources"][logical_id])
        mine.pop("Metadata", None)  # the construct adds cfn-lint's per-resource E3003 ignore
        assert mine == theirs
    assert synthesized["nested"] == written["nested"]


def test_a_function_migration_expands_as_the_hand_written_one():
    app = cdk.App()
    stack = cdk.Stack(app, "People")
    split = cdk.CfnParameter(stack, "SplitFnArn", type="String").value_as_string
    join = cdk.CfnParameter(stack, "JoinFnArn", type="String").value_as_string
    migration = DynamoMigration(
        stack,
        "Split",
        table=_table(stack, "People"),
        migration_id="2026-04-01-split-names",
        source=Scan(segments=32, consistent_read=True, page_size=500),
        up=Function(split),
        down=Function(join),
        max_writes_per_second=1000,
        max_concurrency=8,
    )
    migration.resource.override_logical_id("SplitNames")
    synthesized = _expanded(_synth(app, "People"))
    written = _expanded(load_template(next(p for p in INPUTS if p.stem == "function_up_down")))
    for logical_id in ("SplitNames", "SplitNamesStack"):
        mine = dict(synthesized["resources"][logical_id])
        mine.pop("Metadata", None)
        assert mine == written["resources"][logical_id]
    assert synthesized["nested"] == written["nested"]


def test_a_contract_error_fails_synth_with_the_construct_path_and_the_property():
    app = cdk.App()
    stack = cdk.Stack(app, "Shop")
    DynamoMigration(
        stack,
        "Broken",
        table=_table(stack),
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
    table = _table(stack)
    for name in ("One", "Two"):
        DynamoMigration(stack, name, table=table, migration_id=name, up=Update("REMOVE obsolete"))
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
        table=_table(first),
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
