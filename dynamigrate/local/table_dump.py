"""`local run`'s final read of a table: its data file and its before/after sample, streamed.

The table is read a Scan page at a time: each item becomes its export-format line (a string, a
few hundred bytes) at once, and the sample is kept as the reading goes, so at most one page of
parsed items is held, not the whole table twice (its items and the file's sorted copy).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from dynamigrate.data_files import item_digest, item_line, sort_key
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
    `Target` table starts empty): a before/after pair, `(None, None)` when nothing changed.

    It holds a digest per item of `before` (read once, and again for the sample's own item), not
    the items: `before` is re-iterable (a list, or a dynamigrate.data_files.DataFile).
    """

    def __init__(self, before: Iterable[Item], keys: list[str]) -> None:
        self.keys = keys
        self.source = before
        self.unseen = {_identity(item, keys): item_digest(item) for item in before}
        self.changed: tuple[str, Item] | None = None
        self.added: tuple[str, Item] | None = None

    def see(self, item: Item) -> None:
        ident = _identity(item, self.keys)
        was = self.unseen.pop(ident, None)  # a Scan returns each item once
        if was is None:
            if self.added is None or ident < self.added[0]:
                self.added = (ident, item)
        elif was != item_digest(item) and (self.changed is None or ident < self.changed[0]):
            self.changed = (ident, item)

    def sample(self) -> Sample:
        if self.changed:  # an update shows more than a delete
            return self._before(self.changed[0]), self.changed[1]
        if self.unseen:
            return self._before(min(self.unseen)), None
        if self.added:
            return None, self.added[1]
        return None, None

    def _before(self, ident: str) -> Item | None:
        return next((i for i in self.source if _identity(i, self.keys) == ident), None)


def dump_table(client: Any, table: str, path: Path, before: Iterable[Item]) -> Sample:
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
