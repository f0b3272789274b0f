"""Transform function of migration 2026-02-10-split-name (DynamoDB JSON in, DynamoDB JSON out).

`name` ("Ada Lovelace") becomes `first_name` and `last_name`; `email` is lower-cased. Items that
were already migrated come back unchanged, so a re-run writes nothing.
"""

from __future__ import annotations

from typing import Any

Item = dict[str, dict[str, Any]]


def split_name(item: Item) -> Item:
    new = dict(item)
    if "name" in new:
        first, _, last = new.pop("name")["S"].strip().partition(" ")
        new["first_name"] = {"S": first}
        if last:
            new["last_name"] = {"S": last}
    if "email" in new:
        new["email"] = {"S": new["email"]["S"].strip().lower()}
    return new


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """One page of items in, one result per item out, in the same order."""
    return {"items": [split_name(item) for item in event["items"]]}
