"""What `ItemCollections: true` changes in a run's estimate (dynamigrate.plan).

- Writes: a collection's writes go in one TransactWriteItems, and "transactional write requests
  require two write capacity units (WCU) for each item written" (Developer Guide, "Amazon
  DynamoDB Transactions: How it works", capacity management for transactions): twice the units
  of the same writes one by one (upper bound: a collection with a single write goes alone).
- Reads: a Scan source reads each collection again by a Query on its partition key
  (runner.collections): about twice the read units; a Query source is read once.
"""

from __future__ import annotations

from typing import Any

TRANSACTION_WRITE_FACTOR = 2.0


def collection_factors(props: dict[str, Any]) -> tuple[float, float, str]:
    """(read factor, write factor, a note for the plan) of a migration's properties."""
    source = props.get("Source")
    if not isinstance(source, dict):
        return 1.0, 1.0, ""
    for kind, reads in (("Scan", 2.0), ("Query", 1.0)):
        body = source.get(kind)
        if isinstance(body, dict) and body.get("ItemCollections") is True:
            return (
                reads,
                TRANSACTION_WRITE_FACTOR,
                "item collections: writes in transactions (2x write units)"
                + (", each collection read again by a Query (2x read units)" if reads > 1 else ""),
            )
    return 1.0, 1.0, ""
