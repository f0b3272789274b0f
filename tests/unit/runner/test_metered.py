"""The metered client: asks what each request consumed, charges it, counts throttles."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from runner.metered import Metered
from runner.pacing import TokenBucket


class Client:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def update_item(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if kwargs.get("Key") == "throttled":
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException"}}, "UpdateItem"
            )
        return {"ConsumedCapacity": {"CapacityUnits": 5.0}}

    def scan(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return {"Items": [], "ConsumedCapacity": {"CapacityUnits": 2.5}}

    def describe_table(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return {}


class Bucket(TokenBucket):
    def __init__(self) -> None:
        super().__init__(None)
        self.taken: list[float] = []

    def take(self, count: float = 1.0) -> None:
        self.taken.append(count)

    def debit(self, count: float) -> None:
        self.taken.append(count)


def test_every_read_and_write_is_measured_and_charged_to_its_bucket():
    client, writes, reads = Client(), Bucket(), Bucket()
    now = [119.0]
    metered = Metered(client, writes, reads, period=60, clock=lambda: now[0])
    metered.update_item(Key="k")
    now[0] = 120.0  # the next minute: kept apart, as CloudWatch counts it
    metered.update_item(Key="k")
    metered.scan(TableName="T")
    metered.describe_table(TableName="T")
    assert client.calls[0]["ReturnConsumedCapacity"] == "TOTAL"
    assert client.calls[2]["ReturnConsumedCapacity"] == "TOTAL"
    assert "ReturnConsumedCapacity" not in client.calls[3]
    assert writes.taken == [1.0, 4.0, 1.0, 4.0]  # one unit before, the rest of its 5 after
    assert reads.taken == [1.0, 1.5]
    assert metered.take() == ({("w", 1): 5.0, ("w", 2): 5.0, ("r", 2): 2.5}, 0)
    assert metered.take() == ({}, 0)


def test_a_throttle_is_counted_and_still_raised():
    metered = Metered(Client(), Bucket(), Bucket())
    with pytest.raises(ClientError):
        metered.update_item(Key="throttled")
    assert metered.take() == ({}, 1)


def test_a_debt_makes_the_next_take_wait():
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    bucket = TokenBucket(10, clock=lambda: now[0], sleep=sleep)
    now[0] = 1.0
    bucket.take()
    bucket.debit(4)  # the write cost 5 units
    bucket.take()
    assert sum(slept) == pytest.approx(0.5, abs=0.01)  # 4 owed + 1 more at 10 units/s


def test_totals_keep_the_reported_units_and_throttles_after_the_pacer_took_them():
    client = Client()
    metered = Metered(client, Bucket(), Bucket())
    metered.update_item(Key="k")
    metered.scan(TableName="T")
    metered.take()  # the pacer's share: the totals are the metrics', kept apart
    with pytest.raises(ClientError):
        metered.update_item(Key="throttled")
    metered.update_item(Key="k")
    assert metered.totals() == {"readUnits": 2.5, "writeUnits": 10.0, "throttles": 1.0}


def test_an_answer_without_consumed_capacity_adds_no_reported_unit():
    class Silent(Client):
        def scan(self, **kwargs: Any) -> dict[str, Any]:
            return {"Items": []}

    reads = Bucket()
    metered = Metered(Silent(), Bucket(), reads, clock=lambda: 0.0)
    metered.scan(TableName="T")
    assert metered.totals()["readUnits"] == 0.0  # the metric says what DynamoDB reported
    assert metered.take()[0] == {("r", 0): 1.0}  # the pacer still charges the unit it took
