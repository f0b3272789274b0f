"""The SAM application (`template.yaml`): lint-clean, private, least privilege."""

from __future__ import annotations

from pathlib import Path

import cfnlint.api

from dynamigrate.templates import load_template

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


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


def test_worker_reaches_only_the_history_table_and_migration_data_roles():
    statements = resources()["WorkerFunction"]["Properties"]["Policies"][0]["Statement"]
    assert [s["Resource"] for s in statements] == [
        {"Fn::GetAtt": ["HistoryTable", "Arn"]},
        {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/dynamigrate/*"},
    ]
    assert "dynamodb:*" not in str(statements)
