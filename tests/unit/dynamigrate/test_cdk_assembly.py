"""A cloud assembly read without the CDK: logical ids from construct paths, asset directories."""

from __future__ import annotations

import json

import pytest

from dynamigrate.cdk_assembly import construct_logical_id, make_unique_id, with_asset_paths
from dynamigrate.templates import table_logical_id


@pytest.mark.parametrize(
    ("path", "logical_id"),
    [  # as `cdk synth` named the example's resources (examples/cdk, aws-cdk-lib 2)
        ("Customers/Resource", "Customers6955EA0A"),
        ("SplitNames/Resource", "SplitNamesDC5781CA"),
        ("SplitNames/ServiceRole/Resource", "SplitNamesServiceRole0EBB7DFC"),
        ("AddTier/Resource", "AddTier8F0B9CB7"),
        ("CDKMetadata/Default", "CDKMetadata"),
    ],
)
def test_logical_ids_as_the_cdk_makes_them(path, logical_id):
    assert make_unique_id(path.split("/")) == logical_id


def test_a_table_is_found_by_its_construct_id_without_path_metadata():
    template = {"Resources": {"Customers6955EA0A": {"Type": "AWS::DynamoDB::Table"}}}
    assert construct_logical_id("Customers") == "Customers6955EA0A"
    assert table_logical_id(template, "Customers") == "Customers6955EA0A"
    assert table_logical_id(template, "Orders") == "Orders"  # nothing: the caller says so


def test_a_functions_code_is_found_in_the_asset_manifest(tmp_path):
    key = "6284379a.zip"
    manifest = {
        "files": {
            "6284379a": {
                "source": {"path": "asset.6284379a", "packaging": "zip"},
                "destinations": {"current": {"bucketName": "b", "objectKey": key}},
            }
        }
    }
    (tmp_path / "Shop.assets.json").write_text(json.dumps(manifest))
    function = {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"S3Key": key}}}
    other = {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"S3Key": "other.zip"}}}
    template = {"Resources": {"Fn": function, "Other": other}}
    found = with_asset_paths(template, tmp_path)
    assert found["Resources"]["Fn"]["Metadata"] == {
        "aws:asset:path": str(tmp_path / "asset.6284379a")
    }
    assert "Metadata" not in found["Resources"]["Other"]  # not an asset: the deploy says so
    assert "Metadata" not in template["Resources"]["Fn"]  # the input is not mutated
