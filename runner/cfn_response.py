"""The custom-resource protocol: one well-formed answer to CloudFormation's pre-signed URL.

Like crhelper's contract: the answer copies StackId/RequestId/LogicalResourceId from the request,
answers the PhysicalResourceId the caller chose (the request's own when it chose none), fits the
whole body in 4,096 bytes (Data is trimmed first, then the Reason), and the PUT is retried with
backoff on transient failures.
"""

from __future__ import annotations

import json
import logging
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 4096
MAX_PHYSICAL_ID_BYTES = 1024
MAX_REASON_CHARS = 1500  # leaves room for Data within the body limit
TRUNCATED = " [truncated]"
SUCCESS, FAILED = "SUCCESS", "FAILED"


class ResponseError(Exception):
    """CloudFormation's response URL could not be reached after every retry."""


def physical_id(event: dict[str, Any], proposed: str | None = None) -> str:
    """`proposed`, else the id CloudFormation sent, else one derived from the resource.

    A different id in the answer to an Update is a replacement: CloudFormation then sends a Delete
    for the old id when the update succeeds, and for the new one when it rolls back (custom
    resource request types, "Update"; aws/aws-cdk issue 22670). The runner proposes a new id
    exactly when the request started a run, and the request's own id otherwise.
    """
    known = event.get("PhysicalResourceId")
    chosen = proposed or known or f"{event['StackId']}/{event['LogicalResourceId']}"
    return str(chosen).encode()[:MAX_PHYSICAL_ID_BYTES].decode(errors="ignore")


def build_body(
    event: dict[str, Any],
    status: str,
    reason: str = "",
    physical: str | None = None,
    data: dict[str, Any] | None = None,
) -> bytes:
    """The JSON body, trimmed to CloudFormation's 4,096-byte limit."""
    if status not in (SUCCESS, FAILED):
        raise ValueError(f"status must be SUCCESS or FAILED, not {status!r}")
    reason = reason or ("See the details in CloudWatch Logs" if status == FAILED else "")
    if len(reason) > MAX_REASON_CHARS:
        reason = reason[: MAX_REASON_CHARS - len(TRUNCATED)] + TRUNCATED
    response: dict[str, Any] = {
        "Status": status,
        "Reason": reason,
        "PhysicalResourceId": physical_id(event, physical),
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "NoEcho": False,
        "Data": dict(data or {}),
    }

    def size() -> int:
        return len(json.dumps(response).encode())

    while size() > MAX_BODY_BYTES and response["Data"]:
        largest = max(response["Data"], key=lambda k: len(json.dumps(response["Data"][k])))
        del response["Data"][largest]
    text = response["Reason"].removesuffix(TRUNCATED)
    keep = len(text)
    while size() > MAX_BODY_BYTES and keep > 0:  # only a huge PhysicalResourceId gets here
        keep = max(0, keep - 64)
        response["Reason"] = text[:keep] + TRUNCATED
    return json.dumps(response).encode()


def send(
    event: dict[str, Any],
    body: bytes,
    attempts: int = 6,
    opener: Callable[..., Any] = urllib.request.urlopen,
    sleep: Callable[[float], None] = time.sleep,
    budget: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """PUT the answer to the pre-signed ResponseURL, retrying network errors and 5xx/429.

    With `budget` (seconds the calling Lambda invocation has left), no attempt or wait reaches
    past it: a Lambda stopped at its Timeout mid-PUT would report Sandbox.Timedout with the answer
    perhaps half sent; giving up in time raises ResponseError, which the step's Retry retries in a
    fresh invocation.
    """
    ends = None if budget is None else clock() + budget
    for attempt in range(1, attempts + 1):
        timeout = 30.0 if ends is None else min(30.0, ends - clock())
        if timeout < 1:
            raise ResponseError("could not answer CloudFormation within this invocation's time")
        request = urllib.request.Request(
            event["ResponseURL"],
            data=body,
            method="PUT",
            headers={"Content-Type": "", "Content-Length": str(len(body))},
        )
        try:
            with opener(request, timeout=timeout) as reply:
                logger.info("answered CloudFormation: HTTP %s", reply.status)
                return
        except urllib.error.HTTPError as exc:
            if exc.code < 500 and exc.code != 429:
                raise ResponseError(f"CloudFormation refused the answer: HTTP {exc.code}") from exc
            failure: Exception = exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            failure = exc
        logger.warning("answer attempt %s failed: %s", attempt, failure)
        pause = min(30.0, 0.5 * 2**attempt) * random.uniform(0.5, 1.0)
        if attempt == attempts or (ends is not None and clock() + pause + 1 > ends):
            raise ResponseError(f"could not answer CloudFormation: {failure}") from failure
        sleep(pause)
