"""What functional tests (and bench/) share: an items table, templates around it, a local
deployer on a fresh emulator, and `local run` over a few items."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ITEMS_TABLE_NAME = "items"


def items_table(name: str | None = ITEMS_TABLE_NAME) -> dict[str, Any]:
    """An `AWS::DynamoDB::Table` keyed by the string `pk` (named `name`, or by CloudFormation)."""
    props: dict[str, Any] = {
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    }
    if name:
        props = {"TableName": name, **props}
    return {"Type": "AWS::DynamoDB::Table", "Properties": props}


def migration(migration_id: str, up: dict[str, Any], **props: Any) -> dict[str, Any]:
    """A `Custom::DynamoMigration` of the items table."""
    return {
        "Type": "Custom::DynamoMigration",
        "Properties": {
            "TableName": {"Ref": "Items"},
            "MigrationId": migration_id,
            "Up": up,
            **props,
        },
    }


def items_template(
    migrations: dict[str, dict[str, Any]], table_name: str | None = ITEMS_TABLE_NAME
) -> dict[str, Any]:
    """The transform, the `Items` table and these migrations (by logical id)."""
    return {
        "Transform": "DynamoMigrations",
        "Resources": {"Items": items_table(table_name), **migrations},
    }


@contextmanager
def local_deployer(**kwargs: Any) -> Iterator[Any]:
    """A LocalDeployer of the application on a fresh emulator, answered by CloudFormation's URL."""
    from dynamigrate.local.app import LocalApp
    from dynamigrate.local.cloudformation.deployer import LocalDeployer
    from dynamigrate.local.cloudformation.protocol import response_receiver
    from dynamigrate.local.emulator import emulated_aws

    with emulated_aws(), response_receiver() as receiver:
        yield LocalDeployer(LocalApp(poll_seconds=1), receiver, **kwargs)


def run_over_items(tmp_path: Path, template_yaml: str, items: int) -> Any:
    """`local run` of a YAML template over `items` items `{"pk": "i<n>"}` of `Items`; its
    result, with its files in tmp_path/out."""
    from dynamigrate.local.run import run_local
    from dynamigrate.templates import load_template

    (tmp_path / "template.yaml").write_text(template_yaml)
    data = tmp_path / "items.jsonl"
    data.write_text("".join(f'{{"pk": "i{i}"}}\n' for i in range(items)))
    template = load_template(tmp_path / "template.yaml")
    return run_local(template, tmp_path, {"Items": data}, tmp_path / "out")
