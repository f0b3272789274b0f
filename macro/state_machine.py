"""Rendering the per-migration state machine from its jinja2 template.

The template is rendered with StrictUndefined, every user value passes through `tojson`, and the
text is parsed back, so the result is a `Definition` object that cfn-lint's E3601 can check.
"""

from __future__ import annotations

import json
import math
from functools import cache
from typing import Any

import jinja2

DEFAULT_SEGMENTS = 8
MAX_SEGMENTS = 1000  # States.ArrayRange yields at most 1,000 items
DEFAULT_BUDGET_SECONDS = 600
DEFAULT_CONCURRENCY = 8


@cache
def template_environment() -> jinja2.Environment:
    """The macro's jinja2 environment: its templates folder, StrictUndefined, no autoescape."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("macro", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )


def segments_of(spec: dict[str, Any]) -> int:
    """How many parallel units the migration has: Scan segments, or 1 for a Query."""
    source = spec.get("Source") or {}
    if "Query" in source:
        return 1
    return int((source.get("Scan") or {}).get("Segments", DEFAULT_SEGMENTS))


def writes_share(spec: dict[str, Any]) -> float | None:
    """Each running segment's share of MaxWritesPerSecond (all running ones stay at or under it)."""
    limit = spec.get("MaxWritesPerSecond")
    if not limit:
        return None
    running = min(segments_of(spec), int(spec.get("MaxConcurrency") or MAX_SEGMENTS))
    return math.floor(float(limit) / running * 1000) / 1000


def render_state_machine(
    spec: dict[str, Any],
    *,
    worker_function: Any,
    history_table: Any,
    data_role_arn: Any = None,
    budget_seconds: int = DEFAULT_BUDGET_SECONDS,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> dict[str, Any]:
    """The state machine `Definition` of one migration, as a dict."""
    segments = segments_of(spec)
    if not 1 <= segments <= MAX_SEGMENTS:
        raise ValueError(f"Segments must be between 1 and {MAX_SEGMENTS}, got {segments}")
    text = (
        template_environment()
        .get_template("migration_state_machine.json.j2")
        .render(
            spec=spec,
            migration_id=spec["MigrationId"],
            query=segments == 1 and "Query" in (spec.get("Source") or {}),
            total_segments=segments,
            max_concurrency=min(segments, int(spec.get("MaxConcurrency") or segments)),
            writes_per_second=writes_share(spec),
            worker_function=worker_function,
            history_table=history_table,
            data_role_arn=data_role_arn,
            budget_seconds=budget_seconds,
            concurrency=concurrency,
        )
    )
    definition: dict[str, Any] = json.loads(text)
    return definition
