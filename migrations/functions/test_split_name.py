"""Run with `.venv/bin/pytest migrations/functions`: the transform, without AWS."""

from split_name import handler


def test_names_are_split_and_emails_lowered():
    page = {
        "items": [
            {"id": {"S": "1"}, "name": {"S": "Ada Lovelace"}, "email": {"S": " Ada@Example.COM"}},
            {"id": {"S": "2"}, "name": {"S": "Plato"}},
        ]
    }
    assert handler(page, None)["items"] == [
        {
            "id": {"S": "1"},
            "first_name": {"S": "Ada"},
            "last_name": {"S": "Lovelace"},
            "email": {"S": "ada@example.com"},
        },
        {"id": {"S": "2"}, "first_name": {"S": "Plato"}},
    ]


def test_a_migrated_item_comes_back_unchanged():
    done = {"id": {"S": "1"}, "first_name": {"S": "Ada"}, "email": {"S": "ada@example.com"}}
    assert handler({"items": [done]}, None)["items"] == [done]
