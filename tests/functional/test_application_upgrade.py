"""Consumer stacks survive an upgrade and a reinstall of the application.

A consumer's custom resources keep the runner's ARN as their ServiceToken for life: CloudFormation
refuses to change it ("Updates are not supported"). Here the application is installed from
template.yaml, a consumer stack deploys, the application is deleted and installed again (as a
stack deletion and creation would: unnamed functions get new generated names), and the consumer
deploys again through the ServiceToken it has kept.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dynamigrate.local.app import LocalApp
from dynamigrate.local.cloudformation.deployer import LocalDeployer
from dynamigrate.local.cloudformation.protocol import response_receiver
from dynamigrate.local.emulator import emulated_aws
from tests.functional.conftest import scan_all

TABLE = {
    "Type": "AWS::DynamoDB::Table",
    "Properties": {
        "TableName": "Orders",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    },
}


def migration(mid: str, attribute: str) -> dict:
    return {
        "Type": "Custom::DynamoMigration",
        "Properties": {
            "TableName": {"Ref": "Orders"},
            "MigrationId": mid,
            "Up": {"Update": {"Expression": f"SET {attribute} = :one", "Values": {":one": 1}}},
        },
    }


def template(*migrations: tuple[str, str]) -> dict:
    resources = {"Orders": TABLE}
    resources.update({f"M{n}": migration(mid, a) for n, (mid, a) in enumerate(migrations)})
    return {"Transform": "DynamoMigrations", "Resources": resources}


@pytest.mark.parametrize("how", ["upgrade", "reinstall"])
def test_a_consumer_deploys_again_after_the_application_changes(how):
    with emulated_aws(), response_receiver() as receiver:
        app = LocalApp(poll_seconds=1)
        consumer = LocalDeployer(app, receiver, stack_name="consumer")
        items = {"Orders": [{"pk": {"S": f"o{i}"}} for i in range(20)]}
        first = consumer.deploy(template(("m1", "a")), Path("."), items)
        assert first.succeeded, first.outcomes
        service_token = consumer.driver.runner_arn  # what CloudFormation keeps for the resources

        if how == "reinstall":  # the application's stack deleted, then created again
            app.uninstall()
        reinstalled = LocalApp(poll_seconds=1)  # an upgrade updates the same resources
        consumer.app = reinstalled
        second = consumer.deploy(template(("m1", "a"), ("m2", "b")), Path("."))
        assert second.succeeded, second.outcomes
        assert reinstalled.runner_arn == service_token
        assert second.outcomes[0].reason == "unchanged"  # m1 ran once, before the reinstall
        assert all(i["b"] == {"N": "1"} for i in scan_all(reinstalled.dynamodb, "Orders").values())
