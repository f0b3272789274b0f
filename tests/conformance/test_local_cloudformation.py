"""The local CloudFormation sends the documented sequences: deploys of templates reproduce them.

Each scenario that the local CloudFormation can deploy (its failures are migrations', not other
resources') is played as a series of template deploys through `LocalDeployer`, the same code that
`dynamigrate local run` and `local serve` use. The requests it sends, with the stack status, the
kind of physical id and the answer of each, must equal the scenario's, and the tables and the
history must end as the runner's conformance test says.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dynamigrate.local.app import LocalApp
from dynamigrate.local.cloudformation.deployer import LocalDeployer
from dynamigrate.local.cloudformation.operation import Sent
from dynamigrate.local.cloudformation.protocol import ResponseReceiver, response_receiver
from dynamigrate.local.cloudformation.resources import DeployError
from dynamigrate.local.emulator import emulated_aws
from tests.conformance.sequences import (
    CLEANUP,
    CREATE,
    CUSTOMERS,
    MIGRATIONS,
    ORDERS,
    SCENARIOS,
    UPDATE,
    Operation,
    Scenario,
)
from tests.conformance.test_runner import assert_final_state

LOCAL = [s for s in SCENARIOS if s.local]
TABLE = {
    "Type": "AWS::DynamoDB::Table",
    "DeletionPolicy": "Retain",  # the final state shows what each Down did to the items
    "Properties": {
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    },
}


@pytest.fixture
def world() -> Iterator[tuple[LocalApp, ResponseReceiver]]:
    with emulated_aws(), response_receiver() as receiver:
        yield LocalApp(poll_seconds=1), receiver


def templates(scenario: Scenario) -> list[dict[str, Any]]:
    """The template each operation deploys: what the stack held, changed as its requests say."""
    held: dict[str, str] = {}
    out = []
    for operation in scenario.operations:
        template = dict(held)
        forward = {r.resource: r.props for r in operation.requests if r.status in (CREATE, UPDATE)}
        removed = {
            r.resource
            for r in operation.requests
            if r.type == "Delete" and r.status == CLEANUP and r.resource not in forward
        }
        template = {k: v for k, v in template.items() if k not in removed} | forward
        out.append(_template(template))
        if operation.ends in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
            held = template
    return out


def _template(resources: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        ORDERS: {**TABLE, "Properties": {**TABLE["Properties"], "TableName": ORDERS}},
        CUSTOMERS: {**TABLE, "Properties": {**TABLE["Properties"], "TableName": CUSTOMERS}},
    }
    for logical_id, name in resources.items():
        props = {"TableName": {"Ref": ORDERS}, **MIGRATIONS[name]}
        if props["TableName"] == CUSTOMERS:
            props["TableName"] = {"Ref": CUSTOMERS}
        body[logical_id] = {"Type": "Custom::DynamoMigration", "Properties": props}
    return {"Transform": "DynamoMigrations", "Resources": body}


def expected(operation: Operation) -> list[Sent]:
    return [Sent(r.status, r.type, r.resource, r.physical, r.answer) for r in operation.requests]


@pytest.mark.parametrize("scenario", LOCAL, ids=[s.name for s in LOCAL])
def test_the_local_cloudformation_sends_the_documented_sequence(world, scenario):
    app, receiver = world
    deployer = LocalDeployer(app, receiver, stack_name="app")
    data = {
        ORDERS: [{"pk": {"S": f"o{i:04d}"}} for i in range(300)],
        CUSTOMERS: [{"pk": {"S": f"c{i:04d}"}} for i in range(50)],
    }
    for operation, template in zip(scenario.operations, templates(scenario), strict=True):
        if operation.name == "rollback-stack":
            deployer.roll_back()
        elif operation.name == "delete":
            deployer.delete()
        else:
            disable_rollback = operation.ends.endswith("_FAILED")
            deployer.deploy(template, Path("."), data, disable_rollback=disable_rollback)
        data = {}
        assert deployer.log == expected(operation), operation.name
        assert deployer.driver.current_status == operation.ends
    assert_final_state(app, scenario)


def _tables(app: LocalApp) -> set[str]:
    return set(app.dynamodb.list_tables()["TableNames"]) - {"dynamigrate-history"}


def _policy_template(*migrations: str) -> dict[str, Any]:
    """Three tables, one per DeletionPolicy, and the named migrations of MIGRATIONS on one."""
    body: dict[str, Any] = {
        f"T{policy}": {**TABLE, "DeletionPolicy": policy} for policy in POLICIES if policy
    }
    body["TDefault"] = {k: v for k, v in TABLE.items() if k != "DeletionPolicy"}
    for name in migrations:
        props = {**MIGRATIONS[name], "TableName": {"Ref": "TDefault"}}
        body[name.replace("-", "")] = {"Type": "Custom::DynamoMigration", "Properties": props}
    return {"Transform": "DynamoMigrations", "Resources": body}


POLICIES = ("Retain", "RetainExceptOnCreate", "Delete", "")


def test_the_stacks_tables_go_as_their_deletion_policy_says(world):
    """A failed create's rollback deletes every table but a Retain one; DeleteStack deletes
    the Delete ones (no DeletionPolicy: Delete) and keeps Retain and RetainExceptOnCreate.
    (CloudFormation Template Reference, "DeletionPolicy attribute".)"""
    app, receiver = world
    deployer = LocalDeployer(app, receiver, stack_name="p")
    data = {"TDefault": [{"pk": {"S": "o1"}}]}  # Broken fails on an item
    deployer.deploy(_policy_template("AddV", "Broken"), Path("."), data)
    assert deployer.driver.current_status == "ROLLBACK_COMPLETE"
    assert _tables(app) == {"p-TRetain"}
    app.dynamodb.delete_table(TableName="p-TRetain")
    deployer.deploy(_policy_template("AddV"), Path("."))
    assert deployer.driver.current_status == "CREATE_COMPLETE"
    assert _tables(app) == {"p-TRetain", "p-TRetainExceptOnCreate", "p-TDelete", "p-TDefault"}
    deployer.delete()
    assert deployer.driver.current_status == "DELETE_COMPLETE"
    assert _tables(app) == {"p-TRetain", "p-TRetainExceptOnCreate"}


def test_a_snapshot_policy_on_a_table_is_refused_before_anything_deploys(world):
    app, receiver = world
    template = _policy_template("AddV")
    template["Resources"]["TRetain"]["DeletionPolicy"] = "Snapshot"
    with pytest.raises(DeployError, match=r"Resource \[TRetain\] DeletionPolicy: 'Snapshot' is"):
        LocalDeployer(app, receiver, stack_name="s").deploy(template, Path("."))
    assert _tables(app) == set()
