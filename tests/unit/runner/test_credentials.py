"""Assuming the migration's data role while IAM propagates it (no I/O: a fake STS)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from runner.credentials import DataClient, assume_role
from runner.errors import RoleNotReadyError

ROLE = "arn:aws:iam::123456789012:role/dynamigrate/data-m1"
CREDENTIALS = {"AccessKeyId": "a", "SecretAccessKey": "s", "SessionToken": "t"}


class Sts:
    def __init__(self, refusals: int, code: str = "AccessDenied") -> None:
        self.refusals, self.code, self.calls = refusals, code, 0

    def assume_role(self, **kwargs):
        self.calls += 1
        assert kwargs["RoleArn"] == ROLE
        if self.calls <= self.refusals:
            raise ClientError({"Error": {"Code": self.code, "Message": "not yet"}}, "AssumeRole")
        return {"Credentials": CREDENTIALS}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_access_denied_is_retried_while_the_role_propagates():
    clock, sts = Clock(), Sts(refusals=4)
    assert assume_role(sts, ROLE, 3600, sleep=clock.sleep, clock=clock) == CREDENTIALS
    assert sts.calls == 5
    assert 0 < clock.now < 60


def test_after_about_a_minute_it_gives_up_with_what_to_check():
    clock, sts = Clock(), Sts(refusals=1000)
    with pytest.raises(RoleNotReadyError) as raised:
        assume_role(sts, ROLE, 3600, sleep=clock.sleep, clock=clock)
    assert 30 <= clock.now <= 60
    assert ROLE in str(raised.value)
    assert "trusts the worker's role" in str(raised.value)
    assert isinstance(raised.value.__cause__, ClientError)


def test_other_errors_are_not_retried():
    clock, sts = Clock(), Sts(refusals=1, code="ValidationError")
    with pytest.raises(ClientError):
        assume_role(sts, ROLE, 3600, sleep=clock.sleep, clock=clock)
    assert (sts.calls, clock.now) == (1, 0.0)


class Table:
    def __init__(self, code: str) -> None:
        self.code = code
        self.meta = "kept"

    def update_item(self, **kwargs):
        raise ClientError({"Error": {"Code": self.code, "Message": "no"}}, "UpdateItem")


def test_a_refused_data_call_is_a_role_not_yet_in_force():
    client = DataClient(Table("AccessDeniedException"), ROLE)
    with pytest.raises(RoleNotReadyError) as raised:
        client.update_item(TableName="Orders")
    assert "refused update_item" in str(raised.value)
    assert "the role's policy lacks this action" in str(raised.value)
    assert client.meta == "kept"
    with pytest.raises(ClientError):  # anything else is the caller's to handle, as before
        DataClient(Table("ConditionalCheckFailedException"), ROLE).update_item(TableName="O")
