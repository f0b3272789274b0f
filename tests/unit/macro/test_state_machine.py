import json

import cfnlint.api
import pytest

from macro.state_machine import render_state_machine

UPDATE = {"Update": {"Expression": "SET #s = :p", "Names": {"#s": "status"}, "Values": {":p": "P"}}}


def spec(**extra):
    return {"MigrationId": "m1", "TableName": "Orders", "Up": UPDATE, **extra}


def render(s):
    return render_state_machine(
        s, worker_function="arn:aws:lambda:us-east-1:1:function:w", history_table="History"
    )


def lint(definition):
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "states.amazonaws.com"},
                                "Action": "sts:AssumeRole",
                            }
                        ],
                    }
                },
            },
            "Machine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "Definition": definition,
                    "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
                },
            },
        },
    }
    return [str(m) for m in cfnlint.api.lint(json.dumps(template), regions=["us-east-1"])]


@pytest.mark.parametrize(
    "source",
    [
        None,
        {"Scan": {"Segments": 1}},
        {"Scan": {"Segments": 16, "Filter": "a = :b"}},
        {"Query": {"IndexName": "GSI1", "KeyCondition": "g = :g", "Values": {":g": "x"}}},
    ],
)
def test_rendered_definitions_pass_cfn_lint(source):
    definition = render(spec(Source=source) if source else spec())
    assert lint(definition) == []


def test_scan_fans_out_over_a_distributed_map_of_segments():
    d = render(spec(Source={"Scan": {"Segments": 16}}, MaxConcurrency=4))
    plan = d["States"]["Plan"]
    assert plan["Type"] == "Pass"
    assert plan["Parameters"] == {"segments.$": "States.ArrayRange(0, 15, 1)", "totalSegments": 16}
    assert plan["ResultPath"] == "$.plan"
    seg = d["States"]["Segments"]
    assert seg["ItemProcessor"]["ProcessorConfig"] == {
        "Mode": "DISTRIBUTED",
        "ExecutionType": "STANDARD",
    }
    assert seg["MaxConcurrency"] == 4
    assert seg["ResultPath"] is None  # no per-item payload ever accumulates
    assert seg["ItemsPath"] == "$.plan.segments"
    assert seg["ItemSelector"]["plan"] == {"totalSegments.$": "$.plan.totalSegments"}
    work = seg["ItemProcessor"]["States"]["Work"]["Parameters"]["Payload"]
    assert work["totalSegments.$"] == "$.plan.totalSegments"
    assert json.loads(work["spec"])["Up"] == UPDATE  # one JSON string: no key is a path
    assert "writesPerSecond" not in work  # each worker derives its share from the spec


def test_without_segments_a_plan_task_chooses_them_at_run_time():
    d = render(spec(MaxConcurrency=4))
    plan = d["States"]["Plan"]
    assert plan["Type"] == "Task"
    assert plan["Parameters"]["Payload"]["action"] == "plan"
    assert plan["ResultSelector"] == {
        "segments.$": "$.Payload.segments",
        "totalSegments.$": "$.Payload.totalSegments",
    }
    assert plan["ResultPath"] == "$.plan"
    assert d["States"]["Segments"]["MaxConcurrency"] == 4
    assert "MaxConcurrency" not in render(spec())["States"]["Segments"]  # unlimited
    summarize = d["States"]["Summarize"]["Parameters"]["Payload"]
    assert summarize["totalSegments.$"] == "$.plan.totalSegments"


def test_query_runs_one_loop_without_a_map():
    d = render(spec(Source={"Query": {"KeyCondition": "pk = :p", "Values": {":p": "1"}}}))
    assert list(d["States"]) == [*RESTORE_POINT, "Plan", "QueryWork", "QueryMore", "Summarize"]
    assert d["States"]["Plan"]["Parameters"] == {"totalSegments": 1}
    assert d["States"]["QueryWork"]["Parameters"]["Payload"]["segment"] == 0


RESTORE_POINT = ["RestorePoint", "BackupSettles"]


def test_restore_point_comes_before_the_plan_and_any_write():
    d = render(spec())
    assert d["StartAt"] == "RestorePoint"
    task = d["States"]["RestorePoint"]
    assert task["Parameters"]["Payload"]["action"] == "restorePoint"
    assert task["ResultPath"] == "$.restorePoint"
    assert task["Next"] == "BackupSettles"
    wait = d["States"]["BackupSettles"]
    assert wait == {**wait, "Type": "Wait", "SecondsPath": "$.restorePoint.settleSeconds"}
    assert wait["Next"] == "Plan"
    assert not lint(d)
    assert render(spec(Backup="Required"))["StartAt"] == "RestorePoint"


def test_backup_none_takes_no_restore_point():
    d = render(spec(Backup="None"))
    assert d["StartAt"] == "Plan"
    assert not set(RESTORE_POINT) & set(d["States"])


def test_segments_are_bounded_by_array_range():
    with pytest.raises(ValueError, match="between 1 and 1000"):
        render(spec(Source={"Scan": {"Segments": 1001}}))
    assert render(spec(Source={"Scan": {"Segments": 1000}}))["States"]["Segments"]


@pytest.mark.parametrize(
    "nasty", ['"}, "Type": "Fail', "{{ 7*7 }}", "${AWS::Region}", "line\nbreak", "{% raw %}"]
)
def test_user_values_cannot_change_the_structure(nasty):
    s = spec(Up={"Update": {"Expression": nasty, "Values": {":v": nasty}}}, MigrationId=nasty)
    d = render(s)
    assert list(d["States"]) == [*RESTORE_POINT, "Plan", "Segments", "Summarize"]
    payload = d["States"]["Segments"]["ItemProcessor"]["States"]["Work"]["Parameters"]["Payload"]
    assert json.loads(payload["spec"])["Up"]["Update"]["Expression"] == nasty
    assert d["Comment"] == f"dynamigrate migration {nasty}"


def _task_states(definition):
    for name, state in definition["States"].items():
        if state["Type"] == "Task":
            yield name, state
        for inner in ("ItemProcessor", "Iterator"):
            if inner in state:
                yield from _task_states(state[inner])


@pytest.mark.parametrize(
    "source",
    [None, {"Scan": {"Segments": 4}}, {"Query": {"KeyCondition": "g = :g", "Values": {":g": "x"}}}],
)
def test_every_task_that_assumes_the_data_role_waits_for_iam(source):
    """A data role created seconds before the run may not be assumable yet: Plan and the page
    worker retry RoleNotReadyError (runner.credentials gave up after a minute of its own)."""
    definition = render(spec(Source=source) if source else spec())
    assuming = {
        name: state
        for name, state in _task_states(definition)
        if state["Parameters"]["Payload"]["action"] in ("plan", "work")
    }
    assert assuming
    for name, state in assuming.items():
        retried = [e for r in state["Retry"] for e in r["ErrorEquals"]]
        assert "RoleNotReadyError" in retried, name
