"""The macro protocol: requestId echoed, status, fragment, errorMessage on every failure."""

from __future__ import annotations

import boto3
import pytest

from dynamigrate.local.cloudformation.intrinsics import Scope, resolve
from dynamigrate.local.emulator import emulated_aws
from macro import handler as macro_handler

ENV = {
    "RUNNER_FUNCTION_ARN": "arn:aws:lambda:us-east-1:123456789012:function:runner",
    "WORKER_FUNCTION_ARN": "arn:aws:lambda:us-east-1:123456789012:function:worker",
    "WORKER_ROLE_ARN": "arn:aws:iam::123456789012:role/worker",
    "HISTORY_TABLE": "history",
    "ARTIFACTS_BUCKET": "artifacts",
}
MIGRATION = {
    "Type": "Custom::DynamoMigration",
    "Properties": {"TableName": "Orders", "Up": {"Delete": {}}},
}


def event(resources):
    return {
        "region": "us-east-1",
        "accountId": "123456789012",
        "transformId": "x",
        "requestId": "req-1",
        "params": {},
        "templateParameterValues": {},
        "fragment": {"Resources": resources},
    }


@pytest.fixture
def env(monkeypatch):
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    with emulated_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="artifacts")
        macro_handler._s3.cache_clear()
        yield
    macro_handler._s3.cache_clear()


def test_success_uploads_nested_templates_content_addressed(env):
    out = macro_handler.handler(event({"M": MIGRATION}), None)
    assert (out["requestId"], out["status"]) == ("req-1", "success")
    url = out["fragment"]["Resources"]["MStack"]["Properties"]["TemplateURL"]
    # The partition's domain comes from CloudFormation: amazonaws.com.cn in China, for instance.
    for region, suffix in (("us-east-1", "amazonaws.com"), ("cn-north-1", "amazonaws.com.cn")):
        scope = Scope(region=region, url_suffix=suffix)
        resolved = resolve(url, scope, "TemplateURL")
        assert resolved.startswith(f"https://artifacts.s3.{region}.{suffix}/dynamigrate/nested/")
    key = url["Fn::Sub"].split("}/", 1)[1]
    body = boto3.client("s3").get_object(Bucket="artifacts", Key=key)["Body"].read()
    assert b'"AWS::StepFunctions::StateMachine"' in body
    again = macro_handler.handler(event({"M": MIGRATION}), None)
    assert again["fragment"] == out["fragment"]


def test_invalid_template_fails_with_every_error(env):
    out = macro_handler.handler(
        event({"M": {"Type": "Custom::DynamoMigration", "Properties": {}}}), None
    )
    assert out["status"] == "failure"
    assert out["requestId"] == "req-1"
    assert out["errorMessage"] == (
        "Invalid template: 2 errors\n"
        "Resource [M] property TableName: is required\n"
        "Resource [M] property Up: is required"
    )


def test_an_unexpected_error_still_answers_with_a_message(monkeypatch):
    for key in ENV:
        monkeypatch.delenv(key, raising=False)
    out = macro_handler.handler(event({"M": MIGRATION}), None)
    assert out["status"] == "failure"
    assert (
        out["errorMessage"] == "DynamoMigrations macro internal error: KeyError: 'ARTIFACTS_BUCKET'"
    )
