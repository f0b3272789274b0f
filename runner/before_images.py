"""Before-images: what each page of an `Up` replaced, kept in S3 so a rollback can put it back.

One object per attempt at a page, under a prefix per run:
`dynamigrate/before-images/<table>/<migration>/<run>/<segment>/<page>-<attempt>.json`, a JSON
document of records in DynamoDB JSON (binary as base64, numbers as their exact text):

- `changed`: the item's key, `before` (the prior value of every attribute the run changed, null
  where it was absent) and `written` (what the run left in those attributes: the fingerprint the
  restore is conditioned on);
- `deleted`: the whole item the run deleted (the fingerprint: no item with its key);
- `put`: the item the run put into a `Target` table (the fingerprint: the whole item).

Objects are written with server-side encryption (SSE-S3) and expire through the artifacts
bucket's lifecycle rule on this prefix (template.yaml, `BeforeImageRetentionDays`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from botocore.exceptions import ClientError

from runner.attrs import Item, from_wire, to_wire
from runner.errors import MigrationError
from runner.item_diff import same_value

PREFIX = "dynamigrate/before-images/"
Kind = Literal["changed", "deleted", "put"]


@dataclass(frozen=True)
class BeforeImage:
    """What one write of the run replaced, and the fingerprint of what it wrote."""

    kind: Kind
    key: Item
    before: dict[str, Any] = field(default_factory=dict)  # attribute -> value, None: absent
    written: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        def wire(values: dict[str, Any]) -> dict[str, Any]:
            return {k: None if v is None else to_wire({"v": v})["v"] for k, v in values.items()}

        return {
            "kind": self.kind,
            "key": to_wire(self.key),
            "before": wire(self.before),
            "written": wire(self.written),
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any], migration_id: str) -> BeforeImage:
        def item(values: dict[str, Any]) -> dict[str, Any]:
            return {
                k: None if v is None else from_wire({"v": v}, migration_id)["v"]
                for k, v in values.items()
            }

        kind = raw["kind"]
        if kind not in ("changed", "deleted", "put"):
            raise MigrationError(f"Migration {migration_id}: unknown before-image kind {kind!r}")
        return cls(kind, item(raw["key"]), item(raw["before"]), item(raw["written"]))


def same_or_absent(a: Any, b: Any) -> bool:
    """Whether two attribute values (None: absent) are the same."""
    if a is None or b is None:
        return a is None and b is None
    return same_value(a, b)


def changed(key: Item, old: Item, new: Item, names: set[str] | None = None) -> BeforeImage | None:
    """The record of an update from `old` to `new` (of `names` only, when given); None when the
    write changed nothing."""
    attrs = names if names is not None else (set(old) | set(new)) - set(key)
    before: dict[str, Any] = {}
    written: dict[str, Any] = {}
    for attr in sorted(attrs):
        a, b = old.get(attr), new.get(attr)
        if same_or_absent(a, b):
            continue
        before[attr], written[attr] = a, b
    return BeforeImage("changed", key, before, written) if before else None


def run_prefix(table: str, migration_id: str, run_id: str) -> str:
    return f"{PREFIX}{table}/{migration_id}/{run_id}/"


def page_key(prefix: str, segment: int, page: int, attempt: int) -> str:
    """Zero-padded, so the keys of one segment sort in the order the pages were written."""
    return f"{prefix}{segment:06d}/{page:08d}-{attempt:04d}.json"


def encode(images: list[BeforeImage]) -> bytes:
    return json.dumps({"records": [i.to_json() for i in images]}, separators=(",", ":")).encode()


def decode(body: bytes, migration_id: str) -> list[BeforeImage]:
    try:
        records = json.loads(body)["records"]
        return [BeforeImage.from_json(r, migration_id) for r in records]
    except (ValueError, KeyError, TypeError) as exc:
        raise MigrationError(f"Migration {migration_id}: unreadable before-images ({exc})") from exc


def _failed(what: str, exc: ClientError) -> MigrationError:
    code = exc.response.get("Error", {}).get("Code", "Unknown")
    return MigrationError(f"before-images: {what} failed ({code}: {exc})")


class BeforeImageStore:
    """One run's before-images in one bucket, through an injected S3 client."""

    def __init__(self, s3: Any, bucket: str, prefix: str) -> None:
        self.s3, self.bucket, self.prefix = s3, bucket, prefix

    def next_attempt(self, segment: int, page: int) -> int:
        """How many attempts at this page already left their before-images (a page is tried
        again only in a later invocation, after a crash or a failure)."""
        start = page_key(self.prefix, segment, page, 0)[: -len("0000.json")]
        return len(self.keys_under(start))

    def put_page(self, segment: int, page: int, attempt: int, images: list[BeforeImage]) -> None:
        if not images:
            return
        key = page_key(self.prefix, segment, page, attempt)
        try:
            # SSE-S3 on every object (Amazon S3 User Guide, "Using server-side encryption with
            # Amazon S3 managed keys": the x-amz-server-side-encryption header, AES256).
            self.s3.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=encode(images),
                ContentType="application/json",
                ServerSideEncryption="AES256",
            )
        except ClientError as exc:
            raise _failed(f"writing {key}", exc) from exc

    def object_keys(self) -> list[str]:
        """Every object of the run, in the order written within each segment."""
        return sorted(self.keys_under(self.prefix))

    def load(self, key: str, migration_id: str) -> list[BeforeImage]:
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            raise _failed(f"reading {key}", exc) from exc
        return decode(body, migration_id)

    def keys_under(self, prefix: str) -> list[str]:
        """Every object key under `prefix`."""
        keys: list[str] = []
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        while True:
            try:
                resp = self.s3.list_objects_v2(**kwargs)
            except ClientError as exc:
                raise _failed(f"listing {prefix}", exc) from exc
            keys.extend(o["Key"] for o in resp.get("Contents", []))
            if not resp.get("IsTruncated"):
                return keys
            kwargs["ContinuationToken"] = resp["NextContinuationToken"]


def segment_of(key: str, prefix: str) -> int:
    """The Up segment an object belongs to."""
    return int(key[len(prefix) :].split("/", 1)[0])
