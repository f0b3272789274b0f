"""Migration records on emulated DynamoDB: the leased lock under races, retries and expiry."""

from __future__ import annotations

import threading

import boto3
import pytest

from dynamigrate.local.emulator import emulated_aws
from dynamigrate.local.engine import create_history_table
from runner.errors import ConcurrentRunError
from runner.history import RUNNING, SUCCEEDED
from runner.ledger import MigrationLedger


@pytest.fixture
def ledger():
    with emulated_aws():
        client = boto3.client("dynamodb")
        create_history_table(client, "History")
        yield MigrationLedger(client, "History")


def test_two_racing_owners_get_one_lock(ledger):
    results = {}
    barrier = threading.Barrier(8)

    def race(owner):
        barrier.wait()
        results[owner] = ledger.acquire("Orders", "m1", owner, "sum", 600, now=1000).acquired

    threads = [threading.Thread(target=race, args=(f"stack-{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [owner for owner, won in results.items() if won]
    assert len(winners) == 1
    assert ledger.get("Orders", "m1").lock_owner == winners[0]


def test_a_duplicate_delivery_by_the_same_owner_keeps_the_lock(ledger):
    assert ledger.acquire("Orders", "m1", "req-1", "sum", 600, now=1000).acquired
    again = ledger.acquire("Orders", "m1", "req-1", "sum", 600, now=1001)
    assert again.acquired
    assert again.record.lease_expires == 1601


def test_an_expired_lease_can_be_taken_over(ledger):
    assert ledger.acquire("Orders", "m1", "crashed", "sum", 60, now=1000).acquired
    held = ledger.acquire("Orders", "m1", "next", "sum", 60, now=1030)
    assert (held.acquired, held.record.lock_owner) == (False, "crashed")
    assert ledger.acquire("Orders", "m1", "next", "sum", 60, now=1061).acquired


def test_only_the_owner_updates_and_releases(ledger):
    ledger.acquire("Orders", "m1", "owner", "sum", 600, now=1000)
    record = ledger.update_owned("Orders", "m1", "owner", {"status": RUNNING, "runId": "r1"})
    assert (record.status, record.run_id) == (RUNNING, "r1")
    with pytest.raises(ConcurrentRunError, match="no longer held by intruder"):
        ledger.update_owned("Orders", "m1", "intruder", {"status": SUCCEEDED})
    done = ledger.update_owned("Orders", "m1", "owner", {"status": SUCCEEDED}, release=True)
    assert (done.status, done.lock_owner) == (SUCCEEDED, None)


def test_a_succeeded_migration_is_not_locked_again_except_to_roll_back(ledger):
    ledger.acquire("Orders", "m1", "owner", "sum", 600, now=1000)
    ledger.update_owned("Orders", "m1", "owner", {"status": SUCCEEDED}, release=True)
    refused = ledger.acquire("Orders", "m1", "later", "sum", 600, now=2000)
    assert (refused.acquired, refused.record.status) == (False, SUCCEEDED)
    assert ledger.acquire(
        "Orders", "m1", "rollback", "sum", 600, now=2000, allow_succeeded=True
    ).acquired
