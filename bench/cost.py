"""Cost per million items: this project's engine against two common designs, on the emulator.

    .venv/bin/python bench/cost.py [--sizes 1000,10000] [--large] [--json]
    .venv/bin/python bench/cost.py --safety [--items 10000]     (bench/safety_cost.py)
    .venv/bin/python bench/cost.py --collections [--orders 200] (bench/collection_cost.py)

The same Update migration (every item gets a status) runs over the same table with:
- engine:   this project's state machine (Distributed Map over scan segments, page worker), with
            `Segments` unset, so its Plan step sizes the run from the table (1 segment up to
            50,000 items);
- per-item: a Distributed Map child with one `dynamodb:updateItem` task per item, over scan
            pages of 1,000 (the pattern of AWS's bulk-update samples);
- per-page: one transform Lambda call per scan page of 1,000 items (the seed project's design),
            the Lambda writing the page with the same 8 threads the engine's worker uses.
The baselines are rendered here for the comparison only; they are not features.

Counted on the emulator: state transitions (every *StateEntered of parents and Map children, and
one per child execution a Distributed Map starts, as Step Functions bills it),
Lambda invocations, DynamoDB requests of the table and of the history table (checkpoints count
as orchestration), and the S3 requests and bytes of the engine's before-images (its default
`Down` restores from them; kept 30 days). Priced at bench/prices.py's published us-east-1
prices. Lambda duration cannot be measured on
the emulator (moto serializes DynamoDB requests), so it is modelled per item as the larger of
(a) a 5 ms DynamoDB round trip shared by 8 threads and (b) the client's own CPU time per
UpdateItem (measured here with the worker's botocore config over HTTP to a null endpoint in
another process: serializing, signing, HTTP, parsing; no TLS) divided by the
vCPU share Lambda gives the worker's memory (1,024 MB of 1,769 MB per vCPU, arm64), plus 5 ms per
page and 20 ms per invocation. `--large` adds 100,000 items for the engine and the per-page
design (the per-item design runs about 40 items/s on the emulator: `--all` includes it too).
"""

from __future__ import annotations

import argparse
import json
import math
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.engine import load, status_update
from bench.prices import LAMBDA_GB_SECOND, LAMBDA_REQUEST, READ_UNIT, TRANSITION, WRITE_UNIT
from dynamigrate.local.emulator import (
    COUNT_REQUESTS,
    DYNAMODB_REQUESTS,
    REGISTRY,
    TRANSITIONS,
    deploy_function,
    emulated_aws,
)
from dynamigrate.local.engine import HISTORY_TABLE, WORKER_FUNCTION, LocalEngine

MEMORY_GB = 1.0
LATENCY = 0.005  # seconds per DynamoDB round trip (modelled)
THREADS = 8
INVOKE_OVERHEAD = 0.020
VCPU_SHARE = 1024 / 1769  # Lambda: one vCPU per 1,769 MB
CPU_PER_UPDATE = [0.0]  # measured once by main()
PAGE = 1000
TABLE = "Bench"
UPDATE = {
    "UpdateExpression": "SET #s = :p",
    "ExpressionAttributeNames": {"#s": "status"},
    "ExpressionAttributeValues": {":p": {"S": "PENDING"}},
}


def client_cpu_per_update(rounds: int = 7, calls: int = 1500) -> float:
    """CPU seconds one UpdateItem costs the worker's boto3 client on this machine.

    The worker's own botocore Config, over HTTP with a kept-alive connection to
    bench/null_endpoint.py in another process, so only the client's work counts (serializing,
    signing, HTTP, parsing; no TLS: a lower bound). The median of `rounds` rounds: the CPU time
    varies by a fifth between rounds.
    """
    import boto3  # noqa: PLC0415

    from runner.handlers.worker import CLIENT_CONFIG  # noqa: PLC0415

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.null_endpoint", str(port)],
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.PIPE,
        text=True,
    )
    request = {"TableName": TABLE, "Key": {"pk": {"S": "item-0000001"}}, **UPDATE}
    try:
        assert server.stdout is not None
        server.stdout.readline()  # "ready"
        client = boto3.client(
            "dynamodb",
            region_name="us-east-1",
            endpoint_url=f"http://127.0.0.1:{port}",
            aws_access_key_id="x",
            aws_secret_access_key="x",
            config=CLIENT_CONFIG,
        )
        for _ in range(100):
            client.update_item(**request)
        samples = []
        for _ in range(rounds):
            started = time.process_time()
            for _ in range(calls):
                client.update_item(**request)
            samples.append((time.process_time() - started) / calls)
    finally:
        server.kill()
        server.wait()
    return statistics.median(samples)


def item_bytes(i: int) -> int:
    """DynamoDB's size of bench item i: attribute names plus values."""
    return len("pk") + len(f"item-{i:07d}") + len("n") + math.ceil(len(str(i)) / 2) + 1


def scan_states(next_state: str) -> dict[str, Any]:
    """First/next scan page states shared by both baselines."""
    scan = "arn:aws:states:::aws-sdk:dynamodb:scan"
    return {
        "FirstPage": {
            "Type": "Task",
            "Resource": scan,
            "Parameters": {"TableName": TABLE, "Limit": PAGE},
            "ResultPath": "$.page",
            "Next": next_state,
        },
        "NextPage": {
            "Type": "Task",
            "Resource": scan,
            "Parameters": {
                "TableName": TABLE,
                "Limit": PAGE,
                "ExclusiveStartKey.$": "$.page.LastEvaluatedKey",
            },
            "ResultPath": "$.page",
            "Next": next_state,
        },
        "More": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.page.LastEvaluatedKey", "IsPresent": True, "Next": "NextPage"}
            ],
            "Default": "Done",
        },
        "Done": {"Type": "Succeed"},
    }


def per_item_definition() -> dict[str, Any]:
    states = scan_states("UpdateEach")
    states["UpdateEach"] = {
        "Type": "Map",
        "ItemsPath": "$.page.Items",
        "ItemSelector": {"pk.$": "$$.Map.Item.Value.pk"},
        "MaxConcurrency": THREADS,
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "UpdateItem",
            "States": {
                "UpdateItem": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::dynamodb:updateItem",
                    "Parameters": {"TableName": TABLE, "Key": {"pk.$": "$.pk"}, **UPDATE},
                    "End": True,
                }
            },
        },
        "ResultPath": None,
        "Next": "More",
    }
    return {"StartAt": "FirstPage", "States": states}


def per_page_definition(function_arn: str) -> dict[str, Any]:
    states = scan_states("Transform")
    states["Transform"] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": function_arn, "Payload": {"items.$": "$.page.Items"}},
        "ResultPath": None,
        "Next": "More",
    }
    return {"StartAt": "FirstPage", "States": states}


def page_function(event: dict[str, Any], context: Any) -> dict[str, int]:
    """The per-page design's Lambda: updates its page with THREADS threads."""
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

    import boto3  # noqa: PLC0415

    client = boto3.client("dynamodb", region_name="us-east-1")

    def update(item: dict[str, Any]) -> None:
        client.update_item(TableName=TABLE, Key={"pk": item["pk"]}, **UPDATE)

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(update, event["items"]))
    return {"updated": len(event["items"])}


def run_definition(engine: LocalEngine, definition: dict[str, Any]) -> str:
    arn = engine.sfn.create_state_machine(
        name=f"baseline-{time.monotonic_ns()}",
        definition=json.dumps(definition),
        roleArn=engine.role_arn,
    )["stateMachineArn"]
    execution = engine.sfn.start_execution(stateMachineArn=arn, name="run", input="{}")[
        "executionArn"
    ]
    result = engine.wait(execution, timeout=7200)
    if result.status != "SUCCEEDED":
        raise SystemExit(f"baseline failed: {result.error}: {result.cause}")
    return result.status


def measure(design: str, items: int) -> dict[str, Any]:
    from bench import safety_cost  # noqa: PLC0415 (it imports this module's constants)

    safety_cost.install_counters()
    with emulated_aws():
        engine = LocalEngine()
        load(engine, TABLE, items)
        function = "page-transform"
        if design == "per-page":
            function_arn = deploy_function(function, page_function)
        TRANSITIONS.reset()
        REGISTRY.invocations.clear()
        DYNAMODB_REQUESTS.clear()
        safety_cost.S3_REQUESTS.clear()
        COUNT_REQUESTS["on"] = safety_cost.COUNTING["on"] = True
        started = time.monotonic()
        if design == "engine":
            spec = status_update("bench", "PENDING")
            result = engine.run(spec, timeout=7200)
            if result.status != "SUCCEEDED":
                raise SystemExit(f"engine failed: {result.message}")
            invocations = REGISTRY.invocations[WORKER_FUNCTION]
        elif design == "per-item":
            run_definition(engine, per_item_definition())
            invocations = 0
        else:
            run_definition(engine, per_page_definition(function_arn))
            invocations = REGISTRY.invocations[function]
        seconds = time.monotonic() - started
        COUNT_REQUESTS["on"] = safety_cost.COUNTING["on"] = False
        transitions = TRANSITIONS.state_transitions
        requests = dict(DYNAMODB_REQUESTS)
        # The engine's default Down restores from before-images, kept in S3 (bench/safety_cost.py)
        s3_cost = safety_cost.s3_dollars(
            dict(safety_cost.S3_REQUESTS), safety_cost.image_bytes_of(engine)[1]
        )
    writes = requests.get(f"UpdateItem:{TABLE}", 0)
    scans = requests.get(f"Scan:{TABLE}", 0) + requests.get(f"Query:{TABLE}", 0)
    history = sum(v for k, v in requests.items() if k.endswith(f":{HISTORY_TABLE}"))
    table_bytes = sum(item_bytes(i) for i in range(items))
    read_units = math.ceil(table_bytes / 4096) * 0.5  # one eventually consistent pass
    lambda_seconds = 0.0
    if invocations:
        per_item = max(LATENCY / THREADS, CPU_PER_UPDATE[0] / VCPU_SHARE)
        lambda_seconds = items * per_item + scans * LATENCY + invocations * INVOKE_OVERHEAD
    step_functions = transitions * TRANSITION
    lambda_cost = invocations * LAMBDA_REQUEST + lambda_seconds * MEMORY_GB * LAMBDA_GB_SECOND
    # The history table's checkpoints and reads are orchestration too (1 request unit each).
    history_cost = history * WRITE_UNIT
    write_cost = writes * WRITE_UNIT  # every bench item is under 1 KB: 1 WRU per update
    read_cost = read_units * READ_UNIT
    per_k = 1000 / items
    per_million = 1e6 / items
    return {
        "design": design,
        "items": items,
        "emulator_seconds": round(seconds, 1),
        "transitions_per_1000_items": round(transitions * per_k, 3),
        "lambda_invocations_per_1000_items": round(invocations * per_k, 3),
        "dynamodb_writes_per_1000_items": round(writes * per_k, 1),
        "dynamodb_reads_per_1000_items": round(scans * per_k, 3),
        "history_requests_per_1000_items": round(history * per_k, 3),
        "usd_per_million_items": round(
            (step_functions + lambda_cost + history_cost + write_cost + read_cost + s3_cost)
            * per_million,
            4,
        ),
        "step_functions_usd_per_million": round(step_functions * per_million, 4),
        "lambda_usd_per_million": round(lambda_cost * per_million, 4),
        "write_usd_per_million": round(write_cost * per_million, 4),
        "history_usd_per_million": round(history_cost * per_million, 4),
        "before_images_s3_usd_per_million": round(s3_cost * per_million, 4),
        "orchestration_to_write_cost_ratio": round(
            (step_functions + lambda_cost + history_cost) / write_cost, 5
        ),
    }


COLUMNS = [
    ("design", "design"),
    ("items", "items"),
    ("transitions_per_1000_items", "transitions/1k"),
    ("lambda_invocations_per_1000_items", "lambda/1k"),
    ("dynamodb_writes_per_1000_items", "writes/1k"),
    ("dynamodb_reads_per_1000_items", "scans/1k"),
    ("usd_per_million_items", "$/M items"),
    ("step_functions_usd_per_million", "SFN $/M"),
    ("lambda_usd_per_million", "Lambda $/M"),
    ("history_usd_per_million", "history $/M"),
    ("before_images_s3_usd_per_million", "S3 $/M"),
    ("orchestration_to_write_cost_ratio", "orch/write"),
    ("emulator_seconds", "emulator s"),
]


def table(rows: list[dict[str, Any]]) -> str:
    cells = [[str(r[key]) for key, _ in COLUMNS] for r in rows]
    header = [title for _, title in COLUMNS]
    widths = [max(len(x) for x in column) for column in zip(header, *cells, strict=False)]
    lines = [
        "  ".join(c.rjust(w) for c, w in zip(row, widths, strict=False)) for row in [header, *cells]
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated item counts")
    parser.add_argument("--large", action="store_true", help="add 100,000 items (engine, per-page)")
    parser.add_argument("--all", action="store_true", help="run the per-item design at 100,000 too")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--collections", action="store_true", help="bench/collection_cost.py")
    parser.add_argument("--orders", type=int, default=200, help="orders for --collections")
    parser.add_argument(
        "--safety",
        action="store_true",
        help="bench/safety_cost.py: before-images, a Verify pass, skipping unchanged writes",
    )
    parser.add_argument("--items", type=int, default=10_000, help="items for --safety")
    args = parser.parse_args()
    if args.collections:
        from bench.collection_cost import report  # noqa: PLC0415

        report(args.orders)
        return
    CPU_PER_UPDATE[0] = client_cpu_per_update()
    if args.safety:
        from bench.safety_cost import report as safety  # noqa: PLC0415

        print(f"client CPU per UpdateItem {CPU_PER_UPDATE[0] * 1000:.3f} ms here")
        rows = safety(args.items, CPU_PER_UPDATE[0])
        if args.json:
            print(json.dumps(rows))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.large:
        sizes.append(100_000)
    rows = []
    for items in sizes:
        for design in ("engine", "per-item", "per-page"):
            if design == "per-item" and items > 10_000 and not args.all:
                continue
            rows.append(measure(design, items))
            if not args.json:
                print(f"measured {design} at {items} items", file=sys.stderr)
    largest = max(r["items"] for r in rows if r["design"] == "engine")
    engine = next(r for r in rows if r["design"] == "engine" and r["items"] == largest)
    cpu_ms = CPU_PER_UPDATE[0] * 1000
    if args.json:
        print(json.dumps({**engine, "client_cpu_ms_per_update": round(cpu_ms, 3), "runs": rows}))
        return
    print(
        f"client CPU per UpdateItem {cpu_ms:.3f} ms here; modelled Lambda time per item "
        f"{max(LATENCY / THREADS, CPU_PER_UPDATE[0] / VCPU_SHARE) * 1000:.3f} ms at 1,024 MB"
    )
    print(table(rows))
    for design in ("per-item", "per-page"):
        other = [r for r in rows if r["design"] == design and r["items"] == largest]
        if other:
            ratio = other[0]["usd_per_million_items"] / engine["usd_per_million_items"]
            transitions = other[0]["transitions_per_1000_items"] / max(
                engine["transitions_per_1000_items"], 1e-9
            )
            print(
                f"at {largest} items: {design} costs {ratio:.2f}x the engine per item, "
                f"with {transitions:.3g}x its state transitions"
            )


if __name__ == "__main__":
    main()
