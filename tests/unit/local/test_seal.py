"""The seal of local mode: botocore sends nothing but to a registered emulator endpoint."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError

from dynamigrate.local import seal
from dynamigrate.local.seal import LeftEmulatorError, local_mode, sealed


@pytest.fixture
def listener() -> Iterator[tuple[str, list[bytes]]]:
    """A loopback endpoint that records every connection (and answers none)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    seen: list[bytes] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            with conn:
                seen.append(conn.recv(100))

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", seen
    finally:
        sock.close()


def client(endpoint: str) -> object:
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="k",
        aws_secret_access_key="s",
        config=Config(retries={"max_attempts": 1}, connect_timeout=1, read_timeout=1),
    )


def test_a_sealed_request_to_an_unregistered_endpoint_is_refused_unsent(listener):
    url, seen = listener
    dynamodb = client(url)
    with sealed(), pytest.raises(LeftEmulatorError, match=f"refused a request to {url}/"):
        dynamodb.list_tables()  # type: ignore[attr-defined]
    assert seen == []


def test_a_registered_emulator_endpoint_is_reached(listener):
    url, seen = listener
    seal.allow(url)
    try:
        with sealed(), pytest.raises(BotoCoreError):  # sent: the listener hangs up, unanswered
            client(url).list_tables()  # type: ignore[attr-defined]
        assert seen
        assert seen[0].startswith(b"POST / HTTP/1.1")
    finally:
        seal.SEAL.allowed.clear()


def test_unsealed_requests_are_not_touched(listener):
    url, seen = listener
    with pytest.raises(BotoCoreError):
        client(url).list_tables()  # type: ignore[attr-defined]
    assert seen


def test_a_thread_the_block_started_stays_sealed_after_it(listener):
    url, seen = listener
    go, done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def later() -> None:
        go.wait()
        try:
            client(url).list_tables()  # type: ignore[attr-defined]
        except BaseException as exc:
            errors.append(exc)
        done.set()

    with sealed():
        threading.Thread(target=later, daemon=True).start()
    go.set()
    done.wait(10)
    assert [type(e) for e in errors] == [LeftEmulatorError]
    assert seen == []


def test_local_mode_replaces_the_users_aws_configuration_and_restores_it(monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "production")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREAL")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "token")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://example.com")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "https://example.com")
    with local_mode(lambda: "interrupted"):
        assert "AWS_PROFILE" not in os.environ
        assert "AWS_SESSION_TOKEN" not in os.environ
        assert "AWS_ENDPOINT_URL" not in os.environ
        assert "AWS_ENDPOINT_URL_DYNAMODB" not in os.environ
        assert os.environ["AWS_ACCESS_KEY_ID"] == "testing"
        assert os.environ["AWS_CONFIG_FILE"] == os.devnull
        assert boto3.Session().get_credentials().access_key == "testing"  # type: ignore[union-attr]
    assert os.environ["AWS_PROFILE"] == "production"
    assert os.environ["AWS_ACCESS_KEY_ID"] == "AKIAREAL"


def test_a_thread_a_sealed_thread_starts_later_is_sealed_too(listener):
    url, seen = listener
    go, done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def grandchild() -> None:
        try:
            client(url).list_tables()  # type: ignore[attr-defined]
        except BaseException as exc:
            errors.append(exc)
        done.set()

    def child() -> None:
        go.wait()  # the block has ended by now
        threading.Thread(target=grandchild, daemon=True).start()

    with sealed():
        threading.Thread(target=child, daemon=True).start()
    go.set()
    done.wait(10)
    assert [type(e) for e in errors] == [LeftEmulatorError]
    assert seen == []
