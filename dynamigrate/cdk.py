"""`DynamoMigration`: a `Custom::DynamoMigration` as a typed AWS CDK (v2) construct.

It emits exactly the resource a hand-written template declares, adds the `DynamoMigrations`
transform to its stack once and before `AWS::Serverless-2016-10-31`, and checks its properties
with the macro's own contract when the app synthesizes (`cdk synth` fails with the construct's
path and the same words `dynamigrate render` prints), never later at deploy.

`migration_id` is required here: a CDK logical id carries a hash of the construct's path, and a
migration's identity (which runs once per table) must not move when the construct tree does.

    pip install 'dynamigrate[cdk]'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import jsii
from aws_cdk import CfnResource, IResolvable, Stack, Token
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from constructs import Construct, IValidation

from macro.contract import validate
from macro.expand import MIGRATION_TYPE

MACRO = "DynamoMigrations"
SAM = "AWS::Serverless-2016-10-31"


def _placeholders(names: dict[str, str] | None, values: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if names:
        out["Names"] = dict(names)
    if values:
        out["Values"] = dict(values)
    return out


@dataclass(frozen=True)
class Scan:
    """Source: a (parallel) Scan; `segments` unset sizes the run from the table."""

    segments: int | None = None
    filter: str | None = None
    names: dict[str, str] | None = None
    values: dict[str, Any] | None = None
    index_name: str | None = None
    consistent_read: bool | None = None
    page_size: int | None = None

    def to_property(self) -> dict[str, Any]:
        body = {
            "Segments": self.segments,
            "Filter": self.filter,
            "IndexName": self.index_name,
            "ConsistentRead": self.consistent_read,
            "PageSize": self.page_size,
        }
        shown = {k: v for k, v in body.items() if v is not None}
        return {"Scan": {**shown, **_placeholders(self.names, self.values)}}


@dataclass(frozen=True)
class Query:
    """Source: a Query of the table or of an index."""

    key_condition: str
    index_name: str | None = None
    filter: str | None = None
    names: dict[str, str] | None = None
    values: dict[str, Any] | None = None
    consistent_read: bool | None = None
    page_size: int | None = None

    def to_property(self) -> dict[str, Any]:
        body = {
            "KeyCondition": self.key_condition,
            "IndexName": self.index_name,
            "Filter": self.filter,
            "ConsistentRead": self.consistent_read,
            "PageSize": self.page_size,
        }
        shown = {k: v for k, v in body.items() if v is not None}
        return {"Query": {**shown, **_placeholders(self.names, self.values)}}


@dataclass(frozen=True)
class Update:
    """Up/Down: an UpdateItem of every item, optionally conditional."""

    expression: str
    condition: str | None = None
    names: dict[str, str] | None = None
    values: dict[str, Any] | None = None

    def to_property(self) -> dict[str, Any]:
        body: dict[str, Any] = {"Expression": self.expression}
        if self.condition is not None:
            body["Condition"] = self.condition
        return {"Update": {**body, **_placeholders(self.names, self.values)}}


@dataclass(frozen=True)
class Delete:
    """Up/Down: a DeleteItem of every item, optionally conditional."""

    condition: str | None = None
    names: dict[str, str] | None = None
    values: dict[str, Any] | None = None

    def to_property(self) -> dict[str, Any]:
        body = {"Condition": self.condition} if self.condition is not None else {}
        return {"Delete": {**body, **_placeholders(self.names, self.values)}}


@dataclass(frozen=True)
class Function:
    """Up/Down: a transform function (items in, items out), given as a function or its ARN."""

    function: lambda_.IFunction | str = field()

    def to_property(self) -> dict[str, Any]:
        fn = self.function
        return {"Function": fn if isinstance(fn, str) else fn.function_arn}


Source = Scan | Query
Operation = Update | Delete | Function
TableRef = dynamodb.ITable | str


def _table_name(table: TableRef) -> str:
    return table if isinstance(table, str) else table.table_name


@jsii.implements(IValidation)
class _Contract:
    """Runs the macro's contract over the resolved properties when the app synthesizes."""

    def __init__(self, resource: CfnResource, properties: dict[str, Any]) -> None:
        self.resource, self.properties = resource, properties

    def validate(self) -> list[str]:
        resolved = Stack.of(self.resource).resolve(self.properties)
        logical_id = Stack.of(self.resource).resolve(self.resource.logical_id)
        prefix = f"Resource [{logical_id}]"
        return [
            problem.replace(prefix, "", 1).lstrip()
            for problem in validate(str(logical_id), resolved)
        ]


class DynamoMigration(Construct):
    """One data migration of one DynamoDB table, run once and in order at deploy."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: TableRef,
        migration_id: str,
        up: Operation,
        source: Source | None = None,
        down: Operation | None = None,
        target: TableRef | None = None,
        description: str | None = None,
        max_writes_per_second: int | None = None,
        max_concurrency: int | None = None,
        dry_run: bool | None = None,
        on_timeout: Literal["Fail", "Continue"] | None = None,
        service_timeout: int | None = None,
        dispose: bool | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        properties: dict[str, Any] = {
            "TableName": _table_name(table),
            "MigrationId": migration_id,
            "Description": description,
            "Source": source.to_property() if source else None,
            "Up": up.to_property(),
            "Down": down.to_property() if down else None,
            "Target": _table_name(target) if target is not None else None,
            "MaxWritesPerSecond": max_writes_per_second,
            "MaxConcurrency": max_concurrency,
            "DryRun": dry_run,
            "OnTimeout": on_timeout,
            "ServiceTimeout": service_timeout,
            "Dispose": dispose,
        }
        self.properties = {k: v for k, v in properties.items() if v is not None}
        self.resource = CfnResource(
            self, "Resource", type=MIGRATION_TYPE, properties=self.properties
        )
        self.resource.add_metadata("cfn-lint", {"config": {"ignore_checks": ["E3003"]}})
        self.node.add_validation(_Contract(self.resource, self.properties))
        use_transform(Stack.of(self))

    def _attribute(self, name: str) -> str:
        return Token.as_string(self.resource.get_att(name))

    @property
    def attr_status(self) -> str:
        """SUCCEEDED, ROLLED_BACK, ... as the runner answered CloudFormation."""
        return self._attribute("Status")

    @property
    def attr_execution_arn(self) -> str:
        """The state machine execution of the run (absent when nothing ran)."""
        return self._attribute("ExecutionArn")

    @property
    def attr_run_id(self) -> str:
        return self._attribute("RunId")

    def counter(
        self, name: Literal["Scanned", "Matched", "Updated", "Deleted", "Unchanged"]
    ) -> str:
        """One of the run's counters, e.g. `counter("Updated")`."""
        return self._attribute(name)

    @property
    def ref(self) -> IResolvable | str:
        """The resource's physical id, as `!Ref` on a hand-written one gives it."""
        return self.resource.ref


def use_transform(stack: Stack) -> None:
    """The stack's Transform list with DynamoMigrations once, before the SAM transform."""
    current = [t for t in (stack.template_options.transforms or []) if t != MACRO]
    stack.template_options.transforms = [MACRO, *current]
