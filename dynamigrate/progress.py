"""Progress bars for running migrations, drawn on stderr (redrawn in place on a terminal)."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from runner.ledger import MigrationRecord

WIDTH = 30


def bar(done: int, total: int, width: int = WIDTH) -> str:
    """`[#########.....]  61%` for done of total; a bare count when the total is unknown."""
    if total <= 0:
        return f"[{'?' * width}]"
    fraction = min(1.0, done / total)
    filled = int(fraction * width)
    return f"[{'#' * filled}{'.' * (width - filled)}] {fraction:4.0%}"


def counters(record: MigrationRecord | None) -> dict[str, int]:
    raw = (record.attributes.get("counters", {}).get("M", {})) if record else {}
    return {name: int(value.get("N", "0")) for name, value in raw.items()}


class ProgressPrinter:
    """One line per migration; on a terminal the line is redrawn, elsewhere printed on change."""

    def __init__(self, stream: TextIO | Any = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.last: dict[str, str] = {}

    def __call__(self, logical_id: str, record: MigrationRecord | None, total: int) -> None:
        status = record.status if record else "PENDING"
        found = counters(record)
        scanned = found.get("scanned", 0)
        changed = found.get("updated", 0) + found.get("deleted", 0)
        direction = record.attributes.get("direction", {}).get("S", "up") if record else "up"
        label = f"{logical_id} ({direction})" if direction == "down" else logical_id
        final = status not in ("RUNNING", "ROLLING_BACK", "PENDING")
        shown = bar(1, 1) if final and status != "FAILED" else bar(scanned, total)
        line = f"{label:<32} {shown} {scanned:>8} scanned {changed:>8} changed  {status}"
        if self.last.get(label) == line:
            return
        if self.tty:
            self.stream.write("\r" + line + ("\n" if final else ""))
        elif final or label not in self.last:
            self.stream.write(line + "\n")
        self.stream.flush()
        self.last[label] = line
