"""What each migration's nested stack allows its state machine, checked over every golden case."""

from __future__ import annotations

import pytest

from tests.unit.macro.golden import INPUTS, expand_case

NESTED = [
    pytest.param(nested, id=f"{path.stem}-{n}")
    for path in INPUTS
    for n, nested in enumerate(expand_case(path)["nested"].values())
]


@pytest.mark.parametrize("nested", NESTED)
def test_a_failed_run_can_be_redriven_with_its_map_run(nested):
    """Redriving the parent execution redrives its failed Map Run: the state machine's role needs
    states:RedriveExecution on the Map Run's child executions (Step Functions Developer Guide,
    "Redriving Map Runs", IAM permissions)."""
    policy = nested["Resources"]["DistributedMapPolicy"]["Properties"]["PolicyDocument"]
    children = next(s for s in policy["Statement"] if "states:StopExecution" in s["Action"])
    assert "states:RedriveExecution" in children["Action"]
    template, names = children["Resource"]["Fn::Sub"]
    assert template.endswith(":execution:${Name}/*")  # the children of this state machine only
    assert names == {"Name": {"Fn::GetAtt": ["StateMachine", "Name"]}}
