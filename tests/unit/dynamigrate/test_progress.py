"""Progress lines and bars, on a terminal and off one, and the rate and time left they show."""

from __future__ import annotations

from dynamigrate.progress import (
    ProgressPrinter,
    bar,
    counters,
    estimate,
    live,
    progress_line,
    run_estimate,
    run_identity,
)
from runner.history import RunTotals
from tests.unit.dynamigrate.records import record


def test_bars():
    assert bar(0, 10) == "[..............................]   0%"
    assert bar(5, 10).startswith("[###############...............]")
    assert bar(3, 0) == "[" + "?" * 30 + "]"


class Stream:
    def __init__(self, tty):
        self.text, self.tty = "", tty

    def write(self, text):
        self.text += text

    def flush(self):
        pass

    def isatty(self):
        return self.tty


def scanned(n: int) -> dict:
    return {"counters": {"M": {"scanned": {"N": str(n)}}}}


def test_progress_prints_a_line_per_change_off_a_terminal():
    stream = Stream(tty=False)
    printer = ProgressPrinter(stream, clock=lambda: 100.0)
    printer("M", record("RUNNING"), 10)
    printer("M", record("RUNNING", **scanned(5)), 10)
    printer("M", record("SUCCEEDED", **scanned(10)), 10)
    printer("M", record("SUCCEEDED", **scanned(10)), 10)
    lines = stream.text.splitlines()
    assert len(lines) == 2  # the first sight and the end, once; a terminal redraws in place
    assert lines[-1].endswith("100%       10 scanned        0 changed  SUCCEEDED")


def test_progress_moves_off_a_terminal_a_line_per_interval():
    stream, now = Stream(tty=False), [0.0]
    printer = ProgressPrinter(stream, interval=10, clock=lambda: now[0])
    for second in range(0, 35):
        now[0] = float(second)
        printer("M", record("RUNNING", **scanned(second * 100)), 6000)
    lines = stream.text.splitlines()
    assert [line.split()[2] for line in lines] == ["0%", "17%", "33%", "50%"]  # 0, 10, 20, 30 s


def test_a_line_every_interval_even_when_no_page_completes():
    """A page of 1 MB may take longer than the interval: the line still comes, unchanged."""
    stream, now = Stream(tty=False), [0.0]
    printer = ProgressPrinter(stream, interval=10, clock=lambda: now[0])
    stuck = record("RUNNING", **scanned(0))  # no startedAt: no rate, the same line every time
    for half_second in range(0, 50):
        now[0] = half_second / 2
        printer("M", stuck, 6000)
    assert len(stream.text.splitlines()) == 3  # at 0, 10 and 20 s


def test_rate_and_time_left():
    figures = estimate(300, 1200, 10.0)
    assert (figures.rate, figures.seconds_left) == (30.0, 30.0)
    assert estimate(0, 1200, 10.0).rate is None  # nothing scanned yet: no rate to speak of
    assert estimate(300, 0, 10.0).seconds_left is None  # the table's size is unknown
    assert estimate(1300, 1200, 10.0).seconds_left is None  # the table grew past its count


def test_the_line_shows_items_per_second_and_the_time_left_from_the_record():
    running = record("RUNNING", startedAt={"N": "1000"}, **scanned(600))
    assert run_estimate(running, 6000, now=1010.0).rate == 60.0
    line = progress_line("M", running, 6000, now=1010.0)
    assert line.endswith("RUNNING  60 items/s, 1m30s left")
    ended = record("SUCCEEDED", startedAt={"N": "1000"}, endedAt={"N": "1100"}, **scanned(6000))
    assert progress_line("M", ended, 6000, now=5000.0).endswith("SUCCEEDED  in 1m40s, 60 items/s")


class _Runs:
    """The run's segment items as runner.history totals them."""

    def __init__(self, scanned: int) -> None:
        self.scanned, self.asked = scanned, []

    def run_totals(self, run):
        self.asked.append(run)
        totals = RunTotals()
        totals.counters["scanned"] = self.scanned
        return totals


def test_live_progress_reads_the_pages_committed_so_far():
    running = record(
        "RUNNING",
        runId={"S": "r1"},
        direction={"S": "up"},
        counters={"M": {"scanned": {"N": "0"}}},
    )
    runs = _Runs(scanned=2400)
    assert counters(live(runs, running))["scanned"] == 2400
    assert runs.asked[0].pk == "run#Orders#m1#up#r1"
    done = record("SUCCEEDED", runId={"S": "r1"}, counters={"M": {"scanned": {"N": "6000"}}})
    assert counters(live(runs, done))["scanned"] == 6000  # a finished run's record is final
    assert len(runs.asked) == 1


def test_a_running_line_shows_the_rate_held_and_why_and_the_throttles():
    stream = Stream(tty=False)
    line = "holding at 180 WCU/s, 500 RCU/s: table T: the application uses 320 of 1,000 WCU/s"
    running = record("RUNNING", pacing={"S": line}, throttles={"N": "2"})
    ProgressPrinter(stream)("M", running, 10)
    assert stream.text.rstrip().endswith(f"RUNNING  {line}; 2 throttles")


def test_a_down_starts_from_zero_not_from_the_ups_counters():
    """Until the controller's first poll of the Down, the record still holds the Up's counters."""
    down = record("ROLLING_BACK", runId={"S": "r2"}, direction={"S": "down"}, **scanned(6000))
    shown = live(_Runs(scanned=0), down)
    assert counters(shown)["scanned"] == 0
    assert "(down)" not in progress_line("M", shown, 6000, 0.0)  # the printer adds the label
    assert progress_line("M", shown, 6000, 0.0).split()[2] == "0%"


def test_a_run_is_told_from_the_previous_one():
    up = record("SUCCEEDED", runId={"S": "r1"}, direction={"S": "up"}, startedAt={"N": "1"})
    down = record("ROLLING_BACK", runId={"S": "r2"}, direction={"S": "down"}, startedAt={"N": "9"})
    assert run_identity(up) == run_identity(up)
    assert run_identity(up) != run_identity(down)
    assert run_identity(None) is None
