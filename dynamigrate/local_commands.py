"""The commands that talk to `dynamigrate local serve`: serve, deploy, rollback, delete.

Each raises UserError for a mistake of the user's and returns the exit code otherwise.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

from dynamigrate.aws import DEFAULT_HISTORY_TABLE, Connection
from dynamigrate.commands import UserError, _checked_template, _pairs
from dynamigrate.templates import table_logical_id
from runner.ledger import MigrationLedger

DEFAULT_LOCAL_ENDPOINT = "http://127.0.0.1:4566"


def local_serve(port: int) -> int:
    """Serve the emulator with the application installed until interrupted."""
    from dynamigrate.local_server import LocalServer  # noqa: PLC0415

    server = LocalServer(port=port)
    try:
        server.start()
    except OSError as exc:
        raise UserError(f"--port {port}: {exc.strerror or exc}") from exc
    print(f"dynamigrate emulator on {server.endpoint} (Ctrl-C stops it)", flush=True)
    print(f"  export AWS_ENDPOINT_URL={server.endpoint}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def local_deploy(
    endpoint: str | None,
    template_path: Path,
    data: list[str] | None,
    parameters: list[str] | None,
    stack: str,
    dry_run: bool,
    disable_rollback: bool = False,
) -> int:
    """Deploy a template to a running `local serve`; later deploys of the stack update it."""
    template = _checked_template(template_path)
    files = {
        table_logical_id(template, k): str(Path(v).resolve())
        for k, v in _pairs(data, "--data").items()
    }
    for logical_id, path in files.items():
        if not Path(path).is_file():
            raise UserError(f"--data {logical_id}={path}: no such file")
    request = {
        "template": str(template_path.resolve()),
        "data": files,
        "params": _pairs(parameters, "--param"),
        "stack": stack,
        "dryRun": dry_run,
        "disableRollback": disable_rollback,
    }
    result = _call_server(endpoint, "deploy", request, str(template_path))
    _print_outcomes(result["outcomes"])
    if result.get("stackStatus", "").endswith("_FAILED"):
        print(
            f"stack {stack}: {result['stackStatus']} (rollback disabled): deploy again to resume, "
            f"or `dynamigrate local rollback --stack {stack}` to roll it back"
        )
    return 0 if result["succeeded"] else 2


def local_stack_operation(endpoint: str | None, operation: str, stack: str) -> int:
    """RollbackStack (`rollback`) or DeleteStack (`delete`) on a stack of `local serve`."""
    result = _call_server(endpoint, operation, {"stack": stack}, f"stack {stack}")
    _print_outcomes(result["outcomes"])
    print(f"stack {stack}: {result['stackStatus']}")
    return 0 if result["succeeded"] else 2


def _print_outcomes(outcomes: list[dict[str, Any]]) -> None:
    for outcome in outcomes:
        line = f"{outcome['status']:<11} {outcome['logical_id']} ({outcome['migration_id']})"
        if outcome["status"] != "SUCCESS" or outcome["reason"] == "unchanged":
            line += f": {outcome['reason']}"
        print(line)


def _call_server(
    endpoint: str | None, route: str, request: dict[str, Any], what: str
) -> dict[str, Any]:
    """POST a control request to `local serve`, with progress bars while it works."""
    import urllib.error  # noqa: PLC0415
    import urllib.request  # noqa: PLC0415

    url = (endpoint or os.environ.get("AWS_ENDPOINT_URL") or DEFAULT_LOCAL_ENDPOINT).rstrip("/")
    post = urllib.request.Request(
        f"{url}/_dynamigrate/{route}",
        data=json.dumps(request).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    result: dict[str, Any] = {}
    failure: list[BaseException] = []

    def send() -> None:
        try:
            with urllib.request.urlopen(post, timeout=7200) as reply:
                body = reply.read()
        except urllib.error.HTTPError as exc:
            body = exc.read() or b"{}"
        except (urllib.error.URLError, OSError) as exc:
            failure.append(exc)
            return
        try:
            answer = json.loads(body)
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or not ({"error", "outcomes"} & set(answer)):
            failure.append(ValueError(f"it answered {body[:60]!r}, not as dynamigrate does"))
            return
        result.update(answer)

    for name, value in (("AWS_ACCESS_KEY_ID", "local"), ("AWS_SECRET_ACCESS_KEY", "local")):
        os.environ.setdefault(name, value)  # the emulator takes any credentials
    connection = Connection(endpoint_url=url)
    ledger = MigrationLedger(connection.client("dynamodb"), DEFAULT_HISTORY_TABLE)
    before = _runs(ledger)
    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    _follow(ledger, before, thread)
    if failure:
        raise UserError(
            f"no dynamigrate emulator at {url} ({failure[0]}); start one with "
            "`dynamigrate local serve`"
        )
    if "error" in result:
        raise UserError(f"{what}: {result['error']}")
    return result


def _runs(ledger: MigrationLedger) -> dict[str, tuple[str, str | None]]:
    """Each migration's status and run, to tell what a deploy changed from what it found."""
    try:
        return {f"{r.table}/{r.migration_id}": (r.status, r.run_id) for r in ledger.records()}
    except Exception:  # no history table yet, or no server: the deploy reports the latter
        return {}


def _follow(
    ledger: MigrationLedger, before: dict[str, tuple[str, str | None]], thread: threading.Thread
) -> None:
    """Progress bars from the history table while a deploy runs on the server: every migration
    the deploy runs gets its lines, even one that starts and ends between two polls."""
    from dynamigrate.progress import ProgressPrinter, live  # noqa: PLC0415

    printer = ProgressPrinter(sys.stderr)
    started: set[str] = set()
    while thread.is_alive():
        thread.join(1.0)
        try:
            records = ledger.records()
        except Exception:  # the server is not up (yet): the deploy reports it
            continue
        for record in records:
            key = f"{record.table}/{record.migration_id}"
            if key in started or before.get(key) != (record.status, record.run_id):
                started.add(key)
                # labelled by logical id, as `local run` labels it
                label = record.attributes.get("logicalId", {}).get("S") or key
                printer(label, live(ledger, record), 0)
