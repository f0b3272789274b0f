"""`server`: a real `dynamigrate local serve` process on a free port, for the tests that drive it
as a user does (`local deploy`, `history`, `status`, `plan` with `--endpoint-url`)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(tmp_path, monkeypatch):
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "dynamigrate.cli", "local", "serve", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT")},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while "dynamigrate emulator on" not in (tmp_path / "serve.log").read_text():
        assert process.poll() is None, (tmp_path / "serve.log").read_text()
        assert time.monotonic() < deadline, "local serve did not start"
        time.sleep(0.2)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
