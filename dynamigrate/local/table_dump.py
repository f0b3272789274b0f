"""`local run`'s final read of a table: its data file and its before/after sample, streamed.

The table is read a Scan page at a time: each item becomes its export-format line (a string, a
few hundred bytes) at once, and the sample is kept as the reading goes, so at most one page of
parsed items is held, not the whole table twice (its items and the file's sorted copy).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dynamigrate.data_files import item_line, sort_key
from runner.attrs import Item

Sample = tuple[Item | None, Item | None]


def key_names(client: Any, table: str) -> list[str]:
    schema = client.describe_table(TableName=table)["Table"]["KeySchema"]
    return [k["AttributeName"] for k in sorted(schema, key=lambda k: k["KeyType"] != "HASH")]


def scan_pages(client: Any, table: str) -> Iterator[list[Item]]:
    """The table's items, one consistent Scan page at a time."""
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = client.scan(**kwargs)
        yield page["Items"]
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _identity(item: Item, keys: list[str]) -> str:
    return json.dumps([item.get(k) for k in keys], sort_keys=True, default=str)


class SampleFinder:
    """The first item (by key) that changed or vanished, else the first one the run added (a
    `Target` table starts empty): a before/after pair, `(None, None)` when nothing changed."""

    def __init__(self, before: list[Item], keys: list[str]) -> None:
        self.keys = keys
        self.before = {_identity(item, keys): item for item in before}
        self.seen: set[str] = set()
        self.changed: tuple[str, Item, Item] | None = None
        self.added: tuple[str, Item] | None = None

    def see(self, item: Item) -> None:
        ident = _identity(item, self.keys)
        self.seen.add(ident)
        was = self.before.get(ident)
        if was is None:
            if self.added is None or ident < self.added[0]:
                self.added = (ident, item)
        elif was != item and (self.changed is None or ident < self.changed[0]):
            self.changed = (ident, was, item)

    def sample(self) -> Sample:
        if self.changed:  # an update shows more than a delete
            return self.changed[1], self.changed[2]
        gone = sorted(set(self.before) - self.seen)
        if gone:
            return self.before[gone[0]], None
        if self.added:
            return None, self.added[1]
        return None, None


def dump_table(client: Any, table: str, path: Path, before: list[Item]) -> Sample:
    """Write the table's items to `path` (export format, sorted by key); return its sample."""
    keys = key_names(client, table)
    finder = SampleFinder(before, keys)
    lines: list[tuple[tuple[Any, ...], str]] = []
    for page in scan_pages(client, table):
        for item in page:
            finder.see(item)
            lines.append((sort_key(item, keys), item_line(item)))
    lines.sort(key=lambda line: line[0])
    with path.open("w", encoding="utf-8") as out:
        for _, line in lines:
            out.write(line + "\n")
    return finder.sample()
