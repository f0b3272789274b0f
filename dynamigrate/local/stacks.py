"""The state `local serve` holds: the stacks it deployed, each with its deployer and tables.

The wire (routes, JSON in and out) is `dynamigrate.local.server`, as moto splits a service's
`responses` from its `models`.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from dynamigrate.data_files import DataFile, KeySpec
from dynamigrate.local.cloudformation.deployer import LocalDeployer
from dynamigrate.local.cloudformation.resources import DeployError
from dynamigrate.templates import load_template

COMPLETED = frozenset({"ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "DELETE_COMPLETE"})


class LocalStacks:
    """Every stack deployed to one server; one operation per stack at a time, as CloudFormation."""

    def __init__(self, app: Any, receiver: Any) -> None:
        self.app = app
        self.receiver = receiver
        self.deployers: dict[str, LocalDeployer] = {}
        self.tables: dict[str, dict[str, str]] = {}  # stack -> table logical id -> name
        self.lock = threading.Lock()

    def deploy(
        self,
        template_path: Path,
        data: dict[str, str],
        params: dict[str, str],
        stack: str,
        dry_run: bool,
        disable_rollback: bool,
    ) -> dict[str, Any]:
        """Deploy one template to a named stack; later deploys of that stack are updates."""
        template = load_template(template_path)
        resources = template.get("Resources") or {}
        items = {
            k: DataFile(Path(v), KeySpec.of_table(resources.get(k))).check()
            for k, v in data.items()
        }
        with self.lock:
            deployer = self.deployers.get(stack)
            if deployer is None:
                deployer = LocalDeployer(self.app, self.receiver, stack_name=stack)
                self.deployers[stack] = deployer
            deployment = deployer.deploy(
                template, template_path.parent, items, params, dry_run, disable_rollback
            )
            status, deleted = deployer.driver.current_status, deployer.deleted_tables
            self.tables[stack] = {k: v for k, v in deployment.tables.items() if k not in deleted}
        return {
            "tables": deployment.tables,
            "deletedTables": deleted,
            "outcomes": [vars(o) for o in deployment.outcomes],
            "succeeded": deployment.succeeded,
            "stackStatus": status,
        }

    def stack_operation(self, operation: str, stack: str) -> dict[str, Any]:
        """RollbackStack (`rollback`) or DeleteStack (`delete`) on a stack a deploy created."""
        with self.lock:
            deployer = self.deployers.get(stack)
            if deployer is None:
                raise DeployError(f"no stack {stack} was deployed to this server")
            if operation == "rollback":
                outcomes = deployer.roll_back()
            else:
                deployer.delete()
                outcomes = []
                del self.deployers[stack]
                self.tables.pop(stack, None)
            status = deployer.driver.current_status
        return {
            "deletedTables": deployer.deleted_tables,
            "outcomes": [vars(o) for o in outcomes],
            "succeeded": status in COMPLETED,
            "stackStatus": status,
        }
