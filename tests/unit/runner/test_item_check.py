"""What a transform function returns is checked as DynamoDB checks a write (no I/O)."""

from __future__ import annotations

import base64

import pytest

from runner.errors import MigrationError
from runner.item_check import check_item

KEY = {"pk": {"S": "order#1"}}
GOOD = {
    **KEY,
    "s": {"S": ""},
    "n": {"N": "-12.50"},
    "big": {"N": "9.9999999999999999999999999999999999999E+125"},
    "small": {"N": "1E-130"},
    "zero": {"N": "0"},
    "b": {"B": base64.b64encode(b"\x00\x01").decode()},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2.5"]},
    "bs": {"BS": [base64.b64encode(b"x").decode()]},
    "m": {"M": {"inner": {"L": [{"NULL": True}, {"BOOL": False}]}}},
}


def test_a_valid_item_passes():
    check_item(GOOD, "m1", KEY)


@pytest.mark.parametrize(
    ("attribute", "value", "reason"),
    [
        ("n", {"N": "not-a-number"}, "n: 'not-a-number' is not a number"),
        ("n", {"N": 5}, "n: a number is written as a string, got 5"),
        ("n", {"N": "NaN"}, "n: 'NaN' is not a finite number"),
        ("n", {"N": "1" * 39}, "has 39 significant digits; DynamoDB keeps 38"),
        ("n", {"N": "1E+126"}, "n: '1E+126' is outside DynamoDB's range"),
        ("n", {"N": "1E-131"}, "n: '1E-131' is outside DynamoDB's range"),
        ("s", {"S": 5}, "s: S holds a string, got 5"),
        ("s", {"S": "x", "N": "1"}, "s: expected one of S, N, B, BOOL, NULL, SS, NS, BS, M, L"),
        ("s", "plain", "s: expected one of"),
        ("ss", {"SS": []}, "ss: a SS set must be a non-empty list"),
        ("ss", {"SS": ["a", "a"]}, 'ss: the set holds "a" twice'),
        ("ns", {"NS": ["1", "1.0"]}, 'ns: the set holds "1.0" twice'),
        ("b", {"B": "%%%"}, "b: '%%%' is not base64"),
        ("x", {"NULL": False}, "x: NULL must be true"),
        ("m", {"M": {"deep": {"L": [{"N": "x"}]}}}, "m.deep[0]: 'x' is not a number"),
    ],
)
def test_a_bad_value_names_the_migration_the_key_and_the_attribute(attribute, value, reason):
    with pytest.raises(MigrationError) as info:
        check_item({**GOOD, attribute: value}, "m1", KEY)
    message = str(info.value)
    assert message.startswith(
        'Migration m1: the function\'s result for {"pk": {"S": "order#1"}}, attribute '
    )
    assert reason in message


def test_an_item_over_400_kb_is_refused():
    with pytest.raises(MigrationError, match="is about 400 KB; DynamoDB items are at most 400 KB"):
        check_item({**KEY, "blob": {"S": "x" * (400 * 1024)}}, "m1", KEY)
    check_item({**KEY, "blob": {"S": "x" * (399 * 1024)}}, "m1", KEY)
