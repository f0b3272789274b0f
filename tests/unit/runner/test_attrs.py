import pytest

from runner.attrs import expression_values, from_wire, to_wire
from runner.errors import MigrationError


def test_wire_round_trip_keeps_binary_and_numbers():
    item = {
        "pk": {"S": "1"},
        "big": {"N": "12345678901234567890123456789012345678"},
        "blob": {"B": b"\x00\xff"},
        "blobs": {"BS": [b"a", b"b"]},
        "deep": {"M": {"l": {"L": [{"B": b"\x01"}, {"NULL": True}]}}},
    }
    wire = to_wire(item)
    assert wire["blob"] == {"B": "AP8="}
    assert wire["deep"]["M"]["l"]["L"][0] == {"B": "AQ=="}
    assert from_wire(wire, "m") == item


@pytest.mark.parametrize(
    "bad", [["not", "a", "dict"], {"a": "plain"}, {"a": {"S": "x", "N": "1"}}, {"b": {"B": "!!"}}]
)
def test_from_wire_rejects_what_is_not_dynamodb_json(bad):
    with pytest.raises(MigrationError, match="Migration m"):
        from_wire(bad, "m")


def test_expression_values_are_exact():
    assert expression_values({":a": 0.1, ":b": "x", ":c": [1, True]}, "m") == {
        ":a": {"N": "0.1"},
        ":b": {"S": "x"},
        ":c": {"L": [{"N": "1"}, {"BOOL": True}]},
    }
