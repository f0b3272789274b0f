"""Reading item collections for `ItemCollections: true` (runner.collections writes them).

DynamoDB documents neither the order of a Scan's items nor whether the items of one
partition key can fall into two segments of a parallel Scan (API reference, Scan: "Segment",
"TotalSegments"; Developer Guide, "Parallel scan": each segment is "a subset of the table's
items", nothing more). So the Scan only tells which partition keys a page holds, and each
collection is then read whole by a Query on its partition key (with the source's filter),
which returns its items in sort-key order (API reference, Query: "results are always sorted by
the sort key value"), however the Scan's pages and segments fall. A key seen again on the next
page of the same segment is not read twice; a key two segments both hold is handed to the
function twice, the second time as the first one left it (a transform must recognise its own
output anyway: a page is re-processed after a crash). A `Query` source is one collection: its
pages are read to the end before the function sees it.

A collection must fit one function request (runner.operations.MAX_FUNCTION_REQUEST_BYTES) and
its writes one transaction (runner.collections.MAX_TRANSACTION_ACTIONS): a larger one fails the
run, naming its key and size, before anything of it is written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from runner.attrs import Item, to_wire
from runner.errors import MigrationError
from runner.source import Page, pages

PK_NAME, PK_VALUE = "#dynamigrate_pk", ":dynamigrate_pk"


@dataclass(frozen=True)
class CollectionPage(Page):
    """A page whose `items` come grouped: `collections`, each in sort-key order."""

    collections: list[list[Item]] = field(default_factory=list)


def _wire_size(items: list[Item]) -> int:
    return len(json.dumps([to_wire(i) for i in items], default=str))


def collection_query(request: dict[str, Any], pk_name: str, pk_value: Any) -> dict[str, Any]:
    """The Query that reads one partition key's items with the Scan's filter and placeholders."""
    kwargs: dict[str, Any] = {
        k: request[k] for k in ("TableName", "FilterExpression", "ConsistentRead") if k in request
    }
    kwargs["KeyConditionExpression"] = f"{PK_NAME} = {PK_VALUE}"
    kwargs["ExpressionAttributeNames"] = {
        **request.get("ExpressionAttributeNames", {}),
        PK_NAME: pk_name,
    }
    kwargs["ExpressionAttributeValues"] = {
        **request.get("ExpressionAttributeValues", {}),
        PK_VALUE: pk_value,
    }
    return kwargs


def read_whole(
    client: Any, query: dict[str, Any], migration_id: str, limit: int, pk_name: str
) -> tuple[list[Item], int]:
    """Every item a Query returns (and how many it scanned); refused past `limit` bytes, naming
    the collection's partition key and its size so far."""
    items: list[Item] = []
    scanned, size = 0, 0
    for page in pages(client, query, None, migration_id):
        items.extend(page.items)
        scanned += page.scanned
        size += _wire_size(page.items)
        if size > limit:
            pk = {pk_name: items[0][pk_name]} if items else {}
            raise MigrationError(
                f"Migration {migration_id}: the item collection "
                f"{json.dumps(to_wire(pk), default=str)[:200]} is more than {limit // 1024} KB "
                f"({len(items)} items, {size} bytes read so far); a collection must fit one "
                "function request"
            )
    return items, scanned


class CollectionReader:
    """The collections of one segment (or of the Query), page by page."""

    def __init__(
        self, client: Any, request: dict[str, Any], migration_id: str, pk_name: str, limit: int
    ) -> None:
        self.client, self.request, self.migration_id = client, request, migration_id
        self.pk_name, self.limit = pk_name, limit

    def reread(self, collection: list[Item]) -> list[Item]:
        """The collection as it is now (strongly consistent), after a conflict."""
        query = self._query(collection[0][self.pk_name])
        if "IndexName" not in query:
            query["ConsistentRead"] = True
        return read_whole(self.client, query, self.migration_id, self.limit, self.pk_name)[0]

    def _query(self, pk_value: Any) -> dict[str, Any]:
        if "KeyConditionExpression" in self.request:  # a Query source: its own key condition
            return {k: v for k, v in self.request.items() if k != "Limit"}
        return collection_query(self.request, self.pk_name, pk_value)

    def pages(self, start_key: Item | None) -> Iterator[CollectionPage]:
        if "KeyConditionExpression" in self.request:
            items, scanned = read_whole(
                self.client, self._query(None), self.migration_id, self.limit, self.pk_name
            )
            yield CollectionPage(items, scanned, None, [items] if items else [])
            return
        previous: str | None = None
        for page in pages(self.client, self.request, start_key, self.migration_id):
            keys: dict[str, Any] = {}
            for item in page.items:
                identity = json.dumps(to_wire({"k": item[self.pk_name]}), sort_keys=True)
                if identity != previous:  # read whole on the page before
                    keys.setdefault(identity, item[self.pk_name])
            collections = []
            for value in keys.values():
                query = collection_query(self.request, self.pk_name, value)
                found = read_whole(self.client, query, self.migration_id, self.limit, self.pk_name)[
                    0
                ]
                if found:
                    collections.append(found)
            if page.items:
                last = page.items[-1][self.pk_name]
                previous = json.dumps(to_wire({"k": last}), sort_keys=True)
            flat = [i for c in collections for i in c]
            yield CollectionPage(flat, page.scanned, page.next_key, collections)
