"""The local CloudFormation's stack operation ends every request thread it started."""

from __future__ import annotations

import threading
from typing import Any

from dynamigrate.local.cloudformation.operation import StackOperation


def test_a_cancelled_request_is_abandoned_and_its_thread_has_ended_when_run_returns():
    statuses: list[str] = []
    waited: list[str] = []

    def send(kind: str, logical_id: str, props: Any, physical: Any, old: Any, **kw: Any) -> Any:
        if logical_id == "Slow" and kind == "Create":
            abandoned: threading.Event = kw["abandoned"]
            abandoned.wait(30)  # the sender waits for an answer until no one waits for it
            waited.append("abandoned" if abandoned.is_set() else "timed out")
            return {"Status": "FAILED", "Reason": "cancelled", "PhysicalResourceId": "x"}
        status = "FAILED" if logical_id == "Broken" and kind == "Create" else "SUCCESS"
        return {"Status": status, "Reason": "", "PhysicalResourceId": f"{logical_id}-id"}

    operation = StackOperation("s", statuses.append, send, {}, {})
    result = operation.run(
        {"Slow": {}, "Broken": {}}, {}, lambda a, b: a == b, disable_rollback=False
    )
    assert result.cancelled == ["Slow"]
    assert waited == ["abandoned"]
    assert not [t for t in threading.enumerate() if t.name.startswith("cfn-")]
    assert result.status == "ROLLBACK_COMPLETE"
