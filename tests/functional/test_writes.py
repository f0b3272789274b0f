"""What the worker writes, on the emulator as on AWS.

- A transform function's result is checked before the write: the emulator would store
  `{"N": "not-a-number"}`, DynamoDB refuses it; the run fails either way, naming the migration,
  the item's key and the attribute.
- A dry run's read carries only the placeholders its condition uses.
- An item deleted between the read and the write is not re-created.
"""

from __future__ import annotations

from typing import Any

import pytest

from dynamigrate.local.emulator import deploy_function
from tests.functional.conftest import create_table, load, scan_all
from tests.functional.test_safety import numbered


def _set_b(value: dict[str, Any]) -> Any:
    def transform(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"items": [{**item, "b": value} for item in event["items"]]}

    return transform


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ({"N": "not-a-number"}, "attribute b: 'not-a-number' is not a number"),
        ({"SS": ["x", "x"]}, 'attribute b: the set holds "x" twice'),
        ({"N": "1" * 39}, "has 39 significant digits; DynamoDB keeps 38"),
    ],
)
def test_a_bad_function_result_fails_the_run_and_writes_nothing(engine, value, reason):
    create_table(engine.dynamodb, "Results")
    load(engine.dynamodb, "Results", numbered(3))
    fn = deploy_function("bad-result", _set_b(value))
    result = engine.run(
        {
            "MigrationId": "bad-result",
            "TableName": "Results",
            "Up": {"Function": fn},
            "Source": {"Scan": {"Segments": 1}},
        }
    )
    assert result.status == "FAILED"
    assert 'Migration bad-result: the function\'s result for {"pk": {"S": ' in result.message
    assert reason in result.message
    assert all("b" not in item for item in scan_all(engine.dynamodb, "Results").values())


def test_a_dry_run_sends_only_the_placeholders_its_condition_uses(engine):
    """The dry run reads with the write's condition as its filter: the Expression's own names
    must stay out of that read, or DynamoDB refuses it as an unused name."""
    create_table(engine.dynamodb, "DryNames")
    load(engine.dynamodb, "DryNames", numbered(20))
    spec = {
        "MigrationId": "dry-names",
        "TableName": "DryNames",
        "Up": {
            "Update": {
                "Expression": "SET #s = :p",
                "Condition": "(attribute_not_exists(#m) OR #m < :cutoff)",
                "Names": {"#s": "status", "#m": "migratedAt"},
                "Values": {":p": "PENDING", ":cutoff": 5},
            }
        },
    }
    result = engine.run(spec, dry_run=True)
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["counters"]["updated"] == 20
    wet = engine.run(spec)  # the user's own parentheses are not doubled by the runner's guard
    assert wet.status == "SUCCEEDED", wet.cause
    assert all(
        i["status"] == {"S": "PENDING"} for i in scan_all(engine.dynamodb, "DryNames").values()
    )


@pytest.mark.parametrize(
    "operation",
    [
        {"Update": {"Expression": "SET v = :one", "Values": {":one": 1}}},
        {
            "Update": {
                "Expression": "SET v = :one",
                "Condition": "n >= :zero",
                "Values": {":one": 1, ":zero": 0},
            }
        },
        {"Delete": None},
    ],
    ids=["update", "update-with-condition", "delete"],
)
def test_an_item_deleted_between_the_read_and_the_write_is_not_recreated(engine, operation):
    """The worker's writes are guarded by attribute_exists(key): DynamoDB's UpdateItem would
    otherwise create the item the application just deleted (API Reference, UpdateItem: "Edits an
    existing item's attributes, or adds a new item to the table if it does not already exist")."""
    from runner.operations import PageApplier
    from runner.pacing import TokenBucket
    from runner.spec import parse_spec

    create_table(engine.dynamodb, "Guarded")
    load(engine.dynamodb, "Guarded", numbered(4))
    page = engine.dynamodb.scan(TableName="Guarded", ConsistentRead=True)["Items"]
    gone = page[0]["pk"]
    engine.dynamodb.delete_item(TableName="Guarded", Key={"pk": gone})  # the application's delete
    spec = parse_spec({"MigrationId": "guarded", "TableName": "Guarded", "Up": operation})
    applier = PageApplier(
        spec=spec,
        operation=spec.up,
        client=engine.dynamodb,
        invoke=None,  # type: ignore[arg-type]
        key_names=["pk"],
        target_key_names=None,
        bucket=TokenBucket(1000),
        dry_run=False,
        concurrency=1,
    )
    result = applier.apply(page)
    remaining = scan_all(engine.dynamodb, "Guarded")
    assert gone["S"] not in remaining
    assert result.counters["unchanged"] == 1
    assert len(remaining) == (0 if "Delete" in operation else 3)
