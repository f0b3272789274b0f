"""The capacity budget from DescribeTable: which resources, how much, and why."""

from __future__ import annotations

from runner.capacity import budget, indexes_reached, read_limit, resources
from runner.spec import Operation


def provisioned(wcu: int, rcu: int = 1000, gsis: list[dict] | None = None) -> dict:
    return {
        "TableName": "Orders",
        "BillingModeSummary": {"BillingMode": "PROVISIONED"},
        "ProvisionedThroughput": {"ReadCapacityUnits": rcu, "WriteCapacityUnits": wcu},
        "GlobalSecondaryIndexes": gsis or [],
    }


def gsi(name: str, key: str, wcu: int, projection: dict | None = None) -> dict:
    return {
        "IndexName": name,
        "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}],
        "Projection": projection or {"ProjectionType": "KEYS_ONLY"},
        "ProvisionedThroughput": {"ReadCapacityUnits": 100, "WriteCapacityUnits": wcu},
    }


SET_STATUS = Operation("Update", "SET #s = :v", names={"#s": "status"})


def test_a_provisioned_table_gives_its_provisioned_units():
    (table,) = resources(provisioned(1000, 3000))
    assert (table.read, table.write, table.on_demand) == (3000, 1000, False)


def test_an_on_demand_table_gives_its_maximum_else_its_warm_throughput():
    warm = {"ReadUnitsPerSecond": 12000, "WriteUnitsPerSecond": 4000}
    described = {
        "TableName": "T",
        "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
        "WarmThroughput": warm,
    }
    assert resources(described)[0].write == 4000
    capped = {**described, "OnDemandThroughput": {"MaxWriteRequestUnits": 500}}
    assert resources(capped)[0].write == 500
    assert resources(capped)[0].read == 12000  # no read maximum: the warm throughput
    unlimited = {**described, "OnDemandThroughput": {"MaxWriteRequestUnits": -1}}
    assert resources(unlimited)[0].write == 4000


def test_writes_reach_the_indexes_whose_key_or_projection_they_change():
    table = provisioned(
        1000,
        gsis=[
            gsi("ByStatus", "status", 10),
            gsi("ByCustomer", "customer", 10),
            gsi("All", "customer", 10, {"ProjectionType": "ALL"}),
            gsi(
                "Inc",
                "customer",
                10,
                {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["status"]},
            ),
        ],
    )
    assert indexes_reached(table, SET_STATUS) == ["ByStatus", "All", "Inc"]
    assert indexes_reached(table, Operation("Delete")) == ["ByStatus", "ByCustomer", "All", "Inc"]
    assert indexes_reached(table, Operation("Function", function="f")) == [
        "ByStatus",
        "ByCustomer",
        "All",
        "Inc",
    ]


def test_the_tightest_resource_governs_at_the_share_less_the_application():
    table = provisioned(1000, gsis=[gsi("ByStatus", "status", 100)])
    writes_to = resources(table, indexes_reached(table, SET_STATUS))
    reads_from = resources(table, [])[0]
    alone = budget(writes_to, reads_from, percent=50)
    assert (alone.write, alone.read) == (50, 500)  # the index: 50 % of 100
    assert alone.reason == "index ByStatus: the application uses 0 of 100 WCU/s, cap 50 %"
    busy = budget(writes_to[:1], reads_from, 50, {(None, "write"): 320, (None, "read"): 100})
    assert (busy.write, busy.read) == (180, 400)
    assert busy.reason == "table Orders: the application uses 320 of 1,000 WCU/s, cap 50 %"


def test_a_busy_table_still_lets_the_migration_creep_on():
    (table,) = resources(provisioned(100))
    assert budget([table], table, 50, {(None, "write"): 90}).write == 1


def test_a_page_reads_about_one_second_of_the_read_share():
    assert read_limit(10, 1024, consistent=True) == 40
    assert read_limit(10, 1024, consistent=False) == 80
    assert read_limit(0.1, 400_000, consistent=True) == 1
