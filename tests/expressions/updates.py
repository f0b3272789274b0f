"""A corpus of UpdateExpressions, each applied to several items: the evaluator's cases.

`runner.update_eval` must predict what DynamoDB leaves of an item after an update. Each case is
an expression (its Values from `VALUES`) and an item of `ITEMS`; the functional oracle test
(tests/functional/test_update_oracle.py) applies every case with UpdateItem on the emulator and
compares the item it stores with the evaluator's prediction. Every expression is one the macro
accepts (reserved words go through #names: the macro refuses them bare before deploy, so the
worker never meets them).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

VALUES: dict[str, Any] = {
    ":zero": {"N": "0"},
    ":one": {"N": "1"},
    ":five": {"N": "5"},
    ":fivezeros": {"N": "5.000"},
    ":neg": {"N": "-2.5"},
    ":x": {"S": "x"},
    ":y": {"S": "y"},
    ":empty": {"L": []},
    ":l": {"L": [{"N": "3"}]},
    ":m": {"M": {"a": {"N": "1"}}},
    ":a": {"SS": ["a"]},
    ":c": {"SS": ["c"]},
    ":ab": {"SS": ["a", "b"]},
    ":two": {"NS": ["2"]},
    ":nine": {"NS": ["9"]},
    ":t": {"BOOL": True},
    ":null": {"NULL": True},
    ":bin": {"B": b"\x00\x01"},
    ":big": {"N": "9" * 38},
}
NAMES = {"#s": "status", "#n": "n", "#m": "m"}

FULL: dict[str, Any] = {
    "n": {"N": "5"},
    "s": {"S": "x"},
    "status": {"S": "x"},
    "l": {"L": [{"N": "1"}, {"N": "2"}]},
    "m": {"M": {"a": {"N": "1"}, "x": {"M": {"y": {"N": "1"}}}}},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2"]},
    "flag": {"BOOL": True},
    "nul": {"NULL": True},
    "bin": {"B": b"\x00\x01"},
}
ITEMS: dict[str, dict[str, Any]] = {
    "full": FULL,
    "sparse": {"n": {"N": "0"}},
    "types": {
        "n": {"S": "5"},
        "s": {"N": "1"},
        "l": {"M": {}},
        "m": {"L": []},
        "ss": {"NS": ["1"]},
    },
}

EXPRESSIONS = [
    # SET of values
    "SET s = :x",
    "SET s = :y",
    "SET #s = :x",
    "SET n = :five",
    "SET n = :fivezeros",
    "SET n = :one",
    "SET flag = :t",
    "SET nul = :null",
    "SET bin = :bin",
    "SET l = :l",
    "SET m = :m",
    "SET fresh = :x",
    "SET s = :x, n = :five",
    "set s = :x",
    # arithmetic
    "SET n = n + :zero",
    "SET n = n - :zero",
    "SET n = n + :one",
    "SET n = :one + n",
    "SET n = n - :neg",
    "SET #n = #n + :one",
    "SET n = n + :big",
    "SET n = gone + :one",
    "SET n = s + :one",
    "SET n = if_not_exists(n, :zero) + :one",
    "SET n = if_not_exists(gone, :zero) + :one",
    # if_not_exists and list_append
    "SET n = if_not_exists(n, :one)",
    "SET s = if_not_exists(s, :y)",
    "SET fresh = if_not_exists(fresh, :x)",
    "SET l = list_append(l, :empty)",
    "SET l = list_append(:empty, l)",
    "SET l = list_append(l, :l)",
    "SET l = list_append(:l, l)",
    "SET l = list_append(l, l)",
    "SET l = list_append(if_not_exists(l, :empty), :l)",
    "SET l = list_append(s, :l)",
    # nested paths
    "SET m.a = :one",
    "SET m.a = :zero",
    "SET m.b = :one",
    "SET #m.a = :one",
    "SET m.x.y = :one",
    "SET m.x.y = m.x.y + :zero",
    "SET gone.a = :one",
    "SET s.a = :one",
    "SET l[0] = :one",
    "SET l[1] = :one",
    "SET l[5] = :one",
    "SET m.l[0] = :one",
    # copies between attributes
    "SET s = #s",
    "SET s = s, n = n",
    "SET #s = s",
    # REMOVE
    "REMOVE gone",
    "REMOVE gone, fresh",
    "REMOVE s",
    "REMOVE #s",
    "REMOVE m.a",
    "REMOVE m.b",
    "REMOVE gone.a",
    "REMOVE l[0]",
    "REMOVE l[9]",
    "REMOVE m.x.y",
    # ADD and DELETE
    "ADD n :zero",
    "ADD n :one",
    "ADD gone :one",
    "ADD ss :a",
    "ADD ss :c",
    "ADD ns :two",
    "ADD ns :nine",
    "ADD freshset :a",
    "ADD s :one",
    "DELETE ss :c",
    "DELETE ss :a",
    "DELETE ss :ab",
    "DELETE ns :two",
    "DELETE gone :a",
    "DELETE ss :two",
    # clauses together
    "SET s = :x REMOVE gone ADD n :zero",
    "SET s = :y REMOVE gone ADD n :zero",
    "REMOVE gone SET n = n + :zero",
    "SET s = :x DELETE ss :c",
]
_PLACEHOLDER = re.compile(r"[#:][A-Za-z0-9_]+")


@dataclass(frozen=True)
class UpdateCase:
    expression: str
    item_name: str

    @property
    def id(self) -> str:
        return f"{self.item_name}: {self.expression}"

    @property
    def item(self) -> dict[str, Any]:
        return ITEMS[self.item_name]

    @property
    def names(self) -> dict[str, str]:
        return {p: NAMES[p] for p in _PLACEHOLDER.findall(self.expression) if p in NAMES}

    @property
    def values(self) -> dict[str, Any]:
        return {p: VALUES[p] for p in _PLACEHOLDER.findall(self.expression) if p in VALUES}


CASES = [UpdateCase(e, i) for e, i in itertools.product(EXPRESSIONS, ITEMS)]
