"""CloudFormation's side of the custom-resource protocol, for local runs and tests.

`ResponseReceiver` is the pre-signed ResponseURL: a local HTTP server that records every PUT.
`StackDriver` sends Create/Update/Delete requests for one stack the way CloudFormation does (an
asynchronous Lambda invocation of the ServiceToken) and waits for the answer.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3

from dynamigrate.local.emulator import REGION, set_stack_status


@dataclass
class ResponseReceiver:
    """Records the answers CloudFormation would receive; can refuse the first few with HTTP 500."""

    answers: list[dict[str, Any]] = field(default_factory=list)
    refuse: int = 0
    refused: int = 0
    condition: threading.Condition = field(default_factory=threading.Condition)
    url: str = ""

    def for_request(self, request_id: str) -> list[dict[str, Any]]:
        with self.condition:
            return [a for a in self.answers if a.get("RequestId") == request_id]

    def wait(self, request_id: str, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self.condition:
            while True:
                found = [a for a in self.answers if a.get("RequestId") == request_id]
                if found:
                    return found[0]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no answer to request {request_id} within {timeout} s")
                self.condition.wait(left)


@contextmanager
def response_receiver(refuse: int = 0) -> Iterator[ResponseReceiver]:
    receiver = ResponseReceiver(refuse=refuse)

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with receiver.condition:
                if receiver.refused < receiver.refuse:
                    receiver.refused += 1
                    self.send_response(500)
                    self.end_headers()
                    return
                receiver.answers.append(json.loads(body))
                receiver.condition.notify_all()
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/response"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


_PLACEHOLDER_TEMPLATE = json.dumps(
    {"Resources": {"Placeholder": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}}
)


class StackDriver:
    """Sends one stack's custom-resource requests to the runner as CloudFormation would."""

    def __init__(self, name: str, runner_arn: str, receiver: ResponseReceiver) -> None:
        cloudformation = boto3.client("cloudformation", region_name=REGION)
        with contextlib.suppress(cloudformation.exceptions.ClientError):  # a stack created before
            cloudformation.delete_stack(StackName=name)
        with warnings.catch_warnings():  # moto does not model the placeholder; nothing needs it
            warnings.simplefilter("ignore")
            self.stack_id: str = cloudformation.create_stack(
                StackName=name, TemplateBody=_PLACEHOLDER_TEMPLATE
            )["StackId"]
        self.runner_arn = runner_arn
        self.receiver = receiver
        self.physical_ids: dict[str, str] = {}
        self.properties: dict[str, dict[str, Any]] = {}
        self._lambda = boto3.client("lambda", region_name=REGION)
        self._updated_at = datetime.now(UTC)
        self._status = ""
        self.status("CREATE_IN_PROGRESS")  # its creation is the stack's first operation

    @property
    def current_status(self) -> str:
        return self._status

    @property
    def rolled_back_creation(self) -> bool:
        """A stack deleted, or whose creation rolled back: the next deploy creates it again."""
        return self._status in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_COMPLETE")

    def status(self, status: str) -> None:
        """The stack's status from now on; an update also gets its LastUpdatedTime."""
        self._status = status
        updated_at = None
        if status == "UPDATE_IN_PROGRESS":  # a new update: later than any before, as on AWS
            updated_at = max(datetime.now(UTC), self._updated_at + timedelta(microseconds=1))
            self._updated_at = updated_at
        set_stack_status(self.stack_id, status, updated_at=updated_at)

    def event(
        self,
        request_type: str,
        logical_id: str,
        properties: dict[str, Any] | None = None,
        physical_id: str | None = None,
        old_properties: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A request exactly as CloudFormation shapes it (property values as strings)."""
        props = properties if properties is not None else self.properties[logical_id]
        event: dict[str, Any] = {
            "RequestType": request_type,
            "ServiceToken": self.runner_arn,
            "ResponseURL": self.receiver.url,
            "StackId": self.stack_id,
            "RequestId": str(uuid.uuid4()),
            "LogicalResourceId": logical_id,
            "ResourceType": "Custom::DynamoMigration",
            "ResourceProperties": {"ServiceToken": self.runner_arn, **strings(props)},
        }
        if request_type != "Create":
            event["PhysicalResourceId"] = physical_id or self.physical_ids[logical_id]
        if request_type == "Update":
            old = old_properties if old_properties is not None else self.properties[logical_id]
            event["OldResourceProperties"] = {"ServiceToken": self.runner_arn, **strings(old)}
        return event

    def deliver(self, event: dict[str, Any]) -> None:
        """An asynchronous invocation of the ServiceToken, as CloudFormation makes it."""
        self._lambda.invoke(
            FunctionName=self.runner_arn, InvocationType="Event", Payload=json.dumps(event)
        )

    def send(
        self,
        request_type: str,
        logical_id: str,
        properties: dict[str, Any] | None = None,
        timeout: float = 120,
        physical_id: str | None = None,
    ) -> dict[str, Any]:
        """Deliver one request, wait for its answer, and keep what CloudFormation keeps."""
        event = self.event(request_type, logical_id, properties, physical_id)
        self.deliver(event)
        answer = self.receiver.wait(event["RequestId"], timeout)
        if request_type == "Delete" or physical_id:
            return answer
        if answer["Status"] == "SUCCESS":
            self.physical_ids[logical_id] = answer["PhysicalResourceId"]
            self.properties[logical_id] = dict(properties or self.properties[logical_id])
        elif request_type == "Create":  # CloudFormation knows the id even of a failed Create
            self.physical_ids[logical_id] = answer["PhysicalResourceId"]
            self.properties.setdefault(logical_id, dict(properties or {}))
        return answer


def strings(value: Any) -> Any:
    """CloudFormation passes every scalar property value to a custom resource as a string."""
    if isinstance(value, dict):
        return {k: strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [strings(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
