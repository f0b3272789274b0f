"""What undo, verification and skipping unchanged writes cost per million items, on the emulator.

    .venv/bin/python bench/cost.py --safety [--items 10000]

bench/cost.py's engine migration (SET status on every item of the Bench table, `Segments` unset)
runs five ways, in pairs that differ in one thing only:
- keep:        `Down: {Keep: {}}`: no before-images (the baseline of `images`);
- images:      the default `Down` (absent): each page's before-images go to S3 before its
               checkpoint (runner/recording.py, runner/before_images.py), so a rollback restores;
- verify:      `images` plus `Verify: {Condition: "#s = :p"}`: a consistent parallel pass over
               the table after Up (runner/verify.py);
- write-all:   half the items already hold the status; the worker writes every item anyway: the
               BASELINE, made in this process only by replacing `changes_nothing`
               (runner/update_eval.py) with one that always answers False;
- skip:        the same table with the worker as it is: an item that already holds the change is
               counted `unchanged` and not written (issue 27, point 4).

Counted on the emulator: the units its capacity model (dynamigrate/local/metering.py) charges
each table, every S3 request by kind and the bytes the run leaves in the artifacts bucket, state
transitions, worker invocations. Priced by bench/prices.py; S3 storage for the default
`BeforeImageRetentionDays` of 30 days, as one GB-month. Lambda time is modelled as in
bench/cost.py (per item written, per read page, per invocation) plus a conservative 50 ms per S3
request. DynamoDB bills a filtered Scan "the same amount of read capacity, regardless of whether
a filter expression is present" (Developer Guide, "Scanning tables"): the verify pass is priced
from the table's size (its bytes / 4 KB, strongly consistent: 1 unit each), and the emulator's
figure (a page its filter empties metered at the table's mean item size) is printed beside it.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from moto.s3.responses import S3Response

import runner.operations
import runner.recording
from bench.cost import INVOKE_OVERHEAD, LATENCY, MEMORY_GB, TABLE, THREADS, VCPU_SHARE
from bench.engine import load, status_update
from bench.prices import (
    LAMBDA_GB_SECOND,
    LAMBDA_REQUEST,
    READ_UNIT,
    S3_GB,
    S3_GB_MONTH,
    S3_GET_REQUEST,
    S3_PUT_REQUEST,
    TRANSITION,
    WRITE_UNIT,
)
from dynamigrate.local import metering
from dynamigrate.local.capacity import item_size
from dynamigrate.local.emulator import (
    COUNT_REQUESTS,
    DYNAMODB_REQUESTS,
    REGISTRY,
    TRANSITIONS,
    emulated_aws,
)
from dynamigrate.local.engine import ARTIFACTS_BUCKET, HISTORY_TABLE, WORKER_FUNCTION, LocalEngine
from runner.before_images import PREFIX
from runner.verify import KEY_NAMES

S3_LATENCY = 0.050  # seconds per S3 request (modelled, conservative)
VERIFY = {"Condition": "#s = :p", "Names": {"#s": "status"}, "Values": {":p": "PENDING"}}
SKIP_CHECK = "changes_nothing"  # runner/update_eval.py
WAYS = ("keep", "images", "verify", "write-all", "skip")

# Measurement only, in this process: what the capacity model charges and the S3 requests.
UNITS: Counter[tuple[str, str]] = Counter()  # (table, read|write) -> units
S3_REQUESTS: Counter[str] = Counter()  # PUT | LIST | GET | other
VERIFY_PAGES: list[tuple[int, bool]] = []  # the verify pass's pages: (ScannedCount, consistent)
COUNTING = {"on": False, "verify": False}


def _count_s3(original: Callable[..., Any], level: str) -> Callable[..., Any]:
    def counted(self: Any, request: Any, full_url: str, headers: Any) -> Any:
        if COUNTING["on"]:
            method = str(request.method).upper()
            if method in ("PUT", "POST"):
                kind = "PUT"
            elif method == "GET":
                kind = "LIST" if level == "bucket" else "GET"
            else:
                kind = "other" if method != "DELETE" else "DELETE"
            S3_REQUESTS[kind] += 1
        return original(self, request, full_url, headers)

    counted.counting = True  # type: ignore[attr-defined]
    return counted


def install_counters() -> None:
    """Wrap moto's S3 request handlers and the capacity model's charge (idempotent)."""
    if not getattr(S3Response.key_response, "counting", False):
        S3Response.key_response = _count_s3(S3Response.key_response, "key")  # type: ignore[method-assign]
        S3Response.bucket_response = _count_s3(S3Response.bucket_response, "bucket")  # type: ignore[method-assign]
    model = metering.CAPACITY
    if "charge" not in vars(model):
        charge = model.charge

        def counted(charges: list[Any]) -> None:
            if COUNTING["on"]:
                for c in charges:
                    if c.index is None:
                        kind = "verify" if COUNTING["verify"] else c.kind
                        UNITS[(c.table, kind)] += c.units
            charge(charges)

        model.charge = counted  # type: ignore[method-assign]
    meter = metering.METERING
    if "after" not in vars(meter):
        after = meter.after

        def verify_pages(action: str, body: Any, state: Any, response: Any) -> Any:
            """A page of the verify pass (its projection names runner.verify's placeholders)
            is charged apart, and its ScannedCount kept."""
            mine = KEY_NAMES[0] in str(body.get("ProjectionExpression", ""))
            if mine and COUNTING["on"]:
                scanned = int(response.get("ScannedCount", 0))
                VERIFY_PAGES.append((scanned, bool(body.get("ConsistentRead"))))
            COUNTING["verify"] = mine
            try:
                return after(action, body, state, response)
            finally:
                COUNTING["verify"] = False

        meter.after = verify_pages  # type: ignore[method-assign]


@contextmanager
def writes_every_item() -> Iterator[None]:
    """The BASELINE of `skip`: the worker as before issue 27 point 4, in this process only.

    Both appliers import `changes_nothing` by name, so each module's binding is replaced."""
    modules = (runner.operations, runner.recording)
    saved = [getattr(m, SKIP_CHECK) for m in modules]

    def never(update: Any, item: Any, values: Any) -> bool:
        return False

    for module in modules:
        setattr(module, SKIP_CHECK, never)
    try:
        yield
    finally:
        for module, check in zip(modules, saved, strict=True):
            setattr(module, SKIP_CHECK, check)


def hold_status(engine: LocalEngine, items: int) -> None:
    """Half the items (every even one) already hold the status the migration sets."""
    for start in range(0, items, 50):
        batch = [
            {
                "PutRequest": {
                    "Item": {
                        "pk": {"S": f"item-{i:07d}"},
                        "n": {"N": str(i)},
                        "status": {"S": "PENDING"},
                    }
                }
            }
            for i in range(start, min(items, start + 50), 2)
        ]
        engine.dynamodb.batch_write_item(RequestItems={TABLE: batch})


def _stored(engine: LocalEngine, table: str, prefix: str = "") -> tuple[int, int]:
    """Items (or objects) and their bytes, read after the run (not counted)."""
    if table == ARTIFACTS_BUCKET:
        pages = engine.s3.get_paginator("list_objects_v2").paginate(Bucket=table, Prefix=prefix)
        sizes = [o["Size"] for p in pages for o in p.get("Contents", [])]
    else:
        pages = engine.dynamodb.get_paginator("scan").paginate(TableName=table)
        sizes = [item_size(i) for p in pages for i in p["Items"]]
    return len(sizes), sum(sizes)


def s3_dollars(requests: dict[str, int], image_bytes: int) -> float:
    """S3 requests by kind, and the bytes kept for the default 30 days (one GB-month)."""
    return (
        (requests.get("PUT", 0) + requests.get("LIST", 0)) * S3_PUT_REQUEST
        + requests.get("GET", 0) * S3_GET_REQUEST
        + image_bytes / S3_GB * S3_GB_MONTH
    )


def image_bytes_of(engine: LocalEngine) -> tuple[int, int]:
    """The before-image objects in the artifacts bucket, and their bytes."""
    return _stored(engine, ARTIFACTS_BUCKET, PREFIX)


def measure(way: str, items: int, cpu_per_update: float) -> dict[str, Any]:
    install_counters()
    extra: dict[str, Any] = {}
    if way == "keep":
        extra["Down"] = {"Keep": {}}
    if way == "verify":
        extra["Verify"] = VERIFY
    with emulated_aws():
        engine = LocalEngine()
        load(engine, TABLE, items)
        if way in ("write-all", "skip"):
            hold_status(engine, items)
        for counter in (UNITS, S3_REQUESTS, DYNAMODB_REQUESTS):
            counter.clear()
        VERIFY_PAGES.clear()
        TRANSITIONS.reset()
        REGISTRY.invocations.clear()
        COUNTING["on"] = COUNT_REQUESTS["on"] = True
        started = time.monotonic()
        try:
            if way == "write-all":
                with writes_every_item():
                    result = engine.run(status_update("bench", "PENDING", **extra), timeout=7200)
            else:
                result = engine.run(status_update("bench", "PENDING", **extra), timeout=7200)
        finally:
            COUNTING["on"] = COUNT_REQUESTS["on"] = False
        seconds = time.monotonic() - started
        if result.status != "SUCCEEDED":
            raise SystemExit(f"{way} failed: {result.message}")
        transitions = TRANSITIONS.state_transitions
        invocations = REGISTRY.invocations[WORKER_FUNCTION]
        units, s3, requests = dict(UNITS), dict(S3_REQUESTS), dict(DYNAMODB_REQUESTS)
        objects, image_bytes = image_bytes_of(engine)
        stored, table_bytes = _stored(engine, TABLE)
        pages = list(VERIFY_PAGES)
    counters = (result.output or {}).get("counters", {})
    writes = units.get((TABLE, "write"), 0.0)
    reads = units.get((TABLE, "read"), 0.0)
    metered_verify = units.get((TABLE, "verify"), 0.0)
    # DynamoDB bills each page of the pass on the size of the items it scanned (the docstring):
    # the table's items are all of one size within a few bytes, so its mean size stands for them.
    mean = table_bytes / max(1, stored)
    verify_reads = sum(
        max(1, math.ceil(scanned * mean / 4096)) * (1.0 if consistent else 0.5)
        for scanned, consistent in pages
    )
    history = units.get((HISTORY_TABLE, "write"), 0.0), units.get((HISTORY_TABLE, "read"), 0.0)
    scans = requests.get(f"Scan:{TABLE}", 0) + requests.get(f"Query:{TABLE}", 0)
    writes_made = requests.get(f"UpdateItem:{TABLE}", 0)
    s3_requests = sum(s3.values())
    per_item = max(LATENCY / THREADS, cpu_per_update / VCPU_SHARE)
    lambda_seconds = (
        writes_made * per_item
        + scans * LATENCY
        + s3_requests * S3_LATENCY
        + invocations * INVOKE_OVERHEAD
    )
    cost = {
        "write": writes * WRITE_UNIT,
        "read": (reads + verify_reads) * READ_UNIT,
        "history": history[0] * WRITE_UNIT + history[1] * READ_UNIT,
        "s3": s3_dollars(s3, image_bytes),
        "sfn": transitions * TRANSITION,
        "lambda": invocations * LAMBDA_REQUEST + lambda_seconds * MEMORY_GB * LAMBDA_GB_SECOND,
    }
    per_k, per_m = 1000 / items, 1e6 / items
    return {
        "way": way,
        "items": items,
        "updated": counters.get("updated", 0),
        "unchanged": counters.get("unchanged", 0),
        "write_units_per_1000_items": round(writes * per_k, 1),
        "read_units_per_1000_items": round((reads + verify_reads) * per_k, 2),
        "verify_pages": len(pages),
        "verify_items_scanned": sum(p[0] for p in pages),
        "verify_read_units_metered_by_emulator": metered_verify,
        "verify_read_units_billed": verify_reads,
        "s3_put_list_per_1000_items": round((s3.get("PUT", 0) + s3.get("LIST", 0)) * per_k, 3),
        "s3_puts": s3.get("PUT", 0),
        "s3_requests": s3,
        "s3_objects": objects,
        "s3_bytes_per_item": round(image_bytes / items, 1),
        "transitions_per_1000_items": round(transitions * per_k, 2),
        "transitions": transitions,
        "worker_calls": invocations,
        "usd_per_million_items": round(sum(cost.values()) * per_m, 4),
        "write_usd_per_million": round(cost["write"] * per_m, 4),
        "read_usd_per_million": round(cost["read"] * per_m, 4),
        "s3_usd_per_million": round(cost["s3"] * per_m, 4),
        "orchestration_usd_per_million": round(
            (cost["sfn"] + cost["lambda"] + cost["history"]) * per_m, 4
        ),
        "emulator_seconds": round(seconds, 1),
    }


COLUMNS = [
    ("way", "way"),
    ("items", "items"),
    ("updated", "updated"),
    ("unchanged", "unchanged"),
    ("write_units_per_1000_items", "WCU/1k"),
    ("read_units_per_1000_items", "RCU/1k"),
    ("s3_put_list_per_1000_items", "S3 PUT+LIST/1k"),
    ("s3_bytes_per_item", "S3 B/item"),
    ("transitions_per_1000_items", "transitions/1k"),
    ("worker_calls", "worker calls"),
    ("usd_per_million_items", "$/M items"),
    ("write_usd_per_million", "writes $/M"),
    ("read_usd_per_million", "reads $/M"),
    ("s3_usd_per_million", "S3 $/M"),
    ("orchestration_usd_per_million", "orch. $/M"),
    ("emulator_seconds", "emulator s"),
]


def _delta(row: dict[str, Any], base: dict[str, Any]) -> str:
    more = row["usd_per_million_items"] - base["usd_per_million_items"]
    ratio = row["usd_per_million_items"] / base["usd_per_million_items"]
    was = base["usd_per_million_items"]
    return f"{more:+.4f} $/M items ({ratio:.3f}x the {base['way']} run's {was})"


def report(items: int, cpu_per_update: float, ways: tuple[str, ...] = WAYS) -> list[dict[str, Any]]:
    rows = {way: measure(way, items, cpu_per_update) for way in ways}
    cells = [[str(r[key]) for key, _ in COLUMNS] for r in rows.values()]
    header = [title for _, title in COLUMNS]
    widths = [max(len(x) for x in column) for column in zip(header, *cells, strict=False)]
    for row in [header, *cells]:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=False)))
    if "keep" in rows and "images" in rows:
        keep, images = rows["keep"], rows["images"]
        print(
            f"before-images: {images['s3_puts']} S3 PUTs and {images['s3_objects']} objects "
            f"({images['s3_bytes_per_item']} bytes per item; requests {images['s3_requests']}) "
            f"for {items} items, {images['s3_usd_per_million']} $/M items in S3 with 30 days "
            f"kept; the run costs {_delta(images, keep)}"
        )
    if "images" in rows and "verify" in rows:
        images, verify = rows["images"], rows["verify"]
        print(
            f"verify: {verify['verify_read_units_billed']:g} read units over "
            f"{verify['verify_pages']} consistent pages, {verify['verify_items_scanned']} items "
            f"(the emulator meters {verify['verify_read_units_metered_by_emulator']:g}), "
            f"{verify['read_usd_per_million'] - images['read_usd_per_million']:.4f} $/M items "
            f"of reads, +{verify['transitions'] - images['transitions']} transitions and "
            f"+{verify['worker_calls'] - images['worker_calls']} worker calls per run; "
            f"the run costs {_delta(verify, images)}"
        )
    if "write-all" in rows and "skip" in rows:
        base, skip = rows["write-all"], rows["skip"]
        ratio = skip["write_units_per_1000_items"] / base["write_units_per_1000_items"]
        print(
            f"skip unchanged (half the items already hold the status): "
            f"{skip['write_units_per_1000_items']} vs {base['write_units_per_1000_items']} write "
            f"units per 1,000 items ({ratio:.2f}x the write-every-item baseline), "
            f"{skip['write_usd_per_million']} vs {base['write_usd_per_million']} $/M items of "
            f"writes; the run costs {_delta(skip, base)}"
        )
    return list(rows.values())
