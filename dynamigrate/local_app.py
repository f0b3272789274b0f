"""The SAM application of template.yaml installed in the emulator: the same handlers, the same
controller definition (read from template.yaml and substituted as CloudFormation would)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from dynamigrate.emulator import deploy_function
from dynamigrate.intrinsics import state_machine_definition
from dynamigrate.local_engine import HISTORY_TABLE, LocalEngine
from dynamigrate.templates import load_template
from runner.handlers import controller as controller_handler
from runner.handlers import custom_resource as custom_resource_handler

APPLICATION_TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"
CONTROLLER = "dynamigrate-controller"
RUNNER_FUNCTION = "dynamigrate-runner"


def controller_definition(
    substitutions: dict[str, str], template: Path = APPLICATION_TEMPLATE
) -> str:
    """The controller's Amazon States Language, with its DefinitionSubstitutions applied."""
    resource = load_template(template)["Resources"]["Controller"]["Properties"]
    return state_machine_definition(resource, substitutions)


class LocalApp(LocalEngine):
    """History table, worker, runner, controller steps and controller state machine."""

    def __init__(
        self, poll_seconds: int = 1, max_polls: int = 1000, worker_timeout: int = 900
    ) -> None:
        super().__init__(worker_timeout=worker_timeout)
        # In-process functions share the process environment: these are their variables.
        os.environ.update(
            HISTORY_TABLE=HISTORY_TABLE, POLL_SECONDS=str(poll_seconds), MAX_POLLS=str(max_polls)
        )
        steps_arn = deploy_function(CONTROLLER, controller_handler.handler, timeout=120)
        self.controller_arn: str = self.sfn.create_state_machine(
            name=CONTROLLER,
            definition=controller_definition({"ControllerFunctionArn": steps_arn}),
            roleArn=self.role_arn,
        )["stateMachineArn"]
        os.environ["CONTROLLER_ARN"] = self.controller_arn
        self.runner_arn = deploy_function(
            RUNNER_FUNCTION, custom_resource_handler.handler, timeout=60
        )

    def controller_executions(self) -> list[dict[str, Any]]:
        pages = self.sfn.get_paginator("list_executions").paginate(
            stateMachineArn=self.controller_arn
        )
        return [e for page in pages for e in page["executions"]]
