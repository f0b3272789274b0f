"""A migration's expressions checked as DynamoDB checks the requests the runner sends.

DynamoDB counts placeholders per request: every #name and :value an expression uses must be
defined, and every one defined must be used by one of the request's expressions ("An expression
attribute name used in the document path is not defined" / "Value provided in
ExpressionAttributeValues unused in expressions", API Reference, Common errors of UpdateItem,
Query and Scan). The runner sends one read request per source (KeyCondition and Filter, with the
source's Names and Values) and one write request per item (Expression and Condition, with the
operation's); `GROUPS` says which expressions share which placeholders.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from macro.errors import Problem
from macro.expressions.errors import ExpressionError
from macro.expressions.lexer import Token
from macro.expressions.parser import (
    Parsed,
    Path,
    parse_condition,
    parse_key_condition,
    parse_update,
)
from macro.expressions.reserved import is_reserved

Parser = Callable[[str], Parsed]
RUNNER_NAME = "#dynamigrate_key"  # the runner's own placeholder (runner/operations.py)
ATTRIBUTE_TYPES = ("S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M")

# (section, expression property, parser)
GROUPS: dict[str, tuple[tuple[str, Parser], ...]] = {
    "Scan": (("Filter", parse_condition),),
    "Query": (("KeyCondition", parse_key_condition), ("Filter", parse_condition)),
    "Update": (("Expression", parse_update), ("Condition", parse_condition)),
    "Delete": (("Condition", parse_condition),),
    "Verify": (("Condition", parse_condition),),  # runner.verify: the pass's Filter is NOT it
}


@dataclass(frozen=True)
class KeySchema:
    partition: str
    sort: str | None = None


KeysOf = Callable[[str | None], KeySchema | None]  # index name (None: the table) -> its keys


def _sections(props: dict[str, Any], skip: set[str]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(path, kind, body) of the source and each operation written with expressions."""
    for prop in ("Source", "Up", "Down"):
        section = props.get(prop)
        if prop in skip:
            continue
        if not isinstance(section, dict):
            continue
        for kind in GROUPS:
            if kind == "Verify":
                continue
            body = section.get(kind)
            if kind == "Delete" and body is None and kind in section:
                body = {}
            if isinstance(body, dict) and all(
                isinstance(body.get(k, {}), dict) for k in ("Names", "Values")
            ):  # else the contract reports the shape
                yield f"{prop}.{kind}", kind, body
    verify = props.get("Verify")
    if "Verify" not in skip and isinstance(verify, dict):
        yield "Verify", "Verify", verify


def _excerpt(text: str, position: int) -> str:
    return f'at character {position} of "{text}"'


def _placeholders(body: dict[str, Any], prop: str) -> dict[str, Any]:
    value = body.get(prop)
    return value if isinstance(value, dict) else {}


def _undefined(base: str, plural: str, token: Token) -> str:
    what = f"{token.text} (at character {token.position}) is not defined: add it to {base}.{plural}"
    return what + (
        f', e.g. Names: {{"{token.text}": <attribute name>}}' if plural == "Names" else ""
    )


class _Group:
    """The expressions of one request and the placeholders they share."""

    def __init__(self, base: str, kind: str, body: dict[str, Any]) -> None:
        self.base, self.kind, self.body = base, kind, body
        self.names = _placeholders(body, "Names")
        self.values = _placeholders(body, "Values")
        self.parsed: dict[str, Parsed] = {}
        self.problems: list[Problem] = []
        self.broken = False

    def parse(self) -> None:
        for prop, parser in GROUPS[self.kind]:
            text = self.body.get(prop)
            if not isinstance(text, str) or not text.strip():
                continue
            try:
                self.parsed[prop] = parser(text)
            except ExpressionError as exc:
                self.broken = True
                self.problems.append(
                    Problem.at(
                        f"{self.base}.{prop}",
                        f"{exc.message}, {_excerpt(text, exc.position)}",
                        exc.position,
                    )
                )

    def name(self, element: str | int) -> str | int:
        return self.names.get(element, element) if isinstance(element, str) else element

    def check_placeholders(self) -> None:
        used: dict[str, set[str]] = {"Names": set(), "Values": set()}
        for prop, parsed in self.parsed.items():
            for plural, tokens, defined in (
                ("Names", parsed.names, self.names),
                ("Values", parsed.values, self.values),
            ):
                for token in tokens:
                    used[plural].add(token.text)
                    if token.text not in defined:
                        self.problems.append(
                            Problem.at(
                                f"{self.base}.{prop}",
                                _undefined(self.base, plural, token),
                                token.position,
                            )
                        )
            here = f"{self.base}.{prop}"
            for token in parsed.bare_names:
                if is_reserved(token.text):
                    alias = f"#{token.text.lower()}"
                    self.problems.append(
                        Problem.at(
                            here,
                            f"{token.text} (at character {token.position}) is a DynamoDB reserved "
                            f'word: write {alias} and add Names: {{"{alias}": "{token.text}"}}',
                            token.position,
                        )
                    )
        if RUNNER_NAME in self.names:
            self.problems.append(
                Problem.at(
                    f"{self.base}.Names.{RUNNER_NAME}", "is the runner's own placeholder: rename it"
                )
            )
        if self.broken:
            return  # what a broken expression uses is unknown: no "unused" guesses
        using = " or ".join(f"{self.base}.{p}" for p in self.parsed) or "any expression"
        for kind, plural, defined in (
            ("name", "Names", self.names),
            ("value", "Values", self.values),
        ):
            for key in defined:
                if key not in used[plural] and key != RUNNER_NAME:
                    self.problems.append(
                        Problem.at(
                            f"{self.base}.{plural}.{key}",
                            f"is not used by {using}: DynamoDB rejects a request with an "
                            f"unused {kind}; remove it",
                        )
                    )


def _overlap(first: tuple[str | int, ...], second: tuple[str | int, ...]) -> bool:
    shorter = min(len(first), len(second))
    return first[:shorter] == second[:shorter]


def _check_update(group: _Group, keys: KeySchema | None) -> None:
    parsed = group.parsed.get("Expression")
    if parsed is None:
        return
    here = f"{group.base}.Expression"
    resolved: list[tuple[str, Path, tuple[str | int, ...]]] = []
    for clause, path in parsed.paths:
        elements = tuple(group.name(e) for e in path.elements)
        for _, other, other_elements in resolved:
            if _overlap(elements, other_elements):
                group.problems.append(
                    Problem.at(
                        here,
                        f"{path} (at character {path.position}) overlaps {other} (at character "
                        f"{other.position}): DynamoDB refuses two actions on one document path; "
                        "keep one",
                        path.position,
                    )
                )
                break
        resolved.append((clause, path, elements))
        if keys and len(elements) >= 1 and elements[0] in (keys.partition, keys.sort):
            group.problems.append(
                Problem.at(
                    here,
                    f"{path} (at character {path.position}) is the table's key attribute "
                    f"{elements[0]}: an update cannot change a key (copy the items with a "
                    "transform Function and a Target instead)",
                    path.position,
                )
            )
    for clause, token in parsed.clause_values:
        value = group.values.get(token.text)
        if token.text not in group.values:
            continue
        if clause == "DELETE":
            group.problems.append(
                Problem.at(
                    here,
                    f"DELETE {token.text} (at character {token.position}) removes elements of a "
                    "set, and Values cannot hold a set (a YAML or JSON list is a DynamoDB "
                    "List): use a transform Function",
                    token.position,
                )
            )
        elif isinstance(value, list):
            group.problems.append(
                Problem.at(
                    here,
                    f"ADD {token.text} (at character {token.position}) adds to a number or a "
                    f"set, but {group.base}.Values.{token.text} is a list, which DynamoDB gets "
                    f"as a List, never a set: to append to a list, SET path = "
                    f"list_append(path, {token.text}); to add to a string set, use a transform "
                    "Function (Values cannot hold a set)",
                    token.position,
                )
            )
        elif isinstance(value, bool) or not isinstance(value, int | float):
            group.problems.append(
                Problem.at(
                    here,
                    f"ADD {token.text} (at character {token.position}) adds a number, but "
                    f"{group.base}.Values.{token.text} is not a number: use SET to assign it, "
                    "or a transform Function to add it to a set (Values cannot hold a set)",
                    token.position,
                )
            )


def _check_types(group: _Group) -> None:
    for prop, parsed in group.parsed.items():
        for token in parsed.type_values:
            value = group.values.get(token.text)
            if token.text in group.values and value not in ATTRIBUTE_TYPES:
                group.problems.append(
                    Problem.at(
                        f"{group.base}.Values.{token.text}",
                        f"is the type in {group.base}.{prop}'s attribute_type and must be one "
                        f"of {', '.join(ATTRIBUTE_TYPES)}, got {value!r}",
                    )
                )


def _check_key_condition(group: _Group, keys: KeySchema | None) -> None:
    parsed = group.parsed.get("KeyCondition")
    if parsed is None:
        return
    here = f"{group.base}.KeyCondition"
    terms = parsed.key_terms
    names = [group.name(t.attribute) for t in terms]
    if len(terms) == 2 and names[0] == names[1]:
        group.problems.append(
            Problem.at(here, f"names {names[0]} twice: give each key one condition")
        )
        return
    if keys is None:
        if not any(t.operator == "=" for t in terms):
            group.problems.append(
                Problem.at(here, "needs an equality (=) on the partition key, e.g. pk = :pk")
            )
        return
    index = group.body.get("IndexName")
    owner = f"index {index}" if isinstance(index, str) else "the table"
    before = len(group.problems)
    for term, name in zip(terms, names, strict=True):
        if name == keys.partition:
            if term.operator != "=":
                group.problems.append(
                    Problem.at(
                        here,
                        f"{term.operator} on the partition key {name} (at character "
                        f"{term.position}): the partition key takes only =",
                        term.position,
                    )
                )
        elif name != keys.sort:
            key_names = " and ".join(k for k in (keys.partition, keys.sort) if k)
            group.problems.append(
                Problem.at(
                    here,
                    f"{name} (at character {term.position}) is not a key of {owner} "
                    f"(its keys: {key_names}); filter on it with Filter instead",
                    term.position,
                )
            )
    if keys.partition not in names and len(group.problems) == before:
        group.problems.append(
            Problem.at(here, f"needs an equality on {owner}'s partition key {keys.partition}")
        )


def check_expressions(
    props: dict[str, Any], keys_of: KeysOf | None = None, skip: set[str] | None = None
) -> list[Problem]:
    """Every expression problem of one migration's properties (but its `skip` sections)."""
    problems: list[Problem] = []
    for base, kind, body in _sections(props, skip or set()):
        group = _Group(base, kind, body)
        group.parse()
        group.check_placeholders()
        _check_types(group)
        index = body.get("IndexName") if base.startswith("Source") else None
        keys = keys_of(index if isinstance(index, str) else None) if keys_of else None
        if kind == "Query":
            _check_key_condition(group, keys)
        if kind == "Update":
            _check_update(group, keys_of(None) if keys_of else None)
        problems.extend(group.problems)
    return problems
