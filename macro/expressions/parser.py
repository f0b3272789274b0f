"""Parsers for DynamoDB's three expression grammars, as the Developer Guide gives them.

- Condition and filter expressions ("Condition and filter expressions, operators, and functions"):
  comparisons `= <> < <= > >=`, `BETWEEN ... AND ...`, `IN (...)` (at most 100 operands), the
  functions attribute_exists, attribute_not_exists, attribute_type, begins_with, contains and
  size (an operand), `AND`, `OR`, `NOT` and parentheses. Function names are case-sensitive,
  keywords are not.
- Update expressions ("Update expressions"): SET, REMOVE, ADD and DELETE clauses in any order,
  each at most once; SET values are an operand or `operand + operand` / `operand - operand`, with
  if_not_exists(path, value) and list_append(a, b).
- Key condition expressions (Query, KeyConditionExpression): an equality on the partition key,
  and optionally AND one condition on the sort key (= < <= > >=, BETWEEN, begins_with).

Each parser returns what the expression uses (placeholders, bare names, paths) for the checks
that need the rest of the migration (`macro.expressions.checks`).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field

from macro.expressions.errors import ExpressionError
from macro.expressions.lexer import Token, tokenize

COMPARATORS = ("=", "<>", "<", "<=", ">", ">=")
CONDITION_FUNCTIONS = (
    "attribute_exists",
    "attribute_not_exists",
    "attribute_type",
    "begins_with",
    "contains",
)
UPDATE_FUNCTIONS = ("if_not_exists", "list_append")
MAX_IN_OPERANDS = 100
CLAUSES = ("SET", "REMOVE", "ADD", "DELETE")

Element = str | int  # a name (or #placeholder) or a list index


@dataclass(frozen=True)
class Path:
    elements: tuple[Element, ...]
    position: int

    def __str__(self) -> str:
        text = ""
        for element in self.elements:
            text += f"[{element}]" if isinstance(element, int) else f".{element}"
        return text.lstrip(".")


@dataclass(frozen=True)
class KeyTerm:
    """One term of a key condition: the attribute (a bare name or #placeholder) and operator."""

    attribute: str
    operator: str
    position: int


@dataclass
class Parsed:
    """What one expression uses."""

    names: list[Token] = field(default_factory=list)
    values: list[Token] = field(default_factory=list)
    bare_names: list[Token] = field(default_factory=list)
    paths: list[tuple[str, Path]] = field(default_factory=list)  # (clause, path) in updates
    clause_values: list[tuple[str, Token]] = field(default_factory=list)  # ADD/DELETE operands
    type_values: list[Token] = field(default_factory=list)  # attribute_type's second argument
    key_terms: list[KeyTerm] = field(default_factory=list)


class _Parser:
    def __init__(self, text: str) -> None:
        if not text.strip():
            raise ExpressionError("the expression is empty", 1)
        self.tokens = tokenize(text)
        self.at = 0
        self.out = Parsed()

    # tokens ----------------------------------------------------------------------------------

    @property
    def token(self) -> Token:
        return self.tokens[self.at]

    def peek(self, ahead: int = 1) -> Token:
        return self.tokens[min(self.at + ahead, len(self.tokens) - 1)]

    def take(self) -> Token:
        token = self.token
        self.at = min(self.at + 1, len(self.tokens) - 1)
        return token

    def fail(self, expected: str, token: Token | None = None) -> ExpressionError:
        token = token or self.token
        return ExpressionError(f"expected {expected}, found {token.shown()}", token.position)

    def expect(self, text: str, what: str | None = None) -> Token:
        if self.token.kind == "op" and self.token.text == text:
            return self.take()
        raise self.fail(what or repr(text))

    def at_end(self) -> bool:
        return self.token.kind == "end"

    def at_op(self, *texts: str) -> bool:
        return self.token.kind == "op" and self.token.text in texts

    def end(self) -> None:
        if self.token.kind != "end":
            raise self.fail("the end of the expression (or AND / OR between conditions)")

    # paths and operands ------------------------------------------------------------------------

    def element(self) -> Element:
        token = self.token
        if token.kind == "name":
            self.out.names.append(self.take())
            return token.text
        if token.kind == "word" and not self.is_function_call():
            self.out.bare_names.append(self.take())
            return token.text
        if token.kind == "number":
            raise ExpressionError(
                f"an attribute name cannot begin with a digit ({token.text!r}): "
                "use a #name placeholder",
                token.position,
            )
        raise self.fail("an attribute name or #name")

    def path(self) -> Path:
        start = self.token.position
        elements: list[Element] = [self.element()]
        while self.at_op(".", "["):
            if self.take().text == ".":
                elements.append(self.element())
            else:
                index = self.token
                if index.kind != "number":
                    raise self.fail("a list index (a number)")
                self.take()
                elements.append(int(index.text))
                self.expect("]")
        return Path(tuple(elements), start)

    def group(self, inner: Callable[[], bool]) -> None:
        """`( inner )`, refusing a group that only encloses another group."""
        opening = self.take()
        if inner():
            raise ExpressionError(
                "the expression has redundant parentheses: remove one pair", opening.position
            )
        self.expect(")", "')'")

    def is_function_call(self) -> bool:
        return self.token.kind == "word" and self.peek().kind == "op" and self.peek().text == "("

    def value(self) -> Token:
        if self.token.kind != "value":
            raise self.fail("a :value placeholder")
        token = self.take()
        self.out.values.append(token)
        return token

    def function_name(self, allowed: tuple[str, ...]) -> str:
        token = self.take()
        if token.text in allowed:
            return token.text
        close = difflib.get_close_matches(token.text.lower(), allowed, n=1)
        hint = (
            f"did you mean {close[0]}? (function names are case-sensitive)"
            if close
            else f"expected one of {', '.join(allowed)}"
        )
        raise ExpressionError(f"{token.text} is not a function here; {hint}", token.position)


class _ConditionParser(_Parser):
    def parse(self) -> Parsed:
        self.condition()
        self.end()
        return self.out

    # Each of these returns whether what it parsed is exactly one parenthesized group: DynamoDB
    # refuses a group that directly encloses another ("The expression has redundant
    # parentheses", measured on DynamoDB in architect/dynalite issue 99 and ExtendDB/extenddb
    # pull request 71; the guide is silent), while `(a AND b) AND c` and `a OR (b AND c)` pass.

    def condition(self) -> bool:
        grouped = self.conjunction()
        while self.token.is_keyword("OR"):
            self.take()
            self.conjunction()
            grouped = False
        return grouped

    def conjunction(self) -> bool:
        grouped = self.negation()
        while self.token.is_keyword("AND"):
            self.take()
            self.negation()
            grouped = False
        return grouped

    def negation(self) -> bool:
        if self.token.is_keyword("NOT"):
            self.take()
            self.negation()
        elif self.at_op("("):
            self.group(self.condition)
            return True
        elif self.is_function_call() and self.token.text != "size":
            self.function()
        else:
            self.comparison()
        return False

    def function(self) -> None:
        name = self.function_name((*CONDITION_FUNCTIONS, "size"))
        self.expect("(")
        self.path()
        if name == "attribute_type":
            self.expect(",", "',' and the type (a :value such as :S)")
            self.out.type_values.append(self.value())
        elif name in ("begins_with", "contains"):
            self.expect(",", f"',' and the second argument of {name}")
            self.operand()
        self.expect(")", "')'")

    def operand(self) -> None:
        if self.token.kind == "value":
            self.value()
        elif self.is_function_call():
            token = self.token
            if self.function_name((*CONDITION_FUNCTIONS, "size")) != "size":
                raise ExpressionError(
                    f"{token.text} is a condition, not a value: only size() is a value",
                    token.position,
                )
            self.expect("(")
            self.path()
            self.expect(")", "')'")
        elif self.token.kind in ("name", "word", "number"):
            self.path()
        else:
            raise self.fail("an operand: a :value, a path or size(path)")

    def comparison(self) -> None:
        self.operand()
        token = self.token
        if self.at_op(*COMPARATORS):
            self.take()
            self.operand()
        elif token.is_keyword("BETWEEN"):
            self.take()
            self.operand()
            if not self.token.is_keyword("AND"):
                raise self.fail("AND (BETWEEN low AND high)")
            self.take()
            self.operand()
        elif token.is_keyword("IN"):
            self.take()
            self.expect("(", "'(' and the list of values")
            count = 1
            self.operand()
            while self.at_op(","):
                self.take()
                self.operand()
                count += 1
            self.expect(")", "')'")
            if count > MAX_IN_OPERANDS:
                raise ExpressionError(
                    f"IN takes at most {MAX_IN_OPERANDS} values, found {count}", token.position
                )
        else:
            raise self.fail("a comparator (= <> < <= > >=), BETWEEN or IN")


class _UpdateParser(_Parser):
    def parse(self) -> Parsed:
        seen: dict[str, int] = {}
        if self.token.kind == "end" or not self.token.is_keyword(*CLAUSES):
            raise self.fail("SET, REMOVE, ADD or DELETE")
        while not self.at_end():
            keyword = self.token
            if not keyword.is_keyword(*CLAUSES):
                raise self.fail("',' and another action, or SET, REMOVE, ADD or DELETE")
            clause = keyword.text.upper()
            if clause in seen:
                raise ExpressionError(
                    f"{clause} appears twice (first at character {seen[clause]}): "
                    "join its actions with commas",
                    keyword.position,
                )
            seen[clause] = keyword.position
            self.take()
            self.action(clause)
            while self.at_op(","):
                self.take()
                self.action(clause)
        return self.out

    def action(self, clause: str) -> None:
        path = self.path()
        self.out.paths.append((clause, path))
        if clause == "SET":
            self.expect("=", "'=' (SET path = value)")
            self.set_operand()
            if self.at_op("+", "-"):
                self.take()
                self.set_operand()
        elif clause in ("ADD", "DELETE"):
            self.out.clause_values.append((clause, self.value()))

    def set_operand(self) -> None:
        if self.token.kind == "value":
            self.value()
        elif self.is_function_call():
            name = self.function_name(UPDATE_FUNCTIONS)
            self.expect("(")
            if name == "if_not_exists":
                self.path()
            else:
                self.set_operand()
            self.expect(",", f"',' and the second argument of {name}")
            self.set_operand()
            self.expect(")", "')'")
        elif self.token.kind in ("name", "word", "number"):
            self.path()
        else:
            raise self.fail("a value: a :value, a path, if_not_exists(...) or list_append(...)")


class _KeyConditionParser(_Parser):
    def parse(self) -> Parsed:
        self.term()
        if self.token.is_keyword("AND"):
            self.take()
            self.term()
        if self.token.is_keyword("AND", "OR") or self.token.is_keyword("NOT"):
            raise ExpressionError(
                "a key condition is the partition key's equality and at most one sort key "
                "condition, joined by AND",
                self.token.position,
            )
        self.end()
        return self.out

    def key(self) -> tuple[str, int]:
        path = self.path()
        if len(path.elements) != 1 or isinstance(path.elements[0], int):
            raise ExpressionError(
                f"{path} is not a top-level attribute: a key condition names key attributes",
                path.position,
            )
        return str(path.elements[0]), path.position

    def term(self) -> bool:
        if self.at_op("("):
            self.group(self.term)
            return True
        if self.is_function_call():
            token = self.token
            self.function_name(("begins_with",))
            self.expect("(")
            attribute, _ = self.key()
            self.expect(",", "',' and the prefix (a :value)")
            self.value()
            self.expect(")", "')'")
            self.out.key_terms.append(KeyTerm(attribute, "begins_with", token.position))
            return False
        attribute, position = self.key()
        token = self.token
        if self.at_op("=", "<", "<=", ">", ">="):
            self.take()
            self.value()
        elif token.is_keyword("BETWEEN"):
            self.take()
            self.value()
            if not self.token.is_keyword("AND"):
                raise self.fail("AND (BETWEEN low AND high)")
            self.take()
            self.value()
        else:
            raise self.fail("= < <= > >= or BETWEEN (a key condition has no <>, IN or OR)")
        operator = token.text.upper() if token.kind == "word" else token.text
        self.out.key_terms.append(KeyTerm(attribute, operator, position))
        return False


def parse_condition(text: str) -> Parsed:
    """A ConditionExpression or FilterExpression; ExpressionError at the first syntax error."""
    return _ConditionParser(text).parse()


def parse_update(text: str) -> Parsed:
    """An UpdateExpression; ExpressionError at the first syntax error."""
    return _UpdateParser(text).parse()


def parse_key_condition(text: str) -> Parsed:
    """A KeyConditionExpression's syntax; its key attributes are checked by `checks`."""
    return _KeyConditionParser(text).parse()
