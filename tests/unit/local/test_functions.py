"""A template's transform function imported in-process: a Handler that does not resolve says
what it would have found."""

from __future__ import annotations

import pytest

from dynamigrate.local.functions import FunctionLoadError, load_handler


@pytest.fixture
def code(tmp_path):
    (tmp_path / "fns").mkdir()
    (tmp_path / "fns" / "split_names.py").write_text(
        "def handler(event, context):\n    return event\n\nLIMIT = 3\n"
    )
    return tmp_path


def test_a_handler_resolves(code):
    handler = load_handler(code, "Fn", {"CodeUri": "fns", "Handler": "split_names.handler"})
    assert handler({"items": []}, None) == {"items": []}


@pytest.mark.parametrize(
    ("handler", "message"),
    [
        ("split_name.handler", "split_name.py does not exist; did you mean split_names.handler?"),
        (
            "split_names.handle",
            "split_names.handle is not a function; did you mean split_names.handler?",
        ),
        (
            "split_names.Handler",
            "split_names.Handler is not a function; did you mean split_names.handler?",
        ),
        ("unrelated.main", "unrelated.py does not exist"),
    ],
)
def test_a_handler_that_does_not_resolve_gets_a_did_you_mean(code, handler, message):
    with pytest.raises(FunctionLoadError) as raised:
        load_handler(code, "Fn", {"CodeUri": "fns", "Handler": handler})
    assert str(raised.value).startswith("Resource [Fn] property Handler: ")
    assert str(raised.value).endswith(message)
