"""A corpus of DynamoDB expressions, valid and invalid, hand-written and generated.

Each case is one expression of one kind, with the Names and Values a user would write (derived
from the placeholders it uses unless the case gives them). `expected` is set where the Developer
Guide settles the verdict (the hand-written cases, including every mistake of issue 14); the
generated cases are judged by the checker and the emulator's DynamoDB, and must agree.

The table: partition key `pk`, sort key `sk`, a global secondary index `GSI` on `gpk`/`gsk`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from macro.expressions.reserved import RESERVED_WORDS

Kind = Literal["update", "condition", "filter", "key"]

NAME_OF = {"#n": "n", "#s": "status", "#pk": "pk", "#sk": "sk", "#m": "m", "#l": "l"}
VALUE_OF: dict[str, Any] = {
    ":v": 1,
    ":w": 2,
    ":zero": 0,
    ":str": "xy",
    ":l": [3],
    ":t": "N",
    ":p": "p",
    ":sk": "s",
    ":lo": "a",
    ":hi": "z",
    ":g": "g",
}
_PLACEHOLDER = re.compile(r"[#:][A-Za-z0-9_]+")


@dataclass(frozen=True)
class Case:
    kind: Kind
    text: str
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    expected: bool | None = None  # True valid, False invalid, None: judged by the two
    index: str | None = None  # key conditions on the GSI

    @property
    def id(self) -> str:
        extra = f" names={self.names}" if self.names else ""
        extra += f" values={self.values}" if self.values else ""
        return f"{self.kind}{'@' + self.index if self.index else ''}: {self.text}{extra}"


def case(
    kind: Kind,
    text: str,
    expected: bool | None = None,
    names: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    index: str | None = None,
) -> Case:
    """A case whose Names/Values are the ones its placeholders need, unless given."""
    used = _PLACEHOLDER.findall(text)
    if names is None:
        names = {p: NAME_OF.get(p, p[1:]) for p in used if p.startswith("#")}
    if values is None:
        values = {p: VALUE_OF.get(p, 1) for p in used if p.startswith(":")}
    return Case(kind, text, names, values, expected, index)


# The mistakes issue 14 lists, and what the Developer Guide says of each. -----------------------
ISSUE_CASES = [
    case("update", "SET #s = ", False),
    case("update", "SET #t = :v", False, names={}),
    case("condition", "attribute_exists(#t)", False, names={}),
    case("filter", "a = :v", False, values={}),
    case("update", "SET a = :v", False, values={":v": 1, ":unused": 2}),
    case("update", "SET status = :v", False),
]

HAND_WRITTEN = [
    # conditions and filters
    case("condition", "a = :v", True),
    case("condition", "a <> :v AND b = :str", True),
    case("condition", "a < :v OR a > :w", True),
    case("condition", "NOT a = :v", True),
    case("condition", "not (a = :v or a = :w)", True),
    case("condition", "a BETWEEN :v AND :w", True),
    case("condition", "a IN (:v, :w)", True),
    case("condition", "a IN (:v)", True),
    case("condition", "attribute_exists(a)", True),
    case("condition", "attribute_not_exists(#n) AND attribute_exists(m.x.y)", True),
    case("condition", "attribute_type(a, :t)", True),
    case("condition", "begins_with(str, :str)", True),
    case("condition", "contains(l, :v)", True),
    case("condition", "size(l) > :v", True),
    case("condition", "size(l) BETWEEN :v AND :w", True),
    case("condition", "l[0] = :v", True),
    case("condition", "m.x.y = :v", True),
    case("condition", "#m.#n = :v", True),
    case("condition", "((a = :v))", False),
    case("condition", "(a = :v)", True),
    case("condition", "(a = :v OR b = :str)", True),
    case("filter", "(a = :v OR b = :str)", True),
    case("condition", "((a = :v) AND (b = :str))", True),
    case("condition", "((a = :v AND b = :str))", False),
    case("condition", "a = :v OR (b = :str AND a = :w)", True),
    case("condition", "(a = :v AND b = :str) AND a = :w", True),
    case("condition", "NOT (a = :v)", True),
    case("condition", "NOT ((a = :v))", False),
    case("condition", "a = b", True),
    case("condition", "a = ", False),
    case("condition", "a == :v", False),
    case("condition", "a != :v", False),
    case("condition", "a = :v AND", False),
    case("condition", "(a = :v", False),
    case("condition", "a = :v)", False),
    case("condition", "ATTRIBUTE_EXISTS(a)", False),
    case("condition", "attribute_exist(a)", False),
    case("condition", "size(l)", False),
    case("condition", "a BETWEEN :v", False),
    case("condition", "a IN ()", False),
    case("condition", "a IN :v", False),
    case("condition", 'a = "x"', False),
    case("condition", "a = 5", False),
    case("condition", "1a = :v", False),
    case("condition", "a-b = :v", False),
    case("condition", "m.x. = :v", False),
    case("condition", "l[x] = :v", False),
    case("condition", "a = :v :w", False),
    case("condition", "NOT", False),
    case("condition", "a = attribute_exists(b)", False),
    case("condition", "a IN (" + ", ".join(f":v{i}" for i in range(101)) + ")", False),
    case("condition", "a IN (" + ", ".join(f":v{i}" for i in range(100)) + ")", True),
    case("condition", "a = :v", False, names={"#n": "n"}),
    case("condition", "a = :undefined", False, values={}),
    case("condition", "a = :v", False, values={":v": 1, ":w": 2}),
    # updates
    case("update", "SET a = :v", True),
    case("update", "set a = :v", True),
    case("update", "SET a = a + :v", True),
    case("update", "SET a = :v - a", True),
    case("update", "SET l = list_append(l, :l)", True),
    case("update", "SET l = list_append(:l, l)", True),
    case("update", "SET a = if_not_exists(a, :v)", True),
    case("update", "SET #n = if_not_exists(#n, :zero) + :v", True),
    case("update", "SET l = list_append(if_not_exists(l, :l), :l)", True),
    case("update", "SET m.x.z = :v", True),
    case("update", "SET l[0] = :v", True),
    case("update", "REMOVE b", True),
    case("update", "REMOVE l[1], m.x", True),
    case("update", "ADD a :v", True),
    case("update", "SET a = :v REMOVE b", True),
    case("update", "REMOVE b SET a = :v", True),
    case("update", "SET a = :v, b = :str REMOVE str ADD n :w", True),
    case("update", "SET a = b", True),
    case("update", "SET a = :v SET b = :w", False),
    case("update", "SET a = :v, a = :w", False),
    case("update", "SET a = :v REMOVE a", False),
    case("update", "SET m = :v REMOVE m.x", False),
    case("update", "SET l[0] = :v, l[0] = :w", False),
    case("update", "SET = :v", False),
    case("update", "SET a :v", False),
    case("update", "REMOVE", False),
    case("update", "ADD a", False),
    case("update", "ADD a :str", False),
    case("update", "ADD a :l", False),
    case("update", "DELETE l :l", False),
    case("update", "UPDATE a = :v", False),
    case("update", "SET a = :v + :v + :w", False),
    case("update", "SET a = list_append(l)", False),
    case("update", "SET a = if_not_exists(:v, a)", False),
    case("update", "SET a = size(l)", False),
    case("update", "SET a = attribute_exists(b)", False),
    case("update", "SET pk = :p", False),
    case("update", "SET #pk = :p", False),
    case("update", "REMOVE sk", False),
    case("update", "SET a = :v,", False),
    case("update", "a = :v", False),
    case("update", "", False),
    case("update", "SET a = LIST_APPEND(l, :l)", False),
    case("update", "SET #n = :v", False, names={"#n": "n", "#unused": "u"}),
    # key conditions
    case("key", "pk = :p", True),
    case("key", "#pk = :p", True),
    case("key", "pk = :p AND sk = :sk", True),
    case("key", "pk = :p AND sk < :sk", True),
    case("key", "pk = :p AND sk <= :sk", True),
    case("key", "pk = :p AND sk > :sk", True),
    case("key", "pk = :p AND sk >= :sk", True),
    case("key", "pk = :p AND sk BETWEEN :lo AND :hi", True),
    case("key", "pk = :p AND begins_with(sk, :sk)", True),
    case("key", "pk = :p and begins_with(#sk, :sk)", True),
    case("key", "gpk = :g", True, index="GSI"),
    case("key", "gpk = :g AND gsk > :lo", True, index="GSI"),
    case("key", "sk = :sk", False),
    case("key", "pk < :p", False),
    case("key", "pk = :p AND a = :v", False),
    case("key", "pk = :p OR sk = :sk", False),
    case("key", "pk = :p AND sk <> :sk", False),
    case("key", "pk = :p AND sk IN (:sk)", False),
    case("key", "pk = :p AND sk = :sk AND sk > :lo", False),
    case("key", "begins_with(pk, :p)", False),
    case("key", "pk = :p AND contains(sk, :sk)", False),
    case("key", "pk = :p AND size(sk) > :v", False),
    case("key", "NOT pk = :p", False),
    case("key", "pk = :p", False, index="GSI"),
    case("key", "pk = :p AND pk = :p", False),
    case("key", "pk = :undefined", False, values={}),
    case("key", "pk = :p", False, values={":p": "p", ":unused": 1}),
    case("key", "pk = :p AND begins_with(sk)", False),
    case("key", "m.x = :p", False),
    case("key", "(pk = :p) AND (sk = :sk)", True),
    case("key", "((pk = :p))", False),
]


def _generated() -> list[Case]:
    """Systematic combinations: every comparator and operand shape, clause and reserved word."""
    cases: list[Case] = []
    operands = ["a", "#n", "m.x.y", "l[0]", "#m.n", ":v", "size(l)"]
    for comparator in ("=", "<>", "<", "<=", ">", ">="):
        for left in operands:
            right = ":w" if left != ":w" else "a"
            cases.append(case("condition", f"{left} {comparator} {right}"))
            cases.append(case("filter", f"{left} {comparator} {right}"))
    for function in ("attribute_exists", "attribute_not_exists"):
        for path in ("a", "#n", "m.x", "l[1]"):
            cases.append(case("condition", f"{function}({path})"))
            cases.append(case("filter", f"NOT {function}({path})"))
        cases.append(case("condition", f"{function}(:v)"))
        cases.append(case("condition", f"{function.upper()}(a)"))
    for joiner in ("AND", "OR", "and", "or"):
        cases.append(case("filter", f"a = :v {joiner} attribute_exists(#n)"))
        cases.append(case("filter", f"(a = :v {joiner} b = :str) AND NOT contains(l, :w)"))
        cases.append(case("filter", f"a = :v {joiner}"))
    for clause in ("SET", "REMOVE", "ADD", "DELETE"):
        cases.append(case("update", f"{clause}"))
        cases.append(case("update", f"{clause.lower()} a"))
    for target in ("a", "#n", "m.x", "l[0]", "m.#n"):
        cases.append(case("update", f"SET {target} = :v"))
        cases.append(case("update", f"REMOVE {target}"))
        cases.append(case("update", f"SET {target} = :v REMOVE {target}"))
    for operator in ("=", "<", "<=", ">", ">=", "<>"):
        cases.append(case("key", f"pk = :p AND sk {operator} :sk"))
        cases.append(case("key", f"pk {operator} :p"))
    words = sorted(RESERVED_WORDS)[::9]  # 64 of the 573, spread through the alphabet
    for word in words:
        cases.append(case("update", f"SET {word.lower()} = :v"))
    for word in words[::2]:
        cases.append(case("update", "SET #w = :v", names={"#w": word.lower()}))
        cases.append(case("filter", f"attribute_exists({word.capitalize()})"))
    for plain in ("amount", "price", "customer_id", "tier", "_private", "createdAt"):
        cases.append(case("update", f"SET {plain} = :v"))
    return cases


def _unique(cases: list[Case]) -> list[Case]:
    seen: dict[str, Case] = {}
    for each in cases:
        seen.setdefault(each.id, each)  # a hand-written case (with its verdict) comes first
    return list(seen.values())


CORPUS: list[Case] = _unique(ISSUE_CASES + HAND_WRITTEN + _generated())
