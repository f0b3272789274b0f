"""Issue 28, "Runs on real AWS, part 2": what the macro emits, checked against AWS's documents.

Sources (titles and addresses) are beside each test; the facts are in notes/aws-facts.md.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from dynamigrate.local.cloudformation.intrinsics import Scope, resolve, state_machine_definition
from macro.errors import InvalidTemplateError
from macro.expand import MAX_INLINE_TEMPLATE_BYTES, Settings, expand, inline_size_warning
from tests.unit.macro.golden import INPUTS, expand_case

ACCOUNT = "123456789012"


class PartitionScope(Scope):
    """CloudFormation's pseudo parameters in another partition (Scope knows only aws, aws-cn)."""

    partition: str = "aws"

    def pseudo(self) -> dict[str, str]:
        return {**super().pseudo(), "AWS::Partition": self.partition}


def scope_in(partition: str, region: str, parameters: dict[str, Any] | None = None) -> Scope:
    scope = PartitionScope(parameters=dict(parameters or {}), region=region, account_id=ACCOUNT)
    scope.partition = partition
    return scope


def settings_in(partition: str, region: str) -> Settings:
    """What the installed application gives the macro there: ARNs from GetAtt, in its partition."""
    return Settings(
        runner_arn=f"arn:{partition}:lambda:{region}:{ACCOUNT}:function:DynamoMigrations-runner",
        worker_function_arn=f"arn:{partition}:lambda:{region}:{ACCOUNT}:function:worker",
        worker_role_arn=f"arn:{partition}:iam::{ACCOUNT}:role/worker",
        history_table="dynamigrate-history",
    )


def machine_of(nested: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = nested["Resources"]["StateMachine"]["Properties"]
    return properties


# ---- 1. partitions -----------------------------------------------------------------------------
# aws/aws-cdk issue 4597 ("The resource belongs to a different partition from the running
# execution"), fixed by aws/aws-cdk pull request 4598; AWS CloudFormation User Guide, "Pseudo
# parameters reference" (AWS::Partition: aws, aws-cn, aws-us-gov).

PARTITIONS = [("aws-cn", "cn-north-1"), ("aws-us-gov", "us-gov-west-1")]


@pytest.mark.parametrize(("partition", "region"), PARTITIONS)
@pytest.mark.parametrize("path", INPUTS, ids=[p.stem for p in INPUTS])
def test_expansion_names_no_aws_partition_arn_in_another_partition(path, partition, region):
    from dynamigrate.templates import load_template

    nested: dict[str, Any] = {}

    def upload(key: str, body: bytes) -> str:
        nested[key] = json.loads(body)
        return f"https://artifacts.s3.{region}.amazonaws.com/{key}"

    expanded = expand(load_template(path), settings_in(partition, region), upload)
    assert "arn:aws:" not in json.dumps(expanded)
    for body in nested.values():
        assert "arn:aws:" not in json.dumps(body)  # no literal partition anywhere
        machine = machine_of(body)
        values = {
            name: resolve(value, scope_in(partition, region, {"TableName": "t"}), name)
            for name, value in machine["DefinitionSubstitutions"].items()
            if name == "LambdaInvoke"
        }
        text = state_machine_definition(machine, {**_stand_ins(machine), **values})
        assert f"arn:{partition}:states:::lambda:invoke" in text
        assert "arn:aws:" not in text


def _stand_ins(machine: dict[str, Any]) -> dict[str, str]:
    return {n: f"<{n}>" for n in machine["DefinitionSubstitutions"] if n != "LambdaInvoke"}


def test_every_task_resource_is_one_whole_substitution():
    """cfn-lint's E3601 accepts a Resource that is exactly `${Name}` of a substitution."""
    for path in INPUTS:
        for body in expand_case(path)["nested"].values():
            machine = machine_of(body)
            assert machine["DefinitionSubstitutions"]["LambdaInvoke"] == {
                "Fn::Sub": "arn:${AWS::Partition}:states:::lambda:invoke"
            }
            resources = _task_resources(machine["Definition"])
            assert resources
            assert set(resources) == {"${LambdaInvoke}"}


def _task_resources(definition: dict[str, Any]) -> list[str]:
    found = []
    for state in definition["States"].values():
        if state["Type"] == "Task":
            found.append(state["Resource"])
        if state["Type"] == "Map":
            found.extend(_task_resources(state["ItemProcessor"]))
    return found


# ---- 2. a Condition in a table's chain ---------------------------------------------------------
# AWS CloudFormation User Guide, "DependsOn attribute" (a resource may depend on resources that
# the template creates) and "Conditions syntax"; cfn-lint E3005 flags a DependsOn on a resource
# whose Condition may be false. DependsOn takes no intrinsic function.


def fragment(**migrations: dict[str, Any]) -> dict[str, Any]:
    resources: dict[str, Any] = {
        "Orders": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            },
        }
    }
    for logical_id, extra in migrations.items():
        condition = extra.pop("Condition", None)
        resources[logical_id] = {
            "Type": "Custom::DynamoMigration",
            "Properties": {
                "TableName": {"Ref": "Orders"},
                "Up": {"Update": {"Expression": "SET v = :t", "Values": {":t": True}}},
                **extra,
            },
            **({"Condition": condition} if condition else {}),
        }
    return {
        "Parameters": {"Stage": {"Type": "String", "Default": "dev"}},
        "Conditions": {
            "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
            "IsEu": {"Fn::Equals": [{"Ref": "AWS::Region"}, "eu-west-1"]},
        },
        "Resources": resources,
    }


def errors_of(template: dict[str, Any]) -> list[str]:
    with pytest.raises(InvalidTemplateError) as caught:
        expand(template, settings_in("aws", "us-east-1"), lambda k, b: f"https://x/{k}")
    return [str(p) for p in caught.value.problems]


def test_an_unconditional_migration_after_a_conditional_one_is_refused_at_its_condition():
    template = fragment(
        A={"MigrationId": "1"},
        B={"MigrationId": "2", "Condition": "IsProd"},
        C={"MigrationId": "3"},
    )
    (problem,) = errors_of(template)
    assert problem.startswith("Resource [B] property Condition: C, the next migration")
    assert "has no Condition" in problem
    assert "'IsProd'" in problem


def test_two_conditions_on_one_chain_are_refused():
    template = fragment(
        A={"MigrationId": "1", "Condition": "IsProd"}, B={"MigrationId": "2", "Condition": "IsEu"}
    )
    (problem,) = errors_of(template)
    assert problem.startswith("Resource [A] property Condition: B, the next migration")
    assert "has the Condition 'IsEu'" in problem


def test_conditional_migrations_last_depend_on_what_always_exists_when_they_do():
    out = expand(
        fragment(
            A={"MigrationId": "1"},
            B={"MigrationId": "2", "Condition": "IsProd"},
            C={"MigrationId": "3", "Condition": "IsProd"},
        ),
        settings_in("aws", "us-east-1"),
        lambda k, b: f"https://x/{k}",
    )["Resources"]
    assert "DependsOn" not in out["A"]
    assert (out["B"]["DependsOn"], out["B"]["Condition"], out["BStack"]["Condition"]) == (
        ["A"],
        "IsProd",
        "IsProd",
    )
    assert out["C"]["DependsOn"] == ["B"]


def test_the_golden_conditional_chain_is_lint_clean_with_the_condition_false_and_true():
    """cfn-lint's E3005 finds a DependsOn on a resource that may not exist; none here."""
    import cfnlint.api

    from dynamigrate.lint import lint_expanded

    (path,) = [p for p in INPUTS if p.stem == "conditional_chain"]
    expanded = expand_case(path)["template"]
    assert [str(m) for m in lint_expanded(expanded) if m.rule.id == "E3005"] == []
    # The refused order would be flagged by cfn-lint itself, which is what the check prevents.
    bad = json.loads(json.dumps(expanded))
    bad["Resources"]["OrdersBase"]["Condition"] = "IsProd"
    bad["Resources"]["OrdersProdBackfill"].pop("Condition")
    bad["Resources"]["OrdersProdBackfillStack"].pop("Condition")
    bad["Resources"]["OrdersProdBackfill"]["DependsOn"] = ["OrdersBase"]
    bad.pop("Transform", None)
    found = [m for m in cfnlint.api.lint(json.dumps(bad), regions=["us-east-1"])]
    assert any(m.rule.id == "E3005" for m in found)


# ---- 3. the spec is one string -----------------------------------------------------------------
# Step Functions Developer Guide, "Parameters" / "Using JsonPath": a key ending in `.$` takes a
# path (or an intrinsic function) as its value.


def _keys(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [k for k in value] + [k for v in value.values() for k in _keys(v)]
    if isinstance(value, list):
        return [k for v in value for k in _keys(v)]
    return []


def test_no_key_of_a_users_value_reaches_the_task_parameters():
    template = fragment(
        A={"Up": {"Update": {"Expression": "SET d = :v", "Values": {":v": {"x.$": "$.runId"}}}}}
    )
    (body,) = _nested(template).values()
    definition = machine_of(body)["Definition"]
    assert "x.$" not in _keys(definition)
    payload = definition["States"]["Segments"]["ItemProcessor"]["States"]["Work"]["Parameters"]
    spec = json.loads(payload["Payload"]["spec"])
    assert spec["Up"]["Update"]["Values"] == {":v": {"x.$": "$.runId"}}


def _nested(template: dict[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}

    def upload(key: str, body: bytes) -> str:
        nested[key] = json.loads(body)
        return f"https://x/{key}"

    expand(template, settings_in("aws", "us-east-1"), upload)
    return nested


# ---- 4, 5, 6. retries and the shape a redrive needs ---------------------------------------------


def _definition(template: dict[str, Any]) -> dict[str, Any]:
    (body,) = _nested(template).values()
    definition: dict[str, Any] = machine_of(body)["Definition"]
    return definition


def test_a_worker_that_times_out_or_runs_out_of_memory_is_retried():
    """Step Functions Developer Guide, "Handle transient Lambda service exceptions"
    (https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html):
    unhandled errors, out-of-memory errors and function timeouts among them, are reported as
    `Lambda.Unknown`; `Sandbox.Timedout` is kept for the reading where a timeout shows as it."""
    for source in ({}, {"Source": {"Query": {"KeyCondition": "pk = :p", "Values": {":p": "1"}}}}):
        definition = _definition(fragment(A=dict(source)))
        states = definition["States"]
        work = (
            states["QueryWork"] if source else states["Segments"]["ItemProcessor"]["States"]["Work"]
        )
        timeouts = [r for r in work["Retry"] if "Sandbox.Timedout" in r["ErrorEquals"]]
        assert len(timeouts) == 1
        assert "Lambda.Unknown" in timeouts[0]["ErrorEquals"]


def test_the_map_retries_a_run_that_could_not_start_its_children():
    """The Map's permissions (DistributedMapPolicy) are attached after the state machine exists.
    Which error a Map Run that may not start its children raises is not documented ("Redriving
    Map Runs" names the permissions as a cause of a Map Run that failed or did not start); both
    readings are retried: States.Runtime and States.ExceedToleratedFailureThreshold."""
    segments = _definition(fragment(A={}))["States"]["Segments"]
    (retry,) = segments["Retry"]
    assert set(retry["ErrorEquals"]) == {"States.Runtime", "States.ExceedToleratedFailureThreshold"}
    assert retry["MaxAttempts"] >= 1
    assert retry["IntervalSeconds"] >= 5


def test_a_failed_map_fails_the_execution_so_a_redrive_redrives_the_map_run():
    """Step Functions Developer Guide, "Redriving Map Runs"
    (https://docs.aws.amazon.com/step-functions/latest/dg/redrive-map-run.html): a parent
    redrives a Map Run only if its history has no MapStateExited for the MapStateEntered. A
    Catch would exit the Map state, and a redrive would run only what followed it."""
    for source in ({}, {"Source": {"Query": {"KeyCondition": "pk = :p", "Values": {":p": "1"}}}}):
        states = _definition(fragment(A=dict(source)))["States"]
        for name, state in states.items():
            assert "Catch" not in state, name
        if not source:
            for name, state in states["Segments"]["ItemProcessor"]["States"].items():
                assert "Catch" not in state, name


# ---- 7. the window under the macro's own name ---------------------------------------------------


def test_the_custom_resource_carries_the_window_under_its_own_name_too():
    """AWS::CloudFormation::CustomResource reference: ServiceTimeout is a property CloudFormation
    reads; that it reaches the handler in ResourceProperties is not documented."""
    out = expand(
        fragment(A={"ServiceTimeout": 900}, B={"MigrationId": "z"}),
        settings_in("aws", "us-east-1"),
        lambda k, b: f"https://x/{k}",
    )["Resources"]
    assert out["A"]["Properties"]["ServiceTimeoutSeconds"] == 900
    assert out["A"]["Properties"]["ServiceTimeout"] == 900
    assert out["B"]["Properties"]["ServiceTimeoutSeconds"] == 3600


# ---- 11. inline templates ----------------------------------------------------------------------


def test_an_expansion_past_51200_bytes_carries_a_warning():
    """AWS CloudFormation User Guide, "CloudFormation quotas" and "Troubleshooting processed
    templates": 51,200 bytes inline, 1 MB through S3."""
    assert MAX_INLINE_TEMPLATE_BYTES == 51_200
    small = {"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}
    assert inline_size_warning(small) is None
    big = {"Resources": {f"T{i}": {"Type": "AWS::SNS::Topic"} for i in range(2000)}}
    warning = inline_size_warning(big)
    assert warning
    assert "51200" in warning
    assert "S3" in warning
