"""The two judges of a corpus case: dynamigrate's checker, and the emulator's DynamoDB.

The checker sees the case as a user writes it, in a migration's properties, with the table
declared in the template. The emulator receives exactly the request the runner sends for it
(`runner.source.read_request`, `runner.operations.PageApplier`) against a table holding one item
of every attribute the corpus names, and judges by whether DynamoDB rejects the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from botocore.exceptions import ClientError

from macro.contract import validate
from runner.errors import MigrationError
from runner.operations import PageApplier
from runner.pacing import TokenBucket
from runner.source import pages, read_request
from runner.spec import parse_spec
from tests.expressions.corpus import Case

TABLE = "Corpus"
ITEM: dict[str, Any] = {
    "pk": {"S": "p"},
    "sk": {"S": "s"},
    "gpk": {"S": "g"},
    "gsk": {"S": "h"},
    "a": {"N": "1"},
    "b": {"S": "b"},
    "n": {"N": "5"},
    "str": {"S": "xy"},
    "l": {"L": [{"N": "1"}, {"N": "2"}]},
    "m": {"M": {"x": {"M": {"y": {"N": "1"}}}, "n": {"N": "2"}}},
    "ss": {"SS": ["a", "b"]},
    "status": {"S": "old"},
}
_KEYS = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
_INDEX_KEYS = [
    {"AttributeName": "gpk", "KeyType": "HASH"},
    {"AttributeName": "gsk", "KeyType": "RANGE"},
]
TEMPLATE_RESOURCES: dict[str, Any] = {
    "Table": {
        "Type": "AWS::DynamoDB::Table",
        "Properties": {
            "KeySchema": _KEYS,
            "GlobalSecondaryIndexes": [{"IndexName": "GSI", "KeySchema": _INDEX_KEYS}],
        },
    }
}

Verdict = Literal["accepted", "rejected", "crashed"]


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    reason: str


def properties(case: Case, table: Any) -> dict[str, Any]:
    """The migration a user would write for the case."""
    placeholders: dict[str, Any] = {}
    if case.names:
        placeholders["Names"] = case.names
    if case.values:
        placeholders["Values"] = case.values
    props: dict[str, Any] = {"TableName": table, "Up": {"Delete": None}}
    if case.kind == "update":
        props["Up"] = {"Update": {"Expression": case.text, **placeholders}}
    elif case.kind == "condition":
        props["Up"] = {"Delete": {"Condition": case.text, **placeholders}}
    elif case.kind == "filter":
        props["Source"] = {"Scan": {"Filter": case.text, **placeholders}}
    else:
        index = {"IndexName": case.index} if case.index else {}
        props["Source"] = {"Query": {"KeyCondition": case.text, **index, **placeholders}}
    return props


def checker(case: Case) -> list[str]:
    """dynamigrate's verdict: the problems it reports (none: valid)."""
    return [str(p) for p in validate("M", properties(case, {"Ref": "Table"}), TEMPLATE_RESOURCES)]


def create_table(client: Any) -> None:
    attributes = [
        {"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "gpk", "gsk")
    ]
    client.create_table(
        TableName=TABLE,
        KeySchema=_KEYS,
        AttributeDefinitions=attributes,
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[
            {"IndexName": "GSI", "KeySchema": _INDEX_KEYS, "Projection": {"ProjectionType": "ALL"}}
        ],
    )


def emulator(client: Any, case: Case) -> Judgement:
    """The emulator's verdict on the request the runner sends for the case."""
    client.put_item(TableName=TABLE, Item=ITEM)
    raw = properties(case, TABLE)
    try:
        spec = parse_spec({"MigrationId": "M", **raw})
        if case.kind in ("filter", "key"):
            request = read_request(spec, 0, 1)
            for _ in pages(client, request, None, "M"):
                pass
        else:
            applier = PageApplier(
                spec=spec,
                operation=spec.up,
                client=client,
                invoke=None,  # type: ignore[arg-type]
                key_names=["pk", "sk"],
                target_key_names=None,
                bucket=TokenBucket(1000),
                dry_run=False,
                concurrency=1,
            )
            applier.update = None  # judge the request itself, never skipped as unchanged
            applier.apply([ITEM])
    except (MigrationError, ClientError) as exc:
        return Judgement("rejected", str(exc))
    except Exception as exc:  # the emulator's own failure is a verdict too
        return Judgement("crashed", f"{type(exc).__name__}: {exc}")
    return Judgement("accepted", "")
