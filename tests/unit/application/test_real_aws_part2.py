"""Issue 28, "Runs on real AWS, part 2": the application template and the runner.

Sources (titles and addresses) are beside each test; the facts are in notes/aws-facts.md.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from parliament import analyze_policy_string, is_arn_match

from dynamigrate.local.cloudformation.intrinsics import resolve, state_machine_definition
from dynamigrate.templates import load_template
from runner.controller_state import failure_reason, window_seconds
from runner.entry import controller_input, deadline, sent_at
from runner.lifecycle import Request
from runner.worker import spec_of
from tests.paths import ROOT
from tests.unit.application.test_iam_policies import POLICIES
from tests.unit.macro.test_real_aws_part2 import PARTITIONS, scope_in

TEMPLATE = ROOT / "template.yaml"


def application() -> dict[str, Any]:
    return load_template(TEMPLATE)


def controller() -> dict[str, Any]:
    properties: dict[str, Any] = application()["Resources"]["Controller"]["Properties"]
    return properties


# ---- 1. partitions ---------------------------------------------------------------------------
# aws/aws-cdk issue 4597, pull request 4598; "Pseudo parameters reference" (AWS::Partition).


@pytest.mark.parametrize(("partition", "region"), PARTITIONS)
def test_the_controller_names_no_aws_partition_arn_in_another_partition(partition, region):
    props = controller()
    values = {
        name: resolve(value, scope_in(partition, region), name)
        for name, value in props["DefinitionSubstitutions"].items()
        if name != "ControllerFunctionArn"
    }
    values["ControllerFunctionArn"] = f"arn:{partition}:lambda:{region}:1:function:controller"
    text = state_machine_definition(props, values)
    assert "arn:aws:" not in text
    assert text.count(f'"arn:{partition}:states:::lambda:invoke"') == 5


def test_no_literal_aws_partition_arn_is_left_in_the_application_template():
    assert "arn:aws:" not in json.dumps(application())


def test_a_local_run_resolves_the_partition_substitution_itself():
    """The local engine (moto) executes the definition as written: the substitution it is not
    given a value for is resolved as CloudFormation would, in the emulator's partition."""
    text = state_machine_definition(controller(), {"ControllerFunctionArn": "arn:fn"})
    assert '"arn:aws:states:::lambda:invoke"' in text
    assert "${" not in text


# ---- 4. Lambda timeouts ------------------------------------------------------------------------
# "Handle transient Lambda service exceptions": function timeouts and out-of-memory errors are
# reported as Lambda.Unknown.


def test_every_controller_step_retries_a_function_timeout():
    tasks = {n: s for n, s in controller()["Definition"]["States"].items() if s["Type"] == "Task"}
    assert len(tasks) == 5
    for name, state in tasks.items():
        errors = [e for retry in state["Retry"] for e in retry["ErrorEquals"]]
        assert {"Lambda.Unknown", "Sandbox.Timedout"} <= set(errors), name


# ---- 8. the controller's reach -----------------------------------------------------------------
# Service Authorization Reference, "Actions, resources, and condition keys for AWS Step
# Functions" (https://docs.aws.amazon.com/service-authorization/latest/reference/
# list_awsstepfunctions.html): DescribeExecution and StopExecution take the resource type
# execution, arn:${Partition}:states:${Region}:${Account}:execution:${StateMachineName}:
# ${ExecutionId}. The macro names each migration's state machine dynamigrate-<stack id>.

OTHER = "arn:aws:states:us-east-1:123456789012:execution:payments-workflow:run-1"
STACK_UUID = "0a1b2c3d-0000-4000-8000-0123456789ab"
OURS = f"arn:aws:states:us-east-1:123456789012:execution:dynamigrate-{STACK_UUID}:Orders-abc"


def _grants(document: dict[str, Any], action: str) -> list[str]:
    """The resources parliament finds a policy allowing `action` on (its own expansion)."""
    prefix, name = action.split(":")
    policy = analyze_policy_string(json.dumps(document))
    return [
        str(resource)
        for statement in policy.statements
        if statement.effect_allow
        for resource in statement.get_resources_for_privilege(prefix, name)
    ]


@pytest.mark.parametrize("action", ["states:DescribeExecution", "states:StopExecution"])
def test_the_controller_follows_and_stops_only_migration_executions(action):
    (document,) = [d for w, d in POLICIES if w == "template.yaml:ControllerFunction.Policies[0]"]
    granted = _grants(document, action)
    assert granted
    # parliament's own ARN matching: can a granted resource be this execution?
    assert any(is_arn_match("execution", OURS, g) for g in granted)
    assert not any(is_arn_match("execution", OTHER, g) for g in granted), granted


def test_the_migration_state_machines_carry_the_name_the_controller_may_follow():
    from tests.unit.macro.golden import INPUTS, expand_case

    for path in INPUTS:
        for body in expand_case(path)["nested"].values():
            name = body["Resources"]["StateMachine"]["Properties"]["StateMachineName"]
            stack_id = f"arn:aws:cloudformation:us-east-1:1:stack/p-OrdersStack-X/{STACK_UUID}"
            scope = scope_in("aws", "us-east-1")
            scope.refs["AWS::StackId"] = stack_id  # the pseudo parameter, as in that stack
            scope.pseudo = dict  # type: ignore[method-assign,assignment]
            resolved = resolve(name, scope, "StateMachineName")
            assert (
                resolved == f"dynamigrate-{STACK_UUID}"
            )  # 48 characters: Step Functions allows 80
            assert OURS.split(":")[6] == resolved


# ---- 9. the answer window ----------------------------------------------------------------------
# Lambda Developer Guide, "Configuring error handling for asynchronous invocation" and
# AWS::Lambda::EventInvokeConfig (MaximumEventAgeInSeconds, 60-21600): an asynchronous event
# waits in Lambda's queue, at most that long. S3 API Reference, "Authenticating Requests: Using
# Query Parameters (AWS Signature Version 4)": X-Amz-Date is when the URL was signed.

EVENT = {
    "RequestType": "Create",
    "RequestId": "req-1",
    "LogicalResourceId": "OrdersAddStatus",
    "ResourceProperties": {"ServiceTimeout": "600"},
}


def test_the_queue_wait_is_bounded_and_the_runner_knows_the_bound():
    resources = application()["Resources"]
    config = resources["CustomResourceInvokeConfig"]["Properties"]
    env = resources["CustomResourceFunction"]["Properties"]["Environment"]["Variables"]
    assert config["FunctionName"] == {"Ref": "CustomResourceFunction"}
    assert int(env["MAX_EVENT_AGE_SECONDS"]) == config["MaximumEventAgeInSeconds"]
    assert 60 <= config["MaximumEventAgeInSeconds"] <= 300


def test_without_a_signing_time_the_whole_queue_bound_is_counted():
    payload = json.loads(
        controller_input(EVENT, poll_seconds=15, max_polls=1000, now=1000, max_event_age=120)
    )
    assert payload["config"]["deadline"] == 1000 - 120 + window_seconds(600)


def test_with_a_signing_time_the_requests_age_is_counted():
    signed = 1_767_225_600  # 2026-01-01T00:00:00Z
    url = (
        "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x?"
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20260101T000000Z&X-Amz-Expires=7200"
    )
    event = {**EVENT, "ResponseURL": url}
    assert sent_at(event) == signed
    assert deadline(event, now=signed + 45, max_event_age=120) == signed + window_seconds(600)
    # A time that cannot be the signing of this request falls back to the bound.
    assert deadline(event, now=signed + 7200, max_event_age=120) == (
        signed + 7200 - 120 + window_seconds(600)
    )


def test_the_deadline_is_never_in_the_past():
    short = {**EVENT, "ResourceProperties": {"ServiceTimeout": "60"}}
    assert deadline(short, now=1000, max_event_age=120) == 1001


# ---- 7. ServiceTimeout under the macro's own name ------------------------------------------------


def test_the_runner_reads_the_window_from_the_macros_own_name():
    own = {**EVENT, "ResourceProperties": {"ServiceTimeoutSeconds": "900"}}
    payload = json.loads(controller_input(own, poll_seconds=15, max_polls=1000, now=0))
    assert payload["config"]["deadline"] == window_seconds(900)
    props = {
        "MigrationId": "m",
        "TableName": "t",
        "Checksum": "c",
        "ServiceTimeoutSeconds": "900",
    }
    event = {"RequestType": "Create", "StackId": "s", "ResourceProperties": props}
    assert Request.from_event(event).service_timeout == 900
    # Resources expanded before the name existed still work, and the new name wins.
    props_old = {**props, "ServiceTimeout": "300"}
    props_old.pop("ServiceTimeoutSeconds")
    assert Request.from_event({**event, "ResourceProperties": props_old}).service_timeout == 300
    both = {**props, "ServiceTimeout": "300"}
    assert Request.from_event({**event, "ResourceProperties": both}).service_timeout == 900


# ---- 3. the worker parses the spec string -------------------------------------------------------


def test_the_worker_reads_the_spec_as_one_string_or_as_an_object():
    spec = {"MigrationId": "m", "TableName": "t", "Up": {"Delete": {}}}
    assert spec_of({"spec": json.dumps(spec)}) == spec
    assert spec_of({"spec": spec}) == spec  # a state machine rendered before the string form


# ---- 6. a failed Map: the segments' errors reach the answer -------------------------------------


def test_a_failed_execution_reports_the_segments_errors():
    desc = {"status": "FAILED", "cause": "The specified tolerated failure threshold was exceeded"}
    errors = [f"up#seg{i}: ValueError: bad {i}" for i in range(5)]
    assert failure_reason(desc, errors) == "; ".join(errors[:3]) + "; and 2 more segments failed"
    assert failure_reason(desc, []) == desc["cause"]


# ---- 10. the artifacts bucket's policy ----------------------------------------------------------
# Amazon S3 User Guide, "Blocking public access to your Amazon S3 storage", section "The meaning
# of 'public'" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/
# access-control-block-public-access.html#access-control-block-public-access-policy-status):
# a policy is non-public only if each grant is to a fixed principal or is limited by fixed values
# of aws:SourceIp, aws:SourceArn, aws:SourceVpc, aws:SourceVpce, aws:SourceOwner,
# aws:SourceAccount, s3:x-amz-server-side-encryption-aws-kms-key-id or aws:userid; s3:Get* is a
# "bad action". aws:PrincipalAccount is not in that list.

NON_PUBLIC_KEYS = {
    "aws:sourceip",
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceowner",
    "aws:sourceaccount",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "aws:userid",
}


def test_the_bucket_policy_is_not_public_so_block_public_policy_accepts_it():
    policy = application()["Resources"]["ArtifactsBucketPolicy"]["Properties"]["PolicyDocument"]
    for statement in policy["Statement"]:
        if statement["Effect"] != "Allow":
            continue
        fixed_principal = statement["Principal"] != "*" and "*" not in json.dumps(
            statement["Principal"]
        )
        keys = {
            key.lower()
            for condition in statement.get("Condition", {}).values()
            for key in condition
        }
        assert fixed_principal or keys & NON_PUBLIC_KEYS, statement["Sid"]
    assert application()["Resources"]["ArtifactsBucket"]["Properties"][
        "PublicAccessBlockConfiguration"
    ]["BlockPublicPolicy"]


def test_the_runner_passes_its_queue_bound_to_the_deadline(monkeypatch):
    import runner.entry
    from runner.handlers import custom_resource

    seen: dict[str, Any] = {}

    def start(event: dict[str, Any], sfn: Any, arn: str, **kwargs: Any) -> str:
        seen.update(kwargs)
        return "arn:execution"

    monkeypatch.setattr(runner.entry, "start_controller", start)
    monkeypatch.setenv("CONTROLLER_ARN", "arn:controller")
    monkeypatch.setenv("MAX_EVENT_AGE_SECONDS", "120")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    custom_resource.handler(EVENT, None)
    assert seen["max_event_age"] == 120
