"""A transform function's reply, read the same way for items (runner.operations) and for item
collections (runner.collections): `{"items": [...]}`, its failure named by what it was given."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runner.errors import FunctionFailed, MigrationError


def function_items(
    call: Callable[[], Any], mid: str, named: Callable[[FunctionFailed], MigrationError]
) -> list[Any]:
    """The `items` of a function's reply; its failure named (`named`: which items it was given)."""
    try:
        reply = call()
    except FunctionFailed as exc:
        raise named(exc) from exc
    except MigrationError as exc:
        raise MigrationError(f"Migration {mid}: {exc}") from exc
    out = reply.get("items") if isinstance(reply, dict) else None
    if not isinstance(out, list):
        raise MigrationError(f'Migration {mid}: the function must return {{"items": [...]}}')
    return out
