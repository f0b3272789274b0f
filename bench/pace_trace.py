"""A time series of one paced run beside the application, for bench/live_traffic.py --trace.

Per interval: the run's granted write rate (the pace the workers adopted), its budget, the
application's write use as the budget saw it (CloudWatch less the run's own), the application's
and the migration's real write units/s (the emulator's charges), the real allowed spare
(`percent` of capacity less the application's real use), and the throttles the emulator raised.
Hooks are installed on the runner's and the emulator's classes and removed by `close()`.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from typing import Any

from dynamigrate.local import capacity as model
from runner import pacer, worker


class Trace:
    """Records pace, budget and consumption events with their time since `start()`."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.t0 = time.monotonic()
        self.lock = threading.Lock()
        self.paces: list[tuple[float, float, float, int]] = []  # t, write, budget, active
        self.budgets: list[tuple[float, float, float, int | None]] = []  # t, budget, app, minute
        self.charges: list[tuple[float, float]] = []  # t, write units on the table
        self.app_units: list[tuple[float, float]] = []
        self.throttles: list[float] = []
        self._undo: list[tuple[Any, str, Any]] = []
        self._install()

    def start(self) -> None:
        with self.lock:
            self.t0 = time.monotonic()
            self.paces.clear()
            self.budgets.clear()
            self.charges.clear()
            self.app_units.clear()
            self.throttles.clear()

    def now(self) -> float:
        return time.monotonic() - self.t0

    def app_wrote(self, units: float) -> None:
        with self.lock:
            self.app_units.append((self.now(), units))

    def _patch(self, owner: Any, name: str, value: Any) -> None:
        self._undo.append((owner, name, getattr(owner, name)))
        setattr(owner, name, value)

    def _install(self) -> None:
        trace = self
        original_set = pacer.Pacer._set

        def _set(self: pacer.Pacer, pace: Any) -> None:
            original_set(self, pace)
            with trace.lock:
                trace.paces.append((trace.now(), pace.write, pace.budget_write, self.active))

        self._patch(pacer.Pacer, "_set", _set)
        original_refresh = worker.table_refresh

        def table_refresh(*args: Any, **kwargs: Any) -> Any:
            refresh = original_refresh(*args, **kwargs)

            def traced(own: Any, now: float, settled: float) -> Any:
                found, usage = refresh(own, now, settled)
                app = usage.used.get((None, "write"), 0.0)
                with trace.lock:
                    trace.budgets.append((trace.now(), found.write, app, usage.minute))
                return found, usage

            return traced

        self._patch(worker, "table_refresh", table_refresh)
        original_charge = model.CapacityModel.charge

        def charge(self: model.CapacityModel, charges: list[model.Charge]) -> None:
            original_charge(self, charges)
            units = sum(
                c.units
                for c in charges
                if c.table == trace.table and c.index is None and c.kind == "write"
            )
            if units:
                with trace.lock:
                    trace.charges.append((trace.now(), units))

        self._patch(model.CapacityModel, "charge", charge)
        original_throttle = model.CapacityModel._throttle

        def throttle(self: model.CapacityModel, charge: model.Charge) -> None:
            original_throttle(self, charge)
            if charge.table == trace.table:
                with trace.lock:
                    trace.throttles.append(trace.now())

        self._patch(model.CapacityModel, "_throttle", throttle)

    def close(self) -> None:
        for owner, name, value in reversed(self._undo):
            setattr(owner, name, value)
        self._undo.clear()

    def rows(self, interval: float, capacity: float, percent: float) -> list[dict[str, Any]]:
        """One row per `interval` seconds of the run."""
        with self.lock:
            end = max([t for t, *_ in self.charges] + [t for t, *_ in self.paces] + [0.0])
            total: defaultdict[int, float] = defaultdict(float)
            app: defaultdict[int, float] = defaultdict(float)
            throttled: defaultdict[int, int] = defaultdict(int)
            for t, units in self.charges:
                total[int(t // interval)] += units
            for t, units in self.app_units:
                app[int(t // interval)] += units
            for t in self.throttles:
                throttled[int(t // interval)] += 1
            out = []
            granted = budget = seen = None
            active = 0
            for n in range(int(end // interval) + 1):
                stop = (n + 1) * interval
                for t, write, budget_write, act in self.paces:
                    if t < stop:
                        granted, budget, active = write, budget_write, act
                for t, _, used, _ in self.budgets:
                    if t < stop:
                        seen = used
                app_rate = app[n] / interval
                out.append(
                    {
                        "t": round(stop, 1),
                        "granted": None if granted is None else round(granted, 2),
                        "budget": None if budget is None else round(budget, 2),
                        "active": active,
                        "app_seen": None if seen is None else round(seen, 2),
                        "app_real": round(app_rate, 2),
                        "migration": round((total[n] - app[n]) / interval, 2),
                        "allowed": round(max(1.0, capacity * percent / 100 - app_rate), 2),
                        "throttles": throttled[n],
                    }
                )
            return out


def print_rows(rows: list[dict[str, Any]]) -> None:
    header = "t granted budget active app_seen app_real migration allowed throttles"
    print(header, flush=True)
    for r in rows:
        print(
            f"{r['t']:>6} {r['granted']!s:>7} {r['budget']!s:>6} {r['active']:>6} "
            f"{r['app_seen']!s:>8} {r['app_real']:>8} {r['migration']:>9} {r['allowed']:>7} "
            f"{r['throttles']:>9}",
            flush=True,
        )
