"""`make demo` runs the demo module: it must succeed and show each migration's outcome."""

from __future__ import annotations

from dynamigrate import demo


def test_demo_runs_both_migrations(monkeypatch, capsys):
    monkeypatch.setattr(demo, "ITEMS", 100)
    assert demo.main() == 0
    out = capsys.readouterr().out
    assert "2026-01-10-add-status: every order gets a status\n  SUCCEEDED" in out
    assert "updated 75" in out  # three quarters of the orders had no status yet
    assert "updated 96, deleted 4" in out  # test orders (every 25th) are dropped
    assert "after : (deleted)" in out
