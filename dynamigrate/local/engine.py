"""Running migrations on the embedded emulator: the same worker and state machine as on AWS."""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from typing import Any

import boto3

from dynamigrate.local.emulator import (
    LOCAL_BACKUP_SETTLE_SECONDS,
    REGION,
    deploy_function,
    service_role,
)
from dynamigrate.local.observe import RECORDER
from macro.state_machine import render_state_machine
from runner.handlers import worker as worker_handler

WORKER_FUNCTION = "dynamigrate-worker"
HISTORY_TABLE = "dynamigrate-history"
ARTIFACTS_BUCKET = "dynamigrate-artifacts"  # the application's bucket: before-images live there


@dataclass(frozen=True)
class RunResult:
    execution_arn: str
    status: str
    output: dict[str, Any] | None
    error: str | None
    cause: str | None

    @property
    def message(self) -> str | None:
        """The error message inside a Lambda error cause, or the cause itself."""
        try:
            return str(json.loads(self.cause or "")["errorMessage"])
        except (ValueError, KeyError, TypeError):
            return self.cause


def set_default_environment() -> None:
    """Region and dummy credentials for the emulator, unless the caller set their own."""
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")


def create_history_table(client: Any, name: str = HISTORY_TABLE) -> None:
    """The history table; one an earlier install left (it is retained) is kept as it is."""
    if name in client.list_tables()["TableNames"]:
        return
    client.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def create_artifacts_bucket(s3: Any, name: str = ARTIFACTS_BUCKET) -> str:
    """The application's artifacts bucket (template.yaml's ArtifactsBucket: SSE-S3 by default),
    where the worker keeps before-images; one an earlier install left (retained) is kept."""
    if name not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=name)
        s3.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )
    return name


class LocalEngine:
    """Installs the worker and history table in the emulator and runs rendered state machines."""

    def __init__(self, worker_timeout: int = 900) -> None:
        set_default_environment()
        self.recorder = RECORDER.install()  # the runner's log and EMF lines (stdout on AWS)
        # The in-process worker's variable (emulator adaptation 7): moto's backups are exact.
        os.environ["BACKUP_SETTLE_SECONDS"] = str(LOCAL_BACKUP_SETTLE_SECONDS)
        self.dynamodb = boto3.client("dynamodb", region_name=REGION)
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        create_history_table(self.dynamodb)
        self.s3 = boto3.client("s3", region_name=REGION)
        # The in-process worker's variable, as template.yaml gives the worker on AWS.
        os.environ["ARTIFACTS_BUCKET"] = create_artifacts_bucket(self.s3)
        self.worker_arn = deploy_function(
            WORKER_FUNCTION, worker_handler.handler, timeout=worker_timeout
        )
        self.role_arn = service_role("dynamigrate-state-machine", "states.amazonaws.com")
        self._machines: dict[str, str] = {}

    def state_machine(self, spec: dict[str, Any], **render: Any) -> str:
        """Create (once per distinct definition) the migration's state machine; return its ARN."""
        definition = render_state_machine(
            spec, worker_function=self.worker_arn, history_table=HISTORY_TABLE, **render
        )
        text = json.dumps(definition, sort_keys=True)
        if text not in self._machines:
            name = f"{spec['MigrationId']}-{len(self._machines)}"[:80]
            self._machines[text] = self.sfn.create_state_machine(
                name=name, definition=text, roleArn=self.role_arn
            )["stateMachineArn"]
        return self._machines[text]

    def run(
        self,
        spec: dict[str, Any],
        *,
        run_id: str | None = None,
        direction: str = "up",
        dry_run: bool = False,
        timeout: float = 600,
        **render: Any,
    ) -> RunResult:
        """Execute the migration's state machine to the end and return how it ended."""
        arn = self.state_machine(spec, **render)
        execution = self.sfn.start_execution(
            stateMachineArn=arn,
            name=f"run-{uuid.uuid4().hex[:16]}",
            input=json.dumps(
                {"runId": run_id or uuid.uuid4().hex, "direction": direction, "dryRun": dry_run}
            ),
        )["executionArn"]
        return self.wait(execution, timeout)

    def wait(self, execution_arn: str, timeout: float = 600) -> RunResult:
        deadline = time.monotonic() + timeout
        while True:
            desc = self.sfn.describe_execution(executionArn=execution_arn)
            if desc["status"] != "RUNNING":
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"execution {execution_arn} still running after {timeout}s")
            time.sleep(0.05)
        return RunResult(
            execution_arn=execution_arn,
            status=desc["status"],
            output=json.loads(desc["output"]) if desc.get("output") else None,
            error=desc.get("error"),
            cause=desc.get("cause"),
        )
