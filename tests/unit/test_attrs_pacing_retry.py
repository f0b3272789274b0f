import pytest
from botocore.exceptions import ClientError

from runner.attrs import expression_values, from_wire, to_wire
from runner.errors import MigrationError, ThrottledError
from runner.pacing import TokenBucket
from runner.retry import call_with_backoff


def test_wire_round_trip_keeps_binary_and_numbers():
    item = {
        "pk": {"S": "1"},
        "big": {"N": "12345678901234567890123456789012345678"},
        "blob": {"B": b"\x00\xff"},
        "blobs": {"BS": [b"a", b"b"]},
        "deep": {"M": {"l": {"L": [{"B": b"\x01"}, {"NULL": True}]}}},
    }
    wire = to_wire(item)
    assert wire["blob"] == {"B": "AP8="}
    assert wire["deep"]["M"]["l"]["L"][0] == {"B": "AQ=="}
    assert from_wire(wire, "m") == item


@pytest.mark.parametrize(
    "bad", [["not", "a", "dict"], {"a": "plain"}, {"a": {"S": "x", "N": "1"}}, {"b": {"B": "!!"}}]
)
def test_from_wire_rejects_what_is_not_dynamodb_json(bad):
    with pytest.raises(MigrationError, match="Migration m"):
        from_wire(bad, "m")


def test_expression_values_are_exact():
    assert expression_values({":a": 0.1, ":b": "x", ":c": [1, True]}, "m") == {
        ":a": {"N": "0.1"},
        ":b": {"S": "x"},
        ":c": {"L": [{"N": "1"}, {"BOOL": True}]},
    }


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


@pytest.mark.parametrize("rate", [5, 50, 1000])
def test_token_bucket_holds_the_rate_in_every_second(rate):
    clock = FakeClock()
    bucket = TokenBucket(rate, clock=clock, sleep=clock.sleep)
    stamps = []
    for _ in range(rate * 5):
        bucket.take()
        stamps.append(clock.now)
    per_second = [sum(1 for t in stamps if s <= t < s + 1) for s in range(4)]
    assert all(n <= rate * 1.1 for n in per_second), per_second
    assert stamps[-1] >= 5 * 0.9 - 1 / rate


def test_unpaced_bucket_never_waits():
    clock = FakeClock()
    bucket = TokenBucket(None, clock=clock, sleep=clock.sleep)
    for _ in range(1000):
        bucket.take()
    assert clock.now == 0


def _error(code):
    return ClientError({"Error": {"Code": code, "Message": code}}, "UpdateItem")


def test_throttling_is_retried_until_it_passes():
    calls = []

    def call():
        calls.append(1)
        if len(calls) < 4:
            raise _error("ProvisionedThroughputExceededException")
        return "ok"

    assert call_with_backoff(call, sleep=lambda s: None) == "ok"
    assert len(calls) == 4


def test_endless_throttling_becomes_throttled_error():
    def call():
        raise _error("ThrottlingException")

    with pytest.raises(ThrottledError):
        call_with_backoff(call, attempts=3, sleep=lambda s: None)


def test_other_errors_pass_through():
    def call():
        raise _error("ValidationException")

    with pytest.raises(ClientError):
        call_with_backoff(call, sleep=lambda s: None)
