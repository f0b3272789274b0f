"""A transform function given by name, ARN or reference reaches IAM as an ARN.

IAM refuses a policy whose Resource is not an ARN (MalformedPolicyDocument), and the data role's
policy names the functions the migration invokes: every form the contract accepts must resolve,
as CloudFormation would resolve it, to the function's ARN.
"""

from __future__ import annotations

from typing import Any

import pytest

from dynamigrate.local.cloudformation.intrinsics import Scope, resolve
from macro.expand import MIGRATION_TYPE, expand
from tests.unit.macro.golden import SETTINGS

ARN = "arn:aws:lambda:us-east-1:123456789012:function:"
RESOURCES = {
    "SamFn": {"Type": "AWS::Serverless::Function", "Properties": {}},
    "PlainFn": {"Type": "AWS::Lambda::Function", "Properties": {}},
    "FnAlias": {"Type": "AWS::Lambda::Alias", "Properties": {}},
}
# What CloudFormation resolves: Ref of a function is its name, its GetAtt Arn the ARN; Ref of an
# alias is its ARN; a parameter holds what the user passed.
SCOPE = Scope(
    parameters={"FnArnParameter": ARN + "from-parameter"},
    refs={
        "SamFn": "app-SamFn-1A2B",
        "PlainFn": "app-PlainFn-3C4D",
        "FnAlias": ARN + "aliased:live",
    },
    attributes={
        "SamFn": {"Arn": ARN + "app-SamFn-1A2B"},
        "PlainFn": {"Arn": ARN + "app-PlainFn-3C4D"},
    },
)


@pytest.mark.parametrize(
    ("written", "arn"),
    [
        ("split-names", ARN + "split-names"),
        (ARN + "given", ARN + "given"),
        ("split-names:live", ARN + "split-names:live"),
        ({"Ref": "SamFn"}, ARN + "app-SamFn-1A2B"),
        ({"Ref": "PlainFn"}, ARN + "app-PlainFn-3C4D"),
        ({"Fn::GetAtt": ["SamFn", "Arn"]}, ARN + "app-SamFn-1A2B"),
        ({"Ref": "FnAlias"}, ARN + "aliased:live"),
        ({"Ref": "FnArnParameter"}, ARN + "from-parameter"),
    ],
    ids=["name", "arn", "qualified-name", "sam-ref", "lambda-ref", "getatt", "alias", "parameter"],
)
def test_the_data_role_and_the_state_machine_get_an_arn(written: Any, arn: str) -> None:
    migration = {
        "Type": MIGRATION_TYPE,
        "Properties": {"TableName": "People", "Up": {"Function": written}},
    }
    out = expand({"Resources": {**RESOURCES, "M": migration}}, SETTINGS, lambda key, body: key)
    parameters = out["Resources"]["MStack"]["Properties"]["Parameters"]
    assert resolve(parameters["UpFunctionArn"], SCOPE, "UpFunctionArn") == arn
