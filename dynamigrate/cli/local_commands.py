"""The verbs of local mode: `local run` in this process, and `local serve` with the verbs that talk
to it (deploy, rollback, delete). Each is declared once, with its arguments.

Each raises UserError for a mistake of the user's and returns the exit code otherwise.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dynamigrate.aws import DEFAULT_HISTORY_TABLE, Connection
from dynamigrate.cli.common import UserError, checked_template, pairs
from dynamigrate.cli.registry import arg, group, verb
from dynamigrate.local.seal import local_mode
from dynamigrate.templates import table_logical_id
from macro.errors import InvalidTemplateError
from runner.ledger import MigrationLedger

DEFAULT_LOCAL_ENDPOINT = "http://127.0.0.1:4566"
INTERRUPTED = "interrupted"

group("local", help="run migrations on the embedded emulator")
TEMPLATE = arg(
    "template_path", metavar="template", type=Path, help="a CloudFormation or SAM template"
)
PARAM = arg(
    "--param",
    dest="parameters",
    action="append",
    metavar="NAME=VALUE",
    help="template parameter; repeatable",
)
STACK = arg("--stack", default="local", help="stack name")
ENDPOINT = arg(
    "--endpoint-url",
    dest="endpoint",
    metavar="ENDPOINT_URL",
    help=f"the server (default: $AWS_ENDPOINT_URL, else {DEFAULT_LOCAL_ENDPOINT})",
)


@verb(
    "local run",
    TEMPLATE,
    arg(
        "--data",
        action="append",
        metavar="LOGICAL_ID=FILE",
        help="JSON lines to load into a table (DynamoDB export format or plain JSON); repeatable",
    ),
    arg("--out", dest="out_dir", type=Path, default=Path("out"), help="where <LogicalId>.jsonl go"),
    PARAM,
    arg("--dry-run", action="store_true", help="run every migration as a dry run"),
    help="deploy a template's migrations over sample data, in this process",
    description="Creates the template's tables, loads the data files, installs dynamigrate "
    "and drives every migration through the real runner, controller, state machine and "
    "worker. Exit 0 when all succeeded, 2 when one failed (its deploy rolled back), 1 on "
    "bad input.",
)
def local_run(
    template_path: Path,
    data: list[str] | None,
    out_dir: Path,
    parameters: list[str] | None,
    dry_run: bool,
) -> int:
    """Run the template's migrations over sample data on the embedded emulator."""
    with local_mode(lambda: INTERRUPTED):
        return _local_run(template_path, data, out_dir, parameters, dry_run)


def _local_run(
    template_path: Path,
    data: list[str] | None,
    out_dir: Path,
    parameters: list[str] | None,
    dry_run: bool,
) -> int:
    from dynamigrate.data_files import DataFileError  # noqa: PLC0415 - the emulator is heavy
    from dynamigrate.local.cloudformation.resources import DeployError  # noqa: PLC0415
    from dynamigrate.local.run import report, run_local  # noqa: PLC0415
    from dynamigrate.progress import ProgressPrinter  # noqa: PLC0415

    template = checked_template(template_path)
    files = {table_logical_id(template, k): Path(v) for k, v in pairs(data, "--data").items()}
    for logical_id, path in files.items():
        if not path.is_file():
            raise UserError(f"--data {logical_id}={path}: no such file")
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"--out {out_dir}: not a directory")
    try:
        result = run_local(
            template,
            template_path.parent,
            files,
            out_dir,
            pairs(parameters, "--param"),
            dry_run,
            progress=ProgressPrinter(sys.stderr),
        )
    except DataFileError as exc:
        raise UserError(str(exc)) from exc
    except DeployError as exc:
        raise UserError(f"{template_path}: {exc}") from exc
    except InvalidTemplateError as exc:
        raise UserError(f"{template_path}: {exc}") from exc
    report(result, out_dir, sys.stdout)
    return 0 if result.deployment.succeeded else 2


@verb(
    "local serve",
    arg("--port", type=int, default=4566, help="the port to listen on"),
    help="the emulator as a server, with dynamigrate installed, until Ctrl-C",
)
def local_serve(port: int) -> int:
    """Serve the emulator with the application installed until interrupted."""
    holder: list[Any] = []
    with local_mode(lambda: holder[0].stopping() if holder else INTERRUPTED):
        from dynamigrate.local.server import LocalServer  # noqa: PLC0415

        server = LocalServer(port=port)
        holder.append(server)
        try:
            server.start()
        except OSError as exc:
            raise UserError(f"--port {port}: {exc.strerror or exc}") from exc
        print(f"dynamigrate emulator on {server.endpoint} (Ctrl-C stops it)", flush=True)
        print(f"  export AWS_ENDPOINT_URL={server.endpoint}", flush=True)
        threading.Event().wait()  # until Ctrl-C: local_mode's handler ends the process
    return 0


@verb(
    "local deploy",
    TEMPLATE,
    arg(
        "--data",
        action="append",
        metavar="LOGICAL_ID=FILE",
        help="JSON lines to load into a table when the stack creates it; repeatable",
    ),
    PARAM,
    STACK,
    arg("--dry-run", action="store_true", help="deploy every migration dry"),
    arg(
        "--disable-rollback",
        action="store_true",
        help="on failure, leave the stack in CREATE_FAILED/UPDATE_FAILED: nothing is undone until "
        "a later deploy resumes the failed run or `local rollback` rolls it back",
    ),
    ENDPOINT,
    help="deploy a template to `local serve`; a later deploy of the stack is an update",
    description="The server creates the template's tables and functions and drives each "
    "migration's Create, Update or Delete as CloudFormation would, rollback included. "
    "Exit 0 when all succeeded, 2 when the deploy failed and rolled back, 1 on bad input.",
)
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
    template = checked_template(template_path)
    files = {
        table_logical_id(template, k): str(Path(v).resolve())
        for k, v in pairs(data, "--data").items()
    }
    for logical_id, path in files.items():
        if not Path(path).is_file():
            raise UserError(f"--data {logical_id}={path}: no such file")
    request = {
        "template": str(template_path.resolve()),
        "data": files,
        "params": pairs(parameters, "--param"),
        "stack": stack,
        "dryRun": dry_run,
        "disableRollback": disable_rollback,
    }
    result = _call_server(endpoint, "deploy", request, str(template_path))
    _print_outcomes(result["outcomes"])
    _print_deleted(stack, result)
    if result.get("stackStatus", "").endswith("_FAILED"):
        print(
            f"stack {stack}: {result['stackStatus']} (rollback disabled): deploy again to resume, "
            f"or `dynamigrate local rollback --stack {stack}` to roll it back"
        )
    return 0 if result["succeeded"] else 2


def _stack_operation_verb(operation: str, what: str) -> None:
    """`local rollback` and `local delete`: one stack operation each, the same arguments."""

    def command(endpoint: str | None, stack: str) -> int:
        return local_stack_operation(endpoint, operation, stack)

    verb(
        f"local {operation}",
        STACK,
        ENDPOINT,
        help=what,
        description=f"{what}. Exit 0 when the stack operation completed, 2 when it did not, "
        "1 on bad input.",
    )(command)


def local_stack_operation(endpoint: str | None, operation: str, stack: str) -> int:
    """RollbackStack (`rollback`) or DeleteStack (`delete`) on a stack of `local serve`."""
    result = _call_server(endpoint, operation, {"stack": stack}, f"stack {stack}")
    _print_outcomes(result["outcomes"])
    _print_deleted(stack, result)
    print(f"stack {stack}: {result['stackStatus']}")
    return 0 if result["succeeded"] else 2


_stack_operation_verb(
    "rollback", "RollbackStack: roll back a deploy that failed with --disable-rollback"
)
_stack_operation_verb(
    "delete",
    "DeleteStack: each migration gets its Delete (history stays); the stack's tables are "
    "deleted unless their DeletionPolicy retains them",
)


def _print_deleted(stack: str, result: dict[str, Any]) -> None:
    """The tables CloudFormation deleted as the operation ended (as their DeletionPolicy says)."""
    if result.get("deletedTables"):
        print(
            f"stack {stack}: deleted tables {', '.join(result['deletedTables'])} (DeletionPolicy)"
        )


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
    url = (endpoint or os.environ.get("AWS_ENDPOINT_URL") or DEFAULT_LOCAL_ENDPOINT).rstrip("/")
    message = f"interrupted; `local serve` at {url} finishes the {route} on its own"
    with local_mode(lambda: message, url):
        return _call_sealed(url, route, request, what)


def _call_sealed(url: str, route: str, request: dict[str, Any], what: str) -> dict[str, Any]:
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

    connection = Connection(endpoint_url=url)
    ledger = MigrationLedger(connection.client("dynamodb"), DEFAULT_HISTORY_TABLE)
    before = _runs(ledger)
    events = _EventPrinter(connection.client("logs"), since=int(time.time() * 1000))
    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    _follow(ledger, before, thread, _ItemCounts(connection.client("dynamodb")), events=events)
    events()
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


class _EventPrinter:
    """Prints the runner's EventBridge events as the server's rule delivers them to its log
    group (dynamigrate.local.observe), each once."""

    def __init__(self, logs: Any, since: int) -> None:
        self.logs, self.since, self.seen = logs, since, set[str]()

    def __call__(self) -> None:
        from dynamigrate.local.observe import describe, events  # noqa: PLC0415

        try:
            found = events(self.logs, self.since)
        except Exception:  # no log group yet, or no server: the deploy reports the latter
            return
        for event in found:
            if event.get("id") not in self.seen:
                self.seen.add(str(event.get("id")))
                print(describe(event), flush=True)


class _ItemCounts:
    """Each table's item count when its migration first shows: the total of its progress bar,
    as `local run` takes it."""

    def __init__(self, dynamodb: Any) -> None:
        self.dynamodb = dynamodb
        self.counts: dict[str, int] = {}

    def __call__(self, table: str) -> int:
        if table not in self.counts:
            try:
                found = self.dynamodb.describe_table(TableName=table)["Table"]
                self.counts[table] = int(found.get("ItemCount", 0))
            except Exception:  # the table is gone or unreadable: the bar shows counts only
                self.counts[table] = 0
        return self.counts[table]


def _follow(
    ledger: MigrationLedger,
    before: dict[str, tuple[str, str | None]],
    thread: threading.Thread,
    item_count: Callable[[str], int] = lambda table: 0,
    printer: Any = None,
    events: Callable[[], None] = lambda: None,
) -> None:
    """Progress bars from the history table while a deploy runs on the server: every migration
    the deploy runs gets its lines, even one that starts and ends between two polls."""
    from dynamigrate.progress import ProgressPrinter, live  # noqa: PLC0415

    printer = printer or ProgressPrinter(sys.stderr)
    started: set[str] = set()
    while thread.is_alive():
        thread.join(1.0)
        events()
        try:
            records = ledger.records()
        except Exception:  # the server is not up (yet): the deploy reports it
            continue
        for record in records:
            key = f"{record.table}/{record.migration_id}"
            if "logicalId" not in record.attributes:  # locked, not started: no label yet
                continue
            if key in started or before.get(key) != (record.status, record.run_id):
                started.add(key)
                # labelled by logical id, as `local run` labels it
                label = record.attributes.get("logicalId", {}).get("S") or key
                printer(label, live(ledger, record), item_count(record.table))
