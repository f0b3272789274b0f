"""Data files of local runs: both input formats, exact numbers, clear errors, sorted output."""

from __future__ import annotations

import json

import pytest

from dynamigrate.data_files import DataFileError, parse_line, read_items, write_items


def test_export_format_keeps_types_and_binary():
    line = (
        '{"Item": {"pk": {"S": "a"}, "n": {"N": "1.50"}, "b": {"B": "AP8="}, "s": {"SS": ["x"]}}}'
    )
    assert parse_line(line) == {
        "pk": {"S": "a"},
        "n": {"N": "1.50"},
        "b": {"B": b"\x00\xff"},
        "s": {"SS": ["x"]},
    }


def test_plain_json_numbers_are_exact_decimals():
    big = "12345678901234567890123456789012345678"
    item = parse_line(f'{{"pk": "a", "big": {big}, "price": 0.1, "tags": ["x"], "ok": true}}')
    assert item["big"] == {"N": big}
    assert item["price"] == {"N": "0.1"}
    assert item["tags"] == {"L": [{"S": "x"}]}
    assert item["ok"] == {"BOOL": True}


@pytest.mark.parametrize(
    ("line", "message"),
    [("{", "not JSON"), ("[1]", "expected a JSON object"), ('{"Item": {"b": {"B": "%%"}}}', "")],
)
def test_bad_lines_say_why(tmp_path, line, message):
    path = tmp_path / "d.jsonl"
    path.write_text('{"pk": "ok"}\n\n' + line + "\n")
    with pytest.raises(DataFileError, match=rf"d.jsonl:3: {message}"):
        list(read_items(path))


def test_output_is_export_format_sorted_by_key(tmp_path):
    items = [{"pk": {"N": "10"}}, {"pk": {"N": "9"}, "b": {"B": b"\x01"}}]
    path = tmp_path / "out.jsonl"
    write_items(path, items, ["pk"])
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert rows == [{"Item": {"b": {"B": "AQ=="}, "pk": {"N": "9"}}}, {"Item": {"pk": {"N": "10"}}}]


def test_a_file_with_a_byte_order_mark_is_read(tmp_path):
    """What Windows editors and PowerShell's Out-File write first."""
    path = tmp_path / "items.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b'{"pk": "a", "n": 1}\n{"pk": "b"}\n')
    assert [item["pk"] for item in read_items(path)] == [{"S": "a"}, {"S": "b"}]
