"""A template's monitoring resources created on the emulator as CloudFormation would: SNS topics,
CloudWatch dashboards and alarms (template.yaml's dashboard and failed-run alarm among them).

Each maps its documented properties onto the API call CloudFormation makes for it (the resource
type references AWS::SNS::Topic, AWS::CloudWatch::Dashboard, AWS::CloudWatch::Alarm): CreateTopic,
PutDashboard and PutMetricAlarm. A dashboard body that is not a JSON object is refused, as
PutDashboard refuses it (InvalidParameterInput); every failure names the resource.
"""

from __future__ import annotations

import json
from typing import Any

from dynamigrate.local.cloudformation.intrinsics import Scope, resolve
from dynamigrate.local.cloudformation.resources import DeployError, template_resources

TOPIC, DASHBOARD, ALARM = "AWS::SNS::Topic", "AWS::CloudWatch::Dashboard", "AWS::CloudWatch::Alarm"
MONITORING_TYPES = (TOPIC, DASHBOARD, ALARM)
ALARM_PROPERTIES = {  # CloudFormation property -> PutMetricAlarm parameter and its type
    "AlarmDescription": str,
    "ActionsEnabled": bool,
    "AlarmActions": list,
    "OKActions": list,
    "InsufficientDataActions": list,
    "Namespace": str,
    "MetricName": str,
    "Dimensions": list,
    "Statistic": str,
    "ExtendedStatistic": str,
    "Period": int,
    "Unit": str,
    "EvaluationPeriods": int,
    "DatapointsToAlarm": int,
    "Threshold": float,
    "ComparisonOperator": str,
    "TreatMissingData": str,
    "Metrics": list,
}


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _check_body(logical_id: str, body: Any) -> None:
    try:
        parsed = json.loads(body) if isinstance(body, str) else None
    except ValueError as exc:
        raise DeployError(
            f"Resource [{logical_id}] property DashboardBody: not JSON ({exc})"
        ) from exc
    if not isinstance(parsed, dict):
        raise DeployError(f"Resource [{logical_id}] property DashboardBody: not a JSON object")


def create_monitoring(
    template: dict[str, Any], scope: Scope, cloudwatch: Any, sns: Any, stack_name: str
) -> dict[str, str]:
    """Create the template's topics, then dashboards and alarms; their names by logical id."""
    created: dict[str, str] = {}
    for kind in MONITORING_TYPES:  # topics first: alarms name them
        for logical_id in template_resources(template, scope, kind):
            props = resolve(
                template["Resources"][logical_id].get("Properties") or {}, scope, logical_id
            )
            if kind == DASHBOARD:
                _check_body(logical_id, props.get("DashboardBody"))
            if kind == ALARM:
                alarm_request(logical_id, props)
            try:
                created[logical_id] = _create(kind, logical_id, props, cloudwatch, sns, stack_name)
            except Exception as exc:
                raise DeployError(
                    f"Resource [{logical_id}]: cannot create the {kind}: {exc}"
                ) from exc
            scope.refs[logical_id] = created[logical_id]
    return created


def _create(
    kind: str, logical_id: str, props: dict[str, Any], cloudwatch: Any, sns: Any, stack: str
) -> str:
    if kind == TOPIC:
        topic = sns.create_topic(Name=str(props.get("TopicName") or f"{stack}-{logical_id}"))
        return str(topic["TopicArn"])
    if kind == DASHBOARD:
        name = str(props.get("DashboardName") or f"{stack}-{logical_id}")
        cloudwatch.put_dashboard(DashboardName=name, DashboardBody=props["DashboardBody"])
        return name
    name = str(props.get("AlarmName") or f"{stack}-{logical_id}")
    cloudwatch.put_metric_alarm(AlarmName=name, **alarm_request(logical_id, props))
    return name


def _typed(kind_of: type, value: Any) -> Any:
    if kind_of is bool:
        return _flag(value)
    if kind_of is list:
        if not isinstance(value, list):
            raise TypeError("not a list")
        return value
    return kind_of(value)


def alarm_request(logical_id: str, props: dict[str, Any]) -> dict[str, Any]:
    """PutMetricAlarm's parameters from the alarm's properties (CloudFormation passes numbers
    as strings too); a value of the wrong type is refused naming resource and property."""
    request: dict[str, Any] = {}
    for prop, kind_of in ALARM_PROPERTIES.items():
        if prop not in props:
            continue
        try:
            request[prop] = _typed(kind_of, props[prop])
        except (TypeError, ValueError) as exc:
            raise DeployError(
                f"Resource [{logical_id}] property {prop}: {props[prop]!r} is not a "
                f"{kind_of.__name__} ({exc})"
            ) from exc
    return request
