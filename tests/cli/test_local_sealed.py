"""Local mode is sealed: interrupted at any point, no local command sends a request off the machine.

Each command runs as a user runs it, a process of its own, in an environment that would catch any
request leaving the emulator: fake AWS credentials, and HTTPS_PROXY/HTTP_PROXY pointing at a TCP
listener this test owns (only the loopback, where `local serve` listens, is exempt). The command
is interrupted with SIGINT during setup, in the middle of a migration, and during a local deploy;
it must end with exit code 130 and one line, no traceback, and the listener must have seen nothing.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.serve import free_port

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 120.0  # a bound on a step of a subprocess, never a measurement

TEMPLATE = """
Transform: DynamoMigrations
Resources:
  Items:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      BillingMode: PAY_PER_REQUEST
  Others:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      BillingMode: PAY_PER_REQUEST
  AddA:
    Type: Custom::DynamoMigration
    Properties:
      TableName: !Ref Items
      MigrationId: m1-add-a
      Source: {Scan: {Segments: 2, PageSize: 20}}
      Up: {Update: {Expression: "SET a = :t", Values: {":t": 1}}}
  AddB:
    Type: Custom::DynamoMigration
    Properties:
      TableName: !Ref Others
      MigrationId: m1-add-b
      Source: {Scan: {Segments: 2, PageSize: 20}}
      Up: {Update: {Expression: "SET b = :t", Values: {":t": 1}}}
"""


@dataclass
class Listener:
    """A TCP listener standing in for the internet: every connection it accepts is recorded."""

    sock: socket.socket
    seen: list[bytes] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    self.seen.append(conn.recv(200))
                except OSError:
                    self.seen.append(b"")


@pytest.fixture
def listener() -> Iterator[Listener]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    found = Listener(sock)
    threading.Thread(target=found.serve, daemon=True).start()
    try:
        yield found
    finally:
        sock.close()


def trap_environment(listener: Listener) -> dict[str, str]:
    """Any request leaving the machine goes to the listener, signed with real-looking keys."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        HTTPS_PROXY=listener.url,
        HTTP_PROXY=listener.url,
        https_proxy=listener.url,
        http_proxy=listener.url,
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        AWS_ACCESS_KEY_ID="AKIAIOSFODNN7EXAMPLE",
        AWS_SECRET_ACCESS_KEY="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        AWS_DEFAULT_REGION="us-east-1",
    )
    return env


class Command:
    """A `dynamigrate` process whose stderr lines are collected as they come."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "dynamigrate.cli", *args],
            env=env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []  # stderr
        self.out: list[str] = []
        self._reader = threading.Thread(target=self._read, args=("stderr",), daemon=True)
        self._reader.start()
        threading.Thread(target=self._read, args=("stdout",), daemon=True).start()

    def _read(self, stream: str) -> None:
        lines = self.lines if stream == "stderr" else self.out
        for line in getattr(self.process, stream):
            lines.append(line.rstrip("\n"))

    def wait_for(self, ready: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + DEADLINE
        while not ready():
            assert self.process.poll() is None, f"ended before {what}: {self.lines}"
            assert time.monotonic() < deadline, f"never {what}: {self.lines}"
            time.sleep(0.05)

    def threads(self) -> int:
        try:
            return len(os.listdir(f"/proc/{self.process.pid}/task"))
        except FileNotFoundError:
            return 0

    def interrupt(self) -> list[str]:
        """SIGINT; the stderr lines the command printed after it, once it ended."""
        printed = len(self.lines)
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=DEADLINE)
        self._reader.join(DEADLINE)
        return self.lines[printed:]


def assert_nothing_left(listener: Listener) -> None:
    time.sleep(0.5)  # the listener records a connection a command made just before it ended
    assert listener.seen == []


def progress(line: str) -> bool:
    return "scanned" in line and "changed" in line


def assert_one_line(after: list[str], expected: str) -> None:
    """Exactly one line that is not a progress bar (another thread may draw one more), no
    traceback, and it is the last line."""
    assert not [line for line in after if "Traceback" in line or "Exception in" in line], after
    said = [line for line in after if not progress(line)]
    assert said == [expected], after
    assert after[-1] == expected


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    for name in ("items", "others"):
        rows = [json.dumps({"pk": f"{name}-{i:04d}", "n": i}) for i in range(600)]
        (tmp_path / f"{name}.jsonl").write_text("\n".join(rows) + "\n")
    return tmp_path


LOCAL_RUN = ["local", "run", "template.yaml", "--data", "Items=items.jsonl"]
LOCAL_RUN += ["--data", "Others=others.jsonl", "--out", "out"]
DEPLOY = ["local", "deploy", "template.yaml", "--data", "Items=items.jsonl"]
DEPLOY += ["--data", "Others=others.jsonl"]


def test_the_trap_catches_a_request_that_leaves(listener, tmp_path):
    """The environment does catch a real client: the same SDK call outside local mode reaches
    the listener (so the zero below means something)."""
    call = "import boto3; boto3.client('sts').get_caller_identity()"
    done = subprocess.run(
        [sys.executable, "-c", call],
        check=False,
        env=trap_environment(listener),
        cwd=tmp_path,
        capture_output=True,
        timeout=DEADLINE,
    )
    assert done.returncode != 0
    assert any(b".amazonaws.com:443" in seen for seen in listener.seen), listener.seen


def test_local_run_interrupted_mid_migration_and_during_setup(listener, workspace):
    env = trap_environment(listener)
    running = Command(LOCAL_RUN, env, workspace)
    running.wait_for(lambda: any("RUNNING" in line for line in running.lines), "ran a migration")
    time.sleep(1.5)  # into the run: state machines, workers and pollers all busy
    after = running.interrupt()
    assert_nothing_left(listener)  # before the seal: 26 connections to dynamodb.us-east-1
    assert running.process.returncode == 130, after
    assert_one_line(after, "dynamigrate: interrupted")

    setup = Command(LOCAL_RUN, env, workspace)
    setup.wait_for(lambda: setup.threads() > 1, "started its first thread")
    after = setup.interrupt()
    assert_nothing_left(listener)
    assert setup.process.returncode == 130, after
    assert_one_line(after, "dynamigrate: interrupted")


def test_local_deploy_and_local_serve_interrupted_mid_deploy(listener, workspace):
    env = trap_environment(listener)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    serve = Command(["local", "serve", "--port", str(port)], env, workspace)
    try:
        serve.wait_for(lambda: any(url in line for line in serve.out), "served")
        deploy = Command(
            [*DEPLOY, "--endpoint-url", url],
            env,
            workspace,
        )
        deploy.wait_for(lambda: any(map(progress, deploy.lines)), "deployed")
        after = deploy.interrupt()
        assert_nothing_left(listener)
        assert deploy.process.returncode == 130, after
        assert_one_line(
            after,
            f"dynamigrate: interrupted; `local serve` at {url} finishes the deploy on its own",
        )
        after = serve.interrupt()  # the deploy is still running in the server
        assert_nothing_left(listener)
        assert serve.process.returncode == 130, after
        stopping = f"dynamigrate: stopping the emulator on {url}: its state (1 stack: local) is "
        assert_one_line(after, after[-1])
        assert after[-1].startswith(stopping), after
    finally:
        if serve.process.poll() is None:
            serve.process.kill()
