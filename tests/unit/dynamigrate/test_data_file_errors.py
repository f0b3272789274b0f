"""Bad data files get one line naming the file and the line, never a traceback."""

from __future__ import annotations

import pytest

from dynamigrate.data_files import DataFileError, KeySpec, parse_line, read_items

KEYS = KeySpec({"pk": "S", "sk": "N"})


def _read(tmp_path, *lines: str, keys: KeySpec | None = KEYS):
    path = tmp_path / "d.jsonl"
    path.write_text("".join(line + "\n" for line in lines))
    return list(read_items(path, keys))


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"sk": 1}', "d.jsonl:1: the item has no pk (the table's partition key)"),
        (
            '{"pk": 5, "sk": 1}',
            "d.jsonl:1: pk must be a string (S), as the table declares it; got N",
        ),
        ('{"pk": "a"}', "d.jsonl:1: the item has no sk (the table's sort key)"),
        (
            '{"pk": {"S": "a"}, "sk": {"N": "1"}, "n": {"N": "abc"}}',
            "d.jsonl:1: attribute n: 'abc' is not a number",
        ),
        (
            '{"Item": {"pk": {"S": "a"}, "sk": {"N": "abc"}}}',
            "d.jsonl:1: attribute sk: 'abc' is not a number",
        ),
        (
            '{"pk": "a", "sk": 1e400}',
            "d.jsonl:1: attribute sk: 1E+400 is outside DynamoDB's range (38 significant digits, "
            "1E-130 to 9.99...E+125)",
        ),
        ('{"pk": "", "sk": 1}', "d.jsonl:1: pk must not be empty (a key attribute)"),
    ],
)
def test_a_bad_line_is_one_located_message(tmp_path, line, message):
    with pytest.raises(DataFileError) as info:
        _read(tmp_path, line)
    assert str(info.value).endswith(message), str(info.value)


def test_typed_items_without_the_item_wrapper_are_read_as_typed():
    # the shape `aws dynamodb scan` prints for each item
    assert parse_line('{"pk": {"S": "a"}, "sk": {"N": "1"}, "tags": {"SS": ["x"]}}') == {
        "pk": {"S": "a"},
        "sk": {"N": "1"},
        "tags": {"SS": ["x"]},
    }


def test_a_duplicate_key_names_both_lines(tmp_path):
    with pytest.raises(DataFileError) as info:
        _read(tmp_path, '{"pk": "a", "sk": 1}', '{"pk": "b", "sk": 1}', '{"pk": "a", "sk": 1.0}')
    assert str(info.value).endswith(
        'd.jsonl:3: the same key as line 1 ({"pk": {"S": "a"}, "sk": {"N": "1.0"}}): '
        "each item once, or the later one replaces the earlier"
    )


def test_without_a_key_schema_the_values_are_still_checked(tmp_path):
    with pytest.raises(DataFileError, match=r"d.jsonl:2: attribute n: 'x' is not a number"):
        _read(tmp_path, '{"pk": "a"}', '{"Item": {"pk": {"S": "b"}, "n": {"N": "x"}}}', keys=None)
