"""The update evaluator against an independent oracle: the emulator's DynamoDB.

Every case of the update corpus (tests/expressions/updates.py) is applied twice: by
`runner.update_eval.evaluate` to the item, and by UpdateItem on the emulator to the same item.
Wherever the evaluator predicts an item, the emulator must accept the update and store exactly
that item; wherever it says the update changes nothing, the emulator's item must be unchanged.
Where it cannot know (Unknown) it claims nothing and the worker writes as before. The gaps
below are cases where the emulator differs from the Amazon DynamoDB documentation named beside
them; a gap that closes, or a new difference, fails the test, so the list stays exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from dynamigrate.local.emulator import emulated_aws
from runner.update_eval import Unknown, changes_nothing, evaluate, same_items
from runner.update_expr import parse_update
from tests.expressions.updates import CASES, UpdateCase

TABLE = "Updates"
KEY = {"pk": {"S": "u"}}
EMULATOR_GAPS: dict[str, str] = {}


@dataclass(frozen=True)
class Row:
    case: UpdateCase
    stored: dict[str, Any] | None  # None: the emulator refused the update
    predicted: dict[str, Any] | None  # None: Unknown
    unchanged: bool


def _apply(client: Any, case: UpdateCase) -> dict[str, Any] | None:
    client.put_item(TableName=TABLE, Item={**KEY, **case.item})
    kwargs: dict[str, Any] = {"TableName": TABLE, "Key": KEY, "UpdateExpression": case.expression}
    if case.names:
        kwargs["ExpressionAttributeNames"] = case.names
    if case.values:
        kwargs["ExpressionAttributeValues"] = case.values
    try:
        client.update_item(**kwargs)
    except ClientError:
        return None
    except Exception:  # the emulator's own failure: a refusal all the same
        return None
    item = client.get_item(TableName=TABLE, Key=KEY, ConsistentRead=True)["Item"]
    return {k: v for k, v in item.items() if k != "pk"}


def _predict(case: UpdateCase) -> dict[str, Any] | None:
    update = parse_update(case.expression, case.names)
    assert update is not None, f"the corpus is the model's: {case.id}"
    try:
        return evaluate(update, case.item, case.values).item
    except Unknown:
        return None


@pytest.fixture(scope="module")
def rows() -> list[Row]:
    with emulated_aws():
        client = boto3.client("dynamodb")
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        return [
            Row(
                c,
                _apply(client, c),
                _predict(c),
                changes_nothing(parse_update(c.expression, c.names), c.item, c.values),
            )
            for c in CASES
        ]


def test_the_corpus_is_large_and_mixed(rows: list[Row]) -> None:
    assert len(rows) >= 200
    predicted = [r for r in rows if r.predicted is not None]
    assert len(predicted) >= len(rows) // 2
    assert sum(r.unchanged for r in rows) >= 40
    assert sum(r.stored is None for r in rows) >= 20, "refusals are in the corpus too"


def test_every_prediction_is_what_the_emulator_stores(rows: list[Row]) -> None:
    wrong = {
        r.case.id: (r.predicted, r.stored)
        for r in rows
        if r.predicted is not None
        and (r.stored is None or not same_items(r.predicted, r.stored))
        and r.case.id not in EMULATOR_GAPS
    }
    assert wrong == {}


def test_nothing_changes_where_the_evaluator_says_so(rows: list[Row]) -> None:
    wrong = [
        r.case.id
        for r in rows
        if r.unchanged and (r.stored is None or not same_items(r.stored, r.case.item))
    ]
    assert wrong == []


def test_every_refusal_is_unknown_to_the_evaluator(rows: list[Row]) -> None:
    # DynamoDB's refusal reaches the user as before: the worker writes what it cannot know
    assert [r.case.id for r in rows if r.stored is None and r.predicted is not None] == []


def test_documented_gaps_still_show(rows: list[Row]) -> None:
    shown = {
        r.case.id
        for r in rows
        if r.predicted is not None and (r.stored is None or not same_items(r.predicted, r.stored))
    }
    assert sorted(set(EMULATOR_GAPS) - shown) == []
