"""Items in and out of local runs: JSON lines in DynamoDB's export format, or plain JSON.

Input lines are `{"Item": {"pk": {"S": "a"}}}` (the format of DynamoDB's S3 export, binary
base64), the same item without the wrapper (`{"pk": {"S": "a"}}`, as `aws dynamodb scan` prints
each item), or a plain object `{"pk": "a", "total": 12.50}` whose numbers are read as exact
decimals. Every value is checked as DynamoDB checks a write (`runner.item_check`), every item
carries the table's key with the declared types, and a key appears once; a problem names the file
and the line. Output is always the export format, one item per line, sorted by key.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, DecimalException
from pathlib import Path
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from runner.attrs import Item, from_wire, to_wire
from runner.errors import MigrationError
from runner.item_check import BadValue, item_size

TYPES = frozenset({"S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"})
_serializer = TypeSerializer()


class DataFileError(Exception):
    """A data file that cannot be read, with the file and line."""


TYPE_NAMES = {"S": "a string", "N": "a number", "B": "binary"}


@dataclass(frozen=True)
class KeySpec:
    """A table's key attributes and their declared types, partition key first."""

    types: dict[str, str]

    @classmethod
    def of_table(cls, resource: Any) -> KeySpec | None:
        """From an AWS::DynamoDB::Table's KeySchema and AttributeDefinitions (None if unclear)."""
        props = resource.get("Properties") if isinstance(resource, dict) else None
        if not isinstance(props, dict):
            return None
        declared = {
            d.get("AttributeName"): d.get("AttributeType")
            for d in props.get("AttributeDefinitions") or []
            if isinstance(d, dict)
        }
        schema = props.get("KeySchema")
        if not isinstance(schema, list):
            return None
        ordered = sorted(
            (k for k in schema if isinstance(k, dict)), key=lambda k: k.get("KeyType") != "HASH"
        )
        types = {k.get("AttributeName"): declared.get(k.get("AttributeName")) for k in ordered}
        if not all(isinstance(n, str) and t in TYPE_NAMES for n, t in types.items()):
            return None
        return cls(types)  # type: ignore[arg-type]

    def key(self, item: Item) -> str:
        """The item's key as DynamoDB JSON; ValueError if it lacks one or has the wrong type."""
        for n, (name, kind) in enumerate(self.types.items()):
            role = "partition key" if n == 0 else "sort key"
            if name not in item:
                raise ValueError(f"the item has no {name} (the table's {role})")
            ((found, inner),) = item[name].items()
            if found != kind:
                raise ValueError(
                    f"{name} must be {TYPE_NAMES[kind]} ({kind}), as the table declares it; "
                    f"got {found}"
                )
            if inner in ("", b""):
                raise ValueError(f"{name} must not be empty (a key attribute)")
        return json.dumps({name: to_wire({name: item[name]})[name] for name in self.types})

    def identity(self, item: Item) -> tuple[Any, ...]:
        """One value per key: "1" and "1.0" are the same number."""
        return tuple(_sort_value(item[name]) for name in self.types)


def _typed(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in TYPES


def _check_wire(wired: dict[str, Any]) -> None:
    """ValueError naming the attribute if DynamoDB would refuse a value (runner.item_check)."""
    try:
        item_size(wired)
    except BadValue as exc:
        raise ValueError(f"attribute {exc.path}: {exc.reason}") from exc


def parse_line(line: str) -> Item:
    """One item from one line of any of the three forms."""
    try:
        data = json.loads(line, parse_float=Decimal, parse_int=Decimal)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg} at column {exc.colno})") from exc
    if not isinstance(data, dict) or not data:
        raise ValueError("expected a JSON object (an item)")
    raw = json.loads(line)  # numbers stay the strings DynamoDB JSON has
    typed = raw["Item"] if set(raw) == {"Item"} and isinstance(raw["Item"], dict) else raw
    if typed and all(_typed(v) for v in typed.values()):
        _check_wire(typed)
        try:
            return from_wire(typed, "data")
        except MigrationError as exc:
            raise ValueError(str(exc).removeprefix("Migration data: ")) from exc
    try:
        item = {k: _serializer.serialize(v) for k, v in data.items()}
    except DecimalException as exc:
        name = next((k for k, v in data.items() if isinstance(v, Decimal)), "?")
        raise ValueError(
            f"attribute {name}: {data.get(name)} is outside DynamoDB's range "
            "(38 significant digits, 1E-130 to 9.99...E+125)"
        ) from exc
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cannot store this value in DynamoDB ({exc})") from exc
    _check_wire(to_wire(item))
    return item


def _once(keys: KeySpec, item: Item, number: int, seen: dict[tuple[Any, ...], int]) -> None:
    shown = keys.key(item)
    first = seen.setdefault(keys.identity(item), number)
    if first != number:
        raise ValueError(
            f"the same key as line {first} ({shown}): each item once, or the later one "
            "replaces the earlier"
        )


def read_items(
    path: Path, keys: KeySpec | None = None, shown: Path | None = None
) -> Iterator[Item]:
    """Every item of a data file; a bad line is reported with its number (and the file's name
    as `shown`, when `path` is a copy of it)."""
    name = shown or path
    try:
        handle = path.open(encoding="utf-8-sig")
    except OSError as exc:
        raise DataFileError(f"{name}: cannot read ({exc.strerror})") from exc
    seen: dict[tuple[Any, ...], int] = {}
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                item = parse_line(line)
                if keys is not None:
                    _once(keys, item, number, seen)
            except ValueError as exc:
                raise DataFileError(f"{name}:{number}: {exc}") from exc
            yield item


@dataclass(frozen=True)
class DataFile:
    """A data file read when needed and never held whole: each iteration reads it again.

    `local run` holds the table's data once, in the emulator. It reads the file to check it,
    to load the table, and at the end twice more for the table's sample (a digest per item,
    then the sample's one item: dynamigrate.local.table_dump). `check` reads a private copy
    taken at the start, so the output written over the file, or an edit during the run, changes
    nothing the run reads.
    """

    path: Path
    keys: KeySpec | None = None
    shown: Path | None = None  # the user's file, when `path` is the run's copy of it

    def __iter__(self) -> Iterator[Item]:
        return read_items(self.path, self.keys, self.shown)

    def check(self) -> DataFile:
        """A copy of the file as it is now, every line of it read once (a bad one raises
        DataFileError naming the file), before anything starts; the copy goes with the object."""
        folder = tempfile.mkdtemp(prefix="dynamigrate-data-")
        try:
            copy = Path(folder) / "items.jsonl"
            try:
                shutil.copyfile(self.path, copy)
            except OSError as exc:
                raise DataFileError(f"{self.path}: cannot read ({exc.strerror})") from exc
            checked = DataFile(copy, self.keys, self.path)
            for _ in checked:
                pass
        except BaseException:
            shutil.rmtree(folder, True)
            raise
        weakref.finalize(checked, shutil.rmtree, folder, True)
        return checked


def item_digest(item: Item) -> bytes:
    """16 bytes that differ for two items unless they are equal (canonical DynamoDB JSON)."""
    text = json.dumps(to_wire(item), sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def _sort_value(value: dict[str, Any]) -> tuple[int, Any]:
    ((kind, inner),) = value.items()
    if kind == "N":
        return (0, Decimal(inner))
    if kind == "B":
        return (2, bytes(inner))
    return (1, str(inner))


def sort_key(item: Item, key_names: list[str]) -> tuple[Any, ...]:
    """Where an item goes in a data file written by `write_items`: by its key's values."""
    return tuple(_sort_value(item[name]) for name in key_names if name in item)


def item_line(item: Item) -> str:
    """One export-format JSON line (without its newline)."""
    return json.dumps({"Item": to_wire(item)}, sort_keys=True)


def write_items(path: Path, items: list[Item], key_names: list[str]) -> None:
    """Items as export-format JSON lines, sorted by key."""
    with path.open("w", encoding="utf-8") as out:
        for item in sorted(items, key=lambda item: sort_key(item, key_names)):
            out.write(item_line(item) + "\n")
