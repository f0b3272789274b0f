"""The custom-resource answer: shape, stable id, 4 KB cap, PUT retries (against a local server)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest

from runner.cfn_response import FAILED, SUCCESS, ResponseError, build_body, send

EVENT = {
    "RequestType": "Update",
    "RequestId": "req-1",
    "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/app/guid",
    "LogicalResourceId": "OrdersAddStatus",
    "PhysicalResourceId": "dynamigrate:Orders:2026-01-10-add-status",
    "ResponseURL": "http://127.0.0.1:1/unused",
}


def test_answer_copies_the_request_and_keeps_the_physical_id_unless_told_otherwise():
    body = json.loads(build_body(EVENT, SUCCESS, data={"Status": "OK"}))
    assert body == {
        "Status": "SUCCESS",
        "Reason": "",
        "NoEcho": False,
        "Data": {"Status": "OK"},
        "PhysicalResourceId": "dynamigrate:Orders:2026-01-10-add-status",
        "StackId": EVENT["StackId"],
        "RequestId": "req-1",
        "LogicalResourceId": "OrdersAddStatus",
    }


def test_an_update_that_started_a_run_answers_the_new_id_a_replacement():
    body = json.loads(build_body(EVENT, FAILED, "failed", physical="Orders/m1/run-2"))
    assert body["PhysicalResourceId"] == "Orders/m1/run-2"


def test_a_create_gets_the_proposed_id():
    create = {k: v for k, v in EVENT.items() if k != "PhysicalResourceId"}
    assert (
        json.loads(build_body(create, SUCCESS, physical="new-id"))["PhysicalResourceId"] == "new-id"
    )


def test_the_body_never_exceeds_4096_bytes():
    data = {"Counters": "x" * 3000, "Status": "FAILED", "Samples": "y" * 2000}
    body = build_body(EVENT, FAILED, reason="boom " * 2000, data=data)
    parsed = json.loads(body)
    assert len(body) <= 4096
    assert sorted(parsed["Data"]) == ["Samples", "Status"]  # the largest value went first
    assert len(parsed["Reason"]) == 1500
    assert parsed["Reason"].startswith("boom boom")
    assert parsed["Reason"].endswith(" [truncated]")


def test_a_failure_always_has_a_reason():
    assert json.loads(build_body(EVENT, FAILED))["Reason"]
    with pytest.raises(ValueError, match="SUCCESS or FAILED"):
        build_body(EVENT, "OK")


class Receiver(BaseHTTPRequestHandler):
    """Answers 500 to the first `failures` PUTs, then 200, recording the bodies."""

    failures = 0
    bodies: ClassVar[list[tuple[str, bytes, str | None]]] = []

    def do_PUT(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.bodies.append((self.path, body, self.headers.get("Content-Type")))
        status = 500 if Receiver.failures > 0 else 200
        Receiver.failures -= 1
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    Receiver.bodies = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/presigned?sig=abc"
    server.shutdown()


def test_the_put_is_retried_until_it_lands(receiver):
    Receiver.failures = 2
    body = build_body(EVENT, SUCCESS)
    send({**EVENT, "ResponseURL": receiver}, body, sleep=lambda s: None)
    assert [b for _, b, _ in Receiver.bodies] == [body, body, body]
    assert Receiver.bodies[-1][0] == "/presigned?sig=abc"
    assert Receiver.bodies[-1][2] == ""  # a pre-signed S3 PUT must not carry a content type


def test_giving_up_is_an_error_not_silence(receiver):
    Receiver.failures = 10
    with pytest.raises(ResponseError, match="could not answer CloudFormation"):
        send(
            {**EVENT, "ResponseURL": receiver},
            build_body(EVENT, SUCCESS),
            attempts=3,
            sleep=lambda s: None,
        )
    assert len(Receiver.bodies) == 3


def test_the_put_never_outlasts_the_invocation():
    """With 40 s left, retries stop in time (a Lambda stopped mid-PUT would say Sandbox.Timedout)
    and each attempt's own timeout is cut to what is left."""
    now = [0.0]
    timeouts: list[float] = []

    def unreachable(request, timeout):
        timeouts.append(timeout)
        now[0] += timeout  # the network hangs until the attempt's timeout
        raise TimeoutError("timed out")

    with pytest.raises(ResponseError):
        send(
            EVENT,
            build_body(EVENT, SUCCESS),
            opener=unreachable,
            sleep=lambda seconds: now.__setitem__(0, now[0] + seconds),
            budget=40,
            clock=lambda: now[0],
        )
    assert now[0] <= 40
    assert timeouts[0] == 30
    assert all(t <= 40 - sum(timeouts[:n]) for n, t in enumerate(timeouts))
