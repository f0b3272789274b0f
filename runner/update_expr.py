"""An UpdateExpression as a tree the worker can evaluate (runner.update_eval).

The grammar of "Update expressions" (Amazon DynamoDB Developer Guide,
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.UpdateExpressions.html):

    update    ::= (SET action, ... | REMOVE path, ... | ADD path :value, ...
                   | DELETE path :value, ...)+
    action    ::= path = value
    value     ::= operand | operand '+' operand | operand '-' operand
    operand   ::= :value | path | if_not_exists(path, operand) | list_append(operand, operand)
    path      ::= name ('.' name | '[' index ']')*

The macro checks an expression before deploy (macro.expressions); the runner package does not
ship the macro, so this is its own small parser. It parses what the macro accepts and returns
None for anything else: the worker then writes as it always did and DynamoDB judges. It does not
repeat the macro's checks (reserved words, unused placeholders, overlapping paths): the spec the
worker runs passed them before deploy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"\s*(?:(?P<name>\#[A-Za-z0-9_]+)|(?P<value>:[A-Za-z0-9_]+)|(?P<word>[A-Za-z][A-Za-z0-9_]*)"
    r"|(?P<number>[0-9]+)|(?P<op>[=(),.\[\]+\-]))"
)
CLAUSES = ("SET", "REMOVE", "ADD", "DELETE")

Element = str | int  # an attribute name (placeholders resolved) or a list index


@dataclass(frozen=True)
class Path:
    elements: tuple[Element, ...]


@dataclass(frozen=True)
class Value:
    placeholder: str  # a :value


@dataclass(frozen=True)
class IfNotExists:
    path: Path
    default: Operand


@dataclass(frozen=True)
class ListAppend:
    first: Operand
    second: Operand


@dataclass(frozen=True)
class Arithmetic:
    left: Operand
    operator: str  # + or -
    right: Operand


Operand = Value | Path | IfNotExists | ListAppend
SetValue = Operand | Arithmetic


@dataclass(frozen=True)
class Action:
    clause: str  # SET, REMOVE, ADD or DELETE
    path: Path
    value: SetValue | None = None  # None for REMOVE


@dataclass(frozen=True)
class Update:
    actions: tuple[Action, ...]


class _Unparsed(Exception):
    """The expression is outside what this parser models."""


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    at = 0
    while at < len(text):
        if text[at:].strip() == "":
            break
        match = _TOKEN.match(text, at)
        if match is None or match.lastgroup is None:
            raise _Unparsed(text[at:])
        out.append((match.lastgroup, match.group(match.lastgroup)))
        at = match.end()
    out.append(("end", ""))
    return out


class _Parser:
    def __init__(self, text: str, names: dict[str, str]) -> None:
        self.tokens = _tokens(text)
        self.at = 0
        self.names = names

    def peek(self, ahead: int = 0) -> tuple[str, str]:
        return self.tokens[min(self.at + ahead, len(self.tokens) - 1)]

    def take(self) -> tuple[str, str]:
        token = self.peek()
        self.at += 1
        return token

    def op(self, text: str) -> bool:
        return self.peek() == ("op", text)

    def expect(self, text: str) -> None:
        if self.take() != ("op", text):
            raise _Unparsed(text)

    def update(self) -> Update:
        actions: list[Action] = []
        seen: set[str] = set()
        while self.peek()[0] != "end":
            kind, text = self.take()
            clause = text.upper()
            if kind != "word" or clause not in CLAUSES or clause in seen:
                raise _Unparsed(text)
            seen.add(clause)
            actions.append(self.action(clause))
            while self.op(","):
                self.take()
                actions.append(self.action(clause))
        if not actions:
            raise _Unparsed("empty")
        return Update(tuple(actions))

    def action(self, clause: str) -> Action:
        path = self.path()
        if clause == "REMOVE":
            return Action(clause, path)
        if clause == "SET":
            self.expect("=")
            left = self.operand()
            if self.op("+") or self.op("-"):
                operator = self.take()[1]
                return Action(clause, path, Arithmetic(left, operator, self.operand()))
            return Action(clause, path, left)
        kind, text = self.take()
        if kind != "value":
            raise _Unparsed(text)
        return Action(clause, path, Value(text))

    def path(self) -> Path:
        elements: list[Element] = [self.name()]
        while self.op(".") or self.op("["):
            if self.take()[1] == ".":
                elements.append(self.name())
            else:
                kind, text = self.take()
                if kind != "number":
                    raise _Unparsed(text)
                elements.append(int(text))
                self.expect("]")
        return Path(tuple(elements))

    def name(self) -> str:
        kind, text = self.take()
        if kind == "name":
            if text not in self.names:
                raise _Unparsed(text)
            return self.names[text]
        if kind == "word":
            return text
        raise _Unparsed(text)

    def operand(self) -> Operand:
        kind, text = self.peek()
        if kind == "value":
            self.take()
            return Value(text)
        if (
            kind == "word"
            and self.peek(1) == ("op", "(")
            and text in ("if_not_exists", "list_append")
        ):
            self.take()
            self.take()
            first: Operand = self.path() if text == "if_not_exists" else self.operand()
            self.expect(",")
            second = self.operand()
            self.expect(")")
            if isinstance(first, Path) and text == "if_not_exists":
                return IfNotExists(first, second)
            return ListAppend(first, second)
        if kind in ("name", "word"):
            return self.path()
        raise _Unparsed(text)


def parse_update(text: str, names: dict[str, str]) -> Update | None:
    """The tree of an UpdateExpression with its #names resolved, or None outside the model."""
    try:
        return _Parser(text, names).update()
    except _Unparsed:
        return None
