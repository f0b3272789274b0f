"""A history record as the ledger reads it, for the view tests."""

from runner.ledger import MigrationRecord


def record(status: str, **attrs):
    item = {"pk": {"S": "Orders"}, "sk": {"S": "m1"}, "status": {"S": status}, **attrs}
    return MigrationRecord.from_item(item)
