"""The restore of one record: conditioned on what the run wrote; a refusal read as done or kept."""

from __future__ import annotations

from botocore.exceptions import ClientError

from runner.before_images import BeforeImage
from runner.pacing import TokenBucket
from runner.restore import Restorer, already_restored, restore_request, up_run_of
from runner.spec import parse_spec

SPEC = parse_spec({"MigrationId": "m", "TableName": "T", "Up": {"Delete": {}}, "Target": "V2"})
KEY = {"pk": {"S": "a"}}


def test_a_changed_item_gets_its_prior_values_back_only_if_it_holds_what_was_written():
    image = BeforeImage(
        "changed",
        KEY,
        before={"a": {"N": "1"}, "added": None},
        written={"a": {"N": "2"}, "added": {"S": "x"}},
    )
    method, kwargs = restore_request(image, SPEC, ["pk"])
    assert method == "update_item"
    assert kwargs["Key"] == KEY
    names = {v: k for k, v in kwargs["ExpressionAttributeNames"].items()}
    values = kwargs["ExpressionAttributeValues"]
    condition = kwargs["ConditionExpression"]
    assert f"attribute_exists({names['pk']})" in condition
    assert f"{names['a']} = " in condition
    assert {"N": "2"} in values.values()
    assert f"{names['added']} = " in condition
    assert {"S": "x"} in values.values()
    assert kwargs["UpdateExpression"] == f"SET {names['a']} = :n1 REMOVE {names['added']}"
    assert values[":n1"] == {"N": "1"}


def test_a_deleted_item_is_created_again_only_where_no_item_has_its_key():
    image = BeforeImage("deleted", KEY, before={**KEY, "v": {"N": "1"}})
    method, kwargs = restore_request(image, SPEC, ["pk"])
    assert method == "put_item"
    assert kwargs["Item"] == image.before
    assert kwargs["ConditionExpression"] == "attribute_not_exists(#dynamigrate_key)"


def test_an_item_put_into_the_target_is_deleted_only_while_it_is_what_was_put():
    put = {"id": {"S": "b"}, "v": {"N": "1"}}
    method, kwargs = restore_request(
        BeforeImage("put", {"id": {"S": "b"}}, written=put), SPEC, ["pk"]
    )
    assert method == "delete_item"
    assert kwargs["TableName"] == "V2"
    assert kwargs["Key"] == {"id": {"S": "b"}}
    assert kwargs["ConditionExpression"].count(" AND ") == 1


def test_already_restored_tells_a_resumed_restore_from_an_application_write():
    image = BeforeImage(
        "changed", KEY, before={"a": {"N": "1"}, "b": None}, written={"a": {"N": "2"}}
    )
    assert already_restored(image, {**KEY, "a": {"N": "1"}})
    assert not already_restored(image, {**KEY, "a": {"N": "3"}})
    assert not already_restored(image, {**KEY, "a": {"N": "1"}, "b": {"S": "app"}})
    assert not already_restored(image, None)  # the application deleted it: kept
    deleted = BeforeImage("deleted", KEY, before={**KEY, "v": {"N": "1"}})
    assert already_restored(deleted, {**KEY, "v": {"N": "1"}})
    assert not already_restored(deleted, {**KEY, "v": {"N": "9"}})
    assert already_restored(BeforeImage("put", KEY, written=KEY), None)


class Refusing:
    """A client whose every conditional write fails, returning `current` (ALL_OLD)."""

    def __init__(self, current):
        self.current, self.calls = current, []

    def put_item(self, **kwargs):
        self.calls.append(kwargs)
        error = {"Error": {"Code": "ConditionalCheckFailedException", "Message": "no"}}
        if self.current is not None:
            error["Item"] = self.current
        raise ClientError(error, "PutItem")


def test_a_refused_restore_is_counted_kept_with_a_sample_of_its_key():
    image = BeforeImage("deleted", KEY, before={**KEY, "v": {"N": "1"}})
    client = Refusing({**KEY, "v": {"N": "2"}})
    counter, sample = Restorer(SPEC, client, ["pk"], TokenBucket(None)).restore(image)
    assert counter == "kept"
    assert sample["M"]["key"] == {"M": KEY}
    assert client.calls[0]["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"
    again = Restorer(SPEC, Refusing(image.before), ["pk"], TokenBucket(None)).restore(image)
    assert again == ("restored", None)


def test_the_up_run_comes_from_the_history_records_up_run():
    assert up_run_of({"upRun": {"M": {"runId": {"S": "r1"}}}}) == "r1"
    assert up_run_of({}) is None


def test_a_missing_down_or_restore_restores_and_keep_does_not():
    base = {"MigrationId": "m", "TableName": "T", "Up": {"Delete": {}}}
    assert parse_spec(base).restores
    assert parse_spec({**base, "Down": {"Restore": {}}}).restores
    assert parse_spec({**base, "Down": {"Restore": None}}).restores
    assert not parse_spec({**base, "Down": {"Keep": {}}}).restores
    assert not parse_spec({**base, "Down": {"Delete": {}}}).restores
