"""`local run`'s final read of a table: its data file and its before/after sample, streamed.

The table is read a Scan page at a time: each item becomes its export-format line (a string, a
few hundred bytes) at once, and the sample is kept as the reading goes, so at most one page of
parsed items is held, not the whole table twice (its items and the file's sorted copy).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from dynamigrate.data_files import DataFile, item_digest, item_line, sort_key
from runner.attrs import Item

Sample = tuple[Item | None, Item | None]
Before = Sequence[Item] | DataFile  # read more than once


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

    It holds a digest per item of `before`, not the items: `before` is read once for the
    digests and once more for the sample's own item (the last line with its key, as loading
    kept it), so it must be re-iterable (a list, or a dynamigrate.data_files.DataFile).
    """

    def __init__(self, before: Before, keys: list[str]) -> None:
        self.keys = keys
        self.source = before
        self.unseen = {_identity(item, keys): item_digest(item) for item in before}
        self.seen: set[str] = set()
        self.changed: tuple[str, Item] | None = None
        self.added: tuple[str, Item] | None = None

    def see(self, item: Item) -> None:
        ident = _identity(item, self.keys)
        if ident in self.seen:
            return
        self.seen.add(ident)
        was = self.unseen.pop(ident, None)
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
        found = None
        for item in self.source:
            if _identity(item, self.keys) == ident:
                found = item  # a repeated key: the later line replaced the earlier one
        return found


def dump_table(client: Any, table: str, path: Path, before: Before) -> Sample:
    """Write the table's items to `path` (export format, sorted by key); return its sample.

    The sample is taken before `path` is replaced (a temporary file renamed over it), so a data
    file that is also the output file still shows what it held.
    """
    keys = key_names(client, table)
    finder = SampleFinder(before, keys)
    lines: list[tuple[tuple[Any, ...], str]] = []
    for page in scan_pages(client, table):
        for item in page:
            finder.see(item)
            lines.append((sort_key(item, keys), item_line(item)))
    sample = finder.sample()
    lines.sort(key=lambda line: line[0])
    written = path.with_name(f".{path.name}.writing")
    with written.open("w", encoding="utf-8") as out:
        for _, line in lines:
            out.write(line + "\n")
    os.replace(written, path)
    return sample
