"""Every IAM policy the application and the macro write, audited by parliament.

The policies of `template.yaml` (the functions', the state machine's, the bucket's) and of every
nested template the macro generates for the golden cases are resolved with example values, as
CloudFormation would resolve them, and handed to parliament (Duo Labs' IAM linter). A finding fails
the test unless `ALLOWED` lists it with the reason it is right.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from parliament import analyze_policy_string

from dynamigrate.local.cloudformation.intrinsics import Scope, resolve
from dynamigrate.templates import load_template
from tests.paths import ROOT
from tests.unit.macro.golden import INPUTS, expand_case

TEMPLATE = ROOT / "template.yaml"
ACCOUNT, REGION = "123456789012", "us-east-1"
POLICY_RESOURCES = {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::S3::BucketPolicy"}
SERVERLESS = {"AWS::Serverless::Function", "AWS::Serverless::StateMachine"}

# (where, issue, detail) -> why the finding is right for this policy. Reviewed; keep it short.
_STANDARD_ONLY = (
    "parliament wants DescribeExecution's resources to also match Express executions "
    "(execution ARNs of the form express:...); every state machine here is STANDARD, whose "
    "executions are the execution:... ARNs granted"
)
_EXPRESS = str(
    [{"action": "states:DescribeExecution", "required_format": "arn:*:states:*:*:express:*:*:*"}]
)
ALLOWED: dict[tuple[str, str, str], str] = {
    ("ControllerFunction.Policies[0]", "RESOURCE_MISMATCH", _EXPRESS): _STANDARD_ONLY,
    ("DistributedMapPolicy", "RESOURCE_MISMATCH", _EXPRESS): _STANDARD_ONLY,
}


def _example(logical_id: str, kind: str) -> tuple[str, str]:
    """An example (Ref value, Arn) for a resource of type `kind`, as CloudFormation gives them."""
    name = f"app-{logical_id}-1A2B3C"
    machine = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"
    arns = {
        "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}",
        "AWS::S3::Bucket": f"arn:aws:s3:::{name.lower()}",
        "AWS::Serverless::Function": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
        "AWS::Lambda::Function": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
        "AWS::Serverless::StateMachine": machine,
        "AWS::StepFunctions::StateMachine": machine,
        "AWS::IAM::Role": f"arn:aws:iam::{ACCOUNT}:role/{name}",
        "AWS::Logs::LogGroup": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}:*",
    }
    arn = arns.get(kind, f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{name}/guid")
    ref = arn if "StateMachine" in kind else name
    return ref, arn


def _scope(template: dict[str, Any], parameters: dict[str, str]) -> Scope:
    scope = Scope(parameters=dict(parameters), region=REGION, account_id=ACCOUNT)
    resources = dict(template.get("Resources") or {})
    for logical_id, resource in list(resources.items()):
        if resource.get("Type") in SERVERLESS:  # SAM's generated role
            resources[f"{logical_id}Role"] = {"Type": "AWS::IAM::Role"}
    for logical_id, resource in resources.items():
        ref, arn = _example(logical_id, resource.get("Type", ""))
        scope.refs[logical_id] = ref
        scope.attributes[logical_id] = {"Arn": arn, "Name": ref.rsplit(":", 1)[-1]}
    for name, spec in (template.get("Parameters") or {}).items():
        scope.parameters.setdefault(name, str(spec.get("Default", f"example-{name}")))
    return scope


def _documents(template: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for logical_id, resource in (template.get("Resources") or {}).items():
        props = resource.get("Properties") or {}
        kind = resource.get("Type")
        if kind in POLICY_RESOURCES:
            yield logical_id, props["PolicyDocument"]
        elif kind == "AWS::IAM::Role":
            for policy in props.get("Policies") or []:
                yield f"{logical_id}.{policy['PolicyName']}", policy["PolicyDocument"]
        elif kind in SERVERLESS:
            for n, policy in enumerate(props.get("Policies") or []):
                if isinstance(policy, dict) and "Statement" in policy:  # not a SAM policy template
                    yield f"{logical_id}.Policies[{n}]", {"Version": "2012-10-17", **policy}


NESTED_PARAMETERS = {
    "TableName": "Orders",
    "TargetTableName": "OrdersV2",
    "UpFunctionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:up",
    "DownFunctionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:down",
    "WorkerFunctionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:dynamigrate-worker",
    "WorkerRoleArn": f"arn:aws:iam::{ACCOUNT}:role/dynamigrate-worker",
    "HistoryTableName": "dynamigrate-history",
}


def policies() -> Iterator[tuple[str, Any]]:
    """(where, resolved policy document) for the application and every golden nested template."""
    application = load_template(TEMPLATE)
    scope = _scope(application, {})
    for where, document in _documents(application):
        yield f"template.yaml:{where}", resolve(document, scope, where)
    for path in INPUTS:
        for n, nested in enumerate(expand_case(path)["nested"].values()):
            scope = _scope(nested, NESTED_PARAMETERS)
            for where, document in _documents(nested):
                yield f"{path.stem}[{n}]:{where}", resolve(document, scope, where)


POLICIES = list(policies())


def test_every_policy_is_found():
    places = {where.split(":", 1)[1] for where, _ in POLICIES}
    assert {
        "WorkerFunction.Policies[0]",
        "ControllerFunction.Policies[0]",
        "ControllerHandoverPolicy",
        "ArtifactsBucketPolicy",
        "DataRole.migration-data",
        "StateMachineRole.invoke-worker",
        "DistributedMapPolicy",
    } <= places


@pytest.mark.parametrize(("where", "document"), POLICIES, ids=[w for w, _ in POLICIES])
def test_parliament_finds_nothing(where: str, document: Any) -> None:
    audited = analyze_policy_string(json.dumps(document))
    findings = [
        f"{finding.issue}: {finding.detail}"
        for finding in audited.findings
        if (where.split(":", 1)[1], finding.issue, str(finding.detail)) not in ALLOWED
    ]
    assert findings == []
