"""`local run`'s final read: the data file sorted by key, its sample, a page held at a time."""

from __future__ import annotations

import gc
import json
import weakref
from pathlib import Path
from typing import Any

import pytest

from dynamigrate.data_files import DataFile, DataFileError, item_line
from dynamigrate.local.table_dump import dump_table


class Tracked(dict):  # a dict that can be watched by weak reference
    pass


class PagedTable:
    """Scan pages of fresh items; records how many items of earlier pages are still alive."""

    def __init__(self, items: list[dict[str, Any]], page_size: int) -> None:
        self.items, self.page_size = items, page_size
        self.returned: list[weakref.ref[Tracked]] = []
        self.alive_at_scan: list[int] = []

    def describe_table(self, TableName: str) -> dict[str, Any]:
        return {"Table": {"KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}}

    def scan(self, **kw: Any) -> dict[str, Any]:
        gc.collect()
        self.alive_at_scan.append(sum(ref() is not None for ref in self.returned))
        start = int(kw.get("ExclusiveStartKey", {"at": {"N": "0"}})["at"]["N"])
        page = [
            Tracked(json.loads(json.dumps(i))) for i in self.items[start : start + self.page_size]
        ]
        self.returned += [weakref.ref(item) for item in page]
        out: dict[str, Any] = {"Items": page}
        if start + self.page_size < len(self.items):
            out["LastEvaluatedKey"] = {"at": {"N": str(start + self.page_size)}}
        return out


def _item(i: int, **more: Any) -> dict[str, Any]:
    return {"pk": {"S": f"k{i:03d}"}, **more}


def test_at_most_a_page_of_items_is_held_while_the_table_is_read(tmp_path: Path) -> None:
    table = PagedTable([_item(i, v={"N": "1"}) for i in range(100)], page_size=10)
    dump_table(table, "T", tmp_path / "T.jsonl", before=[])
    assert len(table.alive_at_scan) == 10
    # what the previous page left: its lines are kept, its parsed items are not (the sample's
    # first added item stays, one item)
    assert max(table.alive_at_scan) <= 10 + 1


def test_the_file_is_sorted_by_key_and_the_sample_is_the_first_changed_item(
    tmp_path: Path,
) -> None:
    before = [_item(i, v={"N": "0"}) for i in range(30)]
    after = [_item(i, v={"N": "1" if i in (7, 21) else "0"}) for i in range(30) if i != 3]
    table = PagedTable(list(reversed(after)), page_size=4)  # not in key order, as Scan is not
    sample = dump_table(table, "T", tmp_path / "T.jsonl", before=before)
    lines = [json.loads(line)["Item"] for line in (tmp_path / "T.jsonl").read_text().splitlines()]
    assert [item["pk"]["S"] for item in lines] == [f"k{i:03d}" for i in range(30) if i != 3]
    assert sample == (before[7], _item(7, v={"N": "1"}))  # an update shows more than a delete


def test_a_delete_then_an_added_item_is_the_sample(tmp_path: Path) -> None:
    before = [_item(i) for i in range(5)]
    gone = PagedTable([_item(i) for i in range(5) if i != 2], page_size=2)
    assert dump_table(gone, "T", tmp_path / "a.jsonl", before) == (before[2], None)
    added = PagedTable([_item(9), _item(5)], page_size=1)  # a Target table starts empty
    assert dump_table(added, "T", tmp_path / "b.jsonl", []) == (None, _item(5))
    same = PagedTable(before, page_size=2)
    assert dump_table(same, "T", tmp_path / "c.jsonl", before) == (None, None)


class Reread:
    """A data file's part: fresh items on every iteration, each watched by weak reference."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items
        self.made: list[weakref.ref[Tracked]] = []
        self.reads = 0

    def __iter__(self) -> Any:
        self.reads += 1
        for item in self.items:
            fresh = Tracked(json.loads(json.dumps(item)))
            self.made.append(weakref.ref(fresh))
            yield fresh


def test_the_data_files_items_are_not_held_while_the_table_is_read(tmp_path: Path) -> None:
    """Only a digest per item: the file is read again for the sample's own item."""
    before = Reread([_item(i, v={"N": "0"}) for i in range(50)])
    after = [_item(i, v={"N": "1" if i == 30 else "0"}) for i in range(50)]
    table = PagedTable(after, page_size=10)
    alive: list[int] = []
    scan = table.scan

    def scan_watching(**kw: Any) -> dict[str, Any]:
        alive.append(sum(ref() is not None for ref in before.made))
        return scan(**kw)

    table.scan = scan_watching  # type: ignore[method-assign]
    sample = dump_table(table, "T", tmp_path / "T.jsonl", before=before)
    assert sample == (_item(30, v={"N": "0"}), _item(30, v={"N": "1"}))
    assert max(alive) == 0  # none of the file's items outlived the digests
    assert before.reads == 2  # the digests, then the sample's item


def test_the_output_written_over_its_own_data_file_still_samples_what_it_held(
    tmp_path: Path,
) -> None:
    """`local run --data T=out/T.jsonl --out out`: the sample is read before the file goes."""
    path = tmp_path / "T.jsonl"
    path.write_text("".join(item_line(_item(i, v={"N": "0"})) + "\n" for i in range(3)))
    changed = PagedTable([_item(0, v={"N": "0"}), _item(1, v={"N": "9"})], page_size=2)
    sample = dump_table(changed, "T", path, DataFile(path))
    assert sample == (_item(1, v={"N": "0"}), _item(1, v={"N": "9"}))
    assert [json.loads(line)["Item"]["pk"]["S"] for line in path.read_text().splitlines()] == [
        "k000",
        "k001",
    ]
    assert not list(tmp_path.glob(".*"))  # the temporary file was renamed over it


def test_a_repeated_key_samples_the_line_loading_kept_and_a_repeated_scan_item_counts_once(
    tmp_path: Path,
) -> None:
    first, last = _item(1, v={"N": "1"}), _item(1, v={"N": "2"})  # no key check: the last wins
    after = _item(1, v={"N": "3"})
    assert dump_table(PagedTable([after], 1), "T", tmp_path / "a.jsonl", [first, last]) == (
        last,
        after,
    )
    twice = PagedTable([_item(0), _item(0)], page_size=1)
    assert dump_table(twice, "T", tmp_path / "b.jsonl", [_item(0)]) == (None, None)


def test_a_checked_data_file_reads_its_copy_and_names_the_users_file(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(item_line(_item(0)) + "\n")
    checked = DataFile(path).check()
    path.write_text(item_line(_item(5)) + "\n")  # edited during the run
    assert list(checked) == [_item(0)]
    path.write_text("{not json\n")
    with pytest.raises(DataFileError, match=f"^{path}:1: "):
        DataFile(path).check()
