"""`dynamigrate local run`: a template's migrations over sample data, on the embedded emulator.

Everything a deploy does happens in this process: tables from the template, data files loaded,
the application installed from template.yaml, the template expanded by the real macro, and each
migration's custom resource driven through the real runner, controller, state machine and worker.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from dynamigrate.data_files import DataFile, KeySpec
from dynamigrate.history_view import HEADER, as_dict, format_table, rows
from dynamigrate.local.app import LocalApp
from dynamigrate.local.cloudformation.deployer import (
    Deployment,
    LocalDeployer,
    Progress,
    check_template,
)
from dynamigrate.local.cloudformation.protocol import response_receiver
from dynamigrate.local.emulator import emulated_aws
from dynamigrate.local.engine import set_default_environment
from dynamigrate.local.observe import events, write_jsonl
from dynamigrate.local.table_dump import dump_table
from dynamigrate.settings import render_settings
from runner.attrs import Item, to_wire


@dataclass
class LocalRunResult:
    deployment: Deployment
    seconds: float
    scanned: int
    history: list[dict[str, Any]]
    history_rows: list[list[str]]
    samples: dict[str, tuple[Item | None, Item | None]]
    events: list[dict[str, Any]]
    deleted: list[str]  # tables the rollback deleted (their files: what they held just before)


def run_local(
    template: dict[str, Any],
    base: Path,
    data: dict[str, Path],
    out_dir: Path,
    parameters: dict[str, str] | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    poll_seconds: int = 1,
) -> LocalRunResult:
    """Deploy the template's migrations on a fresh emulator; write tables and history to out_dir."""
    set_default_environment()
    check_template(template, set(data), render_settings())
    loaded = {
        logical_id: DataFile(path, KeySpec.of_table(template["Resources"][logical_id])).check()
        for logical_id, path in data.items()
    }
    logging.getLogger("moto").setLevel(logging.CRITICAL)
    with emulated_aws(), response_receiver() as receiver:
        app = LocalApp(poll_seconds=poll_seconds)
        app.recorder.clear()
        deployer = LocalDeployer(app, receiver, progress=progress)
        samples: dict[str, tuple[Item | None, Item | None]] = {}

        def write_out(logical_id: str, table: str) -> None:
            path = out_dir / f"{logical_id}.jsonl"
            samples[logical_id] = dump_table(app.dynamodb, table, path, loaded.get(logical_id, []))

        out_dir.mkdir(parents=True, exist_ok=True)
        deployer.before_table_delete = write_out  # a rolled-back create deletes its tables
        started = time.monotonic()
        deployment = deployer.deploy(template, base, loaded, parameters, dry_run)
        seconds = time.monotonic() - started
        for logical_id, table in deployment.tables.items():
            if logical_id not in deployer.deleted_tables:
                write_out(logical_id, table)
        records = deployer.ledger.records()
        history = [as_dict(r) for r in records]
        (out_dir / "history.json").write_text(json.dumps(history, indent=2, sort_keys=True) + "\n")
        sent = events(app.logs)
        write_jsonl(out_dir / "events.jsonl", [json.dumps(e, sort_keys=True) for e in sent])
        write_jsonl(out_dir / "metrics.jsonl", list(app.recorder.metrics))
        write_jsonl(out_dir / "logs.jsonl", list(app.recorder.logs))
        scanned = sum(int((h.get("counters") or {}).get("scanned", 0)) for h in history)
        return LocalRunResult(
            deployment,
            seconds,
            scanned,
            history,
            rows(records),
            samples,
            sent,
            deployer.deleted_tables,
        )


DRY_RUN_SAMPLES = 3


def _json(item: Any) -> str:
    return json.dumps(item, sort_keys=True)


def _sample(write: Any, before: Any, after: Any, operation: str | None = None) -> None:
    """A before/after pair as DynamoDB JSON (binary as base64), as the data files have it; a
    dry run's Update sample names its expression instead of an after (it was never applied)."""
    write(f"  before: {_json(before)}\n")
    if operation:
        write(f"  update: {operation}\n")
    else:
        write(f"  after:  {_json(after) if after else '(deleted)'}\n")


def report(result: LocalRunResult, out_dir: Path, stream: TextIO) -> None:
    """Outcomes, a before/after sample per table, the history table, and where files went."""
    write = stream.write
    write("\n")
    for outcome in result.deployment.outcomes:
        line = f"{outcome.status:<11} {outcome.logical_id} ({outcome.migration_id})"
        if outcome.status != "SUCCESS":
            line += f": {outcome.reason}"
        write(line + "\n")
    for logical_id, (before, after) in result.samples.items():
        if before is None and after is not None:  # a Target table: what the run wrote there
            write(f"\n{logical_id}, first item written:\n  after:  {_json(to_wire(after))}\n")
        elif before is not None:
            write(f"\n{logical_id}, first changed item:\n")
            _sample(write, to_wire(before), to_wire(after) if after else None)
        else:
            write(f"\n{logical_id}: no item changed\n")
    for entry in result.history:
        for sample in (entry.get("samples") or [])[:DRY_RUN_SAMPLES]:
            if sample.get("before") is not None:
                mid = str(entry["migrationId"]).removesuffix("#dry-run")
                write(f"\n{mid} (dry run), an item it would change:\n")
                _sample(write, sample["before"], sample.get("after"), sample.get("operation"))
    for logical_id in result.deleted:
        write(
            f"\n{logical_id}: deleted by the rollback, as CloudFormation deletes a table the "
            f"failed create made (DeletionPolicy); {logical_id}.jsonl holds what it held then\n"
        )
    write("\nHistory:\n" + format_table(HEADER, result.history_rows) + "\n")
    rate = result.scanned / result.seconds if result.seconds else 0.0
    write(
        f"\n{result.scanned} items scanned in {result.seconds:.1f} s ({rate:.0f} items/s); "
        f"tables, history.json, events.jsonl, metrics.jsonl and logs.jsonl in {out_dir}/\n"
    )
