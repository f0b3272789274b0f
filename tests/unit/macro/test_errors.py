"""One case per validation rule, each asserting the exact located message."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from macro.errors import InvalidTemplateError
from macro.expand import expand
from tests.unit.macro.golden import SETTINGS

GOOD: dict[str, Any] = {
    "TableName": {"Ref": "Orders"},
    "Up": {
        "Update": {
            "Expression": "SET #s = :p",
            "Names": {"#s": "status"},
            "Values": {":p": "PENDING"},
        }
    },
}


FUNCTION = {"Function": "arn:aws:lambda:us-east-1:123456789012:function:f"}
COLLECTIONS = {"ItemCollections": True}


def template(**resources: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"Resources": {"Orders": {"Type": "AWS::DynamoDB::Table"}}}
    for logical_id, props in resources.items():
        out["Resources"][logical_id] = {"Type": "Custom::DynamoMigration", "Properties": props}
    return out


def errors_of(fragment: dict[str, Any]) -> list[str]:
    with pytest.raises(InvalidTemplateError) as info:
        expand(fragment, SETTINGS, lambda key, body: key)
    return [str(p) for p in info.value.problems]


def with_(**changes: Any) -> dict[str, Any]:
    props = copy.deepcopy(GOOD)
    for key, value in changes.items():
        if value is None:
            props.pop(key, None)
        else:
            props[key] = value
    return props


CASES = {
    "table-required": (with_(TableName=None), "property TableName: is required"),
    "up-required": (with_(Up=None), "property Up: is required"),
    "one-operation": (
        with_(Up={"Update": {"Expression": "SET a = :b"}, "Delete": {}}),
        "property Up: must have exactly one of Update, Delete, Function (found Update, Delete)",
    ),
    "no-operation": (
        with_(Up={}),
        "property Up: must have exactly one of Update, Delete, Function (found none)",
    ),
    "unknown-operation": (
        with_(Down={"Updte": {}}),
        "property Down.Updte: is not a known property; did you mean Update?",
    ),
    "restore-in-up": (
        with_(Up={"Restore": {}}),
        "property Up.Restore: is only allowed in Down (what a rollback does), not in Up",
    ),
    "keep-in-up": (
        with_(Up={"Keep": {}}),
        "property Up.Keep: is only allowed in Down (what a rollback does), not in Up",
    ),
    "restore-takes-nothing": (
        with_(Down={"Restore": {"Bucket": "mine"}}),
        "property Down.Restore.Bucket: is not a known property; Down.Restore takes none: write {}",
    ),
    "restore-not-a-flag": (
        with_(Down={"Restore": True}),
        "property Down.Restore: must be a map, got True",
    ),
    "down-as-a-word": (
        with_(Down="Restore"),
        "property Down: must be a map with exactly one of Update, Delete, Function, Restore, Keep",
    ),
    "restore-and-keep": (
        with_(Down={"Restore": {}, "Keep": {}}),
        "property Down: must have exactly one of Update, Delete, Function, Restore, Keep "
        "(found Restore, Keep)",
    ),
    "kept-misspelt": (
        with_(Down={"Kep": {}}),
        "property Down.Kep: is not a known property; did you mean Keep?",
    ),
    "restore-with-an-operation": (
        with_(Down={"Restore": {}, "Update": {"Expression": "REMOVE a"}}),
        "property Down: must have exactly one of Update, Delete, Function, Restore, Keep "
        "(found Restore, Update)",
    ),
    "keep-with-a-value": (
        with_(Down={"Keep": True}),
        "property Down.Keep: must be a map, got True",
    ),
    "keep-takes-nothing": (
        with_(Down={"Keep": {"Days": 7}}),
        "property Down.Keep.Days: is not a known property; Down.Keep takes none: write {}",
    ),
    "unknown-down-kind": (
        with_(Down={"Revert": {}}),
        "property Down.Revert: is not a known property; expected one of Update, Delete, "
        "Function, Restore, Keep",
    ),
    "verify-condition-required": (
        with_(Verify={"MaxViolations": 0}),
        "property Verify.Condition: is required",
    ),
    "verify-condition-empty": (
        with_(Verify={"Condition": " "}),
        "property Verify.Condition: must be a non-empty string, got ' '",
    ),
    "verify-condition-parses": (
        with_(Verify={"Condition": "attribute_exists("}),
        "property Verify.Condition: expected an attribute name or #name, found the end of the "
        'expression, at character 18 of "attribute_exists("',
    ),
    "verify-name-undefined": (
        with_(Verify={"Condition": "attribute_exists(#s)"}),
        "property Verify.Condition: #s (at character 18) is not defined: add it to "
        'Verify.Names, e.g. Names: {"#s": <attribute name>}',
    ),
    "verify-value-undefined": (
        with_(Verify={"Condition": "#s = :p", "Names": {"#s": "status"}}),
        "property Verify.Condition: :p (at character 6) is not defined: add it to Verify.Values",
    ),
    "verify-value-unused": (
        with_(Verify={"Condition": "attribute_exists(a)", "Values": {":p": "PENDING"}}),
        "property Verify.Values.:p: is not used by Verify.Condition: DynamoDB rejects a request "
        "with an unused value; remove it",
    ),
    "verify-name-unused": (
        with_(Verify={"Condition": "attribute_exists(a)", "Names": {"#s": "status"}}),
        "property Verify.Names.#s: is not used by Verify.Condition: DynamoDB rejects a request "
        "with an unused name; remove it",
    ),
    "verify-reserved-word": (
        with_(Verify={"Condition": "attribute_exists(status)"}),
        "property Verify.Condition: status (at character 18) is a DynamoDB reserved word: write "
        '#status and add Names: {"#status": "status"}',
    ),
    "verify-max-violations-negative": (
        with_(Verify={"Condition": "attribute_exists(a)", "MaxViolations": -1}),
        "property Verify.MaxViolations: must be an integer from 0 to 1000000000, got -1",
    ),
    "verify-max-violations-fraction": (
        with_(Verify={"Condition": "attribute_exists(a)", "MaxViolations": 1.5}),
        "property Verify.MaxViolations: must be an integer from 0 to 1000000000, got 1.5",
    ),
    "verify-max-violations-string": (
        with_(Verify={"Condition": "attribute_exists(a)", "MaxViolations": "3"}),
        "property Verify.MaxViolations: must be an integer from 0 to 1000000000, got '3'",
    ),
    "verify-max-violations-bool": (
        with_(Verify={"Condition": "attribute_exists(a)", "MaxViolations": True}),
        "property Verify.MaxViolations: must be an integer from 0 to 1000000000, got True",
    ),
    "verify-unknown-key": (
        with_(Verify={"Condition": "attribute_exists(a)", "MaxViolation": 3}),
        "property Verify.MaxViolation: is not a known property; did you mean MaxViolations?",
    ),
    "verify-not-a-map": (
        with_(Verify="attribute_exists(a)"),
        "property Verify: must be a map, got 'attribute_exists(a)'",
    ),
    "verify-runner-prefix": (
        with_(
            Verify={
                "Condition": "attribute_exists(#dynamigrate_s)",
                "Names": {"#dynamigrate_s": "status"},
            }
        ),
        "property Verify.Names.#dynamigrate_s: #dynamigrate_* is the runner's own: rename it",
    ),
    "verify-placeholder-of-the-query": (
        with_(
            Source={"Query": {"KeyCondition": "pk = :p", "Values": {":p": "ORDER"}}},
            Verify={"Condition": "#s = :p", "Names": {"#s": "status"}, "Values": {":p": "DONE"}},
        ),
        "property Verify.Values.:p: is also Source.Query.Values.:p with another value, and the "
        "verification's Query sends both with the KeyCondition: rename one",
    ),
    "unknown-property": (
        with_(Descripton="x"),
        "property Descripton: is not a known property; did you mean Description?",
    ),
    "unknown-nested": (
        with_(Source={"Scan": {"Segmets": 4}}),
        "property Source.Scan.Segmets: is not a known property; did you mean Segments?",
    ),
    "segments-range": (
        with_(Source={"Scan": {"Segments": 0}}),
        "property Source.Scan.Segments: must be an integer from 1 to 1000, got 0",
    ),
    "one-source": (
        with_(Source={"Scan": {}, "Query": {"KeyCondition": "a = :b"}}),
        "property Source: must have exactly one of Scan, Query (found Scan, Query)",
    ),
    "key-condition": (
        with_(Source={"Query": {"IndexName": "GSI1"}}),
        "property Source.Query.KeyCondition: is required",
    ),
    "writes-type": (
        with_(MaxWritesPerSecond="fast"),
        "property MaxWritesPerSecond: must be an integer from 1 to 40000, got 'fast'",
    ),
    "capacity-percent-range": (
        with_(MaxCapacityPercent=0),
        "property MaxCapacityPercent: must be an integer from 1 to 100, got 0",
    ),
    "capacity-percent-type": (
        with_(MaxCapacityPercent="half"),
        "property MaxCapacityPercent: must be an integer from 1 to 100, got 'half'",
    ),
    "concurrency-range": (
        with_(MaxConcurrency=5000),
        "property MaxConcurrency: must be an integer from 1 to 1000, got 5000",
    ),
    "service-timeout": (
        with_(ServiceTimeout=7200),
        "property ServiceTimeout: must be an integer from 60 to 3600, got 7200",
    ),
    "on-timeout": (
        with_(OnTimeout="Retry"),
        "property OnTimeout: must be one of Fail, Continue, got 'Retry'",
    ),
    "dry-run": (with_(DryRun="yes"), "property DryRun: must be true or false, got 'yes'"),
    "backup": (
        with_(Backup="auto"),
        "property Backup: must be one of Auto, Required, None, got 'auto'",
    ),
    "expression-required": (
        with_(Up={"Update": {"Condition": "a = :b"}}),
        "property Up.Update.Expression: is required",
    ),
    "expression-type": (
        with_(Up={"Update": {"Expression": 5}}),
        "property Up.Update.Expression: must be a non-empty string, got 5",
    ),
    "name-placeholder": (
        with_(Up={"Update": {"Expression": "SET a = :b", "Names": {"status": "s"}}}),
        "property Up.Update.Names.status: is not a name placeholder like #name",
    ),
    "value-placeholder": (
        with_(Up={"Update": {"Expression": "SET a = :b", "Values": {"b": 1}}}),
        "property Up.Update.Values.b: is not a value placeholder like :value",
    ),
    "finite-values": (
        with_(Up={"Update": {"Expression": "SET a = :b", "Values": {":b": float("inf")}}}),
        "property Up.Update.Values.:b: numbers must be finite",
    ),
    "substitution": (
        with_(Source={"Scan": {"Filter": "a = ${x}"}}),
        "property Source.Scan.Filter: must not contain '${' (CloudFormation would substitute it)",
    ),
    "function-reference": (
        with_(Up={"Function": 42}),
        "property Up.Function: must be a name, an ARN or an intrinsic function, got 42",
    ),
    "table-reference": (
        with_(TableName=["Orders"]),
        "property TableName: must be a name, an ARN or an intrinsic function, got ['Orders']",
    ),
    "target-needs-function": (
        with_(Target="OrdersV2"),
        "property Target: is only allowed with Up.Function (items are copied through it)",
    ),
    "migration-id": (
        with_(MigrationId="add status"),
        "property MigrationId: 'add status' must be 1-100 letters, digits, '.', '_' or '-'",
    ),
    "item-collections-bool": (
        with_(Source={"Scan": {"ItemCollections": "yes"}}, Up=FUNCTION),
        "property Source.Scan.ItemCollections: must be true or false, got 'yes'",
    ),
    "item-collections-update": (
        with_(Source={"Query": {"KeyCondition": "pk = :p", "Values": {":p": "A"}, **COLLECTIONS}}),
        "property Up.Update: must be a Function with Source.Query.ItemCollections: true (whole "
        "item collections go to a transform function; an Update works item by item, without "
        "ItemCollections)",
    ),
    "item-collections-down-delete": (
        with_(Source={"Scan": COLLECTIONS}, Up=FUNCTION, Down={"Delete": {}}),
        "property Down.Delete: must be a Function with Source.Scan.ItemCollections: true (whole "
        "item collections go to a transform function; a Delete works item by item, without "
        "ItemCollections)",
    ),
    "item-collections-index": (
        with_(Source={"Scan": {**COLLECTIONS, "IndexName": "GSI1"}}, Up=FUNCTION),
        "property Source.Scan.IndexName: cannot be used with Source.Scan.ItemCollections: true "
        "(collections are the table's own partition keys, written in transactions, which cannot "
        "go through an index)",
    ),
    "item-collections-target": (
        with_(Source={"Scan": COLLECTIONS}, Up=FUNCTION, Target="OrdersV2"),
        "property Target: cannot be used with Source.Scan.ItemCollections: true (a collection's "
        "writes go to its own table, in one transaction); copy with a 1:N Function result instead",
    ),
    "item-collections-beside-the-source": (
        with_(Source={"ItemCollections": True}, Up=FUNCTION),
        "property Source.ItemCollections: is not a known property; expected one of Scan, Query",
    ),
}


@pytest.mark.parametrize(("props", "message"), CASES.values(), ids=CASES.keys())
def test_each_rule_names_resource_and_property(props, message):
    assert errors_of(template(M=props)) == [f"Resource [M] {message}"]


def test_properties_must_be_a_map():
    assert errors_of(template(M="oops")) == ["Resource [M]: Properties must be a map"]


def test_duplicate_migration_id_on_one_table():
    props = with_(MigrationId="same")
    assert errors_of(template(A=props, B=props)) == [
        "Resource [B] property MigrationId: 'same' is also the MigrationId of A on the same table"
    ]


def test_the_nested_stack_logical_id_must_be_free():
    fragment = template(M=GOOD)
    fragment["Resources"]["MStack"] = {"Type": "AWS::SNS::Topic"}
    assert errors_of(fragment) == [
        "Resource [M]: the macro needs the logical id MStack for its nested stack; rename that "
        "resource"
    ]


def test_every_problem_of_every_resource_in_one_failure():
    fragment = template(A=with_(TableName=None), B=with_(DryRun=1, OnTimeout="x"))
    with pytest.raises(InvalidTemplateError) as info:
        expand(fragment, SETTINGS, lambda key, body: key)
    assert str(info.value) == (
        "Invalid template: 3 errors\n"
        "Resource [A] property TableName: is required\n"
        "Resource [B] property DryRun: must be true or false, got 1\n"
        "Resource [B] property OnTimeout: must be one of Fail, Continue, got 'x'"
    )


def test_too_many_migrations_for_one_template_is_a_clear_error():
    fragment = template(**{f"M{i}": with_(MigrationId=f"m{i:03d}") for i in range(250)})
    problems = errors_of(fragment)
    assert problems == [
        "Template: 501 resources after expansion (each migration adds a nested stack); "
        "CloudFormation allows 500. Split the migrations across stacks or remove applied ones."
    ]
