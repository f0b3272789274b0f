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
from tests.functional.templates import items_template, local_deployer, migration


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


HISTORY_V1 = items_template(
    {
        "A": migration(
            "m1-a",
            {"Update": {"Expression": "SET a = :t", "Values": {":t": 1}}},
            Down={"Update": {"Expression": "REMOVE a"}},
        ),
        "B": migration("m2-b", {"Update": {"Expression": "SET b = c + :t", "Values": {":t": 1}}}),
    }
)


def test_history_keeps_every_run_of_every_migration_in_order(tmp_path):
    """A (with Down) and a failing B deploy and roll back; B fixed, both deploy again: every run
    is there, in the order it started, in the rows and in the JSON."""
    import copy

    from dynamigrate.history_view import as_dict, rows

    fixed = copy.deepcopy(HISTORY_V1)
    fixed["Resources"]["B"]["Properties"]["Up"]["Update"]["Expression"] = "SET b = :t"
    items = [{"pk": {"S": f"i{n}"}, "c": {"N": "1"}} for n in range(5)]
    del items[3]["c"]  # B's first version fails on this item only
    with local_deployer() as deployer:
        first = deployer.deploy(HISTORY_V1, tmp_path, {"Items": items})
        assert not first.succeeded
        # the failed create's rollback deleted its table (no DeletionPolicy): load it again
        assert deployer.deploy(fixed, tmp_path, {"Items": items}).succeeded
        records = deployer.ledger.records("items")
    runs = [(r[1], r[2], r[3]) for r in rows(records)]
    assert runs == [
        ("m1-a", "up", "SUCCEEDED"),
        ("m2-b", "up", "FAILED"),
        ("m2-b", "down", "ROLLED_BACK"),  # no Down: restored from its before-images
        ("m1-a", "down", "ROLLED_BACK"),
        ("m1-a", "up", "SUCCEEDED"),
        ("m2-b", "up", "SUCCEEDED"),
    ]
    failed = next(r for r in rows(records) if r[3] == "FAILED")
    assert failed[4] == "4/5"  # what it wrote before it failed
    assert failed[10] == (  # after the pace, restore point and verify columns
        'DynamoDB rejected the Update of {"pk": {"S": "i3"}} (The provided expression refers to '
        "an attribute that does not exist in the item)"
    )
    # every run, the Down too, shows the on-demand backup it took before writing (no PITR here)
    assert all(":table/items/backup/" in r[8] for r in rows(records)), rows(records)
    assert len({r[8] for r in rows(records)}) == 6  # one backup per run
    by_id = {r.migration_id: as_dict(r) for r in records}
    assert by_id["m2-b"]["restorePoints"][0]["backupArn"] == rows(records)[-1][8]
    assert by_id["m1-a"]["runs"][1]["restorePoints"][0]["kind"] == "backup"  # the Down's, kept
    assert [(r["direction"], r["status"]) for r in by_id["m1-a"]["runs"]] == [
        ("up", "SUCCEEDED"),
        ("down", "ROLLED_BACK"),
    ]
    assert [(r["direction"], r["status"]) for r in by_id["m2-b"]["runs"]] == [
        ("up", "FAILED"),
        ("down", "ROLLED_BACK"),
    ]
    assert by_id["m1-a"]["counters"]["updated"] == 5
    assert by_id["m1-a"]["runs"][1]["counters"]["updated"] == 5
