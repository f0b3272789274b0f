"""The transform shapes `dynamigrate new --kind function --shape ...` scaffolds.

`item` returns one item (or None) per item; `fanout` a list of items per item (1:N: the input's
own key keeps it, an absent key deletes it, new keys are created); `collections` takes whole item
collections (`ItemCollections: true`) and returns, per collection, the list of items it becomes.
"""

from __future__ import annotations

SHAPES = ("item", "fanout", "collections")

FANOUT = '''"""Transform of migration {migration_id} (DynamoDB JSON in, DynamoDB JSON out), 1:N.

Return one result per item, in order: the list of items it becomes. The item's own key in the
list keeps (and rewrites) it, its absence deletes it, every other key is created (never over an
existing item). Keep it pure and idempotent: a re-run gets the items it made, and must return
each of them as it is ([item]).
"""

from __future__ import annotations

from typing import Any

Item = dict[str, dict[str, Any]]


def transform(item: Item) -> list[Item]:
    # TODO: e.g. split one item into itself and a new one beside it:
    #   return [item, {{**{{k: item[k] for k in item if k in KEY}}, "sk": {{"S": "PART#1"}}}}]
    return [item]


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {{"items": [transform(item) for item in event["items"]]}}
'''

COLLECTIONS = '''"""Transform of migration {migration_id}: whole item collections.


With `ItemCollections: true`, `event["items"]` is a list of collections, each every item of
one partition key in sort-key order. Return one result per collection, in order: the list of
items it becomes (keys absent from it are deleted, new keys created; [] deletes the
collection). A collection's writes are one transaction. Keep it pure and idempotent: a re-run
gets collections already transformed.
"""

from __future__ import annotations

from typing import Any

Item = dict[str, dict[str, Any]]


def transform(collection: list[Item]) -> list[Item]:
    # TODO: e.g. keep the 10 newest orders: return collection[-10:]
    return collection


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {{"items": [transform(collection) for collection in event["items"]]}}
'''

TEST_HEAD = '''"""`pytest {directory}` checks the transform of {migration_id}, without AWS."""'''
TESTS = {
    "fanout": TEST_HEAD
    + """

from {module} import handler


def test_what_it_makes_transforms_to_itself():
    page = {{"items": [{example}]}}  # an item of the table: its key attributes, typed
    made = [item for result in handler(page, None)["items"] for item in result]
    assert handler({{"items": made}}, None)["items"] == [[item] for item in made]
""",
    "collections": TEST_HEAD
    + """

from {module} import handler


def test_a_transformed_collection_transforms_to_itself():
    page = {{"items": [[{example}]]}}  # one collection: an item with the table's key, typed
    once = handler(page, None)["items"]
    assert handler({{"items": once}}, None)["items"] == once
""",
}

TRANSFORMS = {"fanout": FANOUT, "collections": COLLECTIONS}


def collections_source() -> str:
    """The Source lines of a collections migration (the resource's Properties indentation)."""
    return "      Source:\n        Scan: {ItemCollections: true}\n"
