"""The emulated world of the lifecycle tests: the application installed, 300 orders, helpers."""

from __future__ import annotations

import time
from typing import Any

from dynamigrate.local.app import LocalApp
from runner.ledger import MigrationLedger
from tests.functional.conftest import LIFECYCLE_ITEMS, custom_resource_properties

ITEMS = LIFECYCLE_ITEMS
ADD_V = {"Update": {"Expression": "SET v = :one", "Values": {":one": 1}}}
REMOVE_V = {"Update": {"Expression": "REMOVE v"}}
ADD_W = {"Update": {"Expression": "SET w = v + :one", "Values": {":one": 1}}}  # needs v first


def migration(app: LocalApp, mid: str, up: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The custom resource's properties as the macro emits them for this migration."""
    written = {"MigrationId": mid, "TableName": "Orders", "Up": up, **extra}
    return custom_resource_properties(app, app.runner_arn, mid, written)


def ledger(app: LocalApp) -> MigrationLedger:
    return MigrationLedger(app.dynamodb, "dynamigrate-history")


def executions(app: LocalApp, state_machine_arn: str) -> list[dict[str, Any]]:
    return app.sfn.list_executions(stateMachineArn=state_machine_arn)["executions"]


def wait_controllers(app: LocalApp, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while any(e["status"] == "RUNNING" for e in app.controller_executions()):
        assert time.monotonic() < deadline, "controller executions still running"
        time.sleep(0.2)


def slow(app: LocalApp, mid: str, **extra: Any) -> dict[str, Any]:
    """About 10 s of work: 300 items at 30 writes per second."""
    return migration(app, mid, ADD_V, MaxWritesPerSecond=30, **extra)
