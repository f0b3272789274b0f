"""Before-image records: what a write replaced, exactly, in and out of their S3 form."""

from __future__ import annotations

from runner.before_images import (
    BeforeImage,
    BeforeImageStore,
    changed,
    decode,
    encode,
    page_key,
    run_prefix,
    segment_of,
)

KEY = {"pk": {"S": "a"}}
RICH = {
    "big": {"N": "1" * 38},
    "raw": {"B": b"\x00\xff"},
    "blobs": {"BS": [b"\x01", b"\x02"]},
    "tags": {"SS": ["x", "y"]},
    "doc": {"M": {"l": {"L": [{"NULL": True}, {"BOOL": False}]}}},
}


def test_records_survive_their_s3_form_exactly():
    images = [
        BeforeImage("deleted", KEY, before={**KEY, **RICH}),
        BeforeImage("changed", KEY, before={"v": None, **RICH}, written={"v": {"N": "1"}}),
        BeforeImage("put", {"id": {"S": "b"}}, written={"id": {"S": "b"}, **RICH}),
    ]
    assert decode(encode(images), "m") == images


def test_changed_keeps_only_what_the_write_changed():
    old = {**KEY, "a": {"N": "1"}, "b": {"SS": ["x", "y"]}, "gone": {"S": "g"}}
    new = {**KEY, "a": {"N": "2"}, "b": {"SS": ["y", "x"]}, "added": {"S": "n"}}
    image = changed(KEY, old, new)
    assert image == BeforeImage(
        "changed",
        KEY,
        before={"a": {"N": "1"}, "added": None, "gone": {"S": "g"}},
        written={"a": {"N": "2"}, "added": {"S": "n"}, "gone": None},
    )
    assert changed(KEY, old, old) is None


def test_changed_of_named_attributes_only():
    image = changed(KEY, {"a": {"N": "1"}}, {**KEY, "a": {"N": "1"}, "b": {"N": "2"}}, {"b"})
    assert image == BeforeImage("changed", KEY, before={"b": None}, written={"b": {"N": "2"}})


def test_keys_sort_in_the_order_pages_were_written():
    prefix = run_prefix("T", "m", "r")
    keys = [page_key(prefix, s, p, a) for s, p, a in [(0, 2, 0), (0, 10, 0), (0, 10, 1), (1, 0, 0)]]
    assert sorted(keys) == keys
    assert [segment_of(k, prefix) for k in keys] == [0, 0, 0, 1]
    assert keys[0] == "dynamigrate/before-images/T/m/r/000000/00000002-0000.json"


class FakeS3:
    def __init__(self) -> None:
        self.objects: dict[str, dict] = {}

    def put_object(self, **kwargs):
        self.objects[kwargs["Key"]] = kwargs

    def list_objects_v2(self, Bucket, Prefix, **kwargs):
        keys = sorted(k for k in self.objects if k.startswith(Prefix))
        return {"Contents": [{"Key": k} for k in keys], "IsTruncated": False}


def test_every_object_is_encrypted_and_a_retried_page_gets_the_next_attempt():
    s3 = FakeS3()
    store = BeforeImageStore(s3, "bucket", run_prefix("T", "m", "r"))
    assert store.next_attempt(0, 3) == 0
    store.put_page(0, 3, 0, [BeforeImage("deleted", KEY, before=KEY)])
    store.put_page(0, 4, 0, [])  # a page that changed nothing leaves no object
    assert store.next_attempt(0, 3) == 1
    assert store.next_attempt(0, 4) == 0
    (written,) = s3.objects.values()
    assert written["ServerSideEncryption"] == "AES256"
    assert written["Bucket"] == "bucket"
