"""The attributes an update expression writes: the roots of its SET, REMOVE, ADD, DELETE paths."""

from __future__ import annotations

import pytest

from runner.update_targets import updated_names

CASES = {
    "set": ("SET a = :v", {}, {"a"}),
    "names": ("SET #s = :p, #n.x = :q", {"#s": "status", "#n": "nested"}, {"status", "nested"}),
    "functions": (
        "SET l = list_append(if_not_exists(l, :empty), :new), c = c + :one",
        {},
        {"l", "c"},
    ),
    "every-clause": (
        "SET a = :v REMOVE b, c[2] ADD d :one DELETE e :set",
        {},
        {"a", "b", "c", "d", "e"},
    ),
    "lowercase": ("set a = b remove c", {}, {"a", "c"}),
    "value-paths-are-not-targets": ("SET a = b.c", {}, {"a"}),
}


@pytest.mark.parametrize(("expression", "names", "expected"), CASES.values(), ids=CASES.keys())
def test_the_roots_of_every_path_written(expression, names, expected):
    assert updated_names(expression, names) == expected
