import pytest
from botocore.exceptions import ClientError

from runner.errors import ThrottledError
from runner.retry import call_with_backoff, is_throttling


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


def _cancelled(*codes):
    reasons = [{"Code": code} for code in codes]
    response = {
        "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
        "CancellationReasons": reasons,
    }
    return ClientError(response, "TransactWriteItems")


@pytest.mark.parametrize("reason", ["ProvisionedThroughputExceeded", "ThrottlingError"])
def test_a_transaction_cancelled_for_capacity_is_throttling_and_retried(reason):
    calls = []

    def call():
        calls.append(1)
        if len(calls) < 3:
            raise _cancelled("None", reason)
        return "ok"

    assert is_throttling(_cancelled("None", reason))
    assert call_with_backoff(call, sleep=lambda s: None) == "ok"


def test_a_transaction_cancelled_by_a_condition_is_not_throttling():
    assert not is_throttling(_cancelled("ConditionalCheckFailed", "None"))
    assert not is_throttling(_cancelled())
