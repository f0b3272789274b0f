"""plan's estimates and its table size."""

from __future__ import annotations

import pytest

from dynamigrate.plan import estimate

UPDATE = {"Up": {"Update": {"Expression": "SET a = :b"}}}


def test_an_estimate_counts_one_write_per_kilobyte_of_each_item():
    found = estimate(UPDATE, items=1_000_000, size_bytes=1_500 * 1_000_000)
    assert found.write_units == 2_000_000  # 1.5 KB items: 2 WRU each
    assert found.read_units == pytest.approx(1_500 * 1_000_000 / 4096 * 0.5, rel=1e-3)
    # Segments unset: 20 (one per 50,000 items), each 50,000 / 200 per s / 600 s = 1 invocation;
    # a segment is its child execution's start (billed as a transition), Done, Work and More;
    # RestorePoint and BackupSettles come first (Backup: Auto)
    assert found.transitions == 3 + 2 + 20 * (2 + 2 * 1)
    writes = 2_000_000 * 0.625 / 1e6
    assert writes < found.dollars < writes * 1.2


def test_a_dry_run_writes_nothing_and_a_query_is_one_segment():
    query = {**UPDATE, "DryRun": True, "Source": {"Query": {"KeyCondition": "pk = :p"}}}
    found = estimate(query, items=100, size_bytes=10_000)
    assert (found.write_units, found.transitions) == (0.0, 9)
    none = estimate({**query, "Backup": "None"}, items=100, size_bytes=10_000)
    assert none.transitions == 7


def test_an_on_demand_backup_costs_its_size_per_month_and_pitr_nothing_more():
    gib = 1024**3
    backup = estimate(UPDATE, items=1_000_000, size_bytes=50 * gib, restore_point="backup")
    assert backup.restore_point == "backup"
    assert backup.backup_dollars_per_month == pytest.approx(50 * 0.10)
    pitr = estimate(UPDATE, items=1_000_000, size_bytes=50 * gib, restore_point="pitr")
    assert pitr.backup_dollars_per_month == 0.0
    assert pitr.dollars == backup.dollars  # the run itself costs the same


class _Backups:
    def __init__(self, status: str) -> None:
        self.status = status

    def describe_continuous_backups(self, TableName: str) -> dict:
        pitr = {"PointInTimeRecoveryStatus": self.status}
        return {"ContinuousBackupsDescription": {"PointInTimeRecoveryDescription": pitr}}


@pytest.mark.parametrize(
    ("props", "status", "kind"),
    [
        (UPDATE, "ENABLED", "pitr"),
        (UPDATE, "DISABLED", "backup"),
        ({**UPDATE, "Backup": "Required"}, "DISABLED", "backup"),
        ({**UPDATE, "Backup": "None"}, "DISABLED", "none"),
        ({**UPDATE, "DryRun": True}, "DISABLED", "none"),
    ],
)
def test_the_restore_point_a_run_would_take(props, status, kind):
    from dynamigrate.plan import restore_point_kind

    assert restore_point_kind(_Backups(status), "t", props) == kind


class _Table:
    """DescribeTable and one Scan page, as DynamoDB answers them."""

    def __init__(self, count: int, size: int, items: int, more: bool) -> None:
        self.info = {"ItemCount": count, "TableSizeBytes": size}
        self.items = [{"pk": {"S": f"k{i:03d}"}, "v": {"N": "12"}} for i in range(items)]
        self.more = more

    def describe_table(self, TableName: str) -> dict:
        return {"Table": self.info}

    def scan(self, TableName: str, Limit: int) -> dict:
        page = {"Items": self.items[:Limit]}
        return {**page, "LastEvaluatedKey": {"pk": {"S": "x"}}} if self.more else page


def test_table_size_uses_describe_table_when_it_knows():
    from dynamigrate.plan import table_size

    assert table_size(_Table(10, 5000, 0, False), "t") == (10, 5000)


def test_table_size_measures_a_table_describe_table_reports_empty():
    from dynamigrate.plan import table_size

    # "pk" + "k000" + "v" + 12 (2 digits: 2 bytes) = 2 + 4 + 1 + 2 = 9 bytes an item
    assert table_size(_Table(0, 0, 30, False), "t") == (30, 270)
    assert table_size(_Table(5000, 0, 1000, True), "t") == (5000, 45000)
    assert table_size(_Table(0, 0, 0, False), "t") == (0, 0)


ORDERS = {
    "TableName": "Orders",
    "BillingModeSummary": {"BillingMode": "PROVISIONED"},
    "ProvisionedThroughput": {"ReadCapacityUnits": 4000, "WriteCapacityUnits": 200},
}


def test_the_duration_is_the_work_at_the_capacity_budget():
    # 100,000 items of 1 KB: 100,000 write units at 50 % of 200 WCU/s
    found = estimate(UPDATE, 100_000, 1024 * 100_000, ORDERS, ORDERS)
    assert found.duration_seconds == 1000
    assert found.budget == (
        "100 WCU/s, 2,000 RCU/s: table Orders: the application uses 0 of 200 WCU/s, cap 50 %"
    )
    quarter = estimate(
        {**UPDATE, "MaxCapacityPercent": 25}, 100_000, 1024 * 100_000, ORDERS, ORDERS
    )
    assert quarter.duration_seconds == 2000


def test_max_writes_per_second_stays_an_absolute_cap_the_lower_wins():
    capped = {**UPDATE, "MaxWritesPerSecond": 20}
    found = estimate(capped, 100_000, 1024 * 100_000, ORDERS, ORDERS)
    assert found.duration_seconds == 5000  # 20 items/s is below the 100 WCU/s budget
    assert found.budget.endswith("; MaxWritesPerSecond 20")


def _state(props: dict, status: str | None, same: bool = True, **attrs) -> str:
    from dynamigrate.plan import _request, state_of
    from macro.nested import checksum
    from tests.unit.dynamigrate.records import record

    request = _request("M", "m1", "Orders", props)
    if status is None:
        return state_of(request, None)
    sums = {"checksum": {"S": checksum(props) if same else "other"}}
    return state_of(request, record(status, **sums, **attrs))


DRY = {**UPDATE, "DryRun": True}


@pytest.mark.parametrize(
    ("props", "status", "same", "attrs", "state"),
    [
        (UPDATE, None, True, {}, "pending"),
        (UPDATE, "SUCCEEDED", True, {}, "applied"),
        (UPDATE, "SUCCEEDED", False, {}, "changed"),
        (UPDATE, "RUNNING", True, {}, "running"),
        (UPDATE, "RUNNING", False, {}, "refused"),
        (
            UPDATE,
            "FAILED",
            True,
            {"runId": {"S": "r"}, "direction": {"S": "up"}},
            "failed (resumes)",
        ),
        (UPDATE, "FAILED", False, {"runId": {"S": "r"}, "direction": {"S": "up"}}, "pending"),
        (UPDATE, "ROLLED_BACK", True, {}, "pending"),
        ({**UPDATE, "Dispose": True}, "SUCCEEDED", True, {}, "applied"),
        ({**UPDATE, "Dispose": True}, None, True, {}, "refused"),
        (DRY, None, True, {}, "dry-run"),
        (DRY, "SUCCEEDED", True, {}, "unchanged"),
        (DRY, "SUCCEEDED", False, {}, "dry-run"),
    ],
)
def test_plan_states_are_the_runners_decisions(props, status, same, attrs, state):
    assert _state(props, status, same, **attrs) == state


def test_item_collections_double_the_writes_and_a_scans_reads():
    """Transactions cost two write units per item; a Scan's collections are read again."""
    function = {"TableName": "T", "Up": {"Function": "f"}}
    single = estimate(function, items=10_000, size_bytes=10_000_000)
    scan = {**function, "Source": {"Scan": {"ItemCollections": True}}}
    both = estimate(scan, items=10_000, size_bytes=10_000_000)
    assert both.write_units == 2 * single.write_units
    assert both.read_units == 2 * single.read_units
    assert "2x write units" in both.note
    query = {**function, "Source": {"Query": {"KeyCondition": "pk = :p", "ItemCollections": True}}}
    once = estimate(query, items=10_000, size_bytes=10_000_000)
    assert (once.read_units, once.write_units) == (single.read_units, 2 * single.write_units)


SET = {"Update": {"Expression": "SET a = :b", "Values": {":b": 1}}}


@pytest.mark.parametrize(
    ("props", "kind", "has_down"),
    [
        (UPDATE, "restore", True),  # no Down: the before-images are restored
        ({**UPDATE, "Down": {"Restore": {}}}, "restore", True),
        ({**UPDATE, "Down": {"Keep": {}}}, "keep", False),
        ({**UPDATE, "Down": SET}, "down", True),
        ({**UPDATE, "Down": {"Delete": {}}}, "down", True),
        ({**UPDATE, "DryRun": True}, "none", True),  # a dry run wrote nothing to undo
    ],
    ids=["absent", "restore", "keep", "update", "delete", "dry-run"],
)
def test_what_a_rollback_does_and_the_runners_has_down(props, kind, has_down):
    from dynamigrate.plan import _request
    from dynamigrate.rollback_cost import rollback

    assert rollback(props) == kind
    assert _request("M", "m1", "Orders", props).has_down is has_down  # as the macro emits it


GIB = 1024**3


def test_before_images_cost_one_put_per_page_and_one_list_per_invocation():
    # 1,000,000 items of 1.5 KB over 20 segments: 75,000,000 bytes a segment, 72 pages of 1 MiB;
    # a restoring Up keeps before-images and a page journal (runner.journal): twice that
    restore = estimate(UPDATE, items=1_000_000, size_bytes=1_500 * 1_000_000)
    assert restore.before_image_requests == 2 * (20 * 72 + 20 * 1)
    keep = estimate({**UPDATE, "Down": {"Keep": {}}}, items=1_000_000, size_bytes=1_500_000_000)
    assert keep.before_image_requests == 0
    assert restore.dollars - keep.dollars == pytest.approx(2 * 1460 * 0.005 / 1000)
    increment = {"Up": {"Update": {"Expression": "SET n = n + :one", "Values": {":one": 1}}}}
    journal = estimate(
        {**increment, "Down": {"Keep": {}}}, items=1_000_000, size_bytes=1_500_000_000
    )
    assert journal.before_image_requests == 1460  # not repeatable: a journal, no before-images
    down = estimate({**UPDATE, "Down": SET}, items=1_000_000, size_bytes=1_500_000_000)
    assert down.before_image_requests == 0
    dry = estimate({**UPDATE, "DryRun": True}, items=1_000_000, size_bytes=1_500_000_000)
    assert dry.before_image_requests == 0
    assert estimate(UPDATE, items=0, size_bytes=0).before_image_requests == 0


def test_a_page_size_makes_more_pages_than_the_megabyte():
    paged = {**UPDATE, "Source": {"Scan": {"Segments": 4, "PageSize": 100}}}
    # 2,500 items a segment in pages of 100 (2.5 MB would be 3 pages of 1 MiB); 1 invocation each
    assert estimate(paged, items=10_000, size_bytes=10_000_000).before_image_requests == 2 * 104


VERIFY = {"Condition": "attribute_exists(a)"}


def test_a_verification_reads_the_table_again_strongly_consistent():
    plain = estimate(UPDATE, items=1_000_000, size_bytes=GIB)
    verified = estimate({**UPDATE, "Verify": VERIFY}, items=1_000_000, size_bytes=GIB)
    assert plain.verify_read_units == 0.0
    # runner.verify reads the table with ConsistentRead: one unit per 4 KB, twice the Up's read
    assert verified.verify_read_units == GIB / 4096 == 2 * verified.read_units
    assert verified.read_units == plain.read_units  # the Up's own reads are unchanged
    segments = 20  # unset: one per 50,000 items, 1 invocation each
    assert verified.transitions - plain.transitions == 3 + segments * (2 + 2 * 1)
    # its reads, its transitions and its worker calls (one per segment, and VerifySummarize)
    reads, states, calls = GIB / 4096 * 0.125 / 1e6, 83 * 0.025 / 1e3, 21 * 0.20 / 1e6
    assert verified.dollars - plain.dollars == pytest.approx(reads + states + calls)


def test_a_verification_through_an_index_reads_as_the_up_did_and_a_dry_run_none():
    query = {
        **UPDATE,
        "Source": {"Query": {"IndexName": "GSI1", "KeyCondition": "g = :p"}},
        "Verify": VERIFY,
    }
    found = estimate(query, items=10_000, size_bytes=40_960_000)
    assert found.verify_read_units == found.read_units == 10_000 * 0.5
    dry = estimate({**query, "DryRun": True}, items=10_000, size_bytes=40_960_000)
    assert (dry.verify_read_units, dry.transitions) == (0.0, 9)  # as without Verify


def test_a_verified_copy_scans_its_target_table():
    copy = {
        "Up": {"Function": "f"},
        "Source": {"Query": {"IndexName": "GSI1", "KeyCondition": "g = :p"}},
        "Target": "OrdersV2",
        "Verify": VERIFY,
    }
    found = estimate(copy, items=10_000, size_bytes=40_960_000)
    assert found.verify_read_units == 10_000  # the Target, not the index: consistent reads
