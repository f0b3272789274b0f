"""Problems are data: where (resource, property, character) and what; the line is a rendering."""

from __future__ import annotations

import pytest

from macro.contract import validate
from macro.errors import InvalidTemplateError, Problem, located
from macro.expand import expand
from tests.unit.macro.golden import SETTINGS


def test_an_expression_problem_carries_its_resource_property_and_character():
    props = {"TableName": "t", "Up": {"Update": {"Expression": "SET status = :v"}}}
    problems = validate("Add", props)
    undefined = next(p for p in problems if ":v" in p.message)
    assert (undefined.logical_id, undefined.path, undefined.position) == (
        "Add",
        "Up.Update.Expression",
        14,
    )
    assert undefined.property_path == ["Up", "Update", "Expression"]
    assert str(undefined).startswith("Resource [Add] property Up.Update.Expression: :v (at")


def test_renderings_of_each_kind_of_problem():
    assert str(located("M", "", "Properties must be a map")) == (
        "Resource [M]: Properties must be a map"
    )
    assert str(Problem("2 bytes", section="Template")) == "Template: 2 bytes"
    assert str(Problem("lacks it", section="Transform")) == "Transform: lacks it"
    assert str(Problem("X is not a resource", line=7)) == "line 7: X is not a resource"


def test_one_pass_reports_a_duplicate_migration_id_beside_other_mistakes():
    fragment = {
        "Resources": {
            "A": {
                "Type": "Custom::DynamoMigration",
                "Properties": {"TableName": "t", "MigrationId": "1", "Up": {"Delete": {}}},
            },
            "B": {
                "Type": "Custom::DynamoMigration",
                "Properties": {
                    "TableName": "t",
                    "MigrationId": "1",
                    "ServiceTimeout": 7200,
                    "Up": {"Delete": {}},
                },
            },
        }
    }
    with pytest.raises(InvalidTemplateError) as info:
        expand(fragment, SETTINGS, lambda key, body: key)
    found = {(p.logical_id, p.path) for p in info.value.problems}
    assert found == {("B", "ServiceTimeout"), ("B", "MigrationId")}


def test_a_bad_rate_hides_no_expression_problem_of_the_same_migration():
    props = {
        "TableName": "t",
        "MaxWritesPerSecond": 0,
        "Up": {"Update": {"Expression": "SET status = :x"}},
    }
    paths = sorted(p.path for p in validate("M", props))
    assert paths == ["MaxWritesPerSecond", "Up.Update.Expression", "Up.Update.Expression"]
