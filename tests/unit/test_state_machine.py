import json

import cfnlint.api
import pytest

from macro.state_machine import render_state_machine, writes_share

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
    assert d["States"]["Plan"]["Parameters"]["segments.$"] == "States.ArrayRange(0, 15, 1)"
    seg = d["States"]["Segments"]
    assert seg["ItemProcessor"]["ProcessorConfig"] == {
        "Mode": "DISTRIBUTED",
        "ExecutionType": "STANDARD",
    }
    assert seg["MaxConcurrency"] == 4
    assert seg["ResultPath"] is None  # no per-item payload ever accumulates
    work = seg["ItemProcessor"]["States"]["Work"]["Parameters"]["Payload"]
    assert work["totalSegments"] == 16
    assert work["spec"]["Up"] == UPDATE


def test_query_runs_one_loop_without_a_map():
    d = render(spec(Source={"Query": {"KeyCondition": "pk = :p", "Values": {":p": "1"}}}))
    assert list(d["States"]) == ["Plan", "QueryWork", "QueryMore", "Summarize"]
    assert d["States"]["QueryWork"]["Parameters"]["Payload"]["segment"] == 0


def test_segments_are_bounded_by_array_range():
    with pytest.raises(ValueError, match="between 1 and 1000"):
        render(spec(Source={"Scan": {"Segments": 1001}}))
    assert render(spec(Source={"Scan": {"Segments": 1000}}))["States"]["Segments"]


def test_write_rate_is_shared_among_running_segments():
    assert writes_share(spec(MaxWritesPerSecond=100, Source={"Scan": {"Segments": 8}})) == 12.5
    assert (
        writes_share(
            spec(MaxWritesPerSecond=100, MaxConcurrency=4, Source={"Scan": {"Segments": 16}})
        )
        == 25
    )
    assert writes_share(spec()) is None


@pytest.mark.parametrize(
    "nasty", ['"}, "Type": "Fail', "{{ 7*7 }}", "${AWS::Region}", "line\nbreak", "{% raw %}"]
)
def test_user_values_cannot_change_the_structure(nasty):
    s = spec(Up={"Update": {"Expression": nasty, "Values": {":v": nasty}}}, MigrationId=nasty)
    d = render(s)
    assert list(d["States"]) == ["Plan", "Segments", "Summarize"]
    payload = d["States"]["Segments"]["ItemProcessor"]["States"]["Work"]["Parameters"]["Payload"]
    assert payload["spec"]["Up"]["Update"]["Expression"] == nasty
    assert d["Comment"] == f"dynamigrate migration {nasty}"
