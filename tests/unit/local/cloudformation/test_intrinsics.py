"""Local resolution of intrinsic functions, as CloudFormation resolves them."""

from __future__ import annotations

import pytest

from dynamigrate.local.cloudformation.intrinsics import (
    IntrinsicError,
    Scope,
    evaluate_conditions,
    parameter_values,
    resolve,
)


def scope() -> Scope:
    return Scope(
        parameters={"Stage": "prod"},
        refs={"Orders": "local-Orders"},
        attributes={"Fn": {"Arn": "arn:aws:lambda:us-east-1:123456789012:function:fn"}},
        conditions={"IsProd": True},
        stack_name="shop",
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Ref": "Orders"}, "local-Orders"),
        ({"Ref": "AWS::StackName"}, "shop"),
        ({"Fn::GetAtt": "Fn.Arn"}, "arn:aws:lambda:us-east-1:123456789012:function:fn"),
        ({"Fn::GetAtt": ["Fn", "Arn"]}, "arn:aws:lambda:us-east-1:123456789012:function:fn"),
        ({"Fn::Sub": "${Orders}-${Stage}-${AWS::Region}"}, "local-Orders-prod-us-east-1"),
        (
            {"Fn::Sub": ["${X}/${Fn.Arn}", {"X": {"Ref": "Stage"}}]},
            "prod/arn:aws:lambda:us-east-1:123456789012:function:fn",
        ),
        ({"Fn::Sub": "literal ${!Keep}"}, "literal ${Keep}"),
        ({"Fn::Join": ["-", ["a", {"Ref": "Stage"}]]}, "a-prod"),
        ({"Fn::Select": [1, ["a", "b"]]}, "b"),
        ({"Fn::If": ["IsProd", "big", "small"]}, "big"),
        ({"Fn::Equals": [{"Ref": "Stage"}, "prod"]}, True),
        ({"A": {"Ref": "AWS::NoValue"}, "B": 1}, {"B": 1}),
        ([{"Ref": "AWS::NoValue"}, 2], [2]),
    ],
)
def test_resolves(value, expected):
    assert resolve(value, scope(), "P") == expected


def test_unknown_references_name_where_they_are():
    with pytest.raises(IntrinsicError, match=r"M.TableName: Ref to 'Nope'"):
        resolve({"Ref": "Nope"}, scope(), "M.TableName")
    with pytest.raises(IntrinsicError, match="Fn::ImportValue is not supported"):
        resolve({"Fn::ImportValue": "x"}, scope(), "M")


def test_conditions_may_refer_to_each_other_in_any_order():
    template = {
        "Conditions": {
            "Both": {"Fn::And": [{"Condition": "IsProd"}, {"Condition": "Other"}]},
            "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
            "Other": {"Fn::Not": [{"Fn::Equals": ["a", "b"]}]},
        }
    }
    found = evaluate_conditions(template, Scope(parameters={"Stage": "prod"}))
    assert found == {"IsProd": True, "Other": True, "Both": True}


def test_parameters_take_overrides_then_defaults():
    template = {
        "Parameters": {"Stage": {"Type": "String", "Default": "dev"}, "N": {"Type": "Number"}}
    }
    assert parameter_values(template, {"N": "3"}) == {"Stage": "dev", "N": "3"}
    with pytest.raises(IntrinsicError, match=r"Parameters\.N: no value and no Default"):
        parameter_values(template, {})
    with pytest.raises(IntrinsicError, match="--param X: the template has no such parameter"):
        parameter_values(template, {"N": "1", "X": "y"})
