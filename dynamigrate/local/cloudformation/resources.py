"""What CloudFormation creates before a template's migrations, created on the emulator: the
template's tables (and the items `--data` loads into them) and its Python transform functions,
which run in-process; a function a local run cannot execute is named before anything runs."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import islice
from pathlib import Path
from typing import Any

from dynamigrate.local.cloudformation.intrinsics import Scope, condition_value, resolve
from dynamigrate.local.emulator import deploy_function
from dynamigrate.local.functions import FunctionLoadError, load_handler
from macro.expand import FUNCTION_TYPES, MIGRATION_TYPE
from runner.attrs import Item

TABLE_TYPE = "AWS::DynamoDB::Table"
TableHook = Callable[[str, str], None]  # (logical id, table name)
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


# The DeletionPolicy attribute (CloudFormation Template Reference, "DeletionPolicy attribute",
# https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html):
# without one CloudFormation deletes the resource, on stack deletion and when an update removes
# it from the template; `Retain` keeps it; `RetainExceptOnCreate` keeps it too, except when the
# stack operation that created it is rolled back, which deletes it. `Snapshot` is only for the
# resource types the page lists (volumes, caches, RDS, Redshift, Neptune), not a DynamoDB table:
# AWS's cfn-lint refuses it there (rule E3035).
DELETION_POLICIES = ("Delete", "Retain", "RetainExceptOnCreate")


def deletion_policy(resource: dict[str, Any], scope: Scope, logical_id: str) -> str:
    """A table's DeletionPolicy (default Delete); one CloudFormation would refuse is an error."""
    policy = resolve(resource.get("DeletionPolicy", "Delete"), scope, logical_id)
    if policy not in DELETION_POLICIES:
        why = (
            "is only for resource types that support snapshots, not AWS::DynamoDB::Table"
            if policy == "Snapshot"
            else "must be one of " + ", ".join(DELETION_POLICIES)
        )
        raise DeployError(f"Resource [{logical_id}] DeletionPolicy: {policy!r} {why}")
    return str(policy)


def deleted_on(policy: str, rollback_of_its_creation: bool) -> bool:
    """Whether CloudFormation deletes a resource of this policy when the stack lets it go: on
    stack deletion or removal from the template, or by rolling back the operation that made it."""
    return policy == "Delete" or (policy == "RetainExceptOnCreate" and rollback_of_its_creation)


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
        self.owned: dict[str, tuple[str, str]] = {}  # logical id -> (table, DeletionPolicy)
        self.created: set[str] = set()  # the tables the current operation created
        self.current: set[str] = set()  # the tables of the template deployed last

    def create_tables(self, template: dict[str, Any], scope: Scope) -> dict[str, str]:
        """The template's tables; one an earlier deploy created is kept as it is."""
        tables = {}
        pages = self.dynamodb.get_paginator("list_tables").paginate()
        existing = {name for page in pages for name in page["TableNames"]}
        ids = template_resources(template, scope, TABLE_TYPE)
        policies = {i: deletion_policy(template["Resources"][i], scope, i) for i in ids}
        self.created, self.current = set(), set(ids)
        for logical_id in ids:
            props = resolve(
                template["Resources"][logical_id].get("Properties") or {}, scope, logical_id
            )
            name = str(props.get("TableName") or f"{self.stack_name}-{logical_id}")
            if name in existing:
                arn = self.dynamodb.describe_table(TableName=name)["Table"]["TableArn"]
            else:
                arn = self._create_table(logical_id, name, props)
                self.created.add(logical_id)
            if logical_id in self.owned or logical_id in self.created:
                self.owned[logical_id] = (name, policies[logical_id])
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

    def after_operation(self, status: str, before: TableHook | None = None) -> list[str]:
        """What CloudFormation deletes once a stack operation ended `status`: everything the
        stack holds when its creation rolled back or it was deleted; what a failed update
        created when it rolled back; what a successful update removed from the template (all
        as their DeletionPolicy says). A `_FAILED` end deletes nothing more."""
        if status == "ROLLBACK_COMPLETE":
            return self.release_tables(set(self.owned), True, before)
        if status == "UPDATE_ROLLBACK_COMPLETE":
            return self.release_tables(self.created, True, before)
        if status == "UPDATE_COMPLETE":
            return self.release_tables(set(self.owned) - self.current, False, before)
        if status == "DELETE_COMPLETE":
            return self.release_tables(set(self.owned), False, before)
        return []

    def release_tables(
        self, logical_ids: set[str], rollback_of_creation: bool, before: TableHook | None = None
    ) -> list[str]:
        """The stack lets these tables go: delete those their DeletionPolicy does not keep
        (`before` sees each one first); the logical ids deleted."""
        deleted = []
        for logical_id in sorted(logical_ids & set(self.owned)):
            name, policy = self.owned.pop(logical_id)
            if not deleted_on(policy, rollback_of_creation):
                continue
            if before is not None:
                before(logical_id, name)
            self.dynamodb.delete_table(TableName=name)
            deleted.append(logical_id)
        return deleted

    def load(self, table: str, items: Iterable[Item]) -> None:
        """Write the items in BatchWriteItem requests of 25 (its limit), read as they go."""
        source = iter(items)
        while batch := [{"PutRequest": {"Item": item}} for item in islice(source, 25)]:
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
    sets aws:cdk:enable-asset-metadata; tests run the real CLI. For a plain `cdk.App()` the
    deployer adds it from the assembly's asset manifest first (dynamigrate.cdk_assembly)."""
    asset = (resource.get("Metadata") or {}).get("aws:asset:path")
    is_lambda = resource["Type"] == "AWS::Lambda::Function"
    return asset if is_lambda and isinstance(asset, str) else None


def _not_runnable(resource: dict[str, Any], props: dict[str, Any]) -> str | None:
    """Why a local run cannot execute this function, or None when it can."""
    if resource["Type"] != "AWS::Serverless::Function" and _asset(resource) is None:
        return (
            "an AWS::Lambda::Function whose code is no directory of a CDK cloud assembly (no "
            "aws:asset:path metadata, and its Code.S3Key in no *.assets.json beside the "
            "template: run the template from the cdk.out directory the synthesis wrote): a "
            "local run loads a function's code from a directory"
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
