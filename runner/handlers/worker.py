"""Lambda handler of the page worker: `work` on one segment, or `summarize` a finished run."""

from __future__ import annotations

import json
import logging
import os
import time
from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from runner.attrs import to_wire
from runner.errors import MigrationError
from runner.history import History
from runner.retry import call_with_backoff
from runner.worker import WorkRequest, check_reply, run_segment, summarize

logger = logging.getLogger()
logger.setLevel(os.environ.get("LOG_LEVEL", "INFO"))


_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, max_pool_connections=32)
_ROLE_SESSION_SECONDS = 3600


@cache
def _client(service: str) -> Any:
    """A client with the worker's own credentials (history table, role assumption)."""
    return boto3.client(service, config=_CONFIG)


_sessions: dict[str, tuple[float, boto3.Session]] = {}


def _data_session(role_arn: str | None) -> boto3.Session | None:
    """Credentials of the migration's own data role, so the worker reaches only its tables.

    Cached per role while the container is warm and renewed well before they expire.
    """
    if not role_arn:
        return None
    cached = _sessions.get(role_arn)
    if cached and cached[0] > time.time() + 900:
        return cached[1]
    creds = _client("sts").assume_role(
        RoleArn=role_arn,
        RoleSessionName="dynamigrate-worker",
        DurationSeconds=_ROLE_SESSION_SECONDS,
    )["Credentials"]
    session = boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    _sessions[role_arn] = (time.time() + _ROLE_SESSION_SECONDS, session)
    return session


def _data_client(service: str, role_arn: str | None) -> Any:
    session = _data_session(role_arn)
    return session.client(service, config=_CONFIG) if session else _client(service)


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
    if event.get("action") == "summarize":
        out = summarize(history, req.run, req.total_segments)
        if "samples" in out:
            out["samples"] = [to_wire({"s": s})["s"] for s in out["samples"]]
        return out
    role = event.get("dataRoleArn")
    lambda_client = _data_client("lambda", role)
    return run_segment(
        req,
        client=_data_client("dynamodb", role),
        history=history,
        invoke=lambda fn, request: invoke_function(fn, request, lambda_client),
        remaining_seconds=lambda: context.get_remaining_time_in_millis() / 1000,
    )
