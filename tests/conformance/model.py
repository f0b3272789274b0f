"""The conformance suite's vocabulary: stack statuses, the migrations' definitions, and the
shape of a scenario (requests grouped in operations). The scenarios are in sequences.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CREATE = "CREATE_IN_PROGRESS"
ROLLBACK = "ROLLBACK_IN_PROGRESS"
UPDATE = "UPDATE_IN_PROGRESS"
CLEANUP = "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"
UPDATE_ROLLBACK = "UPDATE_ROLLBACK_IN_PROGRESS"
ROLLBACK_CLEANUP = "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"
DELETE = "DELETE_IN_PROGRESS"

ORDERS, CUSTOMERS = "Orders", "Customers"

# The migrations' definitions (the `Custom::DynamoMigration` properties a user writes), by name.
# Each scenario's resources take one of them; the runner tests render them with the real macro's
# state machine and the local CloudFormation deploys them from a template.
FAILS_ON_EVERY_ITEM = "SET x = absent + :one"  # "refers to an attribute that does not exist"
MIGRATIONS: dict[str, dict[str, Any]] = {
    "AddV": {
        "MigrationId": "m1-add-v",
        "Up": {"Update": {"Expression": "SET v = :one", "Values": {":one": 1}}},
        "Down": {"Update": {"Expression": "REMOVE v"}},
    },
    "AddW": {
        "MigrationId": "m2-add-w",
        "Up": {"Update": {"Expression": "SET w = :one", "Values": {":one": 1}}},
        "Down": {"Update": {"Expression": "REMOVE w"}},
    },
    "AddU": {
        "MigrationId": "m3-add-u",
        "Up": {"Update": {"Expression": "SET u = :one", "Values": {":one": 1}}},
        "Down": {"Update": {"Expression": "REMOVE u"}},
    },
    # Fails on every item (valid, so the macro passes it; DynamoDB refuses it for the data: no
    # item has `absent`); its own Down leaves a mark, so a test sees that it ran.
    "Broken": {
        "MigrationId": "m9-broken",
        "Up": {"Update": {"Expression": FAILS_ON_EVERY_ITEM, "Values": {":one": 1}}},
        "Down": {"Update": {"Expression": "SET brokenDown = :yes", "Values": {":yes": True}}},
    },
    # About ten seconds of work at 30 writes per second over the 300 orders.
    "Slow": {
        "MigrationId": "m1-add-v",
        "Up": {"Update": {"Expression": "SET v = :one", "Values": {":one": 1}}},
        "Down": {"Update": {"Expression": "REMOVE v"}},
        "MaxWritesPerSecond": 30,
    },
    # Stopped by its window (8 s ServiceTimeout) before it ends; Down: Keep, so its changes stay.
    "Stopped": {
        "MigrationId": "m4-add-r",
        "Up": {"Update": {"Expression": "SET r = :one", "Values": {":one": 1}}},
        "Down": {"Keep": {}},
        "MaxWritesPerSecond": 30,
        "ServiceTimeout": 8,
    },
    # The same migration with a window it fits in (ServiceTimeout is not part of the checksum).
    "StoppedThenFinished": {
        "MigrationId": "m4-add-r",
        "Up": {"Update": {"Expression": "SET r = :one", "Values": {":one": 1}}},
        "Down": {"Keep": {}},
        "MaxWritesPerSecond": 30,
        "ServiceTimeout": 300,
    },
    # Stopped by its window, with a Down.
    "StoppedWithDown": {
        "MigrationId": "m4-add-r",
        "Up": {"Update": {"Expression": "SET r = :one", "Values": {":one": 1}}},
        "Down": {"Update": {"Expression": "REMOVE r"}},
        "MaxWritesPerSecond": 30,
        "ServiceTimeout": 8,
    },
    "FinishedWithDown": {
        "MigrationId": "m4-add-r",
        "Up": {"Update": {"Expression": "SET r = :one", "Values": {":one": 1}}},
        "Down": {"Update": {"Expression": "REMOVE r"}},
        "MaxWritesPerSecond": 30,
        "ServiceTimeout": 300,
    },
    # Its Up works, its Down fails on every item.
    "BadDown": {
        "MigrationId": "m5-add-d",
        "Up": {"Update": {"Expression": "SET d = :one", "Values": {":one": 1}}},
        "Down": {"Update": {"Expression": FAILS_ON_EVERY_ITEM, "Values": {":one": 1}}},
    },
}
MIGRATIONS["AddVDryRun"] = {**MIGRATIONS["AddV"], "DryRun": True}
MIGRATIONS["BrokenCustomers"] = {**MIGRATIONS["Broken"], "TableName": CUSTOMERS}


@dataclass(frozen=True)
class Request:
    """One request CloudFormation sends, and what the runner must answer."""

    status: str  # the stack's status while the request is handled
    type: str  # Create | Update | Delete
    resource: str  # logical id
    props: str  # the migration (a key of MIGRATIONS) in ResourceProperties
    old: str | None = None  # Update: the migration in OldResourceProperties
    physical: str | None = None  # "answered" | "before" | "generated"; None for a Create
    answer: str | None = "SUCCESS"  # None: cancelled, CloudFormation no longer waits for it
    reason: str = ""  # a part of the answer's Reason the runner must give


@dataclass(frozen=True)
class Operation:
    """One stack operation: the requests it sends, and the status the stack rests in after."""

    name: str
    requests: tuple[Request, ...]
    ends: str


@dataclass(frozen=True)
class Scenario:
    name: str
    operations: tuple[Operation, ...]
    items: dict[str, int]  # attribute -> how many orders end with it (absent: none)
    records: dict[str, str]  # history record (<table>/<sort key>) -> final status
    local: bool = True  # the local CloudFormation can deploy it (its failures are migrations')
    customers: dict[str, int] = field(default_factory=dict)  # the same for the customers table
    resumed: str = ""  # a record whose run every operation continued (the same run id)


def create_operation(*requests: Request, ends: str = "CREATE_COMPLETE") -> Operation:
    return Operation("create", requests, ends)


def update_operation(*requests: Request, ends: str = "UPDATE_COMPLETE") -> Operation:
    return Operation("update", requests, ends)
