"""Example transform function (wire contract: DynamoDB JSON in, DynamoDB JSON or null out).

Splits a customer's `name` ("Ada Lovelace") into `first_name` and `last_name`; test orders
(`customer` starting with "test-") are deleted by returning null.
"""

from __future__ import annotations

from typing import Any

Item = dict[str, dict[str, Any]]


def split_name(item: Item) -> Item | None:
    if item.get("customer", {}).get("S", "").startswith("test-"):
        return None
    if "name" not in item:
        return item
    new = {k: v for k, v in item.items() if k != "name"}
    first, _, last = item["name"]["S"].partition(" ")
    new["first_name"] = {"S": first}
    if last:
        new["last_name"] = {"S": last}
    return new


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point: one page of items in, one result per item out, in order."""
    return {"items": [split_name(item) for item in event["items"]]}
