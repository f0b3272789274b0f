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

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import jsii
from aws_cdk import CfnResource, Duration, IResolvable, Stack, Token
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from constructs import Construct, IValidation

from macro.contract import validate
from macro.expand import MIGRATION_TYPE, duplicate_id, table_identity

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
    item_collections: bool | None = None  # whole item collections to a Function

    def to_property(self) -> dict[str, Any]:
        body = {
            "Segments": self.segments,
            "Filter": self.filter,
            "IndexName": self.index_name,
            "ConsistentRead": self.consistent_read,
            "PageSize": self.page_size,
            "ItemCollections": self.item_collections,
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
    item_collections: bool | None = None  # the Query's items as one collection to a Function

    def to_property(self) -> dict[str, Any]:
        body = {
            "KeyCondition": self.key_condition,
            "IndexName": self.index_name,
            "Filter": self.filter,
            "ConsistentRead": self.consistent_read,
            "PageSize": self.page_size,
            "ItemCollections": self.item_collections,
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
    """Up/Down: a transform function (items in, items out): a function, its name or its ARN."""

    function: lambda_.IFunction | str = field()

    def __post_init__(self) -> None:
        if not isinstance(self.function, str) and not hasattr(self.function, "function_arn"):
            raise TypeError(
                "Function(...) takes a lambda IFunction, a function name or an ARN, got "
                f"{_shown(self.function)}"
            )

    def to_property(self) -> dict[str, Any]:
        fn = self.function
        return {"Function": fn if isinstance(fn, str) else fn.function_arn}


@dataclass(frozen=True)
class Restore:
    """Down only: a rollback restores the Up's before-images (the default when `down` is absent)."""

    def to_property(self) -> dict[str, Any]:
        return {"Restore": {}}


@dataclass(frozen=True)
class Keep:
    """Down only: a rollback leaves the Up's changes in place (no before-images are kept)."""

    def to_property(self) -> dict[str, Any]:
        return {"Keep": {}}


@dataclass(frozen=True)
class Verify:
    """After Up: more than `max_violations` items (default 0) not meeting `condition` fail the
    migration with sample keys, and the deploy rolls back (which runs Down or the restore)."""

    condition: str
    names: dict[str, str] | None = None
    values: dict[str, Any] | None = None
    max_violations: int | None = None

    def to_property(self) -> dict[str, Any]:
        body: dict[str, Any] = {"Condition": self.condition}
        if self.max_violations is not None:
            body["MaxViolations"] = self.max_violations
        return {**body, **_placeholders(self.names, self.values)}


Source = Scan | Query
Operation = Update | Delete | Function
SOURCES = (Scan, Query)
OPERATIONS = (Update, Delete, Function)
DOWNS = (*OPERATIONS, Restore, Keep)
TableRef = dynamodb.ITable | str
TABLES = (dynamodb.CfnTable, dynamodb.CfnGlobalTable)


def _shown(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


def _table_name(table: TableRef, path: str, argument: str) -> str:
    if isinstance(table, str):
        return table
    name = getattr(table, "table_name", None)
    if not isinstance(name, str):
        raise TypeError(
            f"[{path}] argument {argument}: must be a dynamodb ITable or a table name, got "
            f"{_shown(table)}"
        )
    return name


def _one_of(value: Any, kinds: tuple[type, ...], path: str, argument: str) -> Any:
    if not isinstance(value, kinds):
        expected = ", ".join(f"{kind.__name__}(...)" for kind in kinds)
        raise TypeError(
            f"[{path}] argument {argument}: must be one of {expected}, got {_shown(value)}"
        )
    return value


def _plain(value: Any, path: str, where: str) -> None:
    """A Values entry is JSON (CloudFormation properties are): refuse what jsii cannot carry."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(
                    f"[{path}] argument {where}: has a key that is not a string: {key!r}"
                )
            _plain(item, path, f"{where}[{key!r}]")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _plain(item, path, f"{where}[{index}]")
    elif isinstance(value, float) and not math.isfinite(value):
        raise TypeError(f"[{path}] argument {where}: numbers must be finite, got {value!r}")
    elif not isinstance(value, str | int | float | bool):  # None too: jsii would drop it
        raise TypeError(
            f"[{path}] argument {where}: must be a string, number, bool, list or map, got "
            f"{_shown(value)} (a Values entry is JSON; DynamoDB sets and binary cannot be "
            "written there)"
        )


def _checked_values(part: Any, path: str, argument: str) -> None:
    for placeholders in ("names", "values"):
        given = getattr(part, placeholders, None)
        if given is not None:
            _plain(given, path, f"{argument}.{placeholders}")


def _seconds(value: int | Duration | None) -> int | None:
    return int(value.to_seconds()) if isinstance(value, Duration) else value


@jsii.implements(IValidation)
class _Contract:
    """Runs the macro's checks over the resolved properties when the app synthesizes: the
    contract and expressions of this migration, and its MigrationId against the stack's others."""

    def __init__(self, migration: DynamoMigration) -> None:
        self.migration = migration

    def validate(self) -> list[str]:
        stack = Stack.of(self.migration)
        resolved = stack.resolve(self.migration.properties)
        logical_id = stack.resolve(self.migration.resource.logical_id)
        problems = [
            f"property {p.path}: {p.message}" if p.path else p.message
            for p in validate(str(logical_id), resolved, _declared_tables(stack))
        ]
        return problems or self._duplicate(stack, resolved)

    def _duplicate(self, stack: Stack, resolved: dict[str, Any]) -> list[str]:
        """Like the macro: the later of two migrations with one table and MigrationId fails."""
        mine = (table_identity(resolved["TableName"]), resolved["MigrationId"])
        for other in stack.node.find_all():
            if other is self.migration:
                return []
            if isinstance(other, DynamoMigration) and Stack.of(other) is stack:
                theirs = stack.resolve(other.properties)
                if (table_identity(theirs["TableName"]), theirs["MigrationId"]) == mine:
                    return [f"property MigrationId: {duplicate_id(mine[1], other.node.path)}"]
        return []


def _declared_tables(stack: Stack) -> dict[str, Any]:
    """The stack's tables as the synthesized template will declare them, so that key conditions
    and key attributes are checked at synth against the table's (and its indexes') key schema.

    Read through the L1's `cfnProperties`/`renderProperties` (protected members of every
    CfnResource in the aws-cdk-lib API reference; the same pair the L1 itself renders with):
    property overrides added with `add_property_override` are not seen, and such a table is
    checked by `dynamigrate render`/`lint` and the macro, which read the template.
    """
    tables: dict[str, Any] = {}
    for construct in stack.node.find_all():
        if not isinstance(construct, TABLES) or Stack.of(construct) is not stack:
            continue
        properties = construct._render_properties(stack.resolve(construct._cfn_properties))
        tables[str(stack.resolve(construct.logical_id))] = {
            "Type": construct.cfn_resource_type,
            "Properties": stack.resolve(properties),
        }
    return tables


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
        down: Operation | Restore | Keep | None = None,
        target: TableRef | None = None,
        description: str | None = None,
        max_writes_per_second: int | None = None,
        max_concurrency: int | None = None,
        max_capacity_percent: int | None = None,
        backup: Literal["Auto", "Required", "None"] | None = None,
        verify: Verify | None = None,
        dry_run: bool | None = None,
        on_timeout: Literal["Fail", "Continue"] | None = None,
        service_timeout: int | Duration | None = None,
        dispose: bool | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        path = self.node.path
        parts = {"up": up, "down": down, "source": source, "verify": verify}
        for argument, part in parts.items():
            kinds = {"source": SOURCES, "down": DOWNS, "verify": (Verify,)}.get(
                argument, OPERATIONS
            )
            if part is not None or argument == "up":
                _checked_values(_one_of(part, kinds, path, argument), path, argument)
        properties: dict[str, Any] = {
            "TableName": _table_name(table, path, "table"),
            "MigrationId": migration_id,
            "Description": description,
            "Source": source.to_property() if source else None,
            "Up": up.to_property(),
            "Down": down.to_property() if down else None,
            "Target": _table_name(target, path, "target") if target is not None else None,
            "MaxWritesPerSecond": max_writes_per_second,
            "MaxConcurrency": max_concurrency,
            "MaxCapacityPercent": max_capacity_percent,
            "Backup": backup,
            "Verify": verify.to_property() if verify else None,
            "DryRun": dry_run,
            "OnTimeout": on_timeout,
            "ServiceTimeout": _seconds(service_timeout),
            "Dispose": dispose,
        }
        self.properties = {k: v for k, v in properties.items() if v is not None}
        self.resource = CfnResource(
            self, "Resource", type=MIGRATION_TYPE, properties=self.properties
        )
        self.resource.add_metadata("cfn-lint", {"config": {"ignore_checks": ["E3003"]}})
        self.node.add_validation(_Contract(self))
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
    """The stack's Transform list with DynamoMigrations once, before the SAM transform.

    CloudFormation runs a template's transforms in the listed order (User Guide, "Transform
    section"); the resource contract puts this macro first, and `dynamigrate render` refuses the
    other order, so the construct writes the list the same way.
    """
    current = [t for t in (stack.template_options.transforms or []) if t != MACRO]
    stack.template_options.transforms = [MACRO, *current]
