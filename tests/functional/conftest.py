"""Functional tier: the rendered state machines executed on the embedded emulator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from dynamigrate.emulator import emulated_aws
from dynamigrate.local_engine import LocalEngine, set_default_environment

set_default_environment()


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
