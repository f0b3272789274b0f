"""`Verify` checked against the rest of a migration, before deploy (runner.verify runs it).

The pass sends one read per page: `NOT (Verify.Condition)` as its Filter, the key attributes
through the runner's own `#dynamigrate_vkey<n>` names as its ProjectionExpression and, for a
Query source without a Target, the source's KeyCondition with the placeholders it uses. So a
`Verify.Names` key with the runner's prefix, or a placeholder the KeyCondition also uses bound to
another value, would make DynamoDB refuse the request after Up has written: both are refused here.
"""

from __future__ import annotations

import re
from typing import Any

MAX_VIOLATIONS = 1_000_000_000
RUNNER_PREFIX = "#dynamigrate_"
_PLACEHOLDER = re.compile(r"[#:][A-Za-z0-9_]+")


def verify_conflicts(properties: dict[str, Any]) -> list[tuple[str, str]]:
    """(property path, message) for each Verify placeholder the pass's request cannot hold."""
    verify = properties.get("Verify")
    if not isinstance(verify, dict):
        return []
    out: list[tuple[str, str]] = []
    names: dict[str, Any] = verify["Names"] if isinstance(verify.get("Names"), dict) else {}
    values: dict[str, Any] = verify["Values"] if isinstance(verify.get("Values"), dict) else {}
    for key in names:
        if str(key).startswith(RUNNER_PREFIX):
            out.append((f"Verify.Names.{key}", f"{RUNNER_PREFIX}* is the runner's own: rename it"))
    source = properties.get("Source")
    query = source.get("Query") if isinstance(source, dict) else None
    if not isinstance(query, dict) or "Target" in properties:
        return out
    used = set(_PLACEHOLDER.findall(str(query.get("KeyCondition") or "")))
    for plural, mine in (("Names", names), ("Values", values)):
        found = query.get(plural)
        theirs: dict[str, Any] = found if isinstance(found, dict) else {}
        for key, value in mine.items():
            if key in used and key in theirs and theirs[key] != value:
                out.append(
                    (
                        f"Verify.{plural}.{key}",
                        f"is also Source.Query.{plural}.{key} with another value, and the "
                        "verification's Query sends both with the KeyCondition: rename one",
                    )
                )
    return out
