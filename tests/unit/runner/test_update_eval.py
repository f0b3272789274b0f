"""The UpdateExpression evaluator: what changes nothing, what changes, and what it cannot know."""

from __future__ import annotations

from typing import Any

import pytest

from runner.update_eval import Unknown, changes_nothing, evaluate, same_items
from runner.update_expr import parse_update

ITEM: dict[str, Any] = {
    "pk": {"S": "p"},
    "n": {"N": "5"},
    "s": {"S": "x"},
    "l": {"L": [{"N": "1"}, {"N": "2"}]},
    "m": {"M": {"a": {"N": "1"}}},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2"]},
}
VALUES: dict[str, Any] = {
    ":zero": {"N": "0"},
    ":one": {"N": "1"},
    ":five": {"N": "5.00"},
    ":x": {"S": "x"},
    ":y": {"S": "y"},
    ":empty": {"L": []},
    ":a": {"SS": ["a"]},
    ":c": {"SS": ["c"]},
    ":two": {"NS": ["2.0"]},
    ":big": {"N": "9" * 38},
}


def nothing(text: str, item: dict[str, Any] | None = None, names: Any = None) -> bool:
    return changes_nothing(parse_update(text, names or {}), item or ITEM, VALUES)


@pytest.mark.parametrize(
    "text",
    [
        "REMOVE gone",
        "REMOVE gone, other",
        "SET s = :x",
        "SET n = :five",  # numbers compare by value: 5.00 is stored as 5
        "SET n = n + :zero",
        "SET n = n - :zero",
        "SET n = if_not_exists(n, :one)",
        "SET s = if_not_exists(s, :y)",
        "SET l = list_append(l, :empty)",
        "SET l[0] = :one",
        "SET m.a = :one",
        "SET s = s, n = n",
        "ADD n :zero",
        "ADD ss :a",
        "ADD ns :two",
        "DELETE ss :c",
        "SET s = :x REMOVE gone ADD n :zero",
        "set s = :x",
    ],
)
def test_what_changes_nothing(text: str) -> None:
    assert nothing(text)


@pytest.mark.parametrize(
    "text",
    [
        "REMOVE s",
        "SET s = :y",
        "SET n = n + :one",
        "ADD n :one",
        "ADD gone :one",
        "SET gone = if_not_exists(gone, :one)",
        "SET l = list_append(l, l)",
        "SET m.a = :zero",
        "SET m.b = :zero",
        "ADD ss :c",
        "DELETE ss :a",
        "REMOVE l[0]",
        "REMOVE m.a",
    ],
)
def test_what_changes(text: str) -> None:
    assert not nothing(text)


@pytest.mark.parametrize(
    "text",
    [
        "SET n = gone + :one",  # DynamoDB refuses: the operand is missing
        "SET n = s + :one",  # not a number
        "SET n = n + :big",  # past 38 digits: DynamoDB refuses
        "SET l = list_append(s, :empty)",
        "SET gone.a = :one",  # the parent is missing
        "SET s.a = :one",
        "SET l[5] = :one",  # past the end DynamoDB appends
        "ADD s :one",
        "ADD m.a :zero",
        "DELETE gone :a",
        "DELETE ss :two",
        "REMOVE gone.a",
        "REMOVE m.b",
        "REMOVE l[9]",
        "SET s = :undefined",
    ],
)
def test_what_it_cannot_know_writes_as_today(text: str) -> None:
    assert not nothing(text)
    parsed = parse_update(text, {})
    assert parsed is not None
    with pytest.raises(Unknown):
        evaluate(parsed, ITEM, VALUES)


@pytest.mark.parametrize(
    "text",
    ["", "SET", "SET s = size(l)", "SET s = (s)", "SET s = :x SET n = :one", "UPDATE s = :x", "#u"],
)
def test_what_it_does_not_parse_writes_as_today(text: str) -> None:
    assert parse_update(text, {}) is None
    assert not nothing(text)


def test_names_are_resolved() -> None:
    assert nothing("SET #s = :x", names={"#s": "s"})
    assert not nothing("SET #s = :y", names={"#s": "s"})
    assert parse_update("SET #undefined = :x", {}) is None


def test_the_result_is_what_dynamodb_stores() -> None:
    parsed = parse_update("SET n = n + :one, l = list_append(:empty, l) ADD ss :c", {})
    assert parsed is not None
    after = evaluate(parsed, ITEM, VALUES).item
    assert after["n"] == {"N": "6"}
    assert sorted(after["ss"]["SS"]) == ["a", "b", "c"]
    assert after["l"] == ITEM["l"]
    assert ITEM["n"] == {"N": "5"}, "the item read is left as it was"


def test_an_emptied_set_is_removed() -> None:
    parsed = parse_update("DELETE ss :ab", {})
    assert parsed is not None
    after = evaluate(parsed, ITEM, {":ab": {"SS": ["a", "b"]}}).item
    assert "ss" not in after


def test_crossed_reads_are_reported() -> None:
    for text, crossed in [("SET a = b, b = :x", True), ("SET n = n + :one", False)]:
        parsed = parse_update(text, {})
        assert parsed is not None
        assert evaluate(parsed, {**ITEM, "a": ITEM["s"], "b": ITEM["s"]}, VALUES).crossed is crossed


def test_same_items() -> None:
    assert same_items({"b": {"B": b"x"}}, {"b": {"B": bytearray(b"x")}})
    assert same_items({"s": {"SS": ["a", "b"]}}, {"s": {"SS": ["b", "a"]}})
    assert not same_items({"s": {"SS": ["a"]}}, {"s": {"L": [{"S": "a"}]}})
    assert not same_items({"a": {"N": "1"}}, {})
