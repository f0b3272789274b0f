"""What CloudFormation sends a custom resource, phase by phase: the conformance suite's data.

Each scenario is a series of stack operations; each operation lists the requests CloudFormation
sends to the migrations' custom resources, in order, with the stack status DescribeStacks shows
while each is handled, the physical id it names and the answer the runner must give. The sources
are in the comments; where AWS's documentation is silent the scenario says so and the runner is
held to both readings.

Physical ids are named by where CloudFormation took them from:
- "answered": the id the runner last answered for the resource and CloudFormation accepted (the
  resource's current id; for a resource created or replaced by this operation, the new one);
- "before": the id the resource had before this operation began;
- "generated": an id CloudFormation made up for a Create it cancelled (it never got an answer).

Sources, by the number in the comments:
[1] AWS CloudFormation User Guide, "Stack status codes":
    UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS is the "ongoing removal of new resources following
    a failed stack update"; UPDATE_COMPLETE_CLEANUP_IN_PROGRESS that of old resources after a
    successful one.
[2] AWS CloudFormation User Guide, custom resource request types ("Update": a different
    PhysicalResourceId is a replacement; CloudFormation sends a Delete for the old id in cleanup;
    "Delete": sent when the stack is deleted or the resource removed from the template).
[3] aws/aws-cdk issue 22670: an Update answered with a new id, even FAILED, is taken as a
    replacement; the rollback deletes the new id. aws/aws-cdk issue 17040 and
    aws-powertools/powertools-lambda-java pull request 1082: answered with the same id, the
    rollback sends an Update back to the old properties.
[4] aws-cloudformation/cloudformation-coverage-roadmap issue 1814, remind101/empire issue 918: a
    custom resource still in progress when a sibling fails is "Resource creation cancelled" and gets
    a Delete with a PhysicalResourceId CloudFormation generated.
[5] AWS CloudFormation User Guide, "Choose how to handle failures when provisioning resources"
    (rollback disabled: the stack rests in CREATE_FAILED/UPDATE_FAILED) and the RollbackStack API
    ("Rolls back the specified stack to the last known stable state from CREATE_FAILED or
    UPDATE_FAILED").
[6] AWS CloudFormation User Guide, "Monitor and roll back stack operations" (rollback triggers: an
    alarm in the monitoring period rolls back an update after its resources succeeded).
[7] AWS Knowledge Center, "cloudformation-stack-cleanup-stuck": "CloudFormation tries to delete a
    resource three times before CloudFormation skips the resource and continues the cleanup".
"""

from __future__ import annotations

from tests.conformance.model import (
    CLEANUP,
    CREATE,
    CUSTOMERS,
    DELETE,
    MIGRATIONS,
    ORDERS,
    ROLLBACK,
    ROLLBACK_CLEANUP,
    UPDATE,
    UPDATE_ROLLBACK,
    Operation,
    Request,
    Scenario,
)
from tests.conformance.model import (
    create_operation as _create,
)
from tests.conformance.model import (
    update_operation as _update,
)

__all__ = ["CLEANUP", "CREATE", "CUSTOMERS", "MIGRATIONS", "ORDERS", "SCENARIOS", "UPDATE"]

N = 300  # orders in the table
SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "create-ok",
        (
            _create(
                Request(CREATE, "Create", "AddV", "AddV"),
                Request(CREATE, "Create", "AddW", "AddW"),
            ),
        ),
        items={"v": N, "w": N},
        records={"Orders/m1-add-v": "SUCCEEDED", "Orders/m2-add-w": "SUCCEEDED"},
    ),
    # A failed create deletes everything it created, newest first, in ROLLBACK_IN_PROGRESS; the
    # resource whose Create failed is deleted with the id of its FAILED answer. [1][2]
    Scenario(
        "create-fails-after-a-migration-ran",
        (
            _create(
                Request(CREATE, "Create", "AddV", "AddV"),
                Request(CREATE, "Create", "Broken", "Broken", answer="FAILED"),
                Request(ROLLBACK, "Delete", "Broken", "Broken", physical="answered"),
                Request(ROLLBACK, "Delete", "AddV", "AddV", physical="answered"),
                ends="ROLLBACK_COMPLETE",
            ),
        ),
        items={"brokenDown": N},
        records={"Orders/m1-add-v": "ROLLED_BACK", "Orders/m9-broken": "ROLLED_BACK"},
    ),
    # A sibling fails while a migration runs: its Create is cancelled and its Delete names an id
    # CloudFormation generated. The runner stops the run, waits for it, then runs Down. [4]
    Scenario(
        "create-fails-while-a-migration-runs",
        (
            _create(
                Request(CREATE, "Create", "Slow", "Slow", answer=None),
                Request(CREATE, "Create", "BrokenCustomers", "BrokenCustomers", answer="FAILED"),
                Request(
                    ROLLBACK, "Delete", "BrokenCustomers", "BrokenCustomers", physical="answered"
                ),
                Request(
                    ROLLBACK,
                    "Delete",
                    "Slow",
                    "Slow",
                    physical="generated",
                    reason="Migration m1-add-v: ROLLED_BACK",
                ),
                ends="ROLLBACK_COMPLETE",
            ),
        ),
        items={},
        records={"Orders/m1-add-v": "ROLLED_BACK", "Customers/m9-broken": "ROLLED_BACK"},
        customers={"brokenDown": 50},
    ),
    # A sibling fails while an Update's run goes on: the Update is cancelled; as a resource
    # updated in place (CloudFormation never saw a new id) it gets an Update back to its old
    # properties, naming the id held before. [3][4] That Update stops the run and runs Down.
    Scenario(
        "update-fails-while-a-migration-runs",
        (
            _create(Request(CREATE, "Create", "AddV", "AddVDryRun")),
            _update(
                Request(
                    UPDATE,
                    "Update",
                    "AddV",
                    "Slow",
                    old="AddVDryRun",
                    physical="answered",
                    answer=None,
                ),
                Request(UPDATE, "Create", "BrokenCustomers", "BrokenCustomers", answer="FAILED"),
                Request(
                    UPDATE_ROLLBACK, "Update", "AddV", "AddVDryRun", old="Slow", physical="before"
                ),
                Request(
                    ROLLBACK_CLEANUP,
                    "Delete",
                    "BrokenCustomers",
                    "BrokenCustomers",
                    physical="answered",
                ),
                ends="UPDATE_ROLLBACK_COMPLETE",
            ),
        ),
        items={},
        records={
            "Orders/m1-add-v#dry-run": "SUCCEEDED",
            "Orders/m1-add-v": "ROLLED_BACK",
            "Customers/m9-broken": "ROLLED_BACK",
        },
        customers={"brokenDown": 50},
    ),
    # A failed update: in-place updates get an Update back in UPDATE_ROLLBACK_IN_PROGRESS (none
    # here), then what it created is deleted in UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS. [1]
    Scenario(
        "update-adds-two-migrations-and-a-later-one-fails",
        (
            _create(Request(CREATE, "Create", "AddV", "AddV")),
            _update(
                Request(UPDATE, "Create", "AddW", "AddW"),
                Request(UPDATE, "Create", "AddU", "AddU"),
                Request(UPDATE, "Create", "Broken", "Broken", answer="FAILED"),
                Request(ROLLBACK_CLEANUP, "Delete", "Broken", "Broken", physical="answered"),
                Request(ROLLBACK_CLEANUP, "Delete", "AddU", "AddU", physical="answered"),
                Request(ROLLBACK_CLEANUP, "Delete", "AddW", "AddW", physical="answered"),
                ends="UPDATE_ROLLBACK_COMPLETE",
            ),
        ),
        items={"v": N, "brokenDown": N},
        records={
            "Orders/m1-add-v": "SUCCEEDED",
            "Orders/m2-add-w": "ROLLED_BACK",
            "Orders/m3-add-u": "ROLLED_BACK",
            "Orders/m9-broken": "ROLLED_BACK",
        },
    ),
    # DryRun turned off starts a run on an Update: the runner answers a new id, a replacement, so
    # the rollback deletes that id in the cleanup phase. [2][3]
    Scenario(
        "update-flips-dry-run-and-fails",
        (
            _create(Request(CREATE, "Create", "AddV", "AddVDryRun")),
            _update(
                Request(UPDATE, "Update", "AddV", "AddV", old="AddVDryRun", physical="answered"),
                Request(UPDATE, "Create", "Broken", "Broken", answer="FAILED"),
                Request(ROLLBACK_CLEANUP, "Delete", "Broken", "Broken", physical="answered"),
                Request(ROLLBACK_CLEANUP, "Delete", "AddV", "AddV", physical="answered"),
                ends="UPDATE_ROLLBACK_COMPLETE",
            ),
        ),
        items={"brokenDown": N},
        records={
            "Orders/m1-add-v#dry-run": "SUCCEEDED",
            "Orders/m1-add-v": "ROLLED_BACK",
            "Orders/m9-broken": "ROLLED_BACK",
        },
    ),
    # The same, read the other way: whether CloudFormation also sends the replaced resource an
    # Update back to its old properties is not documented. If it does and names the new id, that
    # Update runs Down, and the cleanup's Delete finds the run rolled back.
    Scenario(
        "update-flips-dry-run-and-fails-undone-by-an-update",
        (
            _create(Request(CREATE, "Create", "AddV", "AddVDryRun")),
            _update(
                Request(UPDATE, "Update", "AddV", "AddV", old="AddVDryRun", physical="answered"),
                Request(UPDATE, "Create", "Broken", "Broken", answer="FAILED"),
                Request(
                    UPDATE_ROLLBACK, "Update", "AddV", "AddVDryRun", old="AddV", physical="answered"
                ),
                Request(ROLLBACK_CLEANUP, "Delete", "Broken", "Broken", physical="answered"),
                Request(ROLLBACK_CLEANUP, "Delete", "AddV", "AddV", physical="answered"),
                ends="UPDATE_ROLLBACK_COMPLETE",
            ),
        ),
        items={"brokenDown": N},
        records={
            "Orders/m1-add-v#dry-run": "SUCCEEDED",
            "Orders/m1-add-v": "ROLLED_BACK",
            "Orders/m9-broken": "ROLLED_BACK",
        },
        local=False,  # the local CloudFormation follows the documented reading
    ),
    # A migration without Down stopped by its window twice: each rollback leaves its changes and
    # its checkpoints, each redeploy resumes the same run, the third finishes it. [1][2]
    Scenario(
        "update-resumes-a-failed-run-and-fails-again",
        (
            _create(Request(CREATE, "Create", "AddV", "AddV")),
            _update(
                Request(
                    UPDATE,
                    "Create",
                    "Stopped",
                    "Stopped",
                    answer="FAILED",
                    reason="did not finish within the custom resource's window (8 s",
                ),
                Request(
                    ROLLBACK_CLEANUP,
                    "Delete",
                    "Stopped",
                    "Stopped",
                    physical="answered",
                    reason="its changes stay in place",
                ),
                ends="UPDATE_ROLLBACK_COMPLETE",
            ),
            _update(
                Request(
                    UPDATE,
                    "Create",
                    "Stopped",
                    "Stopped",
                    answer="FAILED",
                    reason="did not finish within the custom resource's window (8 s",
                ),
                Request(
                    ROLLBACK_CLEANUP,
                    "Delete",
                    "Stopped",
                    "Stopped",
                    physical="answered",
                    reason="its changes stay in place",
                ),
                ends="UPDATE_ROLLBACK_COMPLETE",
            ),
            _update(Request(UPDATE, "Create", "Stopped", "StoppedThenFinished")),
        ),
        items={"v": N, "r": N},
        records={"Orders/m1-add-v": "SUCCEEDED", "Orders/m4-add-r": "SUCCEEDED"},
        local=False,  # an 8 s ServiceTimeout is below what the macro accepts (60)
        resumed="Orders/m4-add-r",
    ),
    # Replacements and removals after a successful update are cleaned up: nothing runs. [1][2]
    Scenario(
        "successful-update-replaces-and-removes-migrations",
        (
            _create(
                Request(CREATE, "Create", "AddV", "AddVDryRun"),
                Request(CREATE, "Create", "AddW", "AddW"),
            ),
            _update(
                Request(UPDATE, "Update", "AddV", "AddV", old="AddVDryRun", physical="answered"),
                Request(
                    CLEANUP,
                    "Delete",
                    "AddV",
                    "AddVDryRun",
                    physical="before",
                    reason="Nothing to do: data and history are kept",
                ),
                Request(
                    CLEANUP,
                    "Delete",
                    "AddW",
                    "AddW",
                    physical="before",
                    reason="Nothing to do: data and history are kept",
                ),
            ),
        ),
        items={"v": N, "w": N},
        records={
            "Orders/m1-add-v#dry-run": "SUCCEEDED",
            "Orders/m1-add-v": "SUCCEEDED",
            "Orders/m2-add-w": "SUCCEEDED",
        },
    ),
    Scenario(
        "stack-deletion",
        (
            _create(Request(CREATE, "Create", "AddV", "AddV")),
            Operation(
                "delete",
                (
                    Request(
                        DELETE,
                        "Delete",
                        "AddV",
                        "AddV",
                        physical="answered",
                        reason="Nothing to do: data and history are kept",
                    ),
                ),
                "DELETE_COMPLETE",
            ),
        ),
        items={"v": N},
        records={"Orders/m1-add-v": "SUCCEEDED"},
    ),
    # Rollback disabled: the stack rests in UPDATE_FAILED and nothing is sent. [5] Whether the next
    # deploy sends a Create or an Update for the failed resource is not documented; the runner
    # treats both alike and resumes the run.
    Scenario(
        "rollback-disabled-then-redeploy",
        (
            _create(Request(CREATE, "Create", "AddV", "AddV")),
            _update(
                Request(UPDATE, "Create", "Stopped", "StoppedWithDown", answer="FAILED"),
                ends="UPDATE_FAILED",
            ),
            _update(Request(UPDATE, "Create", "Stopped", "FinishedWithDown")),
        ),
        items={"v": N, "r": N},
        records={"Orders/m1-add-v": "SUCCEEDED", "Orders/m4-add-r": "SUCCEEDED"},
        local=False,  # an 8 s ServiceTimeout is below what the macro accepts (60)
        resumed="Orders/m4-add-r",
    ),
    # Rollback disabled, then RollbackStack: the failed update is rolled back as usual. [5]
    Scenario(
        "rollback-disabled-then-rollback-stack",
        (
            _create(Request(CREATE, "Create", "AddV", "AddV")),
            _update(
                Request(UPDATE, "Create", "AddW", "AddW"),
                Request(UPDATE, "Create", "Broken", "Broken", answer="FAILED"),
                ends="UPDATE_FAILED",
            ),
            Operation(
                "rollback-stack",
                (
                    Request(ROLLBACK_CLEANUP, "Delete", "Broken", "Broken", physical="answered"),
                    Request(ROLLBACK_CLEANUP, "Delete", "AddW", "AddW", physical="answered"),
                ),
                "UPDATE_ROLLBACK_COMPLETE",
            ),
        ),
        items={"v": N, "brokenDown": N},
        records={
            "Orders/m1-add-v": "SUCCEEDED",
            "Orders/m2-add-w": "ROLLED_BACK",
            "Orders/m9-broken": "ROLLED_BACK",
        },
    ),
    # An alarm rolls the update back after every resource succeeded. [6]
    Scenario(
        "rollback-trigger-after-success",
        (
            _create(Request(CREATE, "Create", "AddV", "AddV")),
            _update(
                Request(UPDATE, "Create", "AddW", "AddW"),
                Request(ROLLBACK_CLEANUP, "Delete", "AddW", "AddW", physical="answered"),
                ends="UPDATE_ROLLBACK_COMPLETE",
            ),
        ),
        items={"v": N},
        records={"Orders/m1-add-v": "SUCCEEDED", "Orders/m2-add-w": "ROLLED_BACK"},
        local=False,  # no alarms locally
    ),
    # The Down fails: a Delete failing in the cleanup phase is tried three times, then skipped,
    # and the stack ends UPDATE_ROLLBACK_COMPLETE (not UPDATE_ROLLBACK_FAILED: that follows a
    # failed Update in UPDATE_ROLLBACK_IN_PROGRESS, which a migration's run never gets). [7]
    Scenario(
        "the-down-fails",
        (
            _create(Request(CREATE, "Create", "AddV", "AddV")),
            _update(
                Request(UPDATE, "Create", "BadDown", "BadDown"),
                Request(UPDATE, "Create", "Broken", "Broken", answer="FAILED"),
                Request(ROLLBACK_CLEANUP, "Delete", "Broken", "Broken", physical="answered"),
                *[
                    Request(
                        ROLLBACK_CLEANUP,
                        "Delete",
                        "BadDown",
                        "BadDown",
                        physical="answered",
                        answer="FAILED",
                        reason="Down m5-add-d on table Orders failed",
                    )
                ]
                * 3,
                ends="UPDATE_ROLLBACK_COMPLETE",
            ),
        ),
        items={"v": N, "d": N, "brokenDown": N},
        records={
            "Orders/m1-add-v": "SUCCEEDED",
            "Orders/m5-add-d": "FAILED",
            "Orders/m9-broken": "ROLLED_BACK",
        },
    ),
)
