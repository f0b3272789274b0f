"""Local mode is sealed: nothing it runs sends a request beyond the emulator.

Three guards, each enough for what it covers:
- `scrub_environment`: the process's AWS configuration becomes the emulator's (dummy credentials,
  the emulator's region, no profile, no config or credentials file, no endpoint of the user's), so
  a client created anywhere in the process (the runner's code, moto's interpreter, a thread) has
  nothing real to sign with and no real endpoint to be sent to.
- `sealed`: botocore's network send (`URLLib3Session.send`, where every request
  that moto's in-process mock did not answer goes) refuses any URL but an emulator endpoint
  registered here. In-process (`local run`) nothing is registered: moto answers every request
  before it reaches the network, so one that gets there would leave the machine. A thread started
  while sealed (by a sealed thread, or during a `sealed` block) stays sealed for its life, and so
  do the threads it starts.
- `exit_on_interrupt`: SIGINT ends the process at once, one line on stderr and exit code 130,
  so no thread can outlive the emulator (Python cannot stop a thread; ending the process does).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any
from urllib.parse import urlsplit

from botocore.httpsession import URLLib3Session

REGION = "us-east-1"
INTERRUPTED_EXIT = 130  # 128 + SIGINT, as a shell reports a command Ctrl-C ended

# Variables that point boto3 at a real account or endpoint: boto3's "Credentials" and
# "Configuration" guides (environment variables), and for AWS_ENDPOINT_URL and
# AWS_ENDPOINT_URL_<SERVICE> the AWS SDKs and Tools Reference Guide, "Service-specific endpoints".
_USER_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_ENDPOINT_URL",
)


class LeftEmulatorError(Exception):
    """A request of local mode was about to leave the emulator: refused, never sent."""


class _Seal:
    """The guard's state: how many `sealed` blocks are open, what they allow, which threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0
        self.allowed: set[tuple[str, int]] = set()
        self.threads: weakref.WeakSet[threading.Thread] = weakref.WeakSet()
        self.refused: list[str] = []

    def active(self) -> bool:
        return self.depth > 0 or threading.current_thread() in self.threads


SEAL = _Seal()
_ORIGINAL_SEND: Callable[[Any, Any], Any] = URLLib3Session.send
_ORIGINAL_START: Callable[[threading.Thread], None] = threading.Thread.start


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    return (parts.hostname or "", parts.port or default)


def allow(endpoint: str) -> None:
    """Let sealed requests reach this emulator endpoint (`local serve`): by IP and as localhost."""
    host, port = _address(endpoint)
    with SEAL.lock:
        SEAL.allowed.add((host, port))
        if host in ("127.0.0.1", "localhost"):  # moto's interpreter calls http://localhost:PORT
            SEAL.allowed.update({("127.0.0.1", port), ("localhost", port)})


def _guarded_send(self: URLLib3Session, request: Any) -> Any:
    if SEAL.active() and _address(request.url) not in SEAL.allowed:
        with SEAL.lock:
            SEAL.refused.append(request.url)
        raise LeftEmulatorError(
            f"local mode refused a request to {request.url}: it would leave the emulator"
        )
    return _ORIGINAL_SEND(self, request)


def _start_sealed(self: threading.Thread) -> None:
    if SEAL.active():
        with SEAL.lock:
            SEAL.threads.add(self)
    _ORIGINAL_START(self)


def _install() -> None:
    URLLib3Session.send = _guarded_send
    threading.Thread.start = _start_sealed  # type: ignore[method-assign]


def scrub_environment(region: str = REGION) -> None:
    """The emulator's AWS configuration for this process, whatever the user's shell holds."""
    for name in list(os.environ):
        if name in _USER_VARIABLES or name.startswith("AWS_ENDPOINT_URL_"):
            del os.environ[name]
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=region,
        AWS_REGION=region,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
    )


@contextmanager
def sealed() -> Iterator[None]:
    """Refuse requests beyond the emulator while the block runs, and afterwards in every thread
    the block started that is still running."""
    _install()
    with SEAL.lock:
        SEAL.depth += 1
    try:
        yield
    finally:
        with SEAL.lock:
            SEAL.depth -= 1


def exit_on_interrupt(message: Callable[[], str]) -> Any:
    """On SIGINT: print `message()` as one line on stderr and end the process with 130 at once,
    threads and emulator together (nothing unwinds, so nothing runs after the emulator). Returns
    the handler it replaced (None off the main thread, where Python takes no signal handler)."""

    def interrupted(signum: int, frame: Any) -> None:
        with suppress(OSError, ValueError):
            sys.stdout.flush()
        try:
            os.write(2, f"dynamigrate: {message()}\n".encode())
        finally:
            os._exit(INTERRUPTED_EXIT)

    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGINT, interrupted)


@contextmanager
def local_mode(message: Callable[[], str], *endpoints: str) -> Iterator[None]:
    """What every local command runs in: the emulator's environment, sealed (only `endpoints`,
    if any, reachable), and Ctrl-C ending the process with `message()`. The environment and the
    SIGINT handler are restored after (for callers in-process, such as tests)."""
    previous = exit_on_interrupt(message)
    saved = dict(os.environ)
    scrub_environment()
    for endpoint in endpoints:
        allow(endpoint)
    try:
        with sealed():
            yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
