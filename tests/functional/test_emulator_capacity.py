"""Adaptation 6 of the emulator, shown necessary: DynamoDB's capacity, throttles and metrics."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import boto3
import pytest

from dynamigrate.local import emulator
from runner.retry import is_throttling


class _Clock:
    def __init__(self) -> None:
        self.now = float(int(time.time()) // 60 * 60)

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def capacity_clock(monkeypatch):
    """The capacity model on a virtual clock whose seconds are epoch seconds."""
    clock = _Clock()
    monkeypatch.setattr(emulator.CAPACITY, "clock", clock)
    monkeypatch.setattr(emulator.CAPACITY, "epoch", 0.0)
    return clock


def _provisioned(client, name: str, wcu: int, gsi_wcu: int | None = None) -> None:
    kwargs: dict = {}
    attrs = [{"AttributeName": "pk", "AttributeType": "S"}]
    if gsi_wcu is not None:
        attrs.append({"AttributeName": "g", "AttributeType": "S"})
        kwargs["GlobalSecondaryIndexes"] = [
            {
                "IndexName": "GIdx",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
                "ProvisionedThroughput": {"ReadCapacityUnits": 100, "WriteCapacityUnits": gsi_wcu},
            }
        ]
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=attrs,
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 100, "WriteCapacityUnits": wcu},
        **kwargs,
    )


def _outcomes(client, items: list[dict]) -> tuple[int, int]:
    """(served, throttled) of one PutItem per item, each tried once."""
    ok = throttled = 0
    for item in items:
        try:
            client.put_item(TableName="Cap", Item=item)
            ok += 1
        except client.exceptions.ProvisionedThroughputExceededException:
            throttled += 1
    return ok, throttled


def _once():
    from botocore.config import Config

    return boto3.client("dynamodb", config=Config(retries={"total_max_attempts": 1}))


def test_adaptation_6_every_client_is_throttled_beyond_the_table_capacity(aws, capacity_clock):
    client = _once()
    _provisioned(client, "Cap", wcu=10)
    items = [{"pk": {"S": f"k{i}"}, "d": {"S": "x" * 1500}} for i in range(10)]
    assert _outcomes(client, items) == (5, 5)  # 2 units each, 10 per second
    capacity_clock.now += 1
    assert _outcomes(client, items) == (5, 5)
    emulator.CAPACITY.enabled = False  # moto alone serves everything
    try:
        assert _outcomes(client, items) == (10, 0)
    finally:
        emulator.CAPACITY.enabled = True


def test_adaptation_6_a_gsi_short_of_capacity_throttles_the_table(aws, capacity_clock):
    client = _once()
    _provisioned(client, "Cap", wcu=100, gsi_wcu=3)
    indexed = [{"pk": {"S": f"i{i}"}, "g": {"S": "x"}} for i in range(6)]
    plain = [{"pk": {"S": f"p{i}"}} for i in range(6)]
    assert _outcomes(client, indexed) == (3, 3)
    assert _outcomes(client, plain) == (6, 0)


def test_adaptation_6_consumed_capacity_is_measured_and_published(aws, capacity_clock):
    client = _once()
    _provisioned(client, "Cap", wcu=100, gsi_wcu=100)
    put = client.put_item(
        TableName="Cap",
        Item={"pk": {"S": "a"}, "g": {"S": "x"}, "d": {"S": "x" * 3000}},
        ReturnConsumedCapacity="INDEXES",
    )["ConsumedCapacity"]
    assert put["CapacityUnits"] == 6  # 3 on the table, 3 on the index (moto says 1)
    assert put["Table"]["CapacityUnits"] == 3
    assert put["GlobalSecondaryIndexes"]["GIdx"] == {
        "CapacityUnits": 3.0,
        "WriteCapacityUnits": 3.0,
    }
    scan = client.scan(TableName="Cap", ReturnConsumedCapacity="TOTAL")["ConsumedCapacity"]
    assert scan["CapacityUnits"] == 0.5
    capacity_clock.now += 60  # the minute ends: its figures reach CloudWatch
    client.get_item(TableName="Cap", Key={"pk": {"S": "a"}})
    cloudwatch = boto3.client("cloudwatch")
    start = datetime.fromtimestamp(capacity_clock.now - 120, UTC)
    data = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "w",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/DynamoDB",
                        "MetricName": "ConsumedWriteCapacityUnits",
                        "Dimensions": [{"Name": "TableName", "Value": "Cap"}],
                    },
                    "Period": 60,
                    "Stat": "Sum",
                },
            }
        ],
        StartTime=start,
        EndTime=datetime.fromtimestamp(capacity_clock.now + 60, UTC),
    )["MetricDataResults"][0]
    assert data["Values"] == [3.0]


def test_adaptation_6_an_on_demand_maximum_is_kept_shown_and_enforced(aws, capacity_clock):
    client = _once()
    client.create_table(
        TableName="Cap",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        OnDemandThroughput={"MaxReadRequestUnits": 50, "MaxWriteRequestUnits": 5},
    )
    described = client.describe_table(TableName="Cap")["Table"]
    assert described["OnDemandThroughput"]["MaxWriteRequestUnits"] == 5  # moto drops it
    assert described["WarmThroughput"]["WriteUnitsPerSecond"] == 4000
    items = [{"pk": {"S": f"k{i}"}} for i in range(8)]
    assert _outcomes(client, items) == (5, 3)  # the maximum, far below the warm throughput


def test_adaptation_6_a_hot_key_throttles_below_the_table_capacity(aws, capacity_clock):
    client = _once()
    client.create_table(
        TableName="Cap",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    big = "x" * (20 * 1024 - 20)  # 20 write units a put: 50 a second fill one partition
    hot = [{"pk": {"S": "hot"}, "d": {"S": big}} for _ in range(55)]
    assert _outcomes(client, hot) == (50, 5)  # 1,000 WCU on one key, of the table's 4,000
    assert _outcomes(client, [{"pk": {"S": "cold"}, "d": {"S": big}}]) == (1, 0)


def test_adaptation_6_a_scan_whose_filter_drops_every_item_costs_what_it_read(aws, capacity_clock):
    """DynamoDB bills a Scan for what it read before the filter ("Scanning tables in DynamoDB",
    Filter expressions for scan: "a Scan consumes the same amount of read capacity")."""
    client = _once()
    _provisioned(client, "Cap", wcu=1000)
    for i in range(10):
        client.put_item(TableName="Cap", Item={"pk": {"S": f"k{i}"}, "d": {"S": "x" * 3000}})
    total = client.scan(TableName="Cap", ReturnConsumedCapacity="TOTAL")["ConsumedCapacity"]
    none = client.scan(
        TableName="Cap",
        FilterExpression="d = :no",
        ExpressionAttributeValues={":no": {"S": "no"}},
        ReturnConsumedCapacity="TOTAL",
    )
    assert none["Count"] == 0
    assert none["ScannedCount"] == 10
    assert none["ConsumedCapacity"]["CapacityUnits"] == total["CapacityUnits"] == 4.0


def _transaction(client, keys: list[str]) -> dict:
    item = {"d": {"S": "x" * 1500}}
    actions = [{"Put": {"TableName": "Cap", "Item": {**item, "pk": {"S": k}}}} for k in keys]
    return client.transact_write_items(TransactItems=actions, ReturnConsumedCapacity="TOTAL")


def test_adaptation_6_a_transaction_costs_twice_its_writes_and_is_admitted_whole(
    aws, capacity_clock
):
    """Two puts of 1.5 KB: 2 units each, twice over in a transaction (Developer Guide, "Amazon
    DynamoDB Transactions: How it works"); one more the same second exceeds 10 WCU whole."""
    client = _once()
    _provisioned(client, "Cap", wcu=10)
    consumed = _transaction(client, ["a", "b"])["ConsumedCapacity"]
    assert consumed == [{"TableName": "Cap", "CapacityUnits": 8.0}]
    with pytest.raises(client.exceptions.TransactionCanceledException) as cancelled:
        _transaction(client, ["c", "d"])  # cancelled as DynamoDB cancels it, naming capacity
    reasons = cancelled.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["ProvisionedThroughputExceeded"] * 2
    assert is_throttling(cancelled.value)  # the runner backs off and retries it
    assert client.get_item(TableName="Cap", Key={"pk": {"S": "c"}}).get("Item") is None
    capacity_clock.now += 1
    assert _transaction(client, ["c", "d"])["ConsumedCapacity"][0]["CapacityUnits"] == 8.0
