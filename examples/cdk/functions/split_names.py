"""A transform function of the CDK example: `name` becomes `first_name` and `last_name`."""

from __future__ import annotations

from typing import Any

Item = dict[str, dict[str, Any]]


def transform(item: Item) -> Item:
    if "name" not in item:
        return item  # already split (a re-run hands over transformed items too)
    new = {k: v for k, v in item.items() if k != "name"}
    first, _, last = item["name"]["S"].partition(" ")
    new["first_name"], new["last_name"] = {"S": first}, {"S": last}
    return new


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"items": [transform(item) for item in event["items"]]}
