"""Transform functions the functional tests deploy (wire contract: DynamoDB JSON in and out)."""

from __future__ import annotations

from typing import Any


def split_name(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """name "First Last" -> first, last; items whose n is a multiple of 10 are deleted."""
    out: list[dict[str, Any] | None] = []
    for item in event["items"]:
        if int(item["n"]["N"]) % 10 == 0:
            out.append(None)
            continue
        new = dict(item)
        if "name" in new:
            first, last = new.pop("name")["S"].split(" ", 1)
            new["first"], new["last"] = {"S": first}, {"S": last}
        out.append(new)
    return {"items": out}


def rekey(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Copy into a table keyed by id, dropping the old key."""
    out: list[dict[str, Any] | None] = []
    for item in event["items"]:
        if int(item["n"]["N"]) % 10 == 0:
            out.append(None)
            continue
        new = {k: v for k, v in item.items() if k != "pk"}
        new["id"] = {"S": "ORDER#" + item["pk"]["S"]}
        out.append(new)
    return {"items": out}


def identity(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"items": event["items"]}
