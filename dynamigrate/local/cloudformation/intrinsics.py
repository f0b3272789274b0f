"""Resolving CloudFormation intrinsic functions for a local run, as CloudFormation would.

Covers what templates around migrations use: Ref (parameters, pseudo parameters, resources),
Fn::GetAtt, Fn::Sub (both forms), Fn::Join, Fn::Select, Fn::Split, Fn::If and the condition
functions. Anything else is reported with the path where it appears.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

NO_VALUE = object()  # AWS::NoValue: the property disappears
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class IntrinsicError(Exception):
    """An intrinsic function a local run cannot resolve."""


@dataclass
class Scope:
    """Values intrinsics resolve to: parameters, resources' Ref values and attributes."""

    parameters: dict[str, Any] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    conditions: dict[str, bool] = field(default_factory=dict)
    region: str = "us-east-1"
    account_id: str = "123456789012"
    stack_name: str = "local"
    url_suffix: str = "amazonaws.com"

    def pseudo(self) -> dict[str, str]:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{self.account_id}:stack/"
            f"{self.stack_name}/local",
            "AWS::Partition": "aws-cn" if self.region.startswith("cn-") else "aws",
            "AWS::URLSuffix": self.url_suffix,
        }

    def ref(self, name: str, where: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        for table in (self.pseudo(), self.parameters, self.refs):
            if name in table:
                return table[name]
        raise IntrinsicError(f"{where}: Ref to {name!r}, which is not a parameter or resource")

    def get_att(self, logical_id: str, attribute: str, where: str) -> Any:
        try:
            return self.attributes[logical_id][attribute]
        except KeyError:
            raise IntrinsicError(
                f"{where}: Fn::GetAtt {logical_id}.{attribute} is not known locally"
            ) from None


def resolve(value: Any, scope: Scope, where: str = "") -> Any:
    """`value` with every intrinsic function replaced by its value."""
    if isinstance(value, list):
        items = [resolve(v, scope, f"{where}[{i}]") for i, v in enumerate(value)]
        return [v for v in items if v is not NO_VALUE]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((name, arg),) = value.items()
        if name == "Ref":
            return scope.ref(str(arg), where)
        if name.startswith("Fn::") or name == "Condition":
            return _function(name, arg, scope, where)
    out = {k: resolve(v, scope, f"{where}.{k}".lstrip(".")) for k, v in value.items()}
    return {k: v for k, v in out.items() if v is not NO_VALUE}


def _function(name: str, arg: Any, scope: Scope, where: str) -> Any:
    if name == "Fn::GetAtt":
        logical_id, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
        return scope.get_att(logical_id, resolve(attribute, scope, where), where)
    if name == "Fn::Sub":
        return _sub(arg, scope, where)
    if name == "Fn::Join":
        separator, parts = arg
        return str(separator).join(str(p) for p in resolve(parts, scope, where))
    if name == "Fn::Select":
        index, items = resolve(arg, scope, where)
        return items[int(index)]
    if name == "Fn::Split":
        separator, text = resolve(arg, scope, where)
        return str(text).split(separator)
    if name == "Fn::If":
        condition, when_true, when_false = arg
        chosen = when_true if condition_value(condition, scope, where) else when_false
        return resolve(chosen, scope, where)
    if name in ("Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Condition"):
        return condition_value({name: arg}, scope, where)
    raise IntrinsicError(f"{where}: {name} is not supported by local runs")


def condition_value(condition: Any, scope: Scope, where: str) -> bool:
    """The truth of a condition name or condition function."""
    if isinstance(condition, str):
        if condition not in scope.conditions:
            raise IntrinsicError(f"{where}: unknown condition {condition!r}")
        return scope.conditions[condition]
    ((name, arg),) = condition.items()
    if name == "Condition":
        return condition_value(str(arg), scope, where)
    if name == "Fn::Equals":
        left, right = resolve(arg, scope, where)
        return str(left) == str(right)
    if name == "Fn::Not":
        return not condition_value(arg[0], scope, where)
    if name == "Fn::And":
        return all(condition_value(c, scope, where) for c in arg)
    if name == "Fn::Or":
        return any(condition_value(c, scope, where) for c in arg)
    raise IntrinsicError(f"{where}: {name} is not a condition function")


def _sub(arg: Any, scope: Scope, where: str) -> str:
    text, variables = (arg, {}) if isinstance(arg, str) else arg
    values = {k: resolve(v, scope, where) for k, v in variables.items()}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in values:
            return str(values[name])
        if "." in name and not name.startswith("AWS::"):
            logical_id, attribute = name.split(".", 1)
            return str(scope.get_att(logical_id, attribute, where))
        return str(scope.ref(name, where))

    return _SUB_VARIABLE.sub(replace, str(text)).replace("${!", "${")


def evaluate_conditions(template: dict[str, Any], scope: Scope) -> dict[str, bool]:
    """Every condition of the template, in any order of definition."""
    pending = dict(template.get("Conditions") or {})
    while pending:
        progressed = False
        for name, condition in list(pending.items()):
            try:
                scope.conditions[name] = condition_value(condition, scope, f"Conditions.{name}")
            except IntrinsicError:
                continue
            del pending[name]
            progressed = True
        if not progressed:
            names = ", ".join(sorted(pending))
            raise IntrinsicError(f"Conditions: cannot evaluate {names}")
    return scope.conditions


def parameter_values(template: dict[str, Any], overrides: dict[str, str]) -> dict[str, Any]:
    """Template parameters: given values, else defaults; one with neither is an error."""
    values: dict[str, Any] = {}
    for name, spec in (template.get("Parameters") or {}).items():
        if name in overrides:
            values[name] = overrides[name]
        elif "Default" in spec:
            values[name] = spec["Default"]
        else:
            raise IntrinsicError(f"Parameters.{name}: no value and no Default; pass --param")
        if str(spec.get("Type", "")).startswith("List<") or spec.get("Type") == (
            "CommaDelimitedList"
        ):
            values[name] = str(values[name]).split(",")
    unknown = set(overrides) - set(values)
    if unknown:
        raise IntrinsicError(f"--param {sorted(unknown)[0]}: the template has no such parameter")
    return values


def state_machine_definition(properties: dict[str, Any], values: dict[str, Any]) -> str:
    """A state machine's `Definition` as CloudFormation renders it: each name listed in
    `DefinitionSubstitutions` replaced, as `${name}`, by its value in `values`, or else by its
    own value resolved locally (a pseudo parameter such as `AWS::Partition`)."""
    text = json.dumps(properties["Definition"])
    for name, value in properties.get("DefinitionSubstitutions", {}).items():
        given = values[name] if name in values else resolve(value, Scope(), name)
        text = text.replace("${" + name + "}", str(given))
    return text
