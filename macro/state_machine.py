"""Rendering the per-migration state machine from its jinja2 template.

The template is rendered with StrictUndefined, every user value passes through `tojson`, and the
text is parsed back, so the result is a `Definition` object that cfn-lint's E3601 can check.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jinja2

MAX_SEGMENTS = 1000  # States.ArrayRange yields at most 1,000 items
DEFAULT_BUDGET_SECONDS = 600
DEFAULT_CONCURRENCY = 8
LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"  # local runs only: the emulator's partition


@cache
def template_environment() -> jinja2.Environment:
    """The macro's jinja2 environment: its templates folder, StrictUndefined, no autoescape."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("macro", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )


def segments_of(spec: dict[str, Any]) -> int | None:
    """Parallel units fixed by the template: Scan `Segments`, 1 for a Query, None when unset.

    None means the worker's Plan step chooses the count from the table's size at run time.
    """
    source = spec.get("Source") or {}
    if "Query" in source:
        return 1
    segments = (source.get("Scan") or {}).get("Segments")
    return None if segments is None else int(segments)


def render_state_machine(
    spec: dict[str, Any],
    *,
    worker_function: Any,
    history_table: Any,
    data_role_arn: Any = None,
    budget_seconds: int = DEFAULT_BUDGET_SECONDS,
    concurrency: int = DEFAULT_CONCURRENCY,
    lambda_invoke: str = LAMBDA_INVOKE,
) -> dict[str, Any]:
    """The state machine `Definition` of one migration, as a dict.

    `lambda_invoke` is every Task's Resource: a nested stack passes `${LambdaInvoke}`, a
    DefinitionSubstitution built from `AWS::Partition`, because Step Functions fails an
    execution whose Task names another partition (aws/aws-cdk issue 4597, fixed by PR 4598).
    A whole-string substitution also keeps cfn-lint's E3601 checking the Task.
    """
    segments = segments_of(spec)
    if segments is not None and not 1 <= segments <= MAX_SEGMENTS:
        raise ValueError(f"Segments must be between 1 and {MAX_SEGMENTS}, got {segments}")
    text = (
        template_environment()
        .get_template("migration_state_machine.json.j2")
        .render(
            spec=spec,
            migration_id=spec["MigrationId"],
            query="Query" in (spec.get("Source") or {}),
            backup=spec.get("Backup", "Auto") != "None",
            verify="Verify" in spec,
            total_segments=segments,
            max_concurrency=_max_concurrency(segments, spec.get("MaxConcurrency")),
            worker_function=worker_function,
            history_table=history_table,
            data_role_arn=data_role_arn,
            budget_seconds=budget_seconds,
            concurrency=concurrency,
            lambda_invoke=lambda_invoke,
        )
    )
    definition: dict[str, Any] = json.loads(text)
    return definition


def _max_concurrency(segments: int | None, limit: Any) -> int | None:
    """The Map's MaxConcurrency: the template's limit, at most the fixed segment count."""
    if segments is None:
        return int(limit) if limit else None
    return min(segments, int(limit or segments))
