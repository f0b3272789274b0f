"""Data-role sessions share one botocore model loader and keep their own credentials."""

from __future__ import annotations

from runner.sessions import session, shared_loader


def test_sessions_share_one_loader_so_a_model_is_parsed_once():
    one = session(aws_access_key_id="A1", aws_secret_access_key="s1", region_name="eu-west-1")
    two = session(aws_access_key_id="A2", aws_secret_access_key="s2", region_name="us-east-1")
    assert one._session is not two._session
    loader = shared_loader(None)  # botocore's default search paths (no AWS_DATA_PATH here)
    assert one._session.get_component("data_loader") is loader
    assert two._session.get_component("data_loader") is loader
    first = one._session.get_service_model("dynamodb")
    second = two._session.get_service_model("dynamodb")
    assert first.operation_names == second.operation_names
    # the parsed JSON is the loader's one copy, not one per session
    assert loader.load_service_model("dynamodb", "service-2") is loader.load_service_model(
        "dynamodb", "service-2"
    )


def test_each_session_keeps_its_own_credentials_and_region():
    one = session(aws_access_key_id="A1", aws_secret_access_key="s1", region_name="eu-west-1")
    two = session(aws_access_key_id="A2", aws_secret_access_key="s2", region_name="us-east-1")
    assert one.get_credentials().access_key == "A1"
    assert two.get_credentials().access_key == "A2"
    assert (one.region_name, two.region_name) == ("eu-west-1", "us-east-1")
