import pytest

from runner.pacing import TokenBucket


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
