"""The runner joins conditions as DynamoDB accepts them (no I/O)."""

from __future__ import annotations

import pytest

from macro.expressions import parse_condition
from runner.conditions import conjunction, enclosed, placeholders_of


@pytest.mark.parametrize(
    ("text", "whole"),
    [("(a = :v)", True), ("(a = :v) AND (b = :w)", False), ("((a))", True), ("a = :v", False)],
)
def test_enclosed(text, whole):
    assert enclosed(text) is whole


@pytest.mark.parametrize(
    "user",
    ["a = :v", "(a = :v OR b = :w)", "(a = :v) AND (b = :w)", "NOT (a = :v)", " (a = :v) "],
)
def test_the_joined_condition_is_one_dynamodb_accepts(user):
    joined = conjunction("attribute_exists(#k)", user)
    assert joined is not None
    parse_condition(joined)  # the checker refuses redundant parentheses, as DynamoDB does


def test_nothing_to_join():
    assert conjunction(None, "") is None
    assert conjunction("a = :v", None) == "a = :v"


def test_placeholders_of():
    assert placeholders_of("#a = :v AND attribute_exists(#b.c[0])") == {"#a", ":v", "#b"}
