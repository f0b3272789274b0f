"""The rules of `ItemCollections: true` on a Scan or Query source (runner.collections).

Whole item collections go to a transform function and come back as the list of items each
becomes, written in one transaction on the migration's own table: so the operations must be
Functions, there is no Target, and the collections are the table's own (an index's partition
key groups other items, and a transaction cannot write through an index: "Transactions cannot be
performed using indexes", Developer Guide, "Amazon DynamoDB Transactions: How it works").
"""

from __future__ import annotations

from typing import Any


def item_collections_source(properties: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """("Scan" | "Query", its body) when the source asks for item collections."""
    source = properties.get("Source")
    if not isinstance(source, dict):
        return None
    for kind in ("Scan", "Query"):
        body = source.get(kind)
        if isinstance(body, dict) and body.get("ItemCollections") is True:
            return kind, body
    return None


def check_item_collections(properties: dict[str, Any]) -> list[tuple[str, str]]:
    """(property path, message) for every rule an ItemCollections source breaks."""
    found = item_collections_source(properties)
    if found is None:
        return []
    kind, body = found
    here = f"Source.{kind}.ItemCollections"
    out: list[tuple[str, str]] = []
    for direction in ("Up", "Down"):
        operation = properties.get(direction)
        if isinstance(operation, dict) and operation and "Function" not in operation:
            other = next(iter(operation))
            article = "an" if other[0] in "AEIOU" else "a"
            out.append(
                (
                    f"{direction}.{other}",
                    f"must be a Function with {here}: true (whole item collections go to a "
                    f"transform function; {article} {other} works item by item, without "
                    "ItemCollections)",
                )
            )
    if "IndexName" in body:
        out.append(
            (
                f"Source.{kind}.IndexName",
                f"cannot be used with {here}: true (collections are the table's own partition "
                "keys, written in transactions, which cannot go through an index)",
            )
        )
    if "Target" in properties:
        out.append(
            (
                "Target",
                f"cannot be used with {here}: true (a collection's writes go to its own table, in "
                "one transaction); copy with a 1:N Function result instead",
            )
        )
    return out


def collection_actions(spec: dict[str, Any]) -> set[str]:
    """The data role's extra actions: Query (each collection is read by its partition key) and
    PutItem (a transaction creates new items with a conditional Put). A transaction needs no
    action of its own: "Permissions for Put, Update, Delete, and Get actions are governed by the
    permissions used for the underlying PutItem, UpdateItem, DeleteItem, and GetItem operations"
    (Developer Guide, "Using IAM with DynamoDB transactions")."""
    if item_collections_source(spec) is None:
        return set()
    return {"dynamodb:Query", "dynamodb:PutItem"}
