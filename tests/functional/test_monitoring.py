"""The application's dashboard and failed-run alarm, deployed by the local CloudFormation, and a
user template's topic, dashboard and alarm (dynamigrate.local.cloudformation.monitoring)."""

from __future__ import annotations

import json
import re

import boto3
import pytest

from dynamigrate.local.app import install_monitoring
from dynamigrate.local.cloudformation.intrinsics import Scope
from dynamigrate.local.cloudformation.monitoring import create_monitoring
from dynamigrate.local.cloudformation.resources import DeployError
from dynamigrate.local.emulator import REGION, emulated_aws
from runner import observability
from runner.events import run_metrics
from tests.unit.runner.test_events import record

pytestmark = pytest.mark.functional


@pytest.fixture
def aws():
    with emulated_aws():
        yield (
            boto3.client("cloudwatch", region_name=REGION),
            boto3.client("sns", region_name=REGION),
        )


def test_the_dashboard_draws_only_metrics_the_runner_emits(aws):
    cloudwatch, _ = aws
    created = install_monitoring()
    body = json.loads(cloudwatch.get_dashboard(DashboardName=created["Dashboard"])["DashboardBody"])
    titles = [w["properties"]["title"] for w in body["widgets"]]
    assert titles[0] == "Runs in progress"
    assert {w["properties"]["region"] for w in body["widgets"]} == {REGION}
    text = json.dumps(body)
    drawn = set(re.findall(r'\{dynamigrate,Table,Migration\} MetricName=\\"(\w+)\\"', text))
    emitted = {name for name, _ in observability.COUNTER_METRICS.values()}
    emitted |= set(observability.RUN_OUTCOMES.values()) | {"RunsInProgress"}
    assert drawn, text
    assert drawn <= emitted


def test_the_failed_run_alarm_watches_what_a_failed_run_emits_and_notifies_only_a_given_topic(aws):
    cloudwatch, sns = aws
    install_monitoring()
    (alarm,) = cloudwatch.describe_alarms()["MetricAlarms"]
    assert alarm["AlarmActions"] == []
    doc = run_metrics(record("FAILED", endedAt=1010), "ended").document()
    directive = doc["_aws"]["CloudWatchMetrics"][0]
    assert alarm["Namespace"] == directive["Namespace"]
    assert alarm["MetricName"] in {m["Name"] for m in directive["Metrics"]}
    dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
    assert list(dimensions) in directive["Dimensions"]
    assert all(doc[name] == value for name, value in dimensions.items())
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)

    topic = sns.create_topic(Name="oncall")["TopicArn"]
    install_monitoring({"AlarmTopicArn": topic})
    (alarm,) = cloudwatch.describe_alarms()["MetricAlarms"]
    assert alarm["AlarmActions"] == [topic]


USER_TEMPLATE = {
    "Resources": {
        "Pager": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "pager"}},
        "Board": {
            "Type": "AWS::CloudWatch::Dashboard",
            "Properties": {"DashboardBody": json.dumps({"widgets": []})},
        },
        "Slow": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "Namespace": "dynamigrate",
                "MetricName": "RunDuration",
                "Statistic": "Maximum",
                "Period": "300",
                "EvaluationPeriods": "1",
                "Threshold": "3000",
                "ComparisonOperator": "GreaterThanThreshold",
                "AlarmActions": [{"Ref": "Pager"}],
            },
        },
    }
}


def test_a_user_templates_topic_dashboard_and_alarm_deploy(aws):
    cloudwatch, sns = aws
    created = create_monitoring(USER_TEMPLATE, Scope(), cloudwatch, sns, "local")
    assert created["Board"] == "local-Board"
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=["local-Slow"])["MetricAlarms"]
    assert alarm["AlarmActions"] == [created["Pager"]]
    assert created["Pager"].endswith(":pager")
    assert (alarm["Period"], alarm["Threshold"]) == (300, 3000.0)


def test_a_dashboard_body_that_is_not_json_is_refused_naming_the_resource(aws):
    cloudwatch, sns = aws
    broken = {"Resources": {"Board": {**USER_TEMPLATE["Resources"]["Board"]}}}
    broken["Resources"]["Board"]["Properties"] = {"DashboardBody": "{widgets"}
    with pytest.raises(DeployError, match=r"Resource \[Board\] property DashboardBody: not JSON"):
        create_monitoring(broken, Scope(), cloudwatch, sns, "local")


def test_an_alarm_property_of_the_wrong_type_is_refused_naming_resource_and_property(aws):
    cloudwatch, sns = aws
    template = json.loads(json.dumps(USER_TEMPLATE))
    template["Resources"]["Slow"]["Properties"]["Period"] = "five minutes"
    with pytest.raises(DeployError, match=r"Resource \[Slow\] property Period: 'five minutes'"):
        create_monitoring(template, Scope(), cloudwatch, sns, "local")
    assert cloudwatch.describe_alarms()["MetricAlarms"] == []
