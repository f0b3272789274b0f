"""The expression checker against an independent oracle: the emulator's DynamoDB.

Every corpus case is judged twice: by `macro.contract.validate` (what render, lint and the macro
report) and by the emulator executing the request the runner sends. The verdicts must agree, but
for the emulator gaps below: each is a request the emulator accepts although the Amazon DynamoDB
documentation named beside it says DynamoDB refuses it. A gap that closes (a moto upgrade) or a
new disagreement fails the test, so the list stays exact.
"""

from __future__ import annotations

import pytest

from tests.expressions.corpus import CORPUS, ISSUE_CASES
from tests.expressions.report import Row, judge_all

OPERANDS = (
    "Developer Guide, 'Condition and filter expressions': an operand is an attribute name or a "
    "document path; 'Expression attribute names': a name that begins with a number or contains "
    "a special character must be written as a #name; values come only as :placeholders"
)
IN_LIMIT = "Developer Guide, 'Condition and filter expressions': IN takes up to 100 values"
UNUSED = (
    "API Reference, ExpressionAttributeValues: every value must be used ('Value provided in "
    "ExpressionAttributeValues unused in expressions', DynamoDB's answer to a Query quoted in "
    "kestra-io/plugin-aws issue 358)"
)
ONE_OPERATOR = (
    "Developer Guide, 'Update expressions': value ::= operand | operand '+' operand | "
    "operand '-' operand (one operator)"
)
KEY_SHAPE = (
    "API Reference, Query KeyConditionExpression: one equality test on the partition key and "
    "optionally one test on the sort key; begins_with (a, substr) takes two arguments"
)
REDUNDANT = (
    "The guide is silent; DynamoDB answers 'The expression has redundant parentheses' "
    "(measured on DynamoDB: architect/dynalite issue 99, ExtendDB/extenddb issues 64 and 130). "
    "Removing the inner pair is right under either reading."
)
EMULATOR_GAPS = {
    "condition: a = 5": OPERANDS,
    "condition: 1a = :v values={':v': 1}": OPERANDS,
    "condition: a-b = :v values={':v': 1}": OPERANDS,
    "condition: a IN (:v0, :v1, :v2, :v3": IN_LIMIT,
    "condition: a = :v values={':v': 1, ':w': 2}": UNUSED,
    "key: pk = :p values={':p': 'p', ':unused': 1}": UNUSED,
    "update: SET a = :v + :v + :w values={':v': 1, ':w': 2}": ONE_OPERATOR,
    "key: pk = :p AND sk = :sk AND sk > :lo": KEY_SHAPE,
    "key: pk = :p AND pk = :p": KEY_SHAPE,
    "key: pk = :p AND begins_with(sk)": KEY_SHAPE,
    "key: ((pk = :p))": REDUNDANT,
}


@pytest.fixture(scope="module")
def rows() -> list[Row]:
    return judge_all()


def _gap(row: Row) -> str | None:
    return next((why for key, why in EMULATOR_GAPS.items() if row.case.id.startswith(key)), None)


def test_the_corpus_is_large_and_mixed() -> None:
    assert len(CORPUS) >= 300
    kinds = {c.kind for c in CORPUS}
    assert kinds == {"update", "condition", "filter", "key"}
    assert len({c.id for c in CORPUS}) == len(CORPUS), "every case once"


def test_the_checker_and_the_emulator_agree_but_for_documented_gaps(rows: list[Row]) -> None:
    disagreements = {r.case.id: r for r in rows if r.checker_valid != r.emulator_valid}
    undocumented = [i for i, r in disagreements.items() if _gap(r) is None]
    assert undocumented == [], "a new disagreement: fix the checker or document the gap"
    for row in disagreements.values():
        # every gap is the emulator accepting what DynamoDB refuses, never the reverse
        assert row.emulator_valid, row.case.id
        assert not row.checker_valid, row.case.id
    closed = [k for k in EMULATOR_GAPS if not any(i.startswith(k) for i in disagreements)]
    assert closed == [], "a documented gap no longer shows: remove it from EMULATOR_GAPS"
    assert len(disagreements) == len(EMULATOR_GAPS)


def test_the_emulator_fails_only_on_what_the_checker_refuses(rows: list[Row]) -> None:
    # moto refuses many malformed expressions with a Python error instead of a
    # ValidationException (the issue's raw `KeyError: '#t'`): a refusal all the same, and one a
    # user never meets, since render and the macro refuse those expressions first.
    crashed = [r for r in rows if r.judgement.verdict == "crashed"]
    assert crashed
    assert [r.case.id for r in crashed if r.checker_valid] == []


def test_documented_verdicts_hold_for_the_checker(rows: list[Row]) -> None:
    wrong = [
        r.case.id
        for r in rows
        if r.case.expected is not None and r.case.expected != r.checker_valid
    ]
    assert wrong == []


@pytest.mark.parametrize("case", ISSUE_CASES, ids=lambda c: c.id)
def test_each_mistake_of_the_issue_is_refused_by_both(case: object, rows: list[Row]) -> None:
    (row,) = [r for r in rows if r.case is case]
    assert row.problems
    assert not row.emulator_valid
