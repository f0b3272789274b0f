"""The SAM application of template.yaml installed in the emulator: the same handlers, the same
controller definition (read from template.yaml and substituted as CloudFormation would)."""

from __future__ import annotations

import os
import random
import string
from pathlib import Path
from typing import Any

import boto3

from dynamigrate.local.cloudformation.intrinsics import (
    Scope,
    evaluate_conditions,
    parameter_values,
    resolve,
    state_machine_definition,
)
from dynamigrate.local.cloudformation.monitoring import create_monitoring
from dynamigrate.local.emulator import REGION, deploy_function
from dynamigrate.local.engine import HISTORY_TABLE, LocalEngine
from dynamigrate.local.observe import route_events
from dynamigrate.templates import load_template
from runner.handlers import controller as controller_handler
from runner.handlers import custom_resource as custom_resource_handler

APPLICATION_TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
CONTROLLER = "dynamigrate-controller"
APPLICATION_STACK = "dynamigrate"


def runner_function_name(
    template: Path = APPLICATION_TEMPLATE, stack_name: str = APPLICATION_STACK
) -> str:
    """The runner's function name as CloudFormation would give it on this install.

    Its `FunctionName` in template.yaml (with the parameters' defaults), or, were it unnamed, the
    name CloudFormation generates, `<stack>-<LogicalId>-<random>`, new on every install.
    """
    application = load_template(template)
    named = application["Resources"]["CustomResourceFunction"]["Properties"].get("FunctionName")
    if named is None:
        suffix = "".join(random.choices(string.ascii_uppercase + string.digits, k=12))
        return f"{stack_name}-CustomResourceFunction-{suffix}"[:64]
    defaults = {k: str(v.get("Default", "")) for k, v in application["Parameters"].items()}
    scope = Scope(parameters=defaults, stack_name=stack_name)
    return str(resolve(named, scope, "CustomResourceFunction.FunctionName"))


def controller_definition(
    substitutions: dict[str, str], template: Path = APPLICATION_TEMPLATE
) -> str:
    """The controller's Amazon States Language, with its DefinitionSubstitutions applied."""
    resource = load_template(template)["Resources"]["Controller"]["Properties"]
    return state_machine_definition(resource, substitutions)


def install_monitoring(
    parameters: dict[str, str] | None = None,
    template: Path = APPLICATION_TEMPLATE,
    stack_name: str = APPLICATION_STACK,
) -> dict[str, str]:
    """The application's dashboard and failed-run alarm (and any topic), by logical id."""
    application = load_template(template)
    scope = Scope(parameters=parameter_values(application, parameters or {}), stack_name=stack_name)
    evaluate_conditions(application, scope)
    return create_monitoring(
        application,
        scope,
        boto3.client("cloudwatch", region_name=REGION),
        boto3.client("sns", region_name=REGION),
        stack_name,
    )


class LocalApp(LocalEngine):
    """History table, worker, runner, controller steps and controller state machine."""

    def __init__(
        self, poll_seconds: int = 1, max_polls: int = 1000, worker_timeout: int = 900
    ) -> None:
        super().__init__(worker_timeout=worker_timeout)
        self.logs = boto3.client("logs", region_name=REGION)
        route_events(boto3.client("events", region_name=REGION), self.logs)
        self.monitoring = install_monitoring()
        # In-process functions share the process environment: these are their variables.
        os.environ.update(
            HISTORY_TABLE=HISTORY_TABLE,
            POLL_SECONDS=str(poll_seconds),
            MAX_POLLS=str(max_polls),
            # Local adaptation: after answering CloudFormation, AWS's controller polls every 60 s
            # to save state transitions; a local run has none to save and polls as before.
            ANSWERED_POLL_SECONDS=str(poll_seconds),
        )
        steps_arn = deploy_function(CONTROLLER, controller_handler.handler, timeout=120)
        self.controller_arn: str = self.sfn.create_state_machine(
            name=CONTROLLER,
            definition=controller_definition({"ControllerFunctionArn": steps_arn}),
            roleArn=self.role_arn,
        )["stateMachineArn"]
        os.environ["CONTROLLER_ARN"] = self.controller_arn
        self.runner_name = runner_function_name()
        self.runner_arn = deploy_function(
            self.runner_name, custom_resource_handler.handler, timeout=60
        )

    def uninstall(self) -> None:
        """Delete the application's stack: its functions and controller go, the history table
        stays (DeletionPolicy: Retain)."""
        functions = boto3.client("lambda", region_name=REGION)
        for name in (self.runner_name, CONTROLLER):
            functions.delete_function(FunctionName=name)
        self.sfn.delete_state_machine(stateMachineArn=self.controller_arn)

    def controller_executions(self) -> list[dict[str, Any]]:
        pages = self.sfn.get_paginator("list_executions").paginate(
            stateMachineArn=self.controller_arn
        )
        return [e for page in pages for e in page["executions"]]
