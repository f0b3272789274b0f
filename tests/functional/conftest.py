"""Functional tier: the rendered state machines executed on the embedded emulator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from dynamigrate.local.emulator import emulated_aws
from dynamigrate.local.engine import (
    ARTIFACTS_BUCKET,
    HISTORY_TABLE,
    LocalEngine,
    set_default_environment,
)
from macro.expand import MIGRATION_TYPE, Settings, _expand_one

set_default_environment()


@pytest.fixture
def aws() -> Iterator[None]:
    """The emulator alone, for a test that makes its own clients."""
    with emulated_aws():
        yield


@pytest.fixture
def engine() -> Iterator[LocalEngine]:
    with emulated_aws():
        yield LocalEngine()


def create_table(client: Any, name: str, key: str = "pk", gsi: str | None = None) -> None:
    attrs = [{"AttributeName": key, "AttributeType": "S"}]
    kwargs: dict[str, Any] = {}
    if gsi:
        attrs.append({"AttributeName": gsi, "AttributeType": "S"})
        kwargs["GlobalSecondaryIndexes"] = [
            {
                "IndexName": f"{gsi}-index",
                "KeySchema": [{"AttributeName": gsi, "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ]
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        AttributeDefinitions=attrs,
        BillingMode="PAY_PER_REQUEST",
        **kwargs,
    )


def load(client: Any, name: str, items: list[dict[str, Any]]) -> None:
    for start in range(0, len(items), 25):
        batch = [{"PutRequest": {"Item": i}} for i in items[start : start + 25]]
        client.batch_write_item(RequestItems={name: batch})


def scan_all(client: Any, name: str, key: str = "pk") -> dict[str, dict[str, Any]]:
    """Every item of a table, by its (string) partition key."""
    items: dict[str, dict[str, Any]] = {}
    kwargs: dict[str, Any] = {"TableName": name, "ConsistentRead": True}
    while True:
        resp = client.scan(**kwargs)
        for item in resp["Items"]:
            items[item[key]["S"]] = item
        if "LastEvaluatedKey" not in resp:
            return items
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def up_noted(engine: LocalEngine, spec: dict[str, Any]) -> Any:
    """Run the Up as run `up-1` and note it in the history record as a rollback's Down finds it."""
    up = engine.run(spec, run_id="up-1")
    assert up.status == "SUCCEEDED", up.message
    engine.dynamodb.put_item(
        TableName=HISTORY_TABLE,
        Item={
            "pk": {"S": spec["TableName"]},
            "sk": {"S": spec["MigrationId"]},
            "upRun": {"M": {"runId": {"S": "up-1"}}},
        },
    )
    return up


RUNTIME = ("ServiceTimeout", "DryRun", "OnTimeout", "Dispose")


def custom_resource_properties(
    engine: LocalEngine, runner_arn: str, logical_id: str, written: dict[str, Any]
) -> dict[str, Any]:
    """The custom resource's properties as the real macro emits them for a migration written
    as `written` (its checksum included); the state machine is rendered into the emulator."""
    settings = Settings(
        runner_arn=runner_arn,
        worker_function_arn=engine.worker_arn,
        worker_role_arn="arn:aws:iam::123456789012:role/worker",
        history_table=HISTORY_TABLE,
        artifacts_bucket=ARTIFACTS_BUCKET,
    )
    resource = {"Type": MIGRATION_TYPE, "Properties": written}
    _, stack, custom = _expand_one(logical_id, resource, settings, lambda key, body: key)
    props = dict(custom["Properties"])
    props.pop("ServiceToken")
    if stack is not None:
        spec = {k: v for k, v in written.items() if k not in RUNTIME}
        props["StateMachineArn"] = engine.state_machine(spec)
    return props


LIFECYCLE_ITEMS = 300  # the orders the lifecycle tests migrate


@pytest.fixture
def world() -> Iterator[tuple[Any, Any]]:
    """The application installed from template.yaml, 300 orders, and CloudFormation's URL."""
    from dynamigrate.local.app import LocalApp
    from dynamigrate.local.cloudformation.protocol import response_receiver

    with emulated_aws(), response_receiver() as receiver:
        app = LocalApp(poll_seconds=1)
        create_table(app.dynamodb, "Orders")
        load(app.dynamodb, "Orders", [{"pk": {"S": f"o{i:04d}"}} for i in range(LIFECYCLE_ITEMS)])
        yield app, receiver
