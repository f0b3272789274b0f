"""`plan` against a deployed stack says what the next deploy does, as the deploy reports it."""

from __future__ import annotations

import copy

from dynamigrate.local.emulator import emulated_aws
from dynamigrate.plan import plan

TEMPLATE = {
    "Transform": "DynamoMigrations",
    "Resources": {
        "Items": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "TableName": "items",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            },
        },
        "Dry": {
            "Type": "Custom::DynamoMigration",
            "Properties": {
                "TableName": {"Ref": "Items"},
                "MigrationId": "m1-dry",
                "DryRun": True,
                "Up": {"Update": {"Expression": "SET a = :t", "Values": {":t": 1}}},
            },
        },
    },
}


def test_an_unchanged_dry_run_already_deployed_is_unchanged_in_plan_as_in_the_deploy(tmp_path):
    from dynamigrate.local.app import LocalApp
    from dynamigrate.local.cloudformation.deployer import LocalDeployer
    from dynamigrate.local.cloudformation.protocol import response_receiver

    items = [{"pk": {"S": f"i{n}"}} for n in range(5)]
    changed = copy.deepcopy(TEMPLATE)
    changed["Resources"]["Dry"]["Properties"]["Up"]["Update"]["Values"][":t"] = 2
    with emulated_aws(), response_receiver() as receiver:
        deployer = LocalDeployer(LocalApp(poll_seconds=1), receiver)
        tables = {"Items": "items"}

        def planned(template: dict) -> list[tuple[str, bool]]:
            found = plan(template, deployer.ledger, deployer.dynamodb, tables)
            return [(p.state, p.estimate is not None) for p in found]

        first = deployer.deploy(TEMPLATE, tmp_path, {"Items": items})
        assert [o.status for o in first.outcomes] == ["SUCCESS"]
        assert planned(TEMPLATE) == [("unchanged", False)]
        again = deployer.deploy(TEMPLATE, tmp_path)
        assert [(o.status, o.reason) for o in again.outcomes] == [("SUCCESS", "unchanged")]
        assert planned(changed) == [("dry-run", True)]
