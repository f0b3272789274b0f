"""The expression checker's rules, one located message each (no I/O)."""

from __future__ import annotations

from typing import Any

import pytest

from macro.contract import validate
from macro.expressions import ExpressionError, parse_condition, parse_key_condition, parse_update

TABLES: dict[str, Any] = {
    "Orders": {
        "Type": "AWS::DynamoDB::Table",
        "Properties": {
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": "ByCustomer",
                    "KeySchema": [{"AttributeName": "cust", "KeyType": "HASH"}],
                }
            ],
        },
    },
    "Simple": {"Type": "AWS::Serverless::SimpleTable", "Properties": {"TableName": "simple"}},
}


def problems(up: dict[str, Any] | None = None, table: Any = None, **props: Any) -> list[str]:
    body = {"TableName": table or {"Ref": "Orders"}, "Up": up or {"Delete": None}, **props}
    return [str(p).removeprefix("Resource [M] property ") for p in validate("M", body, TABLES)]


def update(expression: str, **placeholders: Any) -> dict[str, Any]:
    return {"Update": {"Expression": expression, **placeholders}}


@pytest.mark.parametrize(
    ("parse", "text", "message", "position"),
    [
        (parse_update, "SET a = :v, ", "expected an attribute name or #name", 13),
        (parse_update, "SET a = :v SET b = :v", "SET appears twice (first at character 1)", 12),
        (parse_update, "PUT a = :v", "expected SET, REMOVE, ADD or DELETE", 1),
        (parse_update, "SET a = :v + :w - :x", "expected ',' and another action", 17),
        (parse_update, "SET a = size(l)", "size is not a function here", 9),
        (parse_condition, "a = :v AND", "expected an operand", 11),
        (parse_condition, "Attribute_Exists(a)", "did you mean attribute_exists?", 1),
        (parse_condition, "((a = :v))", "redundant parentheses", 1),
        (parse_condition, "_a = :v", "beginning with '_' needs a #name", 1),
        (parse_condition, "a = 'x'", 'unexpected character "\'"', 5),
        (parse_condition, "size(l)", "expected a comparator", 8),
        (parse_key_condition, "pk = :p OR sk = :s", "a key condition is the partition key", 9),
        (parse_key_condition, "pk <> :p", "expected = < <= > >= or BETWEEN", 4),
        (parse_key_condition, "m.x = :p", "m.x is not a top-level attribute", 1),
    ],
)
def test_syntax_errors_say_what_and_where(parse, text, message, position):
    with pytest.raises(ExpressionError) as info:
        parse(text)
    assert message in info.value.message
    assert info.value.position == position


def test_what_dynamodb_accepts_parses():
    parse_update("set a = if_not_exists(a, :z) + :one, l = list_append(:l, l) remove b[1], m.#x")
    parse_update("ADD n :one DELETE s :set")
    parse_condition("NOT (a BETWEEN :lo AND :hi) OR b IN (:x, :y) AND size(l) > :n")
    parse_condition("(a = :v) AND (b = :w)")
    parse_key_condition("#pk = :p AND begins_with(sk, :s)")
    parse_key_condition("(pk = :p) AND (sk BETWEEN :a AND :b)")


def test_placeholders_are_counted_per_request():
    # Expression and Condition share the operation's Names and Values: used by either is used.
    assert (
        problems(
            update("SET a = :v", Condition="#s = :p", Names={"#s": "s"}, Values={":v": 1, ":p": 2})
        )
        == []
    )
    assert problems(update("SET #a = :v", Names={"#a": "a", "#b": "b"}, Values={":v": 1})) == [
        "Up.Update.Names.#b: is not used by Up.Update.Expression: DynamoDB rejects a request "
        "with an unused name; remove it"
    ]
    # The source's placeholders are its own request's: the operation's do not count.
    found = problems(update("SET a = :v", Values={":v": 1}), Source={"Scan": {"Filter": "b = :v"}})
    assert found == [
        "Source.Scan.Filter: :v (at character 5) is not defined: add it to Source.Scan.Values"
    ]


def test_a_broken_expression_gets_no_unused_guesses():
    assert problems(update("SET #a = ", Names={"#a": "a"}, Values={":v": 1})) == [
        "Up.Update.Expression: expected a value: a :value, a path, if_not_exists(...) or "
        'list_append(...), found the end of the expression, at character 10 of "SET #a = "'
    ]


def test_reserved_words_need_a_placeholder_in_every_expression():
    found = problems(
        {
            "Delete": {
                "Condition": "attribute_exists(Comment) AND #d = :v",
                "Names": {"#d": "d"},
                "Values": {":v": 1},
            }
        }
    )
    assert found == [
        "Up.Delete.Condition: Comment (at character 18) is a DynamoDB reserved word: write "
        '#comment and add Names: {"#comment": "Comment"}'
    ]


def test_update_rules():
    assert problems(update("SET a = :v REMOVE a", Values={":v": 1})) == [
        "Up.Update.Expression: a (at character 19) overlaps a (at character 5): DynamoDB "
        "refuses two actions on one document path; keep one"
    ]
    assert problems(update("SET #m.x = :v REMOVE m", Names={"#m": "m"}, Values={":v": 1}))[
        0
    ].startswith("Up.Update.Expression: m (at character 22) overlaps #m.x")
    assert problems(update("SET sk = :v", Values={":v": "x"})) == [
        "Up.Update.Expression: sk (at character 5) is the table's key attribute sk: an update "
        "cannot change a key (copy the items with a transform Function and a Target instead)"
    ]
    assert problems(update("ADD n :v", Values={":v": "one"})) == [
        "Up.Update.Expression: ADD :v (at character 7) adds a number, but Up.Update.Values.:v "
        "is not a number: use SET to assign it, or a transform Function to add it to a set "
        "(Values cannot hold a set)"
    ]
    assert problems(update("ADD tags :v", Values={":v": ["a"]})) == [
        "Up.Update.Expression: ADD :v (at character 10) adds to a number or a set, but "
        "Up.Update.Values.:v is a list, which DynamoDB gets as a List, never a set: to append to "
        "a list, SET path = list_append(path, :v); to add to a string set, use a transform "
        "Function (Values cannot hold a set)"
    ]
    assert "Values cannot hold a set" in problems(update("DELETE s :v", Values={":v": ["a"]}))[0]
    assert problems(update("SET a = :v", Names={"#dynamigrate_key": "x"}, Values={":v": 1})) == [
        "Up.Update.Names.#dynamigrate_key: is the runner's own placeholder: rename it"
    ]


def test_attribute_type_takes_a_dynamodb_type():
    cond = {"Delete": {"Condition": "attribute_type(a, :t)", "Values": {":t": "STRING"}}}
    assert problems(cond) == [
        "Up.Delete.Values.:t: is the type in Up.Delete.Condition's attribute_type and must be one "
        "of S, SS, N, NS, B, BS, BOOL, NULL, L, M, got 'STRING'"
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"KeyCondition": "pk = :p", "Values": {":p": "x"}}, []),
        ({"KeyCondition": "pk = :p AND sk > :s", "Values": {":p": "x", ":s": "y"}}, []),
        (
            {"KeyCondition": "sk = :s", "Values": {":s": "y"}},
            ["Source.Query.KeyCondition: needs an equality on the table's partition key pk"],
        ),
        (
            {"KeyCondition": "pk > :p", "Values": {":p": "x"}},
            [
                "Source.Query.KeyCondition: > on the partition key pk (at character 1): the "
                "partition key takes only ="
            ],
        ),
        (
            {"IndexName": "ByCustomer", "KeyCondition": "cust = :c", "Values": {":c": "x"}},
            [],
        ),
        (
            {"IndexName": "ByCustomer", "KeyCondition": "pk = :c", "Values": {":c": "x"}},
            [
                "Source.Query.KeyCondition: pk (at character 1) is not a key of index ByCustomer "
                "(its keys: cust); filter on it with Filter instead"
            ],
        ),
        (
            {"IndexName": "ByStatus", "KeyCondition": "pk = :c", "Values": {":c": "x"}},
            [
                "Source.Query.IndexName: 'ByStatus' is not an index of Orders "
                "(its indexes: ByCustomer)"
            ],
        ),
        (
            {"KeyCondition": "#k = :p AND #k = :p", "Names": {"#k": "pk"}, "Values": {":p": "x"}},
            ["Source.Query.KeyCondition: names pk twice: give each key one condition"],
        ),
    ],
)
def test_key_conditions_against_the_declared_key_schema(query, expected):
    assert problems(Source={"Query": query}) == expected


def test_a_table_found_by_its_literal_name_and_a_simple_table():
    assert problems(update("SET id = :v", Values={":v": 1}), table="simple") == [
        "Up.Update.Expression: id (at character 5) is the table's key attribute id: an update "
        "cannot change a key (copy the items with a transform Function and a Target instead)"
    ]


def test_a_table_of_another_stack_is_checked_without_its_keys():
    query = {"Query": {"KeyCondition": "anything = :p", "Values": {":p": "x"}}}
    assert problems(table={"Fn::ImportValue": "OrdersTable"}, Source=query) == []
    no_equality = {"Query": {"KeyCondition": "anything > :p", "Values": {":p": "x"}}}
    assert problems(table="elsewhere", Source=no_equality) == [
        "Source.Query.KeyCondition: needs an equality (=) on the partition key, e.g. pk = :pk"
    ]


def test_a_section_the_contract_faults_is_not_parsed_again():
    assert problems(update("SET a = :v", Values={"v": 1})) == [
        "Up.Update.Values.v: is not a value placeholder like :value"
    ]
