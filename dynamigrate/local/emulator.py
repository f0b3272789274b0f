"""The embedded AWS emulator: moto, and every adaptation dynamigrate needs from it, in one place.

moto is pinned to exactly MOTO_VERSION; each adaptation below patches a named internal of that
version and has a test in tests/functional/test_emulator.py (adaptation 6's in
test_emulator_capacity.py) that fails without it.

Adaptations:
1. In-process Lambda. moto runs Lambda functions in Docker (absent here). `_invoke_lambda` on
   moto's LambdaFunction is replaced by a call to a registered Python handler with a Lambda-like
   context (remaining time from the function's Timeout); an exception becomes a FunctionError
   payload `{"errorType", "errorMessage", "stackTrace"}` exactly as Lambda reports it, so Step
   Functions sees the same error names as on AWS. Lambda's quotas hold: 6 MB request and
   response, and the function's Timeout (Sandbox.Timedout).
2. Lock-free backend lookup. moto's BackendDict takes a global lock and scans the list of every
   backend in use on each request (`_create_account_specific_backend`); with parallel segments
   that lock is where most time went (py-spy: 75% of samples). Once an account's backend exists it
   is registered, so the lookup returns at once; `moto.core.base_backend.BackendDict.reset` clears
   both, and the slow path registers again.
3. Serialized DynamoDB requests. moto's tables are plain dicts without locks: a Scan iterating a
   table while another thread deletes from it raises "dictionary changed size during iteration"
   (seen in 3 of 16 parallel Delete/Function runs). Real DynamoDB serves both; one lock around
   `DynamoHandler.call_action` gives moto the same atomicity (it holds the GIL anyway).
4. State-transition counting (measurement only). moto keeps the events of Distributed Map child
   executions in a throw-away event manager; counting every `*StateEntered` event at the
   EventManager gives the state transitions of parent and children. Step Functions also bills
   "one state transition for each child workflow execution the Distributed Map state starts"
   (Developer Guide, "Transitions"): moto runs each child as one job of its
   DistributedItemProcessorWorker, so each job counts one transition more.
5. Stack status during a simulated stack operation. moto's CloudFormation invokes custom resources
   on Create only (through Docker), so the local lifecycle driver
   (dynamigrate.local.cloudformation.protocol) sends the requests itself; `set_stack_status` gives
   its stack record the status CloudFormation shows during that operation (e.g.
   UPDATE_ROLLBACK_IN_PROGRESS) and the LastUpdatedTime of an update (moto keeps none), which the
   runner reads with DescribeStacks exactly as on AWS.
6. DynamoDB capacity. moto serves every request at once and answers `ReturnConsumedCapacity` with
   a constant; DynamoDB throttles a table, a GSI or a hot key beyond its capacity, for every client
   alike. Every DynamoDB request goes through the capacity model of dynamigrate.local.capacity
   (its rules and their sources; moto's side in dynamigrate.local.metering): a refused one answers
   ProvisionedThroughputExceededException and never reaches moto; a served one reports the units
   it consumed, and the consumed and throttled figures reach the emulator's CloudWatch
   (namespace AWS/DynamoDB) as DynamoDB publishes them. A table's `OnDemandThroughput` (which moto
   drops) is kept and shown in its descriptions. `CAPACITY` is the model (its clock and metric
   period replaceable for tests); the wiring into moto's handler is dynamigrate.local.metering's
   `metered_call`.

CloudWatch, CloudWatch Logs, EventBridge and SNS (moto's extras of the same pin) serve the
runner's events, the application's dashboard and alarm unadapted: an EventBridge rule with a log
group target delivers events as on AWS (dynamigrate.local.observe).

Not an adaptation but the emulator's boundary: `emulated_aws` runs sealed
(dynamigrate.local.seal: a request moto does not answer is refused, never sent) and, before moto
stops, joins every thread its block started (Lambda handlers, state machine executions, the local
CloudFormation's requests), so none of them can call AWS once the mock is gone.
7. No settle time after an on-demand backup. On AWS a CreateBackup may hold writes committed up
   to a minute after its request (API Reference, CreateBackup), so the run waits
   runner.restore_point.BACKUP_SETTLE_SECONDS before its first write. moto's `create_backup`
   copies the table at the request, exactly: the local worker is configured with
   LOCAL_BACKUP_SETTLE_SECONDS (0), so local runs do not wait a minute in real time for nothing.
8. DynamoDB items untracked. moto's BaseModel appends every instance it ever constructs to its
   class's `instances_tracked` (for the model dashboard of moto's server, which the emulator does
   not serve), so every version of every DynamoDB item a request made (the loaded item, each
   update's copy, each page's copies: five per migrated item in a 1,000-item `local run`) stays
   alive until moto stops: memory grew with the run's writes, not with the table's data.
   `Item.__new__` constructs without tracking; an item overwritten is freed.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
import traceback
import uuid
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import boto3
import moto
from moto import mock_aws
from moto.awslambda.models import LambdaFunction
from moto.cloudformation.models import cloudformation_backends
from moto.core.base_backend import BackendDict
from moto.core.exceptions import JsonRESTError
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models.dynamo_type import Item as DynamoItem
from moto.dynamodb.responses import DynamoHandler
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor.distributed_item_processor_worker import (  # noqa: E501
    DistributedItemProcessorWorker,
)
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager

from dynamigrate.local.metering import CAPACITY, metered_call
from dynamigrate.local.seal import sealed

MOTO_VERSION = "5.2.5"
LOCAL_BACKUP_SETTLE_SECONDS = 0  # adaptation 7
REGION = "us-east-1"
Handler = Callable[[Any, Any], Any]

if moto.__version__ != MOTO_VERSION:  # pragma: no cover - guards the pin
    raise ImportError(
        f"dynamigrate's emulator adapts moto {MOTO_VERSION} internals; "
        f"found moto {moto.__version__}"
    )


@dataclass
class LambdaContext:
    """The subset of the Lambda context object handlers use."""

    function_name: str
    memory_limit_in_mb: int
    timeout_seconds: float
    invoked_function_arn: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)
    timed_out: bool = False

    def get_remaining_time_in_millis(self) -> int:
        if self.timed_out:
            return 0
        left = self.timeout_seconds - (time.monotonic() - self.started)
        return max(0, int(left * 1000))


class _Registry:
    """Python handlers standing in for deployed functions, by function name."""

    def __init__(self) -> None:
        self.handlers: dict[str, Handler] = {}
        self.invocations: Counter[str] = Counter()
        self.lock = threading.Lock()


REGISTRY = _Registry()


MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # Lambda quotas: 6 MB request and response (synchronous)


class RequestTooLarge(JsonRESTError):
    """What Lambda's Invoke answers for a payload above its quota (HTTP 413)."""

    code = 413

    def __init__(self, size: int) -> None:
        super().__init__(
            "RequestTooLargeException",
            f"{size} byte payload is too large for the Invoke operation (max {MAX_PAYLOAD_BYTES})",
        )


def _invoke_in_process(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
    """Adaptation 1: replaces LambdaFunction._invoke_lambda (Docker) with an in-process call.

    Lambda's limits hold as on AWS (Lambda quotas): a request above 6 MB is refused with
    RequestTooLargeException, a response above 6 MB fails the invocation, and a handler
    still running at the function's Timeout fails it with Sandbox.Timedout. Python cannot stop a
    thread, so a timed-out handler runs on in the background, its context reporting no time left.
    """
    handler = REGISTRY.handlers.get(self.function_name)
    if handler is None:
        message = f"no in-process handler registered for function {self.function_name}"
        return (
            json.dumps({"errorType": "Runtime.HandlerNotFound", "errorMessage": message}),
            True,
            "",
        )
    text = event if isinstance(event, str | bytes) else json.dumps(event or {})
    if len(text) > MAX_PAYLOAD_BYTES:
        raise RequestTooLarge(len(text))
    with REGISTRY.lock:
        REGISTRY.invocations[self.function_name] += 1
    context = LambdaContext(
        function_name=self.function_name,
        memory_limit_in_mb=int(self.memory_size),
        timeout_seconds=float(self.timeout),
        invoked_function_arn=self.function_arn,
    )
    outcome: list[tuple[str, bool]] = []

    def run() -> None:
        try:
            result = handler(json.loads(text or "{}"), context)
            outcome.append((json.dumps(result), False))
        except Exception as exc:  # the Lambda runtime reports every handler exception
            error = {
                "errorType": type(exc).__name__,
                "errorMessage": str(exc),
                "stackTrace": traceback.format_tb(exc.__traceback__),
            }
            outcome.append((json.dumps(error), True))

    thread = threading.Thread(target=run, daemon=True, name=f"lambda-{self.function_name}")
    thread.start()
    thread.join(context.timeout_seconds)
    if not outcome:
        context.timed_out = True
        message = (
            f"RequestId: {context.aws_request_id} Error: Task timed out after "
            f"{context.timeout_seconds:.2f} seconds"
        )
        return json.dumps({"errorType": "Sandbox.Timedout", "errorMessage": message}), True, ""
    payload, errored = outcome[0]
    if len(payload) > MAX_PAYLOAD_BYTES:
        message = (
            f"Response payload size ({len(payload)} bytes) exceeded maximum allowed payload "
            f"size ({MAX_PAYLOAD_BYTES} bytes)."
        )
        error = {"errorType": "Function.ResponseSizeTooLarge", "errorMessage": message}
        return json.dumps(error), True, ""
    return payload, errored, ""


CHILD_STARTED = "ChildExecutionStarted"  # not a moto event: a Map child's start, counted here


class TransitionCounter:
    """Adaptation 4: counts history events by type across parent and Map child executions."""

    def __init__(self) -> None:
        self.events: Counter[str] = Counter()
        self.lock = threading.Lock()

    @property
    def state_transitions(self) -> int:
        entered = sum(n for kind, n in self.events.items() if kind.endswith("StateEntered"))
        return entered + self.events[CHILD_STARTED]

    def reset(self) -> None:
        with self.lock:
            self.events.clear()


TRANSITIONS = TransitionCounter()
_original_add_event = EventManager.add_event


def _counting_add_event(
    self: EventManager, context: Any, event_type: Any, *args: Any, **kw: Any
) -> int:
    with TRANSITIONS.lock:
        TRANSITIONS.events[str(getattr(event_type, "value", event_type))] += 1
    result: int = _original_add_event(self, context, event_type, *args, **kw)
    return result


_original_eval_child = DistributedItemProcessorWorker._eval_job


def _counting_eval_child(self: DistributedItemProcessorWorker, env: Any, job: Any) -> None:
    with TRANSITIONS.lock:
        TRANSITIONS.events[CHILD_STARTED] += 1
    _original_eval_child(self, env, job)


_ORIGINAL_CREATE_BACKEND = BackendDict._create_account_specific_backend
_ORIGINAL_INVOKE = LambdaFunction._invoke_lambda


def _create_backend_once(self: BackendDict[Any], account_id: str) -> None:
    """Adaptation 2: skip the global lock and list scan when the account's backend exists."""
    if dict.__contains__(self, account_id):
        return
    _ORIGINAL_CREATE_BACKEND(self, account_id)


_ORIGINAL_DYNAMODB_CALL = DynamoHandler.call_action
_DYNAMODB_LOCK = threading.RLock()


DYNAMODB_REQUESTS: Counter[str] = Counter()  # measurement: requests by action:table, for bench/
COUNT_REQUESTS = {"on": False}  # bench/ turns it on; parsing each request costs a little
INJECTED_LATENCY = {"seconds": 0.0}  # measurement: a network round trip per request, for bench/
WRITE_TIMES: list[float] | None = None  # measurement: set to [] to record each write's time


def _record_write(action: str) -> None:
    if WRITE_TIMES is not None and action in ("UpdateItem", "PutItem", "DeleteItem"):
        WRITE_TIMES.append(time.monotonic())


def _serialized_dynamodb_call(self: DynamoHandler) -> Any:
    """Adaptation 3: one DynamoDB request at a time inside moto (and counted by action).

    An injected latency is slept outside the lock, so concurrent requests wait concurrently, as
    they do on the network.
    """
    if INJECTED_LATENCY["seconds"]:
        time.sleep(INJECTED_LATENCY["seconds"])
    with _DYNAMODB_LOCK:
        action = self._get_action()
        if COUNT_REQUESTS["on"]:
            try:
                table = str(json.loads(self.body or "{}").get("TableName", ""))
            except (ValueError, AttributeError):
                table = ""
            DYNAMODB_REQUESTS[f"{action}:{table}"] += 1
        _record_write(action)
        return metered_call(self, action, _ORIGINAL_DYNAMODB_CALL)


_ORIGINAL_ITEM_NEW = DynamoItem.__new__


def _untracked_item(cls: type[DynamoItem], *args: Any, **kwargs: Any) -> DynamoItem:
    return object.__new__(cls)  # BaseModel.__new__ without `instances_tracked.append`


def install() -> None:
    """Apply every adaptation (idempotent)."""
    # moto logs every failed state (a normal event here) with its whole parse tree at ERROR level.
    logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
    LambdaFunction._invoke_lambda = _invoke_in_process  # type: ignore[method-assign]
    BackendDict._create_account_specific_backend = _create_backend_once  # type: ignore[method-assign]
    DynamoHandler.call_action = _serialized_dynamodb_call  # type: ignore[method-assign]
    EventManager.add_event = _counting_add_event  # type: ignore[method-assign]
    DistributedItemProcessorWorker._eval_job = _counting_eval_child  # type: ignore[method-assign]
    DynamoItem.__new__ = staticmethod(_untracked_item)  # type: ignore[assignment]


MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}}


DRAIN_SECONDS = 30.0


def join_threads(started: list[threading.Thread], seconds: float = DRAIN_SECONDS) -> list[str]:
    """Wait (at most `seconds` in all) for these threads to end; the names of those that did not."""
    deadline = time.monotonic() + seconds
    for thread in started:
        if thread is not threading.current_thread():
            thread.join(max(0.0, deadline - time.monotonic()))
    return [t.name for t in started if t.is_alive() and t is not threading.current_thread()]


@contextmanager
def emulated_aws(drain_seconds: float = DRAIN_SECONDS) -> Iterator[None]:
    """moto in-process with state machine execution on and the adaptations installed, sealed.

    Every thread the block started is joined before moto stops (at most `drain_seconds`; one
    still running then stays sealed: its requests are refused).
    """
    install()
    CAPACITY.reset()
    before = set(threading.enumerate())
    with sealed(), mock_aws(config=MOTO_CONFIG):  # type: ignore[call-overload]
        try:
            yield
        finally:
            join_threads([t for t in threading.enumerate() if t not in before], drain_seconds)
            REGISTRY.handlers.clear()


def _placeholder_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("placeholder.py", "# runs in-process, see dynamigrate.local.emulator\n")
    return buf.getvalue()


def service_role(name: str, service: str, region: str = REGION) -> str:
    """The ARN of an IAM role `service` may assume, created on first use."""
    iam = boto3.client("iam", region_name=region)
    try:
        return str(iam.get_role(RoleName=name)["Role"]["Arn"])
    except iam.exceptions.NoSuchEntityException:
        pass
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    return str(role["Role"]["Arn"])


def deploy_function(
    name: str, handler: Handler, timeout: int = 900, memory: int = 1024, region: str = REGION
) -> str:
    """Create a Lambda function in the emulator whose invocations run `handler` in-process.

    Deploying a function that exists replaces its handler (a redeploy of changed code).
    """
    functions = boto3.client("lambda", region_name=region)
    try:
        existing: str = functions.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    except functions.exceptions.ResourceNotFoundException:
        pass
    else:
        REGISTRY.handlers[name] = handler
        return existing
    role_arn = service_role(f"{name}-role", "lambda.amazonaws.com", region)
    arn: str = functions.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role_arn,
        Handler="placeholder.handler",
        Code={"ZipFile": _placeholder_zip()},
        Timeout=timeout,
        MemorySize=memory,
    )["FunctionArn"]
    REGISTRY.handlers[name] = handler
    return arn


def set_stack_status(
    stack_id: str, status: str, region: str = REGION, updated_at: datetime | None = None
) -> None:
    """Adaptation 5: the status DescribeStacks reports for a stack during a simulated operation.

    With `updated_at`, also its LastUpdatedTime (the start of an update, as CloudFormation shows it
    while the update is in progress).
    """
    stack = cloudformation_backends[DEFAULT_ACCOUNT_ID][region].stacks[stack_id]
    stack.status = status
    if updated_at is not None:
        stack.last_updated_time = updated_at  # type: ignore[attr-defined]  # read by its DTO
