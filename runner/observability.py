"""Structured logs and embedded-metric-format metrics of the runner's functions (Powertools).

Logs: every line of the runner is one JSON object written by Powertools for AWS Lambda (Python)
`Logger` (service `dynamigrate-runner`), the `runner.*` module loggers included. `invocation()`
binds the keys that tie a line to its migration and requests (LOG_KEYS: stack, logical id,
migration, table, run id, direction, segment, the CloudFormation RequestId, the controller
execution and the function's own request id); every line logged inside it carries them. The keys
live in a context variable, so invocations running side by side in one process (local mode runs
each in its own thread) never mix their keys. No item value is ever logged: item keys only, and
only at DEBUG.

Metrics: CloudWatch embedded metric format documents built by Powertools' EMF provider
(`EphemeralMetrics`: no state shared between invocations), written as one line each. In Lambda
both go to stdout, which Lambda sends to the function's log group, where CloudWatch extracts the
metrics ("Embedding metrics within logs", CloudWatch User Guide): no PutMetricData call, no
permission. Namespace `dynamigrate`; see the README, "Observing migrations", for every metric.
`SINKS` is where lines go: stdout by default, an in-memory recorder in local mode.
"""

from __future__ import annotations

import io
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

SERVICE = "dynamigrate-runner"
NAMESPACE = "dynamigrate"
LOG_KEYS = (
    "stack",
    "logical_id",
    "migration",
    "table",
    "run_id",
    "direction",
    "segment",
    "cloudformation_request_id",
    "controller_execution",
    "function_name",
    "function_request_id",
)


def _stdout(line: str) -> None:
    sys.stdout.write(line if line.endswith("\n") else line + "\n")
    sys.stdout.flush()


@dataclass
class Sinks:
    """Where log lines and EMF lines go (each a callable taking one line)."""

    logs: Callable[[str], None] = _stdout
    metrics: Callable[[str], None] = _stdout


SINKS = Sinks()
_KEYS: ContextVar[dict[str, Any]] = ContextVar("dynamigrate_log_keys")


class _SinkStream(io.StringIO):
    """The Logger's stream: one write per record (logging.StreamHandler writes msg + newline)."""

    def write(self, text: str) -> int:
        SINKS.logs(text)
        return len(text)


class _KeysFilter(logging.Filter):
    """Adds the invocation's keys to every record the Powertools handler formats."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _KEYS.get({}).items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


@cache
def logger() -> Logger:
    """The runner's Powertools Logger; the `runner` package's loggers write through it too."""
    log = Logger(service=SERVICE, level=os.environ.get("LOG_LEVEL", "INFO"), stream=_SinkStream())
    handler = log.registered_handler
    handler.addFilter(_KeysFilter())
    package = logging.getLogger("runner")
    package.handlers = [handler]
    package.setLevel(log.log_level)
    package.propagate = False
    return log


def set_level(level: str | int) -> None:
    """The level of the runner's lines (LOG_LEVEL, INFO by default, sets it at the first use)."""
    log = logger()
    log.setLevel(level)
    logging.getLogger("runner").setLevel(level)


def current_keys() -> dict[str, Any]:
    return dict(_KEYS.get({}))


def bind(**keys: Any) -> None:
    """Add keys learned during the invocation (a run id once the run starts)."""
    _KEYS.set({**_KEYS.get({}), **{k: v for k, v in keys.items() if v not in (None, "")}})


@contextmanager
def invocation(context: Any = None, **keys: Any) -> Iterator[Logger]:
    """Bind the keys (and the Lambda context's function name and request id) for one call."""
    log = logger()
    found = {k: v for k, v in keys.items() if v not in (None, "")}
    if context is not None:
        found.setdefault("function_name", getattr(context, "function_name", None))
        found.setdefault("function_request_id", getattr(context, "aws_request_id", None))
    token = _KEYS.set({k: v for k, v in found.items() if v is not None})
    try:
        yield log
    finally:
        _KEYS.reset(token)


def request_keys(request: Mapping[str, Any]) -> dict[str, Any]:
    """Log keys of a CloudFormation custom-resource request."""
    props = request.get("ResourceProperties") or {}
    return {
        "stack": request.get("StackId"),
        "logical_id": request.get("LogicalResourceId"),
        "cloudformation_request_id": request.get("RequestId"),
        "migration": props.get("MigrationId"),
        "table": props.get("TableName"),
    }


# ---- metrics ---------------------------------------------------------------------------------

# Worker counters (runner.history.COUNTERS and what the worker may add) -> metric name and unit.
COUNTER_METRICS = {
    "scanned": ("ItemsScanned", MetricUnit.Count),
    "matched": ("ItemsMatched", MetricUnit.Count),
    "created": ("ItemsCreated", MetricUnit.Count),
    "updated": ("ItemsChanged", MetricUnit.Count),
    "deleted": ("ItemsDeleted", MetricUnit.Count),
    "unchanged": ("ItemsUnchanged", MetricUnit.Count),
    "conflicts": ("Conflicts", MetricUnit.Count),
    "failed": ("ItemsFailed", MetricUnit.Count),
    "readUnits": ("ReadUnits", MetricUnit.Count),
    "writeUnits": ("WriteUnits", MetricUnit.Count),
    "throttles": ("Throttles", MetricUnit.Count),
}
RUN_OUTCOMES = {
    "SUCCEEDED": "RunsSucceeded",
    "FAILED": "RunsFailed",
    "ROLLED_BACK": "RunsRolledBack",
}


@dataclass
class MetricSet:
    """Metrics of one migration on one table, emitted as one EMF line."""

    table: str
    migration: str
    values: list[tuple[str, MetricUnit, float]] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    application_wide: bool = False  # also under the dimension set [service] (the alarm's)

    def add(self, name: str, unit: MetricUnit, value: float) -> None:
        self.values.append((name, unit, value))

    def document(self) -> dict[str, Any]:
        metrics = EphemeralMetrics(namespace=NAMESPACE)
        metrics.add_dimension(name="Table", value=self.table)
        metrics.add_dimension(name="Migration", value=self.migration)
        if self.application_wide:
            metrics.add_dimensions(service=NAMESPACE)
        for name, unit, value in self.values:
            metrics.add_metric(name=name, unit=unit, value=value)
        for key, value in self.metadata.items():
            if value not in (None, ""):
                metrics.add_metadata(key=key, value=value)
        return dict(metrics.serialize_metric_set())


def emit(metric_set: MetricSet) -> None:
    """Write the set as one EMF line, unless it holds no metric."""
    if metric_set.values:
        SINKS.metrics(json.dumps(metric_set.document(), separators=(",", ":"), default=str))


def segment_metrics(
    table: str, migration: str, result: Mapping[str, Any], seconds: float, **metadata: Any
) -> MetricSet:
    """A worker invocation's metrics: its counters, pages and items scanned per second."""
    out = MetricSet(table, migration, metadata={**metadata, **_request_metadata()})
    counters = result.get("counters") or {}
    for counter, (name, unit) in COUNTER_METRICS.items():
        if counter in counters:
            out.add(name, unit, float(counters[counter]))
    out.add("Pages", MetricUnit.Count, float(result.get("pages", 0)))
    if seconds > 0:
        scanned = float(counters.get("scanned", 0))
        out.add("ItemsPerSecond", MetricUnit.CountPerSecond, scanned / seconds)
    return out


def _request_metadata() -> dict[str, Any]:
    keys = current_keys()
    names = ("run_id", "direction", "segment", "function_request_id", "cloudformation_request_id")
    return {k: keys[k] for k in names if k in keys}
