"""runner.journal: which updates are repeatable, which runs journal, and the verdict on an item
read again after an interrupted attempt."""

from __future__ import annotations

import pytest

from runner.before_images import BeforeImage
from runner.journal import EarlierAttempts, keeps_journal, repeatable
from runner.spec import parse_spec
from runner.update_expr import parse_update

NUMBER, SET = {":v": {"N": "1"}}, {":v": {"SS": ["a"]}}


@pytest.mark.parametrize(
    ("expression", "values", "expected"),
    [
        ("SET x = :v", NUMBER, True),
        ("SET x = y", NUMBER, True),  # y is not written: the copy is the same each time
        ("REMOVE x", {}, True),
        ("DELETE s :v", SET, True),
        ("ADD s :v", SET, True),  # adding set elements again adds nothing
        ("SET a = if_not_exists(a, :v)", NUMBER, True),
        ("SET a.b = a.c", NUMBER, True),  # siblings: a.c is not written
        ("SET n = n + :v", NUMBER, False),
        ("SET n = :v - n", NUMBER, False),
        ("ADD n :v", NUMBER, False),
        ("SET a = if_not_exists(a, :v) + :v", NUMBER, False),
        ("SET l = list_append(l, :v)", {":v": {"L": []}}, False),
        ("SET a.b = a", NUMBER, False),  # reads what it writes into
        ("SET a = b, b = :v", NUMBER, False),  # crossed: the second run copies the new b
        ("SET x = :v, n = n + :v", NUMBER, False),
    ],
)
def test_repeatable(expression, values, expected):
    assert repeatable(parse_update(expression, {}), values) is expected


def test_an_expression_outside_the_model_is_not_repeatable():
    assert repeatable(None, {}) is False


def spec(up, down=None):
    raw = {"MigrationId": "m", "TableName": "T", "Up": up}
    if down is not None:
        raw["Down"] = down
    return parse_spec(raw)


INCREMENT = {"Update": {"Expression": "SET n = n + :one", "Values": {":one": 1}}}
CONSTANT = {"Update": {"Expression": "SET v = :one", "Values": {":one": 1}}}
KEEP = {"Keep": {}}


@pytest.mark.parametrize(
    ("up", "down", "direction", "expected"),
    [
        (CONSTANT, None, "up", True),  # a restoring rollback needs every write's before-image
        ({"Delete": {}}, None, "up", True),
        (CONSTANT, KEEP, "up", False),  # repeatable: applying it again is harmless
        ({"Delete": {}}, KEEP, "up", False),
        (INCREMENT, KEEP, "up", True),
        ({"Function": "arn:aws:lambda:us-east-1:1:function:f"}, KEEP, "up", True),
        (CONSTANT, INCREMENT, "down", True),  # a hand-written Down is an operation too
        (CONSTANT, CONSTANT, "down", False),
        (CONSTANT, None, "down", False),  # the restore itself is conditioned per record
    ],
)
def test_keeps_journal(up, down, direction, expected):
    migration = spec(up, down)
    op = migration.operation(direction)
    values = {k: {"N": str(v)} for k, v in op.values.items()}
    assert keeps_journal(migration, op, direction, values) is expected


KEY = {"pk": {"S": "a"}}


def earlier(record: BeforeImage, journal: bool = True) -> EarlierAttempts:
    found = EarlierAttempts(["pk"], {'{"pk": {"S": "a"}}': record})
    if journal:
        found.from_journal.add('{"pk": {"S": "a"}}')
    return found


def test_the_verdict_on_an_item_read_again():
    record = BeforeImage("changed", KEY, before={"n": {"N": "1"}}, written={"n": {"N": "2"}})
    attempts = earlier(record)
    assert attempts.verdict(KEY, {**KEY, "n": {"N": "2"}}) == "written"
    assert attempts.verdict(KEY, {**KEY, "n": {"N": "1"}}) == "untouched"
    assert attempts.verdict(KEY, {**KEY, "n": {"N": "7"}}) == "moved"
    assert attempts.verdict({"pk": {"S": "b"}}, {"pk": {"S": "b"}}) is None
    assert attempts.journalled_only(KEY)


def test_an_added_attribute_is_written_when_present_and_untouched_when_absent():
    record = BeforeImage("changed", KEY, before={"v": None}, written={"v": {"N": "1"}})
    assert earlier(record).verdict(KEY, {**KEY, "v": {"N": "1"}}) == "written"
    assert earlier(record).verdict(KEY, dict(KEY)) == "untouched"


def test_a_planned_delete_of_an_item_still_there():
    item = {**KEY, "n": {"N": "1"}}
    attempts = earlier(BeforeImage("deleted", KEY, before=item))
    assert attempts.verdict(KEY, item) == "untouched"
    assert attempts.verdict(KEY, {**item, "x": {"S": "new"}}) == "moved"
    assert attempts.deleted_keys({'{"pk": {"S": "a"}}'}) == []
    assert [r.key for r in attempts.deleted_keys(set())] == [KEY]
