"""The run's shared rate: a throttle halves it once for everyone, success adds slowly."""

from __future__ import annotations

from runner.rate import COOLDOWN_SECONDS, INCREASE_SECONDS, advance, rebudget, start


def test_a_run_starts_at_its_budget():
    pace = start(200, 400, "why", now=0)
    assert (pace.write, pace.read) == (200, 400)


def test_a_throttle_halves_the_rate_once_however_many_segments_saw_it():
    pace = advance(start(200, 400, "why", now=0), throttled=3, now=10)
    assert (pace.write, pace.read, pace.throttles) == (100, 200, 3)
    again = advance(pace, throttled=1, now=10 + COOLDOWN_SECONDS / 2)  # another segment, same event
    assert (again.write, again.throttles) == (100, 4)
    later = advance(again, throttled=1, now=10 + COOLDOWN_SECONDS)
    assert later.write == 50


def test_sustained_success_adds_a_tenth_of_the_budget_up_to_it():
    pace = advance(start(200, 400, "why", now=0), throttled=1, now=0)
    assert advance(pace, 0, now=INCREASE_SECONDS / 2).write == 100  # not yet sustained
    up = advance(pace, 0, now=INCREASE_SECONDS)
    assert up.write == 120
    for step in range(2, 20):
        up = advance(up, 0, now=INCREASE_SECONDS * step)
    assert (up.write, up.read) == (200, 400)


def test_a_smaller_budget_lowers_the_rate_at_once_a_larger_one_too_unless_backed_off():
    pace = start(200, 400, "why", now=0)
    smaller = rebudget(pace, 80, 400, "busy", now=1)
    assert (smaller.write, smaller.reason) == (80, "busy")
    larger = rebudget(smaller, 300, 400, "quiet", now=2)
    assert larger.write == 300  # held only by its budget: the budget's room is the run's
    backed_off = advance(larger, throttled=1, now=3)
    assert backed_off.write == 150
    again = rebudget(backed_off, 400, 400, "quieter", now=4)
    assert again.write == 150  # a throttle backed it off: it rises slowly
    assert advance(again, 0, now=3 + INCREASE_SECONDS).write == 190


def test_the_holding_line_says_the_rate_and_why():
    pace = start(180, 500, "table T: the application uses 320 of 1,000 WCU/s, cap 50 %", 0)
    assert pace.holding == (
        "holding at 180 WCU/s, 500 RCU/s: table T: the application uses 320 of 1,000 WCU/s, "
        "cap 50 %"
    )
