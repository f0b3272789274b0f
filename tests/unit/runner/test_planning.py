import pytest

from macro import state_machine
from runner.planning import (
    BYTES_PER_SEGMENT,
    ITEMS_PER_SEGMENT,
    MAX_SEGMENTS,
    auto_segments,
    paced_concurrency,
    writes_share,
)


@pytest.mark.parametrize(
    ("items", "size", "expected"),
    [
        (0, 0, 1),  # a new table: DescribeTable's counts lag by up to six hours
        (1_000, 100_000, 1),
        (ITEMS_PER_SEGMENT, 0, 1),
        (ITEMS_PER_SEGMENT + 1, 0, 2),
        (10_000_000, 0, 200),
        (1_000, 3 * BYTES_PER_SEGMENT, 3),  # few large items: split by size
        (10**12, 0, 1000),  # States.ArrayRange's limit
        (-1, -1, 1),
    ],
)
def test_segments_follow_the_tables_size(items, size, expected):
    assert auto_segments(items, size) == expected


def test_runner_and_macro_agree_on_the_most_segments():
    # Each Lambda is packaged without the other's code, so the limit is written twice.
    assert MAX_SEGMENTS == state_machine.MAX_SEGMENTS


def test_write_rate_is_shared_among_running_segments():
    assert writes_share(100, 8, None) == 12.5
    assert writes_share(100, 16, 4) == 25
    assert writes_share(100, 3, None) == 33.333  # rounded down: never above the limit
    assert writes_share(100, 2, 8) == 50  # more concurrency than segments
    assert writes_share(None, 8, None) is None
    assert writes_share(0, 8, 2) is None


@pytest.mark.parametrize(
    ("share", "threads"),
    [(None, 8), (0, 8), (10, 1), (20, 1), (25, 2), (50, 3), (125, 7), (250, 8), (10_000, 8)],
)
def test_a_paced_segment_keeps_a_twentieth_of_a_seconds_writes_in_flight(share, threads):
    assert paced_concurrency(8, share) == threads
