"""Lambda handler of the page worker: `plan` a run, `work` on one segment, `summarize` a run."""

from __future__ import annotations

import json
import os
import time
from functools import cache
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from runner import observability, verify
from runner.attrs import to_wire
from runner.credentials import DataClient, assume_role
from runner.errors import MigrationError
from runner.history import History
from runner.ledger import MigrationLedger
from runner.lifecycle import DRY_RUN_SUFFIX
from runner.restore import image_source, recorded_up_run
from runner.restore_point import BACKUP_SETTLE_SECONDS, RestorePointRecord, ensure
from runner.retry import call_with_backoff
from runner.sessions import session
from runner.worker import WorkRequest, check_reply, plan_run, run_segment, spec_of, summarize

CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, max_pool_connections=32)
_ROLE_SESSION_SECONDS = 3600


@cache
def _client(service: str) -> Any:
    """A client with the worker's own credentials (history table, role assumption)."""
    return _own_session().client(service, config=CLIENT_CONFIG)


@cache
def _own_session() -> Any:
    """The worker's own session; it and every data role's share one model loader."""
    return session()


_sessions: dict[str, tuple[float, dict[str, Any]]] = {}  # role -> (expiry, clients by service)


def _data_client(service: str, role_arn: str | None) -> Any:
    """A client with the migration's own data role, so the worker reaches only its tables.

    The role's clients are cached while the container is warm and renewed well before the
    credentials expire. Without a role (local runs) the worker's own credentials are used.
    """
    if not role_arn:
        return _client(service)
    cached = _sessions.get(role_arn)
    if not cached or cached[0] <= time.time() + 900:
        cached = (time.time() + _ROLE_SESSION_SECONDS, _assume(role_arn))
        _sessions[role_arn] = cached
    clients = cached[1]
    if service not in clients:
        client = clients["session"].client(service, config=CLIENT_CONFIG)
        clients[service] = DataClient(client, role_arn)
    return clients[service]


def _assume(role_arn: str) -> dict[str, Any]:
    creds = assume_role(_client("sts"), role_arn, _ROLE_SESSION_SECONDS)
    role_session = session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    return {"session": role_session}


def invoke_function(function: str, request: dict[str, Any], lambda_client: Any) -> dict[str, Any]:
    """Synchronously invoke a transform function with one page; Lambda throttling backs off."""

    def call() -> dict[str, Any]:
        try:
            response: dict[str, Any] = lambda_client.invoke(
                FunctionName=function, Payload=json.dumps(request).encode()
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "TooManyRequestsException":
                raise ClientError(
                    {"Error": {"Code": "ThrottlingException", "Message": str(exc)}}, "Invoke"
                ) from exc
            raise MigrationError(f"cannot invoke the transform function {function}: {exc}") from exc
        return response

    response = call_with_backoff(call)
    payload = json.loads(response["Payload"].read() or b"null")
    return check_reply(function, response, payload)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    history = History(_client("dynamodb"), event.get("historyTable") or os.environ["HISTORY_TABLE"])
    req = WorkRequest.from_event(event)
    keys = {
        "table": req.run.table,
        "migration": req.run.migration_id,
        "run_id": req.run.run_id,
        "direction": req.run.direction,
        "segment": req.segment if event.get("action") == "work" else None,
    }
    with observability.invocation(context, **keys) as log:
        observability.bind(**_run_keys(history, req))
        if event.get("action") != "work":
            return _step(event, context, req, history)
        started = time.monotonic()
        try:
            out = _step(event, context, req, history)
        except Exception as exc:
            log.warning("segment %s stopped: %s", req.segment, type(exc).__name__)
            raise
        seconds = time.monotonic() - started
        # A dry run's counts go under its record id (`<id>#dry-run`), apart from real runs'.
        migration = req.run.migration_id + (DRY_RUN_SUFFIX if req.run.dry_run else "")
        observability.emit(observability.segment_metrics(req.run.table, migration, out, seconds))
        return out


def _run_keys(history: History, req: WorkRequest) -> dict[str, Any]:
    """The stack, logical id and CloudFormation request of the run, from its history record
    (the migration state machine passes the worker none of them)."""
    record_id = req.run.migration_id + (DRY_RUN_SUFFIX if req.run.dry_run else "")
    try:
        record = MigrationLedger(history.client, history.table_name).get(req.run.table, record_id)
    except Exception:  # the keys are for the logs; the work does not depend on them
        return {}
    if record is None or record.run_id != req.run.run_id:
        return {}
    attrs = record.attributes
    return {
        "stack": attrs.get("stackId", {}).get("S"),
        "logical_id": attrs.get("logicalId", {}).get("S"),
        "cloudformation_request_id": attrs.get("requestId", {}).get("S"),
    }


def _step(
    event: dict[str, Any], context: Any, req: WorkRequest, history: History
) -> dict[str, Any]:
    if event.get("action") == "summarize":
        out = summarize(history, req.run, req.total_segments)
        if "samples" in out:
            out["samples"] = [to_wire({"s": s})["s"] for s in out["samples"]]
        return out
    role = event.get("dataRoleArn")
    if event.get("action") == "restorePoint":
        return ensure(
            _data_client("dynamodb", role),
            RestorePointRecord(history.client, history.table_name),
            req.run,
            spec_of(event),
            settle_seconds=int(os.environ.get("BACKUP_SETTLE_SECONDS", BACKUP_SETTLE_SECONDS)),
        )
    if event.get("action") == "plan":
        return plan_run(req, _data_client("dynamodb", role), history)
    if event.get("action") in verify.ACTIONS:  # the pass after Up (runner.verify)
        return verify.step(
            event,
            req,
            history,
            client=lambda: _data_client("dynamodb", role),
            context=context,
            cloudwatch=lambda: _data_client("cloudwatch", role),
            metric_period=int(os.environ.get("METRIC_PERIOD_SECONDS", "60")),
        )
    lambda_client = _data_client("lambda", role)
    return run_segment(
        req,
        client=_data_client("dynamodb", role),
        history=history,
        invoke=lambda fn, request: invoke_function(fn, request, lambda_client),
        remaining_seconds=lambda: context.get_remaining_time_in_millis() / 1000,
        cloudwatch=_data_client("cloudwatch", role),
        # CloudWatch's period for DynamoDB is a minute; the emulator may publish faster.
        metric_period=int(os.environ.get("METRIC_PERIOD_SECONDS", "60")),
        images=image_source(
            req.spec,
            req.run,
            lambda: _data_client("s3", role),
            lambda: recorded_up_run(history, req.run),
        ),
    )
