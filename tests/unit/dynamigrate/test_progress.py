"""Progress lines and bars, on a terminal and off one."""

from __future__ import annotations

from dynamigrate.progress import ProgressPrinter, bar
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


def test_progress_prints_a_line_per_change_off_a_terminal():
    stream = Stream(tty=False)
    printer = ProgressPrinter(stream)
    printer("M", record("RUNNING"), 10)
    printer("M", record("RUNNING", counters={"M": {"scanned": {"N": "5"}}}), 10)
    printer("M", record("SUCCEEDED", counters={"M": {"scanned": {"N": "10"}}}), 10)
    lines = stream.text.splitlines()
    assert len(lines) == 2  # the first sight and the end; a terminal redraws in place
    assert lines[-1].endswith("100%       10 scanned        0 changed  SUCCEEDED")


def test_progress_moves_off_a_terminal_a_line_per_interval():
    stream, now = Stream(tty=False), [0.0]
    printer = ProgressPrinter(stream, interval=10, clock=lambda: now[0])
    for second in range(0, 35):
        now[0] = float(second)
        scanned = {"M": {"scanned": {"N": str(second * 100)}}}
        printer("M", record("RUNNING", counters=scanned), 6000)
    lines = stream.text.splitlines()
    assert [line.split()[2] for line in lines] == ["0%", "17%", "33%", "50%"]  # 0, 10, 20, 30 s


class _Runs:
    """The run's segment items as runner.history totals them."""

    def __init__(self, scanned: int) -> None:
        self.scanned, self.asked = scanned, []

    def run_totals(self, run):
        from runner.history import RunTotals

        self.asked.append(run)
        totals = RunTotals()
        totals.counters["scanned"] = self.scanned
        return totals


def test_live_progress_reads_the_pages_committed_so_far():
    from dynamigrate.progress import counters, live

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
