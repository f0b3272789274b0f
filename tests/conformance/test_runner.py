"""Every documented request sequence through the real runner and controller, on the emulator.

The requests of each scenario in `sequences.py` are shaped and delivered as CloudFormation does (an
asynchronous invocation of the runner), with the stack status (and, for an update, the
LastUpdatedTime) DescribeStacks shows at that moment. The test asserts every answer, the final
items of both tables and the history records.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from dynamigrate.local.app import LocalApp
from dynamigrate.local.cloudformation.protocol import (
    ResponseReceiver,
    StackDriver,
    response_receiver,
)
from dynamigrate.local.emulator import emulated_aws
from runner.history import RUNNING
from runner.ledger import MigrationLedger
from tests.conformance.sequences import CUSTOMERS, MIGRATIONS, ORDERS, SCENARIOS, Request, Scenario
from tests.functional.conftest import create_table, custom_resource_properties, load, scan_all

GENERATED = "app-Generated-1A2B3C4D5E6F7"  # the shape of an id CloudFormation makes up


@pytest.fixture
def world() -> Iterator[tuple[LocalApp, ResponseReceiver]]:
    with emulated_aws(), response_receiver() as receiver:
        app = LocalApp(poll_seconds=1)
        create_table(app.dynamodb, ORDERS)
        load(app.dynamodb, ORDERS, [{"pk": {"S": f"o{i:04d}"}} for i in range(300)])
        create_table(app.dynamodb, CUSTOMERS)
        load(app.dynamodb, CUSTOMERS, [{"pk": {"S": f"c{i:04d}"}} for i in range(50)])
        yield app, receiver


def properties(app: LocalApp, name: str) -> dict[str, Any]:
    """The custom resource's properties as the macro emits them for this migration."""
    written = {"TableName": ORDERS, **MIGRATIONS[name]}
    return custom_resource_properties(app, app.runner_arn, name, written)


class Player:
    """Plays a scenario's requests as CloudFormation would, keeping the ids it holds."""

    def __init__(self, app: LocalApp, receiver: ResponseReceiver) -> None:
        self.app = app
        self.receiver = receiver
        self.stack = StackDriver("app", app.runner_arn, receiver)
        self.answered: dict[str, str] = {}  # the id CloudFormation holds for each resource
        self.before: dict[str, str] = {}  # the ids held when the current operation began
        self.answers: list[tuple[Request, dict[str, Any]]] = []
        self.run_ids: list[str | None] = []  # the resumed record's run after each operation

    def physical(self, request: Request) -> str | None:
        if request.physical == "generated":
            return GENERATED
        if request.physical == "before":
            return self.before[request.resource]
        if request.physical == "answered":
            return self.answered[request.resource]
        return None

    def event(self, request: Request) -> dict[str, Any]:
        return self.stack.event(
            request.type,
            request.resource,
            properties(self.app, request.props),
            physical_id=self.physical(request),
            old_properties=properties(self.app, request.old) if request.old else None,
        )

    def play(self, request: Request) -> None:
        event = self.event(request)
        self.stack.deliver(event)
        if request.answer is None:  # cancelled: CloudFormation moves on once the run is going
            self._wait_running(request)
            return
        answer = self.receiver.wait(event["RequestId"], timeout=300)
        self.answers.append((request, answer))
        assert answer["Status"] == request.answer, (request, answer["Reason"])
        assert request.reason in answer["Reason"], (request, answer["Reason"])
        if request.type == "Delete":
            assert answer["PhysicalResourceId"] == event["PhysicalResourceId"]
        elif (
            answer["Status"] == "SUCCESS"
            or request.type == "Create"
            or (answer["PhysicalResourceId"] != event.get("PhysicalResourceId"))
        ):  # a FAILED Create's id, and a FAILED Update's new id, are what the rollback deletes
            self.answered[request.resource] = answer["PhysicalResourceId"]

    def _wait_running(self, request: Request) -> None:
        spec = {"TableName": ORDERS, **MIGRATIONS[request.props]}
        ledger = MigrationLedger(self.app.dynamodb, "dynamigrate-history")
        deadline = time.monotonic() + 60
        while True:
            record = ledger.get(spec["TableName"], spec["MigrationId"])
            if record and record.status == RUNNING and record.attributes.get("pages"):
                return
            assert time.monotonic() < deadline, "the cancelled request's run never started"
            time.sleep(0.2)

    def run(self, scenario: Scenario) -> None:
        for operation in scenario.operations:
            self.before = dict(self.answered)
            status = None
            for request in operation.requests:
                if request.status != status:
                    status = request.status
                    self.stack.status(status)
                self.play(request)
            self.stack.status(operation.ends)
            if operation.ends in ("ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"):
                self.answered = dict(self.before)
            if scenario.resumed:
                table, record_id = scenario.resumed.split("/", 1)
                record = MigrationLedger(self.app.dynamodb, "dynamigrate-history").get(
                    table, record_id
                )
                self.run_ids.append(record.run_id if record else None)


def counts(app: LocalApp, table: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for item in scan_all(app.dynamodb, table).values():
        for name in item:
            if name != "pk":
                found[name] = found.get(name, 0) + 1
    return found


def wait_controllers(app: LocalApp, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while any(e["status"] == "RUNNING" for e in app.controller_executions()):
        assert time.monotonic() < deadline, "controller executions still running"
        time.sleep(0.2)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_the_runner_follows_the_sequence(world, scenario):
    app, receiver = world
    player = Player(app, receiver)
    player.run(scenario)
    assert_final_state(app, scenario)
    if scenario.resumed:  # every deploy after the first failure continued the same run
        ran = [run_id for run_id in player.run_ids if run_id]
        assert len(ran) >= 2
        assert len(set(ran)) == 1, ran


def assert_final_state(app: LocalApp, scenario: Scenario) -> None:
    """Once every controller ended: the items of both tables and the history records."""
    wait_controllers(app)
    assert counts(app, ORDERS) == scenario.items
    assert counts(app, CUSTOMERS) == scenario.customers
    ledger = MigrationLedger(app.dynamodb, "dynamigrate-history")
    records = {f"{r.table}/{r.migration_id}": r.status for r in ledger.records()}
    assert records == scenario.records
    assert all(r.lock_owner is None for r in ledger.records())
    assert all(r.last_error for r in ledger.records() if r.status == "FAILED")  # says why
