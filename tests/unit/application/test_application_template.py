"""The SAM application (`template.yaml`): lint-clean, private, least privilege."""

from __future__ import annotations

import json

import cfnlint.api

from dynamigrate.templates import load_template
from tests.paths import ROOT

TEMPLATE = ROOT / "template.yaml"


def resources():
    return load_template(TEMPLATE)["Resources"]


def test_cfn_lint_finds_nothing():
    assert [str(m) for m in cfnlint.api.lint(TEMPLATE.read_text(), regions=["us-east-1"])] == []


def test_history_table_is_on_demand_recoverable_and_encrypted():
    props = resources()["HistoryTable"]["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert resources()["HistoryTable"]["DeletionPolicy"] == "Retain"


def test_artifacts_bucket_is_private_encrypted_and_tls_only():
    bucket = resources()["ArtifactsBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    statement = resources()["ArtifactsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert (statement["Effect"], statement["Condition"]) == (
        "Deny",
        {"Bool": {"aws:SecureTransport": "false"}},
    )


def test_artifacts_bucket_outlives_the_application_and_serves_only_this_account():
    bucket = resources()["ArtifactsBucket"]
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Retain", "Retain")
    statements = resources()["ArtifactsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (read,) = [s for s in statements if s["Effect"] == "Allow"]
    assert read["Action"] == "s3:GetObject"
    assert read["Resource"] == {"Fn::Sub": "${ArtifactsBucket.Arn}/dynamigrate/nested/*"}
    # A fixed principal (this account), not "*": see test_real_aws_part2 (BlockPublicPolicy).
    assert read["Principal"] == {
        "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
    }


def test_worker_reaches_only_the_history_table_and_migration_data_roles():
    statements = resources()["WorkerFunction"]["Properties"]["Policies"][0]["Statement"]
    assert [s["Resource"] for s in statements] == [
        {"Fn::GetAtt": ["HistoryTable", "Arn"]},
        {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/dynamigrate/*"},
    ]
    assert "dynamodb:*" not in str(statements)


def statements(logical_id):
    return resources()[logical_id]["Properties"]["Policies"][0]["Statement"]


def test_the_runner_entry_may_only_start_the_controller():
    assert statements("CustomResourceFunction") == [
        {
            "Sid": "StartController",
            "Effect": "Allow",
            "Action": "states:StartExecution",
            "Resource": {"Ref": "Controller"},
        }
    ]


def test_controller_steps_have_no_wildcard_actions_and_start_only_tagged_migrations():
    found = statements("ControllerFunction")
    actions = [
        a for s in found for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    ]
    assert all("*" not in action for action in actions)
    start = next(s for s in found if s["Sid"] == "StartMigrationExecutions")
    assert start["Condition"] == {"Null": {"aws:ResourceTag/dynamigrate:migration": "false"}}


def test_no_name_is_built_from_the_stack_name_where_a_length_limit_applies():
    """Installed as a nested application the stack name is `<parent>-<LogicalId>-<suffix>`, up
    to 128 characters: a state machine (80) or function (64) named from it may not fit."""
    named = {
        logical_id: resource["Properties"].get("Name") or resource["Properties"].get("FunctionName")
        for logical_id, resource in resources().items()
        if resource["Type"]
        in (
            "AWS::Serverless::StateMachine",
            "AWS::StepFunctions::StateMachine",
            "AWS::Serverless::Function",
            "AWS::Lambda::Function",
        )
    }
    assert all("AWS::StackName" not in json.dumps(name) for name in named.values()), named


def test_the_runner_keeps_its_arn_across_upgrades_and_reinstalls():
    """Consumers' ServiceToken can never change: the runner's ARN must depend only on the account,
    the region and the macro's name, never on anything an upgrade or a reinstall changes."""
    template = load_template(TEMPLATE)
    runner = resources()["CustomResourceFunction"]["Properties"]
    assert runner["FunctionName"] == {"Fn::Sub": "${MacroName}-runner"}
    pattern = template["Parameters"]["MacroName"]["AllowedPattern"]
    assert pattern == "^[A-Za-z0-9_-]{1,57}$"  # a valid function name of at most 64 characters
    macro_env = resources()["MacroFunction"]["Properties"]["Environment"]["Variables"]
    assert macro_env["RUNNER_FUNCTION_ARN"] == {"Fn::GetAtt": ["CustomResourceFunction", "Arn"]}


def test_the_controller_may_hand_over_only_to_itself():
    policy = resources()["ControllerHandoverPolicy"]["Properties"]
    assert policy["Roles"] == [{"Ref": "ControllerFunctionRole"}]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert (statement["Action"], statement["Resource"]) == (
        "states:StartExecution",
        {"Ref": "Controller"},
    )


def test_the_macro_is_named_by_a_parameter_and_writes_only_nested_templates():
    template = load_template(TEMPLATE)
    assert template["Parameters"]["MacroName"]["Default"] == "DynamoMigrations"
    assert resources()["Macro"]["Properties"]["Name"] == {"Ref": "MacroName"}
    (statement,) = statements("MacroFunction")
    assert statement["Resource"] == {"Fn::Sub": "${ArtifactsBucket.Arn}/dynamigrate/nested/*"}


def test_serverless_repo_metadata_has_what_sam_publish_needs():
    meta = load_template(TEMPLATE)["Metadata"]["AWS::ServerlessRepo::Application"]
    for field in ("Name", "Description", "Author", "SemanticVersion", "SpdxLicenseId"):
        assert isinstance(meta[field], str)
        assert meta[field]
    for field in ("LicenseUrl", "ReadmeUrl"):
        assert (TEMPLATE.parent / meta[field]).is_file()
    assert len(meta["Labels"]) <= 10
    assert "Fn::" not in json.dumps(meta)
    assert "Ref" not in json.dumps(meta)


def controller_definition():
    return resources()["Controller"]["Properties"]["Definition"]["States"]


def test_every_controller_task_retries_crashes_and_catches_into_failed():
    states = controller_definition()
    tasks = {name: s for name, s in states.items() if s["Type"] == "Task"}
    assert set(tasks) == {"Begin", "Poll", "Answer", "Handover", "Failed"}
    for name, task in tasks.items():
        retried = task["Retry"][0]["ErrorEquals"]
        assert {"Runtime.ExitError", "Sandbox.Timedout", "Lambda.ServiceException"} <= set(retried)
        target = "Abort" if name == "Failed" else "Failed"
        assert task["Catch"] == [
            {
                "ErrorEquals": ["States.ALL"],
                "ResultPath": task["Catch"][0]["ResultPath"],
                "Next": target,
            }
        ]


def test_the_controller_definition_passes_cfn_lints_state_machine_schema():
    definition = resources()["Controller"]["Properties"]["Definition"]
    text = json.dumps(definition).replace(
        "${ControllerFunctionArn}", "arn:aws:lambda:us-east-1:123456789012:function:controller"
    )
    template = {
        "Resources": {
            "Controller": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "RoleArn": "arn:aws:iam::123456789012:role/controller",
                    "Definition": json.loads(text),
                    # E3601 accepts a whole-string substitution where the schema wants an ARN.
                    "DefinitionSubstitutions": {
                        "LambdaInvoke": {"Fn::Sub": "arn:${AWS::Partition}:states:::lambda:invoke"}
                    },
                },
            }
        }
    }
    assert [str(m) for m in cfnlint.api.lint(json.dumps(template), regions=["us-east-1"])] == []


DEFAULT_BUS = "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default"


def test_run_events_go_only_to_the_default_bus_and_only_from_the_controller():
    (grant,) = [s for s in statements("ControllerFunction") if "events" in json.dumps(s["Action"])]
    assert (grant["Action"], grant["Resource"]) == ("events:PutEvents", {"Fn::Sub": DEFAULT_BUS})
    for other in ("WorkerFunction", "CustomResourceFunction", "MacroFunction"):
        assert "events:" not in json.dumps(statements(other))


def test_the_alarm_notifies_only_when_a_topic_is_given():
    template = load_template(TEMPLATE)
    assert template["Parameters"]["AlarmTopicArn"]["Default"] == ""
    assert template["Conditions"]["HasAlarmTopic"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}]
    }
    alarm = resources()["FailedRunAlarm"]["Properties"]
    only_with_topic = {
        "Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]
    }
    assert alarm["AlarmActions"] == only_with_topic
    assert alarm["TreatMissingData"] == "notBreaching"  # no run, no alarm


def test_every_controller_step_names_its_execution_for_the_logs():
    states = resources()["Controller"]["Properties"]["Definition"]["States"]
    tasks = {name: s for name, s in states.items() if s["Type"] == "Task"}
    assert {
        name: s["Parameters"]["Payload"].get("controllerExecution.$") for name, s in tasks.items()
    } == dict.fromkeys(tasks, "$$.Execution.Id")
