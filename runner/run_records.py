"""A run's records as its migration record shows them: the restore point and the verification.

Each is one item in the run's history (runner.restore_point, runner.verification), read by the
same Query that sums the run's segments (runner.history.run_totals); the controller copies them
into the migration record with the run's counters, so `history` and `status` show them, and
`runs` keeps them for earlier runs (runner.ledger.RUN_FIELDS).
"""

from __future__ import annotations

from typing import Any

from runner.restore_point import RESTORE_POINT_SK, RestorePoint

VERIFICATION_SK = "verification"


def recorded(records: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Plain values for the migration record: `restorePoints` and `verification` (None when
    the run kept none, so a run never shows its predecessor's)."""
    out: dict[str, Any] = {"restorePoints": None, "verification": None}
    point = records.get(RESTORE_POINT_SK)
    if point and "points" in point:
        out["restorePoints"] = [
            RestorePoint.from_item(p).as_json() for p in point["points"].get("L", [])
        ]
    verification = records.get(VERIFICATION_SK)
    if verification and "violations" in verification:
        out["verification"] = {
            "checked": int(verification["checked"]["N"]),
            "violations": int(verification["violations"]["N"]),
            "maxViolations": int(verification["maxViolations"]["N"]),
            "passed": bool(verification["passed"]["BOOL"]),
            "sampleKeys": [k["S"] for k in verification.get("sampleKeys", {}).get("L", [])],
        }
    return out
