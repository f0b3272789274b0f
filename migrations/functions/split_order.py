"""Single-table example (README, "Single-table design"): one order item into a header and lines.

An order `{pk: ORDER#7, sk: ORDER, lines: [{sku, qty}, ...]}` becomes its header
`{pk: ORDER#7, sk: ORDER, lineCount: n}` and one item per line `{pk: ORDER#7, sk: LINE#001,
sku, qty}`; `join` (the Down) puts the lines back into the order. Both recognise their own
output and return it unchanged, so a re-run writes nothing.

- `split_items` is a 1:N function: one result per input item, a list for an order it splits.
- `split` and `join` take whole item collections (`ItemCollections: true`): one result per
  collection, the list of items the collection becomes.
"""

from __future__ import annotations

from typing import Any

Item = dict[str, dict[str, Any]]
KEY = ("pk", "sk")


def split_order(item: Item) -> list[Item]:
    """An order into [header, line, line, ...]; anything else stays as it is."""
    if item["sk"]["S"] != "ORDER" or "lines" not in item:
        return [item]
    lines = item["lines"]["L"]
    header = {k: v for k, v in item.items() if k != "lines"}
    header["lineCount"] = {"N": str(len(lines))}
    return [header] + [
        {"pk": item["pk"], "sk": {"S": f"LINE#{n:03d}"}, **line["M"]}
        for n, line in enumerate(lines, 1)
    ]


def join_order(collection: list[Item]) -> list[Item]:
    """A header and its lines back into one order item; a collection without a split header
    stays as it is."""
    header = next((i for i in collection if i["sk"]["S"] == "ORDER"), None)
    if header is None or "lineCount" not in header:
        return collection
    lines = sorted(
        (i for i in collection if i["sk"]["S"].startswith("LINE#")), key=lambda i: i["sk"]["S"]
    )
    order = {k: v for k, v in header.items() if k != "lineCount"}
    order["lines"] = {"L": [{"M": {k: v for k, v in i.items() if k not in KEY}} for i in lines]}
    others = [i for i in collection if i is not header and not i["sk"]["S"].startswith("LINE#")]
    return [order, *others]


def split_items(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Up without collections: each item's result is the list of items it becomes."""
    return {"items": [split_order(item) for item in event["items"]]}


def split(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Up with `ItemCollections: true`: each collection's items, split."""
    return {
        "items": [
            [new for item in collection for new in split_order(item)]
            for collection in event["items"]
        ]
    }


def join(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Down with `ItemCollections: true`: each collection's header and lines, joined."""
    return {"items": [join_order(collection) for collection in event["items"]]}
