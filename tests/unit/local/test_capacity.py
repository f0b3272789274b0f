"""The emulator's capacity model, rule by rule, on a virtual clock (nothing sleeps)."""

from __future__ import annotations

import pytest

from dynamigrate.local.capacity import (
    CapacityModel,
    Charge,
    Throttled,
    Throughput,
    item_size,
    read_units,
    write_units,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def model(throughput: Throughput, index: Throughput | None = None, period: float = 60.0):
    clock, published = Clock(), []
    m = CapacityModel(clock=clock, period=period, publish=published.extend, epoch=0.0)
    m.configure("T", None, throughput)
    if index is not None:
        m.configure("T", "G", index)
    return m, clock, published


def served(m: CapacityModel, charges: list[Charge]) -> bool:
    try:
        m.admit(charges)
    except Throttled:
        return False
    m.charge(charges)
    return True


def writes(units: float, key: str | None = None, index: str | None = None) -> list[Charge]:
    return [Charge("T", index, "write", units, key)]


def test_units_follow_item_sizes():
    item = {"pk": {"S": "abc"}, "n": {"N": "12345"}, "m": {"M": {"x": {"BOOL": True}}}}
    assert item_size(item) == 2 + 3 + 1 + 4 + 1 + (3 + 1 + 1 + 1)
    assert write_units(1024) == 1
    assert write_units(1025) == 2
    assert write_units(500, 3000) == 3  # an update: the larger of before and after
    assert read_units(4096, True) == 1
    assert read_units(4097, True) == 2
    assert read_units(4097, False) == 1  # eventually consistent: half


def test_provisioned_serves_its_rate_and_retains_300_seconds_of_burst():
    m, clock, _ = model(Throughput(False, read=10, write=10))
    assert sum(served(m, writes(1)) for _ in range(20)) == 10  # a fresh table: one second's worth
    clock.now += 1000  # idle: at most 300 s of unused capacity is retained
    assert sum(served(m, writes(1)) for _ in range(5000)) == 3000
    clock.now += 1
    assert sum(served(m, writes(1)) for _ in range(50)) == 10


def test_on_demand_serves_warm_throughput_then_twice_the_previous_peak():
    m, clock, _ = model(Throughput(True, read=400, write=100))
    assert sum(served(m, writes(1)) for _ in range(300)) == 100  # warm throughput at once
    clock.now += 1
    assert sum(served(m, writes(1)) for _ in range(300)) == 200  # twice the peak just reached
    clock.now += 1
    assert sum(served(m, writes(1)) for _ in range(1000)) == 400
    clock.now += 1801  # the peak is forgotten after 30 minutes
    assert sum(served(m, writes(1)) for _ in range(1000)) == 100


def test_on_demand_maximum_caps_it():
    m, _clock, _ = model(Throughput(True, read=400, write=100, max_write=50))
    assert sum(served(m, writes(1)) for _ in range(300)) == 50


def test_a_hot_key_throttles_at_1000_write_units_below_the_table_capacity():
    m, _clock, _ = model(Throughput(True, read=12000, write=4000))
    assert sum(served(m, writes(10, key="hot")) for _ in range(200)) == 100
    assert served(m, writes(10, key="cold"))  # the table itself still has capacity
    reads = [Charge("T", None, "read", 10, "hot")]
    assert sum(served(m, reads) for _ in range(400)) == 300


def test_a_gsi_short_of_write_capacity_throttles_the_base_table_write():
    m, _clock, _ = model(Throughput(False, 100, 100), index=Throughput(False, 100, 5))
    both = writes(1) + writes(1, index="G")
    assert sum(served(m, both) for _ in range(20)) == 5
    assert served(m, writes(1))  # a write that reaches no index goes through


def test_consumed_and_throttled_figures_are_published_per_period():
    m, clock, published = model(Throughput(False, 10, 10), period=60.0)
    for _ in range(15):
        served(m, writes(1))
    assert published == []  # nothing until the period ended
    clock.now += 60
    served(m, writes(1))
    figures = {d["MetricName"]: d["Value"] for d in published}
    assert figures == {
        "ConsumedWriteCapacityUnits": 10,
        "WriteThrottleEvents": 5,
        "ThrottledRequests": 5,
    }
    assert {d["Timestamp"] for d in published} == {960.0}  # the period's start
    assert published[0]["Dimensions"] == [{"Name": "TableName", "Value": "T"}]


def test_periods_are_whole_periods_of_epoch_time_whatever_the_models_clock():
    clock, published = Clock(), []  # a monotonic clock 1000 s in, at epoch time 1002.5
    m = CapacityModel(clock=clock, period=5.0, publish=published.extend, epoch=2.5)
    m.configure("T", None, Throughput(False, 100, 100))
    served(m, writes(1))  # epoch 1002.5: the period 1000-1005
    clock.now += 2.0  # epoch 1004.5: still that period
    served(m, writes(1))
    clock.now += 1.0  # epoch 1005.5: the next one; the first is published
    served(m, writes(1))
    assert [(d["Timestamp"], d["Value"]) for d in published] == [(1000.0, 2)]


def test_a_throttle_names_the_resource():
    m, _, _ = model(Throughput(False, 1, 1), index=Throughput(False, 1, 1))
    m.charge(writes(5, index="G"))
    with pytest.raises(Throttled, match="index G of table T"):
        m.admit(writes(1, index="G"))


def test_a_capacity_change_applies_at_once():
    m, clock, _ = model(Throughput(False, 10, 10))
    clock.now += 1
    m.configure("T", None, Throughput(False, 10, 2))
    assert sum(served(m, writes(1)) for _ in range(20)) == 2
