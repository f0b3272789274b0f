import pytest
from botocore.exceptions import ClientError

from runner.errors import ThrottledError
from runner.retry import call_with_backoff


def _error(code):
    return ClientError({"Error": {"Code": code, "Message": code}}, "UpdateItem")


def test_throttling_is_retried_until_it_passes():
    calls = []

    def call():
        calls.append(1)
        if len(calls) < 4:
            raise _error("ProvisionedThroughputExceededException")
        return "ok"

    assert call_with_backoff(call, sleep=lambda s: None) == "ok"
    assert len(calls) == 4


def test_endless_throttling_becomes_throttled_error():
    def call():
        raise _error("ThrottlingException")

    with pytest.raises(ThrottledError):
        call_with_backoff(call, attempts=3, sleep=lambda s: None)


def test_other_errors_pass_through():
    def call():
        raise _error("ValidationException")

    with pytest.raises(ClientError):
        call_with_backoff(call, sleep=lambda s: None)
