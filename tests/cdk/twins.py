"""The CDK twin of every golden case (`tests/unit/macro/input/<case>.yaml`): the same migrations
written with `dynamigrate.cdk`, their logical ids pinned to the hand-written ones so that the two
expansions can be compared resource by resource.

A golden case without `MigrationId` gets the logical id, which is what the macro defaults it to;
`no_migrations` has no twin (a stack without a migration has nothing of the construct's in it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_sam as sam
from aws_cdk import aws_sns as sns

from dynamigrate.cdk import (
    Delete,
    DynamoMigration,
    Function,
    Keep,
    Query,
    Restore,
    Scan,
    Update,
    Verify,
)

STRING = dynamodb.AttributeType.STRING


def table(stack: cdk.Stack, logical_id: str, key: str = "pk", **options: Any) -> dynamodb.Table:
    """A pay-per-request table whose logical id is `logical_id`, as in the golden input."""
    made = dynamodb.Table(
        stack,
        logical_id,
        partition_key=dynamodb.Attribute(name=key, type=STRING),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        **options,
    )
    made.node.default_child.override_logical_id(logical_id)
    return made


def _pinned(migration: DynamoMigration, logical_id: str) -> DynamoMigration:
    migration.resource.override_logical_id(logical_id)
    return migration


def update_scan(stack: cdk.Stack) -> None:
    status, pending = {"#s": "status"}, {":pending": "PENDING"}
    migration = DynamoMigration(
        stack,
        "AddStatus",
        table=table(stack, "Orders"),
        migration_id="2026-01-10-add-status",
        description="every order gets a status",
        source=Scan(segments=16, filter="attribute_not_exists(#s)", names=status),
        up=Update("SET #s = :pending", "attribute_not_exists(#s)", status, pending),
        down=Update("REMOVE #s", "#s = :pending", status, pending),
        max_writes_per_second=500,
    )
    _pinned(migration, "OrdersAddStatus")


def function_up_down(stack: cdk.Stack) -> None:
    split = cdk.CfnParameter(stack, "SplitFnArn", type="String").value_as_string
    join = cdk.CfnParameter(stack, "JoinFnArn", type="String").value_as_string
    migration = DynamoMigration(
        stack,
        "Split",
        table=table(stack, "People"),
        migration_id="2026-04-01-split-names",
        source=Scan(segments=32, consistent_read=True, page_size=500),
        up=Function(split),
        down=Function(join),
        max_writes_per_second=1000,
        max_concurrency=8,
    )
    _pinned(migration, "SplitNames")


def chained_tables(stack: cdk.Stack) -> None:
    stage = cdk.CfnParameter(stack, "Stage", type="String", default="dev")
    is_prod = cdk.CfnCondition(
        stack, "IsProd", expression=cdk.Fn.condition_equals(stage.value_as_string, "prod")
    )
    orders = table(stack, "Orders")
    audit = sns.Topic(stack, "Audit")
    audit.node.default_child.override_logical_id("Audit")
    second = DynamoMigration(
        stack,
        "Second",
        table=orders,
        migration_id="2026-02-01-second",
        up=Update("SET v2 = :t", values={":t": True}),
    )
    second.node.add_dependency(audit)
    _pinned(second, "OrdersSecond")
    first = DynamoMigration(
        stack,
        "First",
        table=orders,
        migration_id="2026-01-01-first",
        up=Update("SET v1 = :t", values={":t": True}),
    )
    _pinned(first, "OrdersFirst")
    legacy = DynamoMigration(
        stack,
        "Legacy",
        table=cdk.Fn.sub("legacy-${Stage}"),
        migration_id="LegacyCleanup",
        up=Delete(),
    )
    legacy.resource.cfn_options.condition = is_prod
    _pinned(legacy, "LegacyCleanup")


def conditional_chain(stack: cdk.Stack) -> None:
    stage = cdk.CfnParameter(stack, "Stage", type="String", default="dev")
    is_prod = cdk.CfnCondition(
        stack, "IsProd", expression=cdk.Fn.condition_equals(stage.value_as_string, "prod")
    )
    orders = table(stack, "Orders")
    base = DynamoMigration(
        stack,
        "Base",
        table=orders,
        migration_id="2026-01-01-base",
        up=Update("SET v1 = :t", values={":t": True}),
    )
    _pinned(base, "OrdersBase")
    for name, migration_id, up in (
        (
            "OrdersProdBackfill",
            "2026-02-01-prod-backfill",
            Update("SET v2 = :t", values={":t": True}),
        ),
        ("OrdersProdCleanup", "2026-03-01-prod-cleanup", Update("REMOVE v1")),
    ):
        made = DynamoMigration(stack, name, table=orders, migration_id=migration_id, up=up)
        made.resource.cfn_options.condition = is_prod
        _pinned(made, name)


def disposed(stack: cdk.Stack) -> None:
    orders = table(stack, "Orders")
    applied = DynamoMigration(
        stack,
        "AddStatus",
        table=orders,
        migration_id="2026-01-10-add-status",
        dispose=True,
        up=Update("SET #s = :p", names={"#s": "status"}, values={":p": "PENDING"}),
    )
    _pinned(applied, "OrdersAddStatus")
    backfill = DynamoMigration(
        stack,
        "BackfillTotal",
        table=orders,
        migration_id="2026-02-01-backfill-total",
        up=Update("SET #t = if_not_exists(#t, :zero)", names={"#t": "total"}, values={":zero": 0}),
    )
    _pinned(backfill, "OrdersBackfillTotal")


def _sam_function(stack: cdk.Stack, logical_id: str, handler: str) -> sam.CfnFunction:
    return sam.CfnFunction(
        stack,
        logical_id,
        runtime="python3.12",
        handler=handler,
        code_uri="s3://example-bucket/transforms.zip",
    )


def function_by_name(stack: cdk.Stack) -> None:
    join = _sam_function(stack, "JoinFn", "transforms.join")
    migration = DynamoMigration(
        stack,
        "Split",
        table=table(stack, "People"),
        migration_id="2026-04-01-split-names",
        up=Function("split-names"),
        down=Function(join.ref),
    )
    _pinned(migration, "SplitNames")


def sam_function_target(stack: cdk.Stack) -> None:
    split = _sam_function(stack, "SplitNameFn", "transforms.handler")
    migration = DynamoMigration(
        stack,
        "Copy",
        table=table(stack, "Customers"),
        migration_id="2026-03-01-copy-to-v2",
        up=Function(cdk.Token.as_string(split.get_att("Arn"))),
        target=table(stack, "CustomersV2", key="id"),
        max_concurrency=4,
        dry_run=True,
    )
    _pinned(migration, "CopyToV2")


def query_gsi_delete(stack: cdk.Stack) -> None:
    events = table(stack, "Events")
    events.add_global_secondary_index(
        index_name="GSI1",
        partition_key=dynamodb.Attribute(name="gsi1pk", type=STRING),
        projection_type=dynamodb.ProjectionType.KEYS_ONLY,
    )
    ttl = {"#ttl": "ttl"}
    migration = DynamoMigration(
        stack,
        "Purge",
        table=events,
        migration_id="PurgeExpiredSessions",
        source=Query(
            "gsi1pk = :p",
            index_name="GSI1",
            filter="#ttl < :now",
            names=ttl,
            values={":p": "SESSION", ":now": 1767225600},
        ),
        up=Delete(condition="attribute_exists(#ttl)", names=ttl),
        on_timeout="Continue",
        service_timeout=1800,
    )
    _pinned(migration, "PurgeExpiredSessions")


def capacity_percent(stack: cdk.Stack) -> None:
    orders = dynamodb.Table(
        stack,
        "Orders",
        partition_key=dynamodb.Attribute(name="pk", type=STRING),
        billing_mode=dynamodb.BillingMode.PROVISIONED,
        read_capacity=400,
        write_capacity=200,
    )
    orders.node.default_child.override_logical_id("Orders")
    total = {"#t": "total"}
    migration = DynamoMigration(
        stack,
        "BackfillTotal",
        table=orders,
        migration_id="2026-02-01-backfill-total",
        description="a busy production table; the migration takes at most a quarter of its "
        "capacity",
        up=Update("SET #t = if_not_exists(#t, :zero)", names=total, values={":zero": 0}),
        max_capacity_percent=25,
        max_writes_per_second=100,
    )
    _pinned(migration, "OrdersBackfillTotal")


def backup_modes(stack: cdk.Stack) -> None:
    orders = table(
        stack,
        "Orders",
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
    )
    drop = DynamoMigration(
        stack,
        "Drop",
        table=orders,
        migration_id="2026-04-01-drop-legacy",
        up=Delete(condition="attribute_exists(legacy)"),
        backup="Required",
    )
    _pinned(drop, "OrdersDropLegacy")
    touch = DynamoMigration(
        stack,
        "Touch",
        table=orders,
        migration_id="2026-04-02-touch",
        up=Update("SET touched = :t", values={":t": True}),
        backup="None",
    )
    _pinned(touch, "OrdersTouch")


def item_collections(stack: cdk.Stack) -> None:
    split = cdk.CfnParameter(stack, "SplitFnArn", type="String").value_as_string
    join = cdk.CfnParameter(stack, "JoinFnArn", type="String").value_as_string
    orders = table(stack, "Orders", sort_key=dynamodb.Attribute(name="sk", type=STRING))
    migration = DynamoMigration(
        stack,
        "Split",
        table=orders,
        migration_id="2026-05-01-split-orders",
        source=Scan(item_collections=True, filter="begins_with(pk, :o)", values={":o": "ORDER#"}),
        up=Function(split),
        down=Function(join),
    )
    _pinned(migration, "SplitOrders")


def rollback_modes(stack: cdk.Stack) -> None:
    orders = table(stack, "Orders")
    drop = DynamoMigration(
        stack,
        "Drop",
        table=orders,
        migration_id="2026-05-01-drop-legacy",
        up=Delete(condition="attribute_exists(legacy)"),
        down=Restore(),
        backup="None",
    )
    _pinned(drop, "OrdersDropLegacy")
    touch = DynamoMigration(
        stack,
        "Touch",
        table=orders,
        migration_id="2026-05-02-touch",
        up=Update("SET touched = :t", values={":t": True}),
        down=Keep(),
        backup="None",
    )
    _pinned(touch, "OrdersTouch")


def verify(stack: cdk.Stack) -> None:
    orders = table(stack, "Orders")
    orders.add_global_secondary_index(
        index_name="GSI1", partition_key=dynamodb.Attribute(name="gsi1pk", type=STRING)
    )
    status, pending = {"#s": "status"}, {":pending": "PENDING"}
    add = DynamoMigration(
        stack,
        "AddStatus",
        table=orders,
        migration_id="2026-06-01-add-status",
        source=Scan(segments=4, filter="attribute_not_exists(#s)", names=status),
        up=Update("SET #s = :pending", "attribute_not_exists(#s)", status, pending),
        verify=Verify("attribute_exists(#s)", names=status, max_violations=10),
        backup="None",
    )
    _pinned(add, "OrdersAddStatus")
    close = DynamoMigration(
        stack,
        "CloseStale",
        table=orders,
        migration_id="2026-06-02-close-stale",
        source=Query(
            "gsi1pk = :o",
            index_name="GSI1",
            filter="#s = :pending",
            names=status,
            values={":o": "ORDER", **pending},
        ),
        up=Update("SET #s = :closed", names=status, values={":closed": "CLOSED"}),
        verify=Verify("#s <> :pending", names=status, values=pending),
    )
    _pinned(close, "OrdersCloseStale")


TWINS: dict[str, Callable[[cdk.Stack], None]] = {
    build.__name__: build
    for build in (
        update_scan,
        function_up_down,
        backup_modes,
        chained_tables,
        conditional_chain,
        disposed,
        function_by_name,
        sam_function_target,
        query_gsi_delete,
        capacity_percent,
        item_collections,
        rollback_modes,
        verify,
    )
}
