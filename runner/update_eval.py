"""Evaluating an UpdateExpression against the item the worker read, as DynamoDB would.

The worker skips a write whose update would change nothing (`unchanged`, no write unit), and
conditions a non-idempotent write on the values it read (runner.exactly_once). Both need to know
exactly what DynamoDB would do; wherever that is not certain, `Unknown` is raised and the worker
writes as it always did, leaving DynamoDB to judge (and to refuse, with its own message).

DynamoDB behaviour modelled (Amazon DynamoDB Developer Guide, "Update expressions",
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.UpdateExpressions.html,
and "Supported data types", .../HowItWorks.NamingRulesDataTypes.html):
- SET path = value: `+`/`-` take two numbers; list_append(a, b) two lists; if_not_exists(p, v)
  is p's value if p exists, else v. An operand naming a missing attribute is an error ("The
  provided expression refers to an attribute that does not exist in the item").
- SET a.b needs a map at a; SET l[i] replaces element i of a list (past its end DynamoDB appends:
  a change, not modelled: Unknown).
- REMOVE of a missing top-level attribute is a no-op (nested: not modelled).
- ADD (top-level) adds a number to a number, or set elements to a set of the same type; DELETE
  removes set elements (an emptied set is removed, as sets cannot be empty).
- Numbers: up to 38 digits of precision, magnitude from 1E-130 to just under 1E+126;
  "leading and trailing zeroes are trimmed", so numbers compare by value. An operation that
  would round, overflow or underflow is Unknown (DynamoDB refuses it).
- The guide does not say whether the operands of one SET are read before or after its other
  actions. An update changes nothing under both readings when each action, evaluated on the
  item read, leaves it as it was; `evaluate` reads every operand from the item read and reports
  `crossed` when an operand reads a path another action writes (the two readings may differ).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from decimal import Context, Decimal, Inexact, InvalidOperation, Overflow, Rounded, Underflow
from typing import Any

from runner.attrs import Item
from runner.update_expr import (
    Action,
    Arithmetic,
    Element,
    IfNotExists,
    ListAppend,
    Operand,
    Path,
    SetValue,
    Update,
    Value,
)

_NUMBERS = Context(
    prec=38, Emax=125, Emin=-130, traps=[Inexact, Rounded, Overflow, Underflow, InvalidOperation]
)
Attr = dict[str, Any]


class Unknown(Exception):
    """What DynamoDB would do is not certain here (or it would refuse the update)."""


@dataclass(frozen=True)
class Evaluated:
    item: Item  # the item as DynamoDB would leave it
    crossed: bool  # an operand reads what another action writes (runner.update_eval docstring)


def _number(attr: Attr) -> Decimal:
    try:
        return Decimal(attr["N"])
    except (KeyError, InvalidOperation) as exc:
        raise Unknown("not a number") from exc


def _text(value: Decimal) -> str:
    return format(value.normalize(_NUMBERS), "f") if value else "0"


def _normal(attr: Attr) -> Any:
    """A comparable form of an attribute value: numbers by value, sets unordered."""
    ((kind, inner),) = attr.items()
    if kind == "N":
        return (kind, Decimal(inner))
    if kind == "NS":
        return (kind, frozenset(Decimal(v) for v in inner))
    if kind in ("SS", "BS"):
        return (kind, frozenset(bytes(v) if kind == "BS" else v for v in inner))
    if kind == "B":
        return (kind, bytes(inner))
    if kind == "M":
        return (kind, frozenset((k, _normal(v)) for k, v in inner.items()))
    if kind == "L":
        return (kind, tuple(_normal(v) for v in inner))
    return (kind, inner)


def same_items(first: Item, second: Item) -> bool:
    """Whether DynamoDB stores the two items alike."""
    if set(first) != set(second):
        return False
    return all(_normal(first[k]) == _normal(second[k]) for k in first)


def _get(item: Item, path: Path) -> Attr | None:
    """The value at `path`, None when absent; Unknown when a step is not a map or list."""
    head, *rest = path.elements
    if not isinstance(head, str):
        raise Unknown("a path starts with a name")
    current: Attr | None = item.get(head)
    for element in rest:
        if current is None:
            return None
        if isinstance(element, int):
            if "L" not in current:
                raise Unknown("index of a non-list")
            items = current["L"]
            current = items[element] if element < len(items) else None
        else:
            if "M" not in current:
                raise Unknown("member of a non-map")
            current = current["M"].get(element)
    return current


def _operand(item: Item, values: dict[str, Attr], operand: Operand | SetValue) -> Attr:
    if isinstance(operand, Value):
        if operand.placeholder not in values:
            raise Unknown(f"{operand.placeholder} is not defined")
        return values[operand.placeholder]
    if isinstance(operand, Path):
        found = _get(item, operand)
        if found is None:
            raise Unknown("an operand names a missing attribute")
        return found
    if isinstance(operand, IfNotExists):
        found = _get(item, operand.path)
        return found if found is not None else _operand(item, values, operand.default)
    if isinstance(operand, ListAppend):
        first = _operand(item, values, operand.first)
        second = _operand(item, values, operand.second)
        if "L" not in first or "L" not in second:
            raise Unknown("list_append takes two lists")
        return {"L": [*first["L"], *second["L"]]}
    left = _number(_operand(item, values, operand.left))
    right = _number(_operand(item, values, operand.right))
    try:
        result = (
            _NUMBERS.add(left, right) if operand.operator == "+" else _NUMBERS.subtract(left, right)
        )
    except (Inexact, Rounded, Overflow, Underflow, InvalidOperation) as exc:
        raise Unknown("the number does not fit DynamoDB's range") from exc
    return {"N": _text(result)}


def _container(item: Item, path: Path) -> tuple[Any, Element]:
    """The map (dict of attributes) or list holding the last element of `path`, and that element."""
    *parents, last = path.elements
    if not parents:
        return item, last
    parent = _get(item, Path(tuple(parents)))
    if parent is None:
        raise Unknown("the path's parent is missing")
    if isinstance(last, int):
        if "L" not in parent:
            raise Unknown("index of a non-list")
        return parent["L"], last
    if "M" not in parent:
        raise Unknown("member of a non-map")
    return parent["M"], last


def _set(item: Item, path: Path, value: Attr) -> None:
    holder, last = _container(item, path)
    if isinstance(last, int):
        if not isinstance(holder, list) or last >= len(holder):
            raise Unknown("SET past a list's end appends")
        holder[last] = copy.deepcopy(value)
    else:
        holder[last] = copy.deepcopy(value)


def _remove(item: Item, path: Path) -> None:
    if len(path.elements) == 1:
        item.pop(str(path.elements[0]), None)
        return
    holder, last = _container(item, path)
    if isinstance(last, int):
        if not isinstance(holder, list) or last >= len(holder):
            raise Unknown("REMOVE past a list's end")
        del holder[last]
    elif last in holder:
        del holder[last]
    else:
        raise Unknown("REMOVE of a missing member")


_SETS = ("SS", "NS", "BS")


def _set_members(attr: Attr) -> tuple[str, dict[Any, Any]]:
    ((kind, inner),) = attr.items()
    if kind not in _SETS:
        raise Unknown("not a set")
    if kind == "NS":
        return kind, {Decimal(v): v for v in inner}
    return kind, {bytes(v) if kind == "BS" else v: v for v in inner}


def _add_or_delete(item: Item, action: Action, values: dict[str, Attr], original: Item) -> None:
    if len(action.path.elements) != 1:
        raise Unknown("ADD and DELETE take top-level attributes")
    name = str(action.path.elements[0])
    value = _operand(original, values, action.value)  # type: ignore[arg-type]
    current = original.get(name)
    if action.clause == "ADD" and "N" in value:
        if current is None:
            item[name] = dict(value)
            return
        if "N" not in current:
            raise Unknown("ADD of a number to a non-number")
        _number(value)
        item[name] = _operand(original, values, Arithmetic(action.path, "+", action.value))  # type: ignore[arg-type]
        return
    kind, members = _set_members(value)
    if current is None:
        if action.clause == "DELETE":
            raise Unknown("DELETE from a missing set")
        item[name] = dict(value)
        return
    current_kind, current_members = _set_members(current)
    if current_kind != kind:
        raise Unknown("sets of different types")
    if action.clause == "ADD":
        merged = {
            **current_members,
            **{k: v for k, v in members.items() if k not in current_members},
        }
    else:
        merged = {k: v for k, v in current_members.items() if k not in members}
    if not merged:
        item.pop(name, None)
    elif set(merged) != set(current_members):
        item[name] = {kind: list(merged.values())}


def overlaps(first: tuple[Element, ...], second: tuple[Element, ...]) -> bool:
    shorter = min(len(first), len(second))
    return first[:shorter] == second[:shorter]


def reads_of(operand: SetValue | None) -> list[Path]:
    """The paths an operand reads."""
    if isinstance(operand, Path):
        return [operand]
    if isinstance(operand, IfNotExists):
        return [operand.path, *reads_of(operand.default)]
    if isinstance(operand, ListAppend):
        return [*reads_of(operand.first), *reads_of(operand.second)]
    if isinstance(operand, Arithmetic):
        return [*reads_of(operand.left), *reads_of(operand.right)]
    return []


def crossed(update: Update) -> bool:
    """Whether an action reads a path another action of the update writes."""
    for action in update.actions:
        own = [action.path] if action.clause in ("ADD", "DELETE") else []
        reads = reads_of(action.value) + own
        for other in update.actions:
            if other is not action and any(
                overlaps(r.elements, other.path.elements) for r in reads
            ):
                return True
    return False


def evaluate(update: Update, item: Item, values: dict[str, Attr]) -> Evaluated:
    """The item as DynamoDB would leave it after `update`; Unknown where that is not certain."""
    result = copy.deepcopy(item)
    for action in update.actions:
        if action.clause == "SET":
            _set(result, action.path, _operand(item, values, action.value))  # type: ignore[arg-type]
        elif action.clause == "REMOVE":
            _remove(result, action.path)
        else:
            _add_or_delete(result, action, values, item)
    return Evaluated(result, crossed(update))


def changes_nothing(update: Update | None, item: Item, values: dict[str, Attr]) -> bool:
    """True only when DynamoDB would certainly leave `item` exactly as it is (and not refuse)."""
    if update is None:
        return False
    try:
        return same_items(evaluate(update, item, values).item, item)
    except Unknown:
        return False
