"""Deploying a user's template onto the emulator: tables, functions, the real macro, the lifecycle.

CloudFormation's part is played here: the template's tables and transform functions are created,
the template is expanded by the macro's own `expand`, each migration's nested stack becomes its data
role and state machine, and each migration's custom resource is sent to the installed runner as a
request in the phases and order CloudFormation sends them (`operation`),
independent migrations concurrently. A failed migration rolls the deployment back as
CloudFormation would, which runs the Down of what the deploy ran.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from dynamigrate.cdk_assembly import with_asset_paths
from dynamigrate.local.app import LocalApp
from dynamigrate.local.cloudformation.intrinsics import (
    IntrinsicError,
    Scope,
    evaluate_conditions,
    parameter_values,
    resolve,
    state_machine_definition,
)
from dynamigrate.local.cloudformation.monitoring import create_monitoring
from dynamigrate.local.cloudformation.operation import (
    Result,
    Sent,
    StackOperation,
    in_dependency_order,
)
from dynamigrate.local.cloudformation.protocol import ResponseReceiver, StackDriver, strings
from dynamigrate.local.cloudformation.resources import (
    TABLE_TYPE,
    DeployError,
    LocalResources,
    TableHook,
    check_functions,
    template_resources,
)
from dynamigrate.local.emulator import REGION, service_role
from dynamigrate.local.engine import ARTIFACTS_BUCKET, HISTORY_TABLE, WORKER_FUNCTION
from dynamigrate.progress import live, run_identity
from macro.expand import MIGRATION_TYPE, Settings, expand
from runner.attrs import Item
from runner.ledger import MigrationLedger, MigrationRecord
from runner.lifecycle import Request

Progress = Callable[[str, MigrationRecord | None, int], None]


@dataclass
class Outcome:
    logical_id: str
    migration_id: str
    table: str
    status: str  # SUCCESS | FAILED | ROLLED_BACK | CANCELLED | NOT_RUN | REMOVED
    reason: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Deployment:
    tables: dict[str, str]  # logical id -> table name
    outcomes: list[Outcome]

    @property
    def succeeded(self) -> bool:
        return all(o.status in ("SUCCESS", "REMOVED") for o in self.outcomes)


def check_template(template: dict[str, Any], data_ids: set[str], settings: Settings) -> None:
    """Problems a deploy would hit, found before any data is read or emulator started."""
    resources = template.get("Resources") or {}
    kinds = {k: v.get("Type") for k, v in resources.items() if isinstance(v, dict)}
    if MIGRATION_TYPE not in kinds.values():
        raise DeployError("the template declares no Custom::DynamoMigration resource")
    for logical_id in sorted(data_ids):
        if kinds.get(logical_id) != TABLE_TYPE:
            raise no_such_table(logical_id, [k for k, v in kinds.items() if v == TABLE_TYPE])
    expand(template, settings, lambda key, body: f"https://local/{key}")


def no_such_table(given: str, tables: list[str]) -> DeployError:
    """`--data` naming no table of the template, with the nearest name (or the names)."""
    close = difflib.get_close_matches(given, tables, n=1)
    hint = f"; did you mean {close[0]}?" if close else ""
    if not close and tables:
        hint = f"; its tables: {', '.join(sorted(tables))}"
    return DeployError(f"--data {given}: the template has no AWS::DynamoDB::Table {given}{hint}")


class LocalDeployer:
    """Deploys templates onto one emulator with the application installed."""

    def __init__(
        self,
        app: LocalApp,
        receiver: ResponseReceiver,
        stack_name: str = "local",
        progress: Progress | None = None,
    ) -> None:
        self.app = app
        self.receiver = receiver
        self.stack_name = stack_name
        self.progress = progress
        self.dynamodb = boto3.client("dynamodb", region_name=REGION)
        self.iam = boto3.client("iam", region_name=REGION)
        self.ledger = MigrationLedger(self.dynamodb, HISTORY_TABLE)
        self.resources = LocalResources(self.dynamodb, stack_name)
        self.driver = StackDriver(stack_name, app.runner_arn, receiver)
        self.log: list[Sent] = []  # the requests the last operation sent, as the conformance data
        self.before_table_delete: TableHook | None = None  # sees a table CloudFormation deletes
        self.deleted_tables: list[str] = []  # the logical ids the last operation deleted
        self._failed: tuple[StackOperation, dict[str, dict[str, Any]], Result] | None = None

    # ---- the migrations ----------------------------------------------------------------------

    def settings(self) -> Settings:
        return Settings(
            runner_arn=self.app.runner_arn,
            worker_function_arn=self.app.worker_arn,
            worker_role_arn=service_role(f"{WORKER_FUNCTION}-role", "lambda.amazonaws.com"),
            history_table=HISTORY_TABLE,
            artifacts_bucket=ARTIFACTS_BUCKET,
        )

    def _nested_stack(
        self, logical_id: str, resource: dict[str, Any], bodies: dict[str, Any], scope: Scope
    ) -> None:
        """A migration's nested stack: its data role and its state machine."""
        props = resource["Properties"]
        nested = bodies[props["TemplateURL"]]
        params = resolve(props.get("Parameters") or {}, scope, f"{logical_id}.Parameters")
        data_role = nested["Resources"]["DataRole"]["Properties"]
        digest = hashlib.sha256(props["TemplateURL"].encode()).hexdigest()[:10]
        role_name = f"{logical_id[:40]}-{digest}"
        try:
            role_arn = self.iam.get_role(RoleName=role_name)["Role"]["Arn"]
        except self.iam.exceptions.NoSuchEntityException:
            trust = resolve(
                data_role["AssumeRolePolicyDocument"], Scope(parameters=params), "DataRole"
            )
            role_arn = self.iam.create_role(
                RoleName=role_name,
                Path=data_role["Path"],
                AssumeRolePolicyDocument=json.dumps(trust),
            )["Role"]["Arn"]
        machine = nested["Resources"]["StateMachine"]["Properties"]
        text = state_machine_definition(machine, {**params, "DataRoleArn": role_arn})
        name = f"{self.stack_name}-{logical_id}-{digest}"[:80]
        try:
            arn = self.app.sfn.create_state_machine(
                name=name,
                definition=text,
                roleArn=self.app.role_arn,
                tags=[{"key": t["Key"], "value": t["Value"]} for t in machine.get("Tags", [])],
            )["stateMachineArn"]
        except self.app.sfn.exceptions.StateMachineAlreadyExists:  # unchanged since a deploy
            arn = next(
                m["stateMachineArn"]
                for m in self.app.sfn.list_state_machines()["stateMachines"]
                if m["name"] == name
            )
        scope.attributes[logical_id] = {
            "Outputs.StateMachineArn": arn,
            "Outputs.DataRoleArn": role_arn,
        }

    def _send(
        self,
        request_type: str,
        logical_id: str,
        props: dict[str, Any],
        physical_id: str | None,
        old: dict[str, Any] | None,
        abandoned: threading.Event | None = None,
    ) -> dict[str, Any]:
        """One request, answered; progress is reported while the controller works. Once
        `abandoned` is set (CloudFormation cancelled it), it stops waiting for the answer."""
        event = self.driver.event(request_type, logical_id, props, physical_id, old)
        if request_type == "Create":
            event.pop("PhysicalResourceId", None)
        table, record_id = str(props["TableName"]), Request.from_event(event).record_id
        before = run_identity(self.ledger.get(table, record_id))
        try:
            self.driver.deliver(event)
        except Exception as exc:  # CloudFormation fails the resource: nothing answered it
            return {
                "Status": "FAILED",
                "Reason": f"could not invoke the ServiceToken {self.driver.runner_arn}: {exc}",
                "PhysicalResourceId": physical_id or f"{self.stack_name}-{logical_id}",
            }
        total = self._item_count(table)
        deadline = time.monotonic() + service_timeout(props)
        while True:
            try:
                answer = self.receiver.wait(event["RequestId"], timeout=0.5)
            except TimeoutError:
                if time.monotonic() > deadline:
                    return {
                        "Status": "FAILED",
                        "Reason": f"no answer from the custom resource within its "
                        f"ServiceTimeout ({service_timeout(props):g} s)",
                        "PhysicalResourceId": physical_id or f"{self.stack_name}-{logical_id}",
                    }
                if abandoned is not None and abandoned.is_set():
                    return {
                        "Status": "FAILED",
                        "Reason": "Resource creation cancelled",
                        "PhysicalResourceId": physical_id or f"{self.stack_name}-{logical_id}",
                    }
                record = self.ledger.get(table, record_id) if self.progress else None
                if self.progress and run_identity(record) != before:  # not the last run's
                    self.progress(logical_id, live(self.ledger, record), total)
                continue
            if self.progress:
                self.progress(
                    logical_id, live(self.ledger, self.ledger.get(table, record_id)), total
                )
            return answer

    def _item_count(self, table: str) -> int:
        try:
            return int(self.dynamodb.describe_table(TableName=table)["Table"].get("ItemCount", 0))
        except Exception:  # a table outside the template: progress shows counts only
            return 0

    def deploy(
        self,
        template: dict[str, Any],
        base: Path,
        data: Mapping[str, Iterable[Item]] | None = None,
        parameters: dict[str, str] | None = None,
        dry_run: bool = False,
        disable_rollback: bool = False,
    ) -> Deployment:
        template = with_asset_paths(template, base)  # a plain `cdk.App()`'s function code
        try:
            scope = Scope(
                parameters=parameter_values(template, parameters or {}), stack_name=self.stack_name
            )
            evaluate_conditions(template, scope)
        except IntrinsicError as exc:
            raise DeployError(str(exc)) from exc
        migrations = template_resources(template, scope, MIGRATION_TYPE)
        if not migrations:
            raise DeployError("the template declares no Custom::DynamoMigration resource")
        known = template_resources(template, scope, TABLE_TYPE)
        unknown = sorted(set(data or {}) - set(known))
        if unknown:
            raise no_such_table(unknown[0], list(known))
        if dry_run:
            template = json.loads(json.dumps(template))
            for logical_id in migrations:
                template["Resources"][logical_id].setdefault("Properties", {})["DryRun"] = True
        check_functions(template, scope)
        tables = self.resources.create_tables(template, scope)
        for logical_id, items in (data or {}).items():
            self.resources.load(tables[logical_id], items)
        self.resources.create_functions(template, scope, base)
        create_monitoring(
            template,
            scope,
            boto3.client("cloudwatch", region_name=REGION),
            boto3.client("sns", region_name=REGION),
            self.stack_name,
        )
        bodies: dict[str, Any] = {}

        def upload(key: str, body: bytes) -> str:
            url = f"https://local.s3.{REGION}.amazonaws.com/{key}"
            bodies[url] = json.loads(body)
            return url

        expanded = expand(template, self.settings(), upload)
        outcomes = self._run_migrations(expanded, migrations, bodies, scope, disable_rollback)
        self._release_tables()
        return Deployment(tables, outcomes)

    def _release_tables(self) -> None:
        """The tables CloudFormation deletes as the operation ends (their DeletionPolicy)."""
        self.deleted_tables = self.resources.after_operation(
            self.driver.current_status, self.before_table_delete
        )

    def _run_migrations(
        self,
        expanded: dict[str, Any],
        migrations: list[str],
        bodies: dict[str, Any],
        scope: Scope,
        disable_rollback: bool = False,
    ) -> list[Outcome]:
        """CloudFormation's part: requests in its phases and order (`operation`)."""
        resources = expanded["Resources"]
        depends_on = {
            m: [d for d in resources[m].get("DependsOn", []) if d in migrations] for m in migrations
        }
        desired: dict[str, dict[str, Any]] = {}
        try:
            order = in_dependency_order(migrations, depends_on)
        except ValueError as exc:
            raise DeployError(str(exc)) from exc
        for logical_id in order:
            try:
                if f"{logical_id}Stack" in resources:
                    stack_id = f"{logical_id}Stack"
                    self._nested_stack(stack_id, resources[stack_id], bodies, scope)
                props = resolve(resources[logical_id]["Properties"], scope, logical_id)
            except IntrinsicError as exc:
                raise DeployError(str(exc)) from exc
            props.pop("ServiceToken", None)
            desired[logical_id] = props
        if self.driver.rolled_back_creation:  # CloudFormation: delete the stack, create it again
            self.driver = StackDriver(self.stack_name, self.app.runner_arn, self.receiver)
        operation, held = self._operation(), dict(self.driver.properties)
        result = operation.run(
            desired, depends_on, lambda a, b: strings(a) == strings(b), disable_rollback
        )
        self._failed = (operation, desired, result) if result.status.endswith("_FAILED") else None
        self._hold(result)
        gone = [_removed(i, p) for i, p in held.items() if i not in desired]
        kept = [_outcome(logical_id, props, result) for logical_id, props in desired.items()]
        return kept + (gone if result.status == "UPDATE_COMPLETE" else [])

    def _operation(self) -> StackOperation:
        """CloudFormation's next operation on this stack, from what the stack holds now."""
        return StackOperation(
            self.stack_name,
            self.driver.status,
            self._send,
            self.driver.properties,
            self.driver.physical_ids,
        )

    def _hold(self, result: Result) -> None:
        self.log = result.log
        self.driver.properties = dict(result.properties)
        self.driver.physical_ids = dict(result.physical_ids)

    def roll_back(self) -> list[Outcome]:
        """RollbackStack after a deploy with rollback disabled failed."""
        if self._failed is None:
            raise DeployError(
                f"stack {self.stack_name} is {self.driver.current_status or 'not deployed'}: "
                "only a stack whose deploy failed with rollback disabled can be rolled back"
            )
        operation, desired, result = self._failed
        result.log, result.undone = [], {}
        operation.roll_back(desired, result)
        self._failed = None
        self._hold(result)
        self._release_tables()
        return [_outcome(logical_id, props, result) for logical_id, props in desired.items()]

    def delete(self) -> None:
        """DeleteStack: every migration gets its Delete (the history stays), then the stack's
        tables go unless their DeletionPolicy retains them."""
        operation = self._operation()
        self._failed = None
        self._hold(operation.delete_stack())
        self._release_tables()


def _removed(logical_id: str, props: dict[str, Any]) -> Outcome:
    """A migration the new template no longer has: its Delete ran no Down (not a rollback)."""
    reason = "removed from the template: its changes stay, and so does its history record"
    return Outcome(
        logical_id, str(props["MigrationId"]), str(props["TableName"]), "REMOVED", reason
    )


def _outcome(logical_id: str, props: dict[str, Any], result: Result) -> Outcome:
    mid, table = str(props["MigrationId"]), str(props["TableName"])
    undone = result.undone.get(logical_id, {})
    rolled_back = undone.get("Data", {}).get("Status") == "ROLLED_BACK"
    if logical_id in result.not_started:
        return Outcome(logical_id, mid, table, "NOT_RUN", "the deploy failed before it")
    if logical_id in result.cancelled:
        reason = "Resource creation cancelled: another migration failed while it ran"
        if rolled_back:
            reason += f"; {undone.get('Reason', '')}"
        return Outcome(
            logical_id, mid, table, "ROLLED_BACK" if rolled_back else "CANCELLED", reason
        )
    answer = result.answers.get(logical_id)
    if answer is None:
        return Outcome(logical_id, mid, table, "SUCCESS", "unchanged")
    outcome = Outcome(
        logical_id,
        mid,
        table,
        answer["Status"],
        answer.get("Reason", ""),
        answer.get("Data", {}),
    )
    if rolled_back and answer["Status"] == "SUCCESS":
        outcome.status, outcome.reason = "ROLLED_BACK", undone.get("Reason", "")
    return outcome


def service_timeout(props: dict[str, Any]) -> float:
    """How long CloudFormation waits for a custom resource's answer: its `ServiceTimeout`, 1-3600
    s, default 3600; no answer in time fails the operation (AWS::CloudFormation::CustomResource
    reference, ServiceTimeout)."""
    try:
        return float(props.get("ServiceTimeout", 3600))
    except (TypeError, ValueError):
        return 3600.0
