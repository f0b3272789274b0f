"""Issue 28 on the emulator: the nested stack's own definition, partition-built, executes locally,
and a user's value whose map keys end in `.$` reaches the item as written.

Step Functions Developer Guide, "Parameters" (InputPath, Parameters and ResultSelector): a key
ending in `.$` takes a path. The spec therefore travels as one JSON string.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from dynamigrate.local.cloudformation.intrinsics import state_machine_definition
from dynamigrate.local.engine import HISTORY_TABLE
from tests.functional.conftest import create_table, load, scan_all
from tests.unit.macro.golden import expand_template

DOC = {"x.$": "$.runId", "States.Format.$": "States.UUID()", "plain": "kept"}


def template(source: dict[str, Any]) -> dict[str, Any]:
    return {
        "Resources": {
            "Docs": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "BillingMode": "PAY_PER_REQUEST",
                    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                },
            },
            "DocsSetDoc": {
                "Type": "Custom::DynamoMigration",
                "Properties": {
                    "TableName": "Docs",
                    **source,
                    "Up": {
                        "Update": {
                            "Expression": "SET #d = :doc",
                            "Names": {"#d": "doc"},
                            "Values": {":doc": DOC},
                        }
                    },
                },
            },
        }
    }


def run_nested(engine: Any, source: dict[str, Any]) -> Any:
    """Create the nested template's state machine as a local deploy does, and run it."""
    (nested,) = expand_template(template(source))["nested"].values()
    machine = nested["Resources"]["StateMachine"]["Properties"]
    values = {
        "TableName": "Docs",
        "WorkerFunctionArn": engine.worker_arn,
        "HistoryTableName": HISTORY_TABLE,
        "DataRoleArn": "",  # local: the worker's own credentials
    }
    text = state_machine_definition(machine, values)  # LambdaInvoke: resolved locally
    assert '"arn:aws:states:::lambda:invoke"' in text
    arn = engine.sfn.create_state_machine(
        name=f"nested-{uuid.uuid4().hex[:8]}", definition=text, roleArn=engine.role_arn
    )["stateMachineArn"]
    execution = engine.sfn.start_execution(
        stateMachineArn=arn,
        name=f"run-{uuid.uuid4().hex[:16]}",
        input=json.dumps({"runId": "r-1", "direction": "up", "dryRun": False}),
    )["executionArn"]
    return engine.wait(execution, timeout=300)


@pytest.mark.parametrize(
    "source",
    [{"Source": {"Scan": {"Segments": 2}}}, {}],
    ids=["scan-2-segments", "planned-segments"],
)
def test_keys_ending_in_dollar_reach_the_item_literally(engine, source):
    create_table(engine.dynamodb, "Docs")
    load(engine.dynamodb, "Docs", [{"pk": {"S": f"d{i}"}} for i in range(20)])
    result = run_nested(engine, source)
    assert result.status == "SUCCEEDED", result.cause
    items = scan_all(engine.dynamodb, "Docs")
    assert len(items) == 20
    for item in items.values():
        assert item["doc"] == {"M": {k: {"S": v} for k, v in DOC.items()}}
