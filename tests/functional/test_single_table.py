"""Single-table transforms on the emulator: 1:N results and whole item collections.

- A list result creates new keys, rewrites the input's own key and deletes it when absent; a
  re-run writes nothing; an item the application wrote at a new key is never overwritten, one
  the migration wrote before a crash is recognised.
- `ItemCollections: true` hands the function each partition key's items together, in sort-key
  order, across pages and segments; the README's orders example goes Up and back Down exactly.
"""

from __future__ import annotations

from typing import Any

import pytest

from dynamigrate.local.emulator import deploy_function
from migrations.functions.split_order import join, split, split_items, split_order

Item = dict[str, Any]


def create_orders(client: Any, name: str) -> None:
    client.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def order(n: int, lines: int) -> Item:
    return {
        "pk": {"S": f"ORDER#{n}"},
        "sk": {"S": "ORDER"},
        "total": {"N": str(10 * n)},
        "lines": {
            "L": [{"M": {"sku": {"S": f"SKU-{n}-{i}"}, "qty": {"N": str(i)}}} for i in range(lines)]
        },
    }


ORDERS = [order(1, 2), order(2, 3), order(3, 1)]
CUSTOMER = {"pk": {"S": "CUSTOMER#1"}, "sk": {"S": "PROFILE"}, "name": {"S": "Ada"}}


def everything(client: Any, name: str) -> dict[tuple[str, str], Item]:
    items: dict[tuple[str, str], Item] = {}
    kwargs: dict[str, Any] = {"TableName": name, "ConsistentRead": True}
    while True:
        resp = client.scan(**kwargs)
        for item in resp["Items"]:
            items[(item["pk"]["S"], item["sk"]["S"])] = item
        if "LastEvaluatedKey" not in resp:
            return items
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def keyed(items: list[Item]) -> dict[tuple[str, str], Item]:
    return {(i["pk"]["S"], i["sk"]["S"]): i for i in items}


def split_table() -> dict[tuple[str, str], Item]:
    return keyed([new for o in [*ORDERS, CUSTOMER] for new in split_order(o)])


def seeded(engine: Any, name: str) -> None:
    create_orders(engine.dynamodb, name)
    for item in [*ORDERS, CUSTOMER]:
        engine.dynamodb.put_item(TableName=name, Item=item)


def test_a_list_result_creates_rewrites_and_a_rerun_writes_nothing(engine):
    seeded(engine, "Fan")
    fn = deploy_function("split-items", split_items)
    spec = {"MigrationId": "fan", "TableName": "Fan", "Up": {"Function": fn}}
    result = engine.run(spec)
    assert result.status == "SUCCEEDED", result.cause
    counters = result.output["counters"]
    assert (counters["created"], counters["updated"], counters["deleted"]) == (6, 3, 0)
    assert everything(engine.dynamodb, "Fan") == split_table()
    again = engine.run(spec)  # the lines it created are scanned too, and come back unchanged
    assert again.status == "SUCCEEDED", again.cause
    assert (again.output["counters"]["created"], again.output["counters"]["updated"]) == (0, 0)
    assert everything(engine.dynamodb, "Fan") == split_table()


def test_a_rerun_after_a_crash_recognises_its_creates_and_keeps_the_applications(engine):
    """The crashed run created order 1's lines (then died before rewriting the order); the
    application meanwhile wrote its own item at order 2's first line: it is kept as it is."""
    seeded(engine, "Crash")
    for line in split_order(ORDERS[0])[1:]:
        engine.dynamodb.put_item(TableName="Crash", Item=line)
    theirs = {"pk": {"S": "ORDER#2"}, "sk": {"S": "LINE#001"}, "sku": {"S": "THEIRS"}}
    engine.dynamodb.put_item(TableName="Crash", Item=theirs)
    fn = deploy_function("split-crash", split_items)
    result = engine.run({"MigrationId": "crash", "TableName": "Crash", "Up": {"Function": fn}})
    assert result.status == "SUCCEEDED", result.cause
    counters = result.output["counters"]
    assert counters["created"] == 3  # order 2's other two lines and order 3's line
    assert counters["conflicts"] == 1  # the application's line, never overwritten
    expected = split_table()
    expected[("ORDER#2", "LINE#001")] = theirs
    assert everything(engine.dynamodb, "Crash") == expected


def _drop_orders(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """An order becomes an archive item (a new key) and disappears: its key is not listed."""
    out = []
    for item in event["items"]:
        if item["sk"]["S"] == "ORDER":
            out.append([{"pk": {"S": "ARCHIVE"}, "sk": item["pk"], "total": item["total"]}])
        else:
            out.append([item])
    return {"items": out}


def test_a_key_absent_from_the_list_is_deleted(engine):
    seeded(engine, "Drop")
    fn = deploy_function("drop-orders", _drop_orders)
    spec = {"MigrationId": "drop", "TableName": "Drop", "Up": {"Function": fn}}
    dry = engine.run(spec, dry_run=True)
    assert dry.status == "SUCCEEDED", dry.cause
    assert (dry.output["counters"]["created"], dry.output["counters"]["deleted"]) == (3, 3)
    assert everything(engine.dynamodb, "Drop") == keyed([*ORDERS, CUSTOMER])  # nothing written
    result = engine.run(spec)
    assert result.status == "SUCCEEDED", result.cause
    assert (result.output["counters"]["created"], result.output["counters"]["deleted"]) == (3, 3)
    assert set(everything(engine.dynamodb, "Drop")) == {
        ("CUSTOMER#1", "PROFILE"),
        *(("ARCHIVE", f"ORDER#{n}") for n in (1, 2, 3)),
    }


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ([[{"pk": {"S": "X"}}]], "entry 0: lacks the key attribute(s) sk"),
        ([[{"pk": {"S": "X"}, "sk": {"S": "Y"}}] * 2], "appears twice"),
        ([["not an item"]], "entry 0: expected an item in DynamoDB JSON, got str"),
    ],
)
def test_a_bad_list_result_fails_the_run_naming_the_input(engine, reply, reason):
    create_orders(engine.dynamodb, "BadList")
    engine.dynamodb.put_item(TableName="BadList", Item=CUSTOMER)
    fn = deploy_function("bad-list", lambda event, context: {"items": reply})
    result = engine.run({"MigrationId": "bad-list", "TableName": "BadList", "Up": {"Function": fn}})
    assert result.status == "FAILED"
    assert "Migration bad-list: the function's result for" in result.message
    assert '"CUSTOMER#1"' in result.message
    assert reason in result.message


# Item collections -----------------------------------------------------------------------------


def _collections_spec(up: str, down: str, **scan: Any) -> dict[str, Any]:
    return {
        "MigrationId": "orders-split",
        "TableName": "Orders",
        "Source": {"Scan": {"ItemCollections": True, **scan}},
        "Up": {"Function": up},
        "Down": {"Function": down},
    }


def test_collections_split_and_join_back_across_pages_and_segments(engine):
    """Pages of 2 items and 2 segments: order 2's collection straddles pages once split."""
    seeded(engine, "Orders")
    seen: list[list[str]] = []

    def spying_join(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.extend([[i["sk"]["S"] for i in c] for c in event["items"]])
        return join(event, context)

    spec = _collections_spec(
        deploy_function("split", split),
        deploy_function("join", spying_join),
        Segments=2,
        PageSize=2,
    )
    up = engine.run(spec)
    assert up.status == "SUCCEEDED", up.cause
    assert everything(engine.dynamodb, "Orders") == split_table()
    assert (up.output["counters"]["created"], up.output["counters"]["updated"]) == (6, 3)
    down = engine.run(spec, direction="down")
    assert down.status == "SUCCEEDED", down.cause
    assert everything(engine.dynamodb, "Orders") == keyed([*ORDERS, CUSTOMER])
    assert (down.output["counters"]["deleted"], down.output["counters"]["updated"]) == (6, 3)
    # every collection whole and in sort-key order, each handed over once
    assert sorted(seen) == [
        ["LINE#001", "LINE#002", "LINE#003", "ORDER"],
        ["LINE#001", "LINE#002", "ORDER"],
        ["LINE#001", "ORDER"],
        ["PROFILE"],
    ]
    assert all(c == sorted(c) for c in seen)


def test_a_collections_writes_are_all_or_nothing_and_a_conflict_rereads_it(engine):
    """The application adds a line to order 2 while the function runs: the transaction fails on
    its condition, the collection is read again and split again, the application's line stays."""
    seeded(engine, "Orders")
    calls = {"n": 0}

    def racing_split(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls["n"] += 1
        if calls["n"] == 1:
            engine.dynamodb.update_item(
                TableName="Orders",
                Key={"pk": {"S": "ORDER#2"}, "sk": {"S": "ORDER"}},
                UpdateExpression="SET #l = list_append(#l, :l)",
                ExpressionAttributeNames={"#l": "lines"},
                ExpressionAttributeValues={":l": {"L": [{"M": {"sku": {"S": "LATE"}}}]}},
            )
        return split(event, context)

    fn = deploy_function("racing-split", racing_split)
    spec = _collections_spec(fn, fn, Segments=1)
    result = engine.run(spec)
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["counters"]["conflicts"] >= 1
    late = order(2, 3)
    late["lines"]["L"].append({"M": {"sku": {"S": "LATE"}}})
    expected = {**split_table(), **keyed(split_order(late))}
    assert expected[("ORDER#2", "LINE#004")] == {
        "pk": {"S": "ORDER#2"},
        "sk": {"S": "LINE#004"},
        "sku": {"S": "LATE"},
    }
    assert everything(engine.dynamodb, "Orders") == expected


def test_a_collection_needing_more_writes_than_a_transaction_is_refused_untouched(engine):
    create_orders(engine.dynamodb, "Orders")
    engine.dynamodb.put_item(TableName="Orders", Item=order(9, 100))
    fn = deploy_function("split-big", split)
    result = engine.run(_collections_spec(fn, fn))
    assert result.status == "FAILED"
    assert 'the item collection {"pk": {"S": "ORDER#9"}} (1 items) needs 101 writes' in (
        result.message
    )
    assert everything(engine.dynamodb, "Orders") == keyed([order(9, 100)])


def test_a_collection_result_that_is_not_a_list_is_refused(engine):
    seeded(engine, "Orders")
    fn = deploy_function("not-a-list", lambda event, context: {"items": event["items"][0]})
    result = engine.run(_collections_spec(fn, fn, Segments=1))
    assert result.status == "FAILED"
    assert "with ItemCollections" in result.message
