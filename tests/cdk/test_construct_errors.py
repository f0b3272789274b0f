"""A CDK user's mistakes: a wrong argument fails where it is written, naming the construct path
and the argument; a contract mistake fails `cdk synth`, naming the construct path and property."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb

from dynamigrate.cdk import DynamoMigration, Function, Query, Update, Verify
from tests.cdk.twins import table


def _stack() -> tuple[cdk.App, cdk.Stack]:
    app = cdk.App()
    return app, cdk.Stack(app, "Shop")


def _migration(stack: cdk.Stack, **arguments: Any) -> DynamoMigration:
    given = {
        "table": table(stack, "Orders"),
        "migration_id": "m1",
        "up": Update("REMOVE obsolete"),
        **arguments,
    }
    return DynamoMigration(stack, "Mig", **given)


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (
            {"up": "SET a = :v"},
            "[Shop/Mig] argument up: must be one of Update(...), Delete(...), Function(...), "
            "got 'SET a = :v' (str)",
        ),
        (
            {"source": Update("SET a = :v")},
            "[Shop/Mig] argument source: must be one of Scan(...), Query(...), got Update(",
        ),
        ({"down": Function}, "[Shop/Mig] argument down: must be one of"),
        ({"up": None}, "[Shop/Mig] argument up: must be one of Update(...), Delete(...)"),
        (
            {"table": None},
            "[Shop/Mig] argument table: must be a dynamodb ITable or a table name, got None",
        ),
        ({"target": 5}, "[Shop/Mig] argument target: must be a dynamodb ITable or a table name"),
        (
            {"up": Update("SET a = :v", values={":v": {1, 2}})},
            "[Shop/Mig] argument up.values[':v']: must be a string, number, bool, list or map, "
            "got {1, 2} (set) (a Values entry is JSON; DynamoDB sets and binary cannot be "
            "written there)",
        ),
        (
            {"down": Update("SET a = :v", values={":v": [b"x"]})},
            "[Shop/Mig] argument down.values[':v'][0]: must be a string, number, bool",
        ),
        (
            {"up": Update("SET a = :v", values={":v": float("nan")})},
            "[Shop/Mig] argument up.values[':v']: numbers must be finite, got nan",
        ),
        (
            {"up": Update("SET a = :v", values={":v": None})},
            "[Shop/Mig] argument up.values[':v']: must be a string, number, bool, list or map, "
            "got None",
        ),
        (
            {"source": Query("pk = :p", values={":p": {1: "a"}})},
            "[Shop/Mig] argument source.values[':p']: has a key that is not a string: 1",
        ),
        (
            {"verify": "attribute_exists(a)"},
            "[Shop/Mig] argument verify: must be one of Verify(...), got 'attribute_exists(a)' "
            "(str)",
        ),
        (
            {"verify": Update("SET a = :v")},
            "[Shop/Mig] argument verify: must be one of Verify(...), got Update(",
        ),
        (
            {"verify": Verify("a = :v", values={":v": {1, 2}})},
            "[Shop/Mig] argument verify.values[':v']: must be a string, number, bool, list or map",
        ),
    ],
    ids=[
        "up-as-a-string",
        "an-operation-as-source",
        "the-function-class",
        "no-up",
        "no-table",
        "target-an-int",
        "a-python-set",
        "bytes-in-a-list",
        "nan",
        "none",
        "an-int-map-key",
        "verify-as-a-string",
        "an-operation-as-verify",
        "a-python-set-in-verify",
    ],
)
def test_a_wrong_argument_fails_where_it_is_written(arguments, expected):
    _, stack = _stack()
    with pytest.raises(TypeError) as info:
        _migration(stack, **arguments)
    assert str(info.value).startswith(expected)


def test_a_function_of_nothing_is_refused():
    with pytest.raises(TypeError, match=r"takes a lambda IFunction, a function name or an ARN"):
        Function(None)  # type: ignore[arg-type]


def test_two_migrations_of_one_table_with_one_id_fail_synth_on_the_later_one():
    app, stack = _stack()
    orders = table(stack, "Orders")
    elsewhere = table(stack, "Archive")
    for construct_id, on in (("First", orders), ("Again", orders), ("Other", elsewhere)):
        DynamoMigration(stack, construct_id, table=on, migration_id="same", up=Update("REMOVE a"))
    with pytest.raises(RuntimeError) as info:
        app.synth()
    message = str(info.value)
    assert (
        "[Shop/Again] property MigrationId: 'same' is also the MigrationId of Shop/First on "
        "the same table"
    ) in message
    assert "Shop/First]" not in message
    assert "Shop/Other" not in message  # another table may reuse the id


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"max_writes_per_second": "500"}, "property MaxWritesPerSecond: must be an integer"),
        ({"on_timeout": "continue"}, "property OnTimeout: must be one of Fail, Continue"),
        (
            {"max_capacity_percent": 101},
            "property MaxCapacityPercent: must be an integer from 1 to 100, got 101",
        ),
        ({"backup": "always"}, "property Backup: must be one of Auto, Required, None"),
        ({"target": "other"}, "property Target: is only allowed with Up.Function"),
        ({"migration_id": "two words"}, "property MigrationId: 'two words' must be 1-100"),
        (
            {"service_timeout": cdk.Duration.hours(2)},
            "property ServiceTimeout: must be an integer from 60 to 3600, got 7200",
        ),
        (
            {"verify": Verify("attribute_exists(a)", max_violations=-1)},
            "property Verify.MaxViolations: must be an integer from 0 to 1000000000, got -1",
        ),
        (
            {"verify": Verify("attribute_exists(#s)")},
            "property Verify.Condition: #s (at character 18) is not defined: add it to "
            "Verify.Names",
        ),
        (
            {"verify": Verify("attribute_exists(a)", values={":v": 1})},
            "property Verify.Values.:v: is not used by Verify.Condition",
        ),
    ],
    ids=[
        "a-string-rate",
        "lowercase-on-timeout",
        "capacity-over-100",
        "unknown-backup",
        "target-without-function",
        "id",
        "2-hours",
        "negative-max-violations",
        "undefined-verify-name",
        "unused-verify-value",
    ],
)
def test_a_contract_mistake_fails_synth_naming_the_property(arguments, expected):
    app, stack = _stack()
    _migration(stack, **arguments)
    with pytest.raises(RuntimeError) as info:
        app.synth()
    assert f"[Shop/Mig] {expected}" in str(info.value)


def test_service_timeout_takes_a_cdk_duration():
    app, stack = _stack()
    migration = _migration(stack, service_timeout=cdk.Duration.minutes(30))
    template = app.synth().get_stack_by_name("Shop").template
    logical_id = stack.resolve(migration.resource.logical_id)
    assert template["Resources"][logical_id]["Properties"]["ServiceTimeout"] == 1800


def test_a_table_name_token_is_taken_as_a_name():
    app, stack = _stack()
    imported = dynamodb.Table.from_table_arn(
        stack, "Legacy", "arn:aws:dynamodb:us-east-1:123456789012:table/legacy"
    )
    migration = _migration(stack, table=imported)
    template = app.synth().get_stack_by_name("Shop").template
    logical_id = stack.resolve(migration.resource.logical_id)
    assert template["Resources"][logical_id]["Properties"]["TableName"] == "legacy"
