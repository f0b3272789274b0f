"""Pacing beside live traffic, on the emulator's capacity model: one rate for the whole run,
the budget from DescribeTable and CloudWatch, a migration that leaves the application alone."""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest

from dynamigrate.local import emulator
from dynamigrate.local.engine import HISTORY_TABLE
from runner.history import History, RunRef
from runner.pace_store import PaceStore
from runner.pacer import Pacer, table_refresh
from runner.pacing import TokenBucket
from runner.spec import parse_spec
from tests.functional.conftest import load

SPEC: dict[str, Any] = {
    "MigrationId": "paced",
    "TableName": "Busy",
    "Up": {"Update": {"Expression": "SET #s = :v", "Names": {"#s": "s"}, "Values": {":v": 1}}},
}


class Clock:
    """Epoch seconds on a whole minute, advanced by the test; the model and the pacers share it."""

    def __init__(self) -> None:
        self.now = float(int(time.time()) // 60 * 60)

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(emulator.CAPACITY, "clock", clock)
    monkeypatch.setattr(emulator.CAPACITY, "epoch", 0.0)
    return clock


def provisioned(client: Any, name: str, wcu: int, rcu: int = 100) -> None:
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": rcu, "WriteCapacityUnits": wcu},
    )


def pacer(engine, clock, run: RunRef, running: int = 2, cloudwatch: Any = None) -> Pacer:
    spec = parse_spec(SPEC)
    return Pacer(
        PaceStore(engine.dynamodb, HISTORY_TABLE),
        run,
        running,
        table_refresh(engine.dynamodb, cloudwatch, spec, "up", 50),
        TokenBucket(None),
        TokenBucket(None),
        clock=clock,
    )


class Seen:
    """What a segment's metered client saw: throttles, and its own units by (kind, minute)."""

    def __init__(self) -> None:
        self.throttles, self.units = 0, {}

    def take(self) -> tuple[dict, int]:
        out = (self.units, self.throttles)
        self.units, self.throttles = {}, 0
        return out


def test_a_throttle_seen_by_one_segment_slows_every_segment(engine, clock):
    provisioned(engine.dynamodb, "Busy", wcu=400)
    run = RunRef("Busy", "paced", "up", "r1")
    one, two = pacer(engine, clock, run), pacer(engine, clock, run)
    seen_one, seen_two = Seen(), Seen()
    one.observe(seen_one)  # type: ignore[arg-type]
    two.observe(seen_two)  # type: ignore[arg-type]
    one.sync(force=True)
    two.sync(force=True)
    assert one.pace is not None
    assert two.pace is not None
    assert (one.pace.write, two.pace.write) == (200, 200)  # 50 % of 400 WCU, shared
    assert two.writes.rate == 100  # each of the two running segments takes half
    clock.now += 3
    seen_one.throttles = 2
    one.sync()
    two.sync()
    assert (one.pace.write, two.pace.write) == (100, 100)  # both slowed by one's throttle
    assert two.writes.rate == 50
    assert two.pace.throttles == 2
    clock.now += 60  # quiet since: additive increase, never past the budget
    for _ in range(30):
        clock.now += 5
        one.sync()
    two.sync()
    assert two.pace.write == 200


def test_the_budget_leaves_what_the_application_uses(engine, clock):
    provisioned(engine.dynamodb, "Busy", wcu=100)
    app = boto3.client("dynamodb")
    for i in range(120):  # the application writes 120 units in this minute...
        clock.now += i == 60
        app.put_item(TableName="Busy", Item={"pk": {"S": f"app{i}"}})
    clock.now += 60  # ...which CloudWatch shows once the minute ended
    app.get_item(TableName="Busy", Key={"pk": {"S": "app0"}})
    run = RunRef("Busy", "paced", "up", "r2")
    paced = pacer(engine, clock, run, running=1, cloudwatch=boto3.client("cloudwatch"))
    paced.sync(force=True)
    assert paced.pace is not None
    assert paced.pace.budget_write == pytest.approx(50 - 120 / 60)  # 50 % of 100, less 2/s
    assert "the application uses 2 of 100 WCU/s" in paced.pace.reason


def test_the_migrations_own_units_are_not_counted_as_the_applications(engine, clock):
    provisioned(engine.dynamodb, "Busy", wcu=100)
    client = boto3.client("dynamodb")
    run = RunRef("Busy", "paced", "up", "r3")
    paced = pacer(engine, clock, run, running=1, cloudwatch=boto3.client("cloudwatch"))
    seen = Seen()
    paced.observe(seen)  # type: ignore[arg-type]
    paced.sync(force=True)
    for i in range(60):  # the migration's own writes: 60 units in this minute
        client.put_item(TableName="Busy", Item={"pk": {"S": f"m{i}"}})
    clock.now += 1
    for i in range(120):  # and the application's: 120, over two seconds
        clock.now += i == 60
        client.put_item(TableName="Busy", Item={"pk": {"S": f"a{i}"}})
    seen.units = {("w", int(clock.now // 60)): 60.0}
    clock.now += 3
    paced.sync()
    clock.now += 60
    client.get_item(TableName="Busy", Key={"pk": {"S": "a0"}})  # the minute reaches CloudWatch
    paced.sync()
    assert paced.pace is not None
    assert paced.pace.budget_write == pytest.approx(50 - 120 / 60)
    assert "the application uses 2 of 100 WCU/s" in paced.pace.reason


def test_a_migration_on_a_small_table_stays_within_its_share_and_never_throttles(engine):
    provisioned(engine.dynamodb, "Busy", wcu=20)
    load(engine.dynamodb, "Busy", [{"pk": {"S": f"k{i:03d}"}} for i in range(40)])
    spec = {**SPEC, "Source": {"Scan": {"Segments": 2}}}
    result = engine.run(spec)
    assert result.status == "SUCCEEDED", result.cause
    pace = engine.dynamodb.get_item(
        TableName=HISTORY_TABLE,
        Key={"pk": {"S": f"run#Busy#paced#up#{_run_id(engine)}"}, "sk": {"S": "pace"}},
    )["Item"]
    assert float(pace["budgetWrite"]["N"]) == 10  # 50 % of 20 WCU
    assert pace["throttles"]["N"] == "0"
    assert "table Busy: the application uses 0 of 20 WCU/s, cap 50 %" in pace["reason"]["S"]
    run = RunRef("Busy", "paced", "up", _run_id(engine))
    shown = History(engine.dynamodb, HISTORY_TABLE).run_totals(run).pacing  # status, progress
    assert shown["pacing"].startswith("holding at 10 WCU/s, 50 RCU/s: table Busy:")
    assert shown["throttles"] == 0


def _run_id(engine) -> str:
    items = engine.dynamodb.scan(TableName=HISTORY_TABLE)["Items"]
    (pk,) = {i["pk"]["S"] for i in items if i["sk"]["S"] == "pace"}
    return pk.rsplit("#", 1)[1]


def test_a_finished_segment_leaves_its_share_to_the_others(engine, clock):
    provisioned(engine.dynamodb, "Busy", wcu=400)
    run = RunRef("Busy", "paced", "up", "r4")
    one, two = pacer(engine, clock, run), pacer(engine, clock, run)
    two.segment = 1
    one.sync(force=True)
    two.sync(force=True)
    assert two.writes.rate == 100  # two segments share 200 WCU/s
    clock.now += 11  # both have worked long enough to know who else works
    one.sync()
    two.sync()
    assert two.writes.rate == 100
    one.leave()
    clock.now += 3
    two.sync()
    assert two.writes.rate == 200  # the one still working takes the whole rate


def test_throttles_the_application_met_slow_the_run(engine, clock):
    provisioned(engine.dynamodb, "Busy", wcu=10)
    from botocore.config import Config

    app = boto3.client("dynamodb", config=Config(retries={"total_max_attempts": 1}))
    throttled = 0
    for i in range(30):  # the application alone overruns the table in this minute
        try:
            app.put_item(TableName="Busy", Item={"pk": {"S": f"app{i}"}})
        except app.exceptions.ProvisionedThroughputExceededException:
            throttled += 1
    assert throttled == 20
    clock.now += 60
    app.get_item(TableName="Busy", Key={"pk": {"S": "app0"}})  # the minute reaches CloudWatch
    run = RunRef("Busy", "paced", "up", "r5")
    paced = pacer(engine, clock, run, running=1, cloudwatch=boto3.client("cloudwatch"))
    paced.sync(force=True)
    assert paced.pace is not None
    assert paced.pace.budget_write == pytest.approx(5 - 10 / 60)  # it consumed 10 in the minute
    assert paced.pace.throttles == 1  # CloudWatch's WriteThrottleEvents counted once...
    assert paced.pace.write == pytest.approx(paced.pace.budget_write / 2)  # ...halve the rate


def test_a_scan_page_reads_about_one_second_of_the_segments_read_share(engine, clock):
    provisioned(engine.dynamodb, "Busy", wcu=100, rcu=20)
    run = RunRef("Busy", "paced", "up", "r6")
    paced = pacer(engine, clock, run, running=2)
    paced.sync(force=True)
    spec = parse_spec(SPEC)
    request = paced.paced_reads({"TableName": "Busy"}, engine.dynamodb, spec)
    # 50 % of 20 RCU over 2 segments: 5 RCU/s each, 8 KB a unit eventually consistent, 1 KB items
    assert request["Limit"] == 40
    assert paced.paced_reads({"Limit": 25}, engine.dynamodb, spec)["Limit"] == 25  # PageSize
