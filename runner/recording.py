"""The page applier that keeps a before-image of every write it makes (runner.before_images).

Each write records exactly what it replaced, so a rollback can put it back:
- an Update is conditioned on the values, as read, of the attributes its expression writes and
  returns the item as it left it (ReturnValues ALL_NEW), so `before` and `written` are exact; when
  the condition fails, the item as it is (ReturnValuesOnConditionCheckFailure ALL_OLD) says
  whether the user's condition refused it or the item moved on, and then the write is tried
  again on what it now holds. Both return values cost no read capacity (DynamoDB API Reference,
  UpdateItem: "There is no additional cost associated with requesting a return value aside from
  the small network and processing overhead of receiving a larger response. No read capacity
  units are consumed.");
- a Delete returns the item it deleted (ReturnValues ALL_OLD, DeleteItem);
- a function's result is written conditioned on the old values already (runner.item_diff), so
  the old and new images are the record; a `Target` copy records the item it put.
"""

from __future__ import annotations

import threading
from typing import Any

from botocore.exceptions import ClientError

from runner.attrs import Item
from runner.before_images import BeforeImage, changed, same_or_absent
from runner.fanout import key_id
from runner.journal import KEPT_NOTE, EarlierAttempts, PageJournal, planned_update, repeatable
from runner.operations import (
    MAX_CONFLICT_RETRIES,
    Outcome,
    PageApplier,
    PageFailed,
    PageResult,
    _conflict,
    _rejected,
)
from runner.retry import call_with_backoff
from runner.update_eval import changes_nothing
from runner.update_targets import updated_names

_TOUCHED = "#dynamigrate_t"
_READ = ":dynamigrate_t"


class RecordingApplier(PageApplier):
    """A PageApplier whose writes each leave a BeforeImage; `take_images` hands a page's over."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lock = threading.Lock()
        self._images: list[BeforeImage] = []
        self.touched = sorted(
            updated_names(self.op.expression or "", self.op.names)
            if self.op.kind == "Update"
            else ()
        )
        self.repeatable = repeatable(self.update, self.values)
        self.journal: PageJournal | None = None  # set by the worker for each page

    # Exactly once (runner.journal) -------------------------------------------------------------

    def apply(self, items: list[Item]) -> PageResult:
        earlier = self.journal.earlier if self.journal is not None else None
        if not earlier:
            return super().apply(items)
        screened = PageResult()
        rest: list[Item] = []
        for item in items:
            outcome = self._screen(item, earlier)
            if outcome is None:
                rest.append(item)
                continue
            screened.counters[outcome.counter] += 1
            if outcome.sample is not None:
                screened.samples.append(outcome.sample)
        self._count_gone(earlier, items, screened)
        try:
            result = super().apply(rest)
        except PageFailed as exc:
            _merge(exc.result, screened)
            raise
        _merge(result, screened)
        return result

    def _screen(self, item: Item, earlier: EarlierAttempts) -> Outcome | None:
        """The outcome of an item an earlier attempt at the page already judged; None: apply."""
        key = self.key_of(item)
        verdict = earlier.verdict(key, item)
        if verdict in (None, "untouched"):
            return None
        if verdict == "written":  # that attempt's write landed: not made again
            record = earlier.record(key)
            if record is not None and earlier.journalled_only(key):
                self._keep(record)  # its before-images were never written: the restore needs it
            return Outcome("updated")
        if self.op.kind == "Delete" or (self.op.kind == "Update" and self.repeatable):
            return None  # applying it again is harmless
        sample = {"key": {"M": key}, "operation": {"S": KEPT_NOTE}}
        return Outcome("kept", sample={"M": sample})

    def _count_gone(self, earlier: EarlierAttempts, items: list[Item], into: PageResult) -> None:
        """Count the deletes of an earlier attempt: planned, and the item is gone."""
        seen = {key_id(i, self.key_names) for i in items}
        for record in earlier.deleted_keys(seen):
            if self._reread(record.key) is not None:
                continue  # still there: a later page of this run reads it
            into.counters["deleted"] += 1
            if earlier.journalled_only(record.key):
                self._keep(record)

    def _before_writes(self, inputs: list[Any]) -> None:
        """Write the page's journal: what each write will replace and leave (runner.journal)."""
        if self.journal is None or self.dry_run:
            return
        records: list[BeforeImage] = []
        for entry in inputs:
            record = self._planned(entry)
            if record is not None:
                records.append(record)
        self.journal.write(records)

    def _planned(self, entry: Any) -> BeforeImage | None:
        if self.op.kind == "Update":
            if changes_nothing(self.update, entry, self.values):
                return None
            key = self.key_of(entry)
            return planned_update(key, entry, self.update, self.values, set(self.touched))
        if self.op.kind == "Delete":
            return BeforeImage("deleted", self.key_of(entry), before=entry)
        old, new = entry
        if self.spec.target:
            return None  # a Target copy never overwrites (attribute_not_exists): repeatable
        if isinstance(new, list):
            mine = key_id(old, self.key_names)
            own = [n for n in new if key_id(n, self.key_names) == mine]
            new = own[0] if own else None
        if new is None:
            return BeforeImage("deleted", self.key_of(old), before=old)
        return changed(self.key_of(old), old, new)

    def take_images(self) -> list[BeforeImage]:
        with self._lock:
            images, self._images = self._images, []
        return images

    def _keep(self, image: BeforeImage | None) -> None:
        if image is not None:
            with self._lock:
                self._images.append(image)

    # Update ----------------------------------------------------------------------------------

    def _update_item(self, item: Item) -> Outcome:
        if self.dry_run:
            return super()._update_item(item)
        conflicts = 0
        for _ in range(MAX_CONFLICT_RETRIES + 1):
            if changes_nothing(self.update, item, self.values):  # no write, no before-image
                return Outcome("unchanged", conflicts)
            kwargs = self._write_kwargs(item)
            read = self._as_read(item, kwargs)
            self.bucket.take()
            try:
                resp: dict[str, Any] = call_with_backoff(
                    lambda kwargs=kwargs: self.client.update_item(  # type: ignore[misc]
                        UpdateExpression=self.op.expression,
                        ReturnValues="ALL_NEW",
                        ReturnValuesOnConditionCheckFailure="ALL_OLD",
                        **kwargs,
                    )
                )
            except ClientError as exc:
                if not _conflict(exc):
                    raise _rejected(self.spec, "Update", exc, self.key_of(item)) from exc
                current = exc.response.get("Item")
                if not current or self._same_touched(current, read):
                    return Outcome("unchanged", conflicts)  # gone, or the Condition refused it
                conflicts, item = conflicts + 1, current
                continue
            self._keep(
                changed(self.key_of(item), read, resp.get("Attributes", {}), set(self.touched))
            )
            return Outcome("updated", conflicts)
        return Outcome("failed", conflicts)

    def _as_read(self, item: Item, kwargs: dict[str, Any]) -> Item:
        """Condition the write on the touched attributes as read; return them."""
        parts = [kwargs["ConditionExpression"]]
        values = dict(kwargs.get("ExpressionAttributeValues", {}))
        for i, attr in enumerate(self.touched):
            kwargs["ExpressionAttributeNames"][f"{_TOUCHED}{i}"] = attr
            if attr in item:
                values[f"{_READ}{i}"] = item[attr]
                parts.append(f"{_TOUCHED}{i} = {_READ}{i}")
            else:
                parts.append(f"attribute_not_exists({_TOUCHED}{i})")
        kwargs["ConditionExpression"] = " AND ".join(f"({p})" for p in parts)
        if values:
            kwargs["ExpressionAttributeValues"] = values
        return {a: item[a] for a in self.touched if a in item}

    def _same_touched(self, current: Item, read: Item) -> bool:
        return all(same_or_absent(current.get(a), read.get(a)) for a in self.touched)

    # Delete ----------------------------------------------------------------------------------

    def _delete_item(self, item: Item) -> Outcome:
        if self.dry_run:
            return super()._delete_item(item)
        self.bucket.take()
        try:
            resp = call_with_backoff(
                lambda: self.client.delete_item(ReturnValues="ALL_OLD", **self._write_kwargs(item))
            )
        except ClientError as exc:
            if _conflict(exc):
                return Outcome("unchanged")
            raise _rejected(self.spec, "Delete", exc, self.key_of(item)) from exc
        self._keep(BeforeImage("deleted", self.key_of(item), before=resp.get("Attributes", item)))
        return Outcome("deleted")

    # Function --------------------------------------------------------------------------------

    def _write_result(self, old: Item, new: Item | None) -> str | None:
        counter = super()._write_result(old, new)
        if self.dry_run or counter not in ("updated", "deleted"):
            return counter
        if self.spec.target and new is not None:
            key = {k: new[k] for k in self.target_key_names or []}
            self._keep(BeforeImage("put", key, written=new))
        elif counter == "deleted":
            self._keep(BeforeImage("deleted", self.key_of(old), before=old))
        elif new is not None:
            self._keep(changed(self.key_of(old), old, new))
        return counter


def _merge(result: PageResult, screened: PageResult) -> None:
    result.counters.update(screened.counters)
    result.samples.extend(screened.samples)
