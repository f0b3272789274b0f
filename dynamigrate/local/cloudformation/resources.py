"""What CloudFormation creates before a template's migrations, created on the emulator: the
template's tables (and the items `--data` loads into them) and its Python transform functions,
which run in-process; a function a local run cannot execute is named before anything runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dynamigrate.local.cloudformation.intrinsics import Scope, condition_value, resolve
from dynamigrate.local.emulator import deploy_function
from dynamigrate.local.functions import FunctionLoadError, load_handler
from macro.expand import FUNCTION_TYPES, MIGRATION_TYPE
from runner.attrs import Item

TABLE_TYPE = "AWS::DynamoDB::Table"
TABLE_PROPERTIES = (
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "BillingMode",
    "ProvisionedThroughput",
)


class DeployError(Exception):
    """The template cannot be deployed locally (a user's mistake, reported in one line)."""


def template_resources(
    template: dict[str, Any], scope: Scope, kind: str | tuple[str, ...]
) -> list[str]:
    """The logical ids of the template's resources of a type whose Condition holds."""
    kinds = (kind,) if isinstance(kind, str) else kind
    found = []
    for logical_id, resource in (template.get("Resources") or {}).items():
        if not isinstance(resource, dict) or resource.get("Type") not in kinds:
            continue
        if "Condition" in resource and not condition_value(
            resource["Condition"], scope, logical_id
        ):
            continue
        found.append(logical_id)
    return found


class LocalResources:
    """Creates one stack's tables and functions on the emulator, as CloudFormation would."""

    def __init__(self, dynamodb: Any, stack_name: str) -> None:
        self.dynamodb, self.stack_name = dynamodb, stack_name

    def create_tables(self, template: dict[str, Any], scope: Scope) -> dict[str, str]:
        """The template's tables; one an earlier deploy created is kept as it is."""
        tables = {}
        pages = self.dynamodb.get_paginator("list_tables").paginate()
        existing = {name for page in pages for name in page["TableNames"]}
        for logical_id in template_resources(template, scope, TABLE_TYPE):
            props = resolve(
                template["Resources"][logical_id].get("Properties") or {}, scope, logical_id
            )
            name = str(props.get("TableName") or f"{self.stack_name}-{logical_id}")
            if name in existing:
                arn = self.dynamodb.describe_table(TableName=name)["Table"]["TableArn"]
            else:
                arn = self._create_table(logical_id, name, props)
            scope.refs[logical_id] = name
            scope.attributes[logical_id] = {"Arn": arn, "StreamArn": f"{arn}/stream/local"}
            tables[logical_id] = name
        return tables

    def _create_table(self, logical_id: str, name: str, props: dict[str, Any]) -> str:
        kwargs = {k: props[k] for k in TABLE_PROPERTIES if k in props}
        kwargs.setdefault("BillingMode", "PAY_PER_REQUEST")
        if kwargs["BillingMode"] == "PROVISIONED":
            kwargs.setdefault(
                "ProvisionedThroughput", {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
            )
        try:
            created = self.dynamodb.create_table(TableName=name, **kwargs)
        except Exception as exc:
            raise DeployError(f"Resource [{logical_id}]: cannot create the table: {exc}") from exc
        return str(created["TableDescription"]["TableArn"])

    def load(self, table: str, items: list[Item]) -> None:
        for start in range(0, len(items), 25):
            batch = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
            pending: dict[str, Any] = {table: batch}
            while pending:
                pending = (
                    self.dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems")
                    or {}
                )

    def create_functions(self, template: dict[str, Any], scope: Scope, base: Path) -> None:
        """The template's Python functions, imported and run in-process."""
        for logical_id in template_resources(template, scope, FUNCTION_TYPES):
            props = _function_properties(template, logical_id)
            if _not_runnable(template["Resources"][logical_id], props):
                continue  # a migration naming it was refused by check_functions
            try:
                handler = load_handler(base, logical_id, props)
            except FunctionLoadError as exc:
                raise DeployError(str(exc)) from exc
            name = str(
                resolve(props.get("FunctionName"), scope, logical_id)
                or f"{self.stack_name}-{logical_id}"
            )[:64]
            arn = deploy_function(name, handler, timeout=int(props.get("Timeout", 3)))
            scope.refs[logical_id] = name
            scope.attributes[logical_id] = {"Arn": arn}


def _function_properties(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    """A function's properties with the SAM Globals, and a CDK asset directory as its CodeUri."""
    resource = template["Resources"][logical_id]
    globals_ = (template.get("Globals") or {}).get("Function") or {}
    props = {**globals_, **(resource.get("Properties") or {})}
    asset = _asset(resource)
    if asset is not None:
        props["CodeUri"] = asset
    return props


def _asset(resource: dict[str, Any]) -> str | None:
    """A CDK function's asset directory in cdk.out. The CDK writes this metadata for local tools
    (aws/aws-cdk issue 1432, pull request 1433: SAM CLI reads it the same way) when `cdk synth`
    sets aws:cdk:enable-asset-metadata; tests run the real CLI."""
    asset = (resource.get("Metadata") or {}).get("aws:asset:path")
    is_lambda = resource["Type"] == "AWS::Lambda::Function"
    return asset if is_lambda and isinstance(asset, str) else None


def _not_runnable(resource: dict[str, Any], props: dict[str, Any]) -> str | None:
    """Why a local run cannot execute this function, or None when it can."""
    if resource["Type"] != "AWS::Serverless::Function" and _asset(resource) is None:
        return (
            "an AWS::Lambda::Function without a CDK asset directory (aws:asset:path): a local "
            "run loads a function's code from a directory"
        )
    runtime = str(props.get("Runtime", "python"))
    if not runtime.startswith("python"):
        return f"a {runtime} function: a local run executes Python only"
    return None


def check_functions(template: dict[str, Any], scope: Scope) -> None:
    """A migration that names a function the local run cannot execute fails before anything
    is created: one line naming the migration, the property and the reason."""
    skipped = {}
    for logical_id in template_resources(template, scope, FUNCTION_TYPES):
        resource, props = (
            template["Resources"][logical_id],
            _function_properties(template, logical_id),
        )
        why = _not_runnable(resource, props)
        if why:
            skipped[logical_id] = why
    for logical_id in template_resources(template, scope, MIGRATION_TYPE):
        props = template["Resources"][logical_id].get("Properties") or {}
        for direction in ("Up", "Down"):
            operation = props.get(direction)
            function = operation.get("Function") if isinstance(operation, dict) else None
            named = _referenced(function)
            if named in skipped:
                raise DeployError(
                    f"Resource [{logical_id}] property {direction}.Function: {named} is "
                    f"{skipped[named]}; run this migration on AWS, or write its transform as a "
                    "Python function"
                )


def _referenced(value: Any) -> str | None:
    """The logical id a Function property names by Ref or GetAtt Arn, if it does."""
    if not isinstance(value, dict) or len(value) != 1:
        return None
    if "Ref" in value:
        return value["Ref"] if isinstance(value["Ref"], str) else None
    target = value.get("Fn::GetAtt")  # the loader turns YAML's !GetAtt Fn.Arn into a list
    if isinstance(target, list) and len(target) == 2 and target[1] == "Arn":
        return target[0] if isinstance(target[0], str) else None
    return None
