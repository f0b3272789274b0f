"""The smallest conditional write that turns an item's old image into its new one.

Only changed attributes are written (SET/REMOVE), and the write is conditioned on the old values
of exactly those attributes, so a concurrent write by the application to any of them makes the
write fail instead of being overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from runner.attrs import Item


@dataclass(frozen=True)
class ItemWrite:
    """Keyword arguments for UpdateItem (minus TableName and Key)."""

    update_expression: str
    condition_expression: str
    names: dict[str, str]
    values: dict[str, Any]

    def as_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "UpdateExpression": self.update_expression,
            "ConditionExpression": self.condition_expression,
            "ExpressionAttributeNames": self.names,
        }
        if self.values:
            kwargs["ExpressionAttributeValues"] = self.values
        return kwargs


def _normal(value: dict[str, Any]) -> Any:
    """A comparable form: sets compare unordered, binary as bytes."""
    ((kind, inner),) = value.items()
    if kind in ("SS", "NS", "BS"):
        return (kind, frozenset(bytes(v) if kind == "BS" else v for v in inner))
    if kind == "B":
        return (kind, bytes(inner))
    if kind == "M":
        return (kind, tuple(sorted((k, _normal(v)) for k, v in inner.items())))
    if kind == "L":
        return (kind, tuple(_normal(v) for v in inner))
    if kind == "N":
        return (kind, inner)
    return (kind, inner)


def same_value(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return bool(_normal(a) == _normal(b))


def diff_items(old: Item, new: Item, key_names: list[str]) -> ItemWrite | None:
    """The conditional update from `old` to `new`, or None when nothing changed.

    Key attributes must be identical (the caller checks); the condition also requires the item to
    still exist, so a concurrently deleted item is never re-created.
    """
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    sets: list[str] = []
    removes: list[str] = []
    conditions: list[str] = []

    def name(attr: str) -> str:
        placeholder = f"#a{len(names)}"
        names[placeholder] = attr
        return placeholder

    for attr in sorted(set(old) | set(new)):
        if attr in key_names:
            continue
        before, after = old.get(attr), new.get(attr)
        if before is not None and after is not None and same_value(before, after):
            continue
        ref = name(attr)
        if before is None:
            conditions.append(f"attribute_not_exists({ref})")
        else:
            values[f":o{len(values)}"] = before
            conditions.append(f"{ref} = :o{len(values) - 1}")
        if after is None:
            removes.append(ref)
        else:
            values[f":n{len(values)}"] = after
            sets.append(f"{ref} = :n{len(values) - 1}")

    if not sets and not removes:
        return None
    key_ref = name(key_names[0])
    conditions.insert(0, f"attribute_exists({key_ref})")
    parts = []
    if sets:
        parts.append("SET " + ", ".join(sets))
    if removes:
        parts.append("REMOVE " + ", ".join(removes))
    return ItemWrite(
        update_expression=" ".join(parts),
        condition_expression=" AND ".join(conditions),
        names=names,
        values=values,
    )


def unchanged_condition(
    item: Item, key_names: list[str]
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """A condition that holds only while the item still equals `item` (for a conditional delete)."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    conditions = []
    for i, attr in enumerate(sorted(item)):
        names[f"#a{i}"] = attr
        if attr in key_names:
            conditions.append(f"attribute_exists(#a{i})")
        else:
            values[f":o{i}"] = item[attr]
            conditions.append(f"#a{i} = :o{i}")
    return " AND ".join(conditions), names, values
