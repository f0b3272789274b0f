"""What a rollback does with a run, and what undoing and verifying it add to the estimate.

For `dynamigrate.plan`:
- the rollback (macro.rollback): a hand-written `Down` runs; `Down` absent or `{Restore: {}}`
  puts the items back from the before-images the Up kept in S3; `{Keep: {}}` keeps the changes;
  a dry run wrote nothing, so nothing is undone (runner.lifecycle);
- before-images (runner.before_images) and page journals (runner.journal): each one S3 PUT per
  page the Up wrote (a page with no write leaves none: an upper bound), and one ListObjectsV2 per
  worker invocation (the attempt count, `BeforeImageStore.next_attempt`), all billed as "PUT,
  COPY, POST, LIST requests". A restoring Up keeps both; another Up keeps a journal only when its
  operation is not repeatable (`runner.journal.keeps_journal`);
- verification (runner.verify): one more read of the source after Up, strongly consistent
  except through an index (`ConsistentRead: not IndexName`), so a table costs one read unit per
  4 KB, twice the Up's eventually consistent read; with a `Target`, the pass scans the Target,
  sized here as the source (a copy writes about one item per item it reads).
"""

from __future__ import annotations

import math
from typing import Any

from macro.rollback import keeps_journal as keeps_any_journal
from macro.rollback import rollback_of
from runner.attrs import expression_values
from runner.errors import MigrationError
from runner.journal import keeps_journal
from runner.spec import parse_spec

DYNAMODB_PAGE_BYTES = 1024 * 1024  # Scan and Query: "a maximum of 1 MB of data" per page
ROLLBACKS = {
    "down": "runs Down",
    "restore": "restores before-images",
    "keep": "keeps changes",
    "none": "nothing (dry run)",
}


def rollback(props: dict[str, Any]) -> str:
    """down | restore | keep, or none for a dry run (which the runner never undoes)."""
    return "none" if props.get("DryRun") else rollback_of(props)


def _source(props: dict[str, Any]) -> dict[str, Any]:
    source = props.get("Source")
    for kind in ("Scan", "Query"):
        body = source.get(kind) if isinstance(source, dict) else None
        if isinstance(body, dict):
            return body
    return {}


def pages(props: dict[str, Any], items: int, size_bytes: int, segments: int) -> int:
    """An upper bound on the pages one run reads: each segment's pages end at 1 MB of data or at
    `PageSize` items, whichever comes first."""
    if items <= 0:
        return 0
    per_segment = math.ceil(size_bytes / segments / DYNAMODB_PAGE_BYTES)
    page_size = _source(props).get("PageSize")
    if isinstance(page_size, int) and page_size > 0:
        per_segment = max(per_segment, math.ceil(items / segments / page_size))
    return segments * max(1, per_segment)


def journals(props: dict[str, Any]) -> bool:
    """Whether the Up writes a page journal (runner.journal), as the runner decides it."""
    if props.get("DryRun"):
        return False
    try:
        spec = parse_spec({"MigrationId": "m", "TableName": "t", **props})
        values = expression_values(spec.up.values, spec.migration_id)
    except (MigrationError, KeyError, TypeError, ValueError):
        return keeps_any_journal(props)  # what the macro grants: the upper bound
    return keeps_journal(spec, spec.up, "up", values)


def before_image_requests(
    props: dict[str, Any], items: int, size_bytes: int, segments: int, invocations: int
) -> int:
    """The S3 requests of one run's before-images and page journals."""
    if items <= 0:
        return 0
    stores = int(rollback(props) == "restore") + int(journals(props))
    return stores * (pages(props, items, size_bytes, segments) + segments * invocations)


def verify_read_units(props: dict[str, Any], size_bytes: int) -> float:
    """The read units of the verification pass (0 without `Verify`, or for a dry run)."""
    if "Verify" not in props or props.get("DryRun"):
        return 0.0
    through_index = "Target" not in props and bool(_source(props).get("IndexName"))
    return math.ceil(size_bytes / 4096) * (0.5 if through_index else 1.0)


def verify_transitions(props: dict[str, Any], segments: int, invocations: int) -> int:
    """VerifyWanted, VerifySummarize and Summary, and per segment what the Up's Map costs."""
    if "Verify" not in props or props.get("DryRun"):
        return 0
    return 3 + segments * (2 + 2 * invocations)
