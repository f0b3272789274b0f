"""A check of CloudWatch embedded metric format documents ("Specification: Embedded metric
format", CloudWatch User Guide): the `_aws` metadata object with an integer `Timestamp` (epoch
milliseconds) and `CloudWatchMetrics`, a list of directives each with a `Namespace`, `Dimensions`
(a list of dimension sets, each a list of at most 30 names) and `Metrics` (each a `Name`, with an
optional `Unit` and `StorageResolution`); every dimension and metric name is a member of the
root object, a dimension's value a string and a metric's value a number or a list of numbers."""

from __future__ import annotations

import json
from typing import Any

UNITS = {
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
    "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
    "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second",
    "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second",
    "Terabits/Second", "Count/Second", "None",
}  # fmt: skip


def _require(condition: object, what: str) -> None:
    if not condition:
        raise AssertionError(what)


def check_emf(line: str) -> dict[str, Any]:
    """The document of one EMF line; AssertionError naming what is wrong otherwise."""
    doc = json.loads(line)
    _require(isinstance(doc, dict), line)
    meta = doc["_aws"]
    _require(isinstance(meta["Timestamp"], int) and meta["Timestamp"] > 0, line)
    directives = meta["CloudWatchMetrics"]
    _require(isinstance(directives, list) and directives, line)
    for directive in directives:
        _require(isinstance(directive["Namespace"], str) and directive["Namespace"], line)
        _require(isinstance(directive["Dimensions"], list), line)
        for dimension_set in directive["Dimensions"]:
            _require(isinstance(dimension_set, list) and len(dimension_set) <= 30, line)
            for name in dimension_set:
                _require(isinstance(doc.get(name), str), f"dimension {name} not a member: {line}")
        _require(directive["Metrics"], line)
        for metric in directive["Metrics"]:
            value = doc.get(metric["Name"])
            values = value if isinstance(value, list) else [value]
            _require(
                values and all(isinstance(v, int | float) for v in values),
                f"metric {metric['Name']} not a numeric member: {line}",
            )
            _require(metric.get("Unit", "None") in UNITS, line)
    return doc
