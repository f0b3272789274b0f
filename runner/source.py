"""Reading a migration's items page by page: one Scan segment or a Query, from a checkpoint."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from runner.attrs import Item, expression_values
from runner.conditions import conjunction
from runner.errors import MigrationError
from runner.retry import call_with_backoff
from runner.spec import MigrationSpec


@dataclass(frozen=True)
class Page:
    items: list[Item]
    scanned: int
    next_key: Item | None


def merge_placeholders(
    migration_id: str, *parts: tuple[dict[str, str], dict[str, Any]]
) -> tuple[dict[str, str], dict[str, Any]]:
    """Merge the Names/Values of several expressions; a placeholder bound twice must agree."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    for part_names, part_values in parts:
        for target, src in ((names, part_names), (values, part_values)):
            for k, v in src.items():
                if k in target and target[k] != v:
                    raise MigrationError(
                        f"Migration {migration_id}: placeholder {k} has two different values"
                    )
                target[k] = v
    return names, values


def read_request(
    spec: MigrationSpec,
    segment: int,
    total_segments: int,
    extra_filter: str | None = None,
    extra: tuple[dict[str, str], dict[str, Any]] = ({}, {}),
) -> dict[str, Any]:
    """The Scan/Query keyword arguments (without ExclusiveStartKey) for one segment."""
    src = spec.source
    kwargs: dict[str, Any] = {"TableName": spec.table_name, "ConsistentRead": src.consistent_read}
    if src.index_name:
        kwargs["IndexName"] = src.index_name
    if src.page_size:
        kwargs["Limit"] = src.page_size
    combined = conjunction(src.filter, extra_filter)
    if combined:
        kwargs["FilterExpression"] = combined
    names, values = merge_placeholders(
        spec.migration_id,
        (src.names, expression_values(src.values, spec.migration_id)),
        extra,
    )
    if src.kind == "Query":
        kwargs["KeyConditionExpression"] = src.key_condition
    elif total_segments > 1:
        kwargs["Segment"] = segment
        kwargs["TotalSegments"] = total_segments
    if names:
        kwargs["ExpressionAttributeNames"] = names
    if values:
        kwargs["ExpressionAttributeValues"] = values
    return kwargs


def pages(
    client: Any, request: dict[str, Any], start_key: Item | None, migration_id: str
) -> Iterator[Page]:
    """Yield pages from `start_key` on; each page's next_key resumes right after it."""
    kwargs = dict(request)
    operation = client.query if "KeyConditionExpression" in kwargs else client.scan
    key = start_key
    while True:
        if key:
            kwargs["ExclusiveStartKey"] = key
        try:
            resp = call_with_backoff(lambda: operation(**kwargs))
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code == "ValidationException":
                raise MigrationError(
                    f"Migration {migration_id}: DynamoDB rejected the source "
                    f"({exc.response['Error'].get('Message', exc)})"
                ) from exc
            raise
        key = resp.get("LastEvaluatedKey")
        yield Page(items=resp.get("Items", []), scanned=resp.get("ScannedCount", 0), next_key=key)
        if not key:
            return
