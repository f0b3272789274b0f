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


BACKUP = {"dynamodb:CreateBackup", "dynamodb:DescribeContinuousBackups"}


def _backup_grants(nested):
    """(Sid, resources) of every statement of the data role that grants a backup action."""
    policy = nested["Resources"]["DataRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    for statement in policy["Statement"]:
        actions = statement["Action"]
        actions = {actions} if isinstance(actions, str) else set(actions)
        if actions & BACKUP or any(a in ("*", "dynamodb:*") for a in actions):
            assert actions & BACKUP == BACKUP  # exactly both, never a wildcard
            yield statement["Sid"], statement["Resource"]


@pytest.mark.parametrize("nested", NESTED)
def test_the_data_role_backs_up_only_its_own_tables(nested):
    """The restore point's DescribeContinuousBackups and CreateBackup are granted on the
    migration's own table (and its Target), "per-table" (Developer Guide, "Using IAM with
    DynamoDB backup and restore"), and only when the migration takes a restore point."""
    definition = nested["Resources"]["StateMachine"]["Properties"]["Definition"]
    takes_backup = definition["StartAt"] == "RestorePoint"
    grants = dict(_backup_grants(nested))
    expected = {"Table"} | ({"Target"} if "TargetTableName" in nested["Parameters"] else set())
    assert set(grants) == (expected if takes_backup else set())
    for sid, resources in grants.items():
        arns = [r["Fn::Sub"] for r in (resources if isinstance(resources, list) else [resources])]
        name = "${TableName}" if sid == "Table" else "${TargetTableName}"
        assert all(f":table/{name}" in arn for arn in arns)
        assert not any(arn.endswith("/*") and "/index/" not in arn for arn in arns)


def test_backup_cases_are_covered():
    starts = {
        n["Resources"]["StateMachine"]["Properties"]["Definition"]["StartAt"]
        for n in (p.values[0] for p in NESTED)
    }
    assert starts == {"RestorePoint", "Plan"}


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({"Up": {"Delete": {}}}, True),  # restored on rollback: before-images
        ({"Up": {"Delete": {}}, "Down": {"Keep": {}}}, False),  # repeatable, nothing kept
        ({"Up": {"Update": {"Expression": "SET n = n + :one"}}, "Down": {"Keep": {}}}, True),
        ({"Up": {"Function": "f"}, "Down": {"Keep": {}}}, True),
        ({"Up": {"Delete": {}}, "Down": {"Update": {"Expression": "SET a = :b"}}}, True),
    ],
)
def test_the_data_role_reaches_the_bucket_only_when_a_run_journals(props, expected):
    """runner.journal: a page journal for any Update or Function (the runner writes one only
    for the ones that are not repeatable), before-images for a restoring rollback."""
    from macro.rollback import keeps_journal

    assert keeps_journal(props) is expected
