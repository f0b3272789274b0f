"""The local CloudFormation's part in a stack operation: which request, in which phase and order.

It plays the sequences documented in tests/conformance/sequences.py (with their sources), and a
test holds it to them:
- forward (CREATE_IN_PROGRESS / UPDATE_IN_PROGRESS): a Create for each added migration and an
  Update for each changed one, independent ones concurrently, each once its dependencies are done;
  when one fails, those still in progress are cancelled (their answers no longer count) and those
  not started never are;
- a failed create (ROLLBACK_IN_PROGRESS): a Delete for every resource whose creation started, newest
  first, naming the id of its answer, or an id made up here for a cancelled one;
- a failed update: an Update back to the old properties for each resource updated in place
  (UPDATE_ROLLBACK_IN_PROGRESS), then a Delete for each one it created or replaced
  (UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS);
- a successful update (UPDATE_COMPLETE_CLEANUP_IN_PROGRESS): a Delete for the old id of each
  replaced resource and for each resource removed from the template;
- rollback disabled: a failure leaves CREATE_FAILED / UPDATE_FAILED and sends nothing more, until
  the next deploy or RollbackStack (`roll_back`); DeleteStack (`delete_stack`) deletes every
  resource.
A Delete that fails in a cleanup phase is tried three times, then skipped.
Each request in flight has its own thread; a cancelled one is told (`abandoned`) that no one waits
for its answer any more, and every thread has ended when `run` returns.
"""

from __future__ import annotations

import queue
import random
import string
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

CREATE, UPDATE = "CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS"
ROLLBACK, UPDATE_ROLLBACK = "ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS"
ROLLBACK_CLEANUP = "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"
CLEANUP = "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"
DELETE = "DELETE_IN_PROGRESS"
CLEANUP_ATTEMPTS = 3

# send(request type, logical id, properties, physical id, old properties[, abandoned=Event])
# -> the answer; `abandoned` is set once CloudFormation no longer waits for it (cancelled)
Send = Callable[..., dict[str, Any]]
JOIN_SECONDS = 60.0  # a cancelled request's sender stops waiting within a poll; this is a bound


@dataclass(frozen=True)
class Sent:
    """One request as the conformance data describes it (ids named by where they came from)."""

    status: str
    type: str
    resource: str
    physical: str | None  # "answered" | "before" | "generated" | None (a Create)
    answer: str | None  # None: cancelled


@dataclass
class Result:
    status: str  # the stack's status at the end
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)  # forward answers
    cancelled: list[str] = field(default_factory=list)
    not_started: list[str] = field(default_factory=list)
    started: list[str] = field(default_factory=list)  # in the order their requests were sent
    undone: dict[str, dict[str, Any]] = field(default_factory=dict)  # rollback answers
    log: list[Sent] = field(default_factory=list)
    properties: dict[str, dict[str, Any]] = field(default_factory=dict)  # what the stack holds
    physical_ids: dict[str, str] = field(default_factory=dict)


def generated_id(stack_name: str, logical_id: str) -> str:
    """An id of the shape CloudFormation makes up (`<stack>-<logical id>-<13 characters>`)."""
    suffix = "".join(random.choices(string.ascii_uppercase + string.digits, k=13))
    return f"{stack_name}-{logical_id}-{suffix}"


class StackOperation:
    """One create or update of a stack's migrations, from what it held to what the template says."""

    def __init__(
        self,
        stack_name: str,
        set_status: Callable[[str], None],
        send: Send,
        held_properties: dict[str, dict[str, Any]],
        held_ids: dict[str, str],
    ) -> None:
        self.stack_name = stack_name
        self.set_status = set_status
        self.send = send
        self.held_properties = dict(held_properties)
        self.held_ids = dict(held_ids)
        self.updating = bool(held_ids)
        self._threads: dict[str, tuple[threading.Thread, threading.Event]] = {}

    def run(
        self,
        desired: dict[str, dict[str, Any]],
        depends_on: dict[str, list[str]],
        unchanged: Callable[[dict[str, Any], dict[str, Any]], bool],
        disable_rollback: bool = False,
    ) -> Result:
        """Deploy `desired` (logical id -> properties, in dependency order).

        With `disable_rollback` a failure leaves the stack in CREATE_FAILED / UPDATE_FAILED with
        what succeeded kept and nothing sent; `roll_back` is then RollbackStack. Whether
        CloudFormation cancels what is in progress then is not documented; here it lets it end.
        """
        forward = UPDATE if self.updating else CREATE
        self.set_status(forward)
        result = Result(status=forward)
        todo = [
            logical_id
            for logical_id, props in desired.items()
            if logical_id not in self.held_properties
            or not unchanged(self.held_properties[logical_id], props)
        ]
        result.started = self._forward(forward, desired, depends_on, todo, result, disable_rollback)
        failed = any(a["Status"] != "SUCCESS" for a in result.answers.values())
        if (result.cancelled or failed) and disable_rollback:
            self._keep_failed(desired, result)
        elif result.cancelled or failed:
            self.roll_back(desired, result)
        elif self.updating:
            self._clean_up(desired, result)
        else:
            self._keep(desired, result)
            result.status = "CREATE_COMPLETE"
            self.set_status(result.status)
        return result

    # ---- forward -------------------------------------------------------------------------------

    def _forward(
        self,
        status: str,
        desired: dict[str, dict[str, Any]],
        depends_on: dict[str, list[str]],
        todo: list[str],
        result: Result,
        finish_in_flight: bool = False,
    ) -> list[str]:
        done = {logical_id for logical_id in desired if logical_id not in todo}
        pending = list(todo)
        started: list[str] = []
        finished: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        in_flight: set[str] = set()
        logged: dict[str, int] = {}  # the log in the order requests were sent
        failed = False
        while pending or in_flight:
            if failed and not (finish_in_flight and in_flight):
                break  # what is in flight is cancelled; what is pending never starts
            for logical_id in [] if failed else list(pending):
                deps = [d for d in depends_on.get(logical_id, []) if d in desired]
                if all(d in done for d in deps):
                    pending.remove(logical_id)
                    in_flight.add(logical_id)
                    started.append(logical_id)
                    logged[logical_id] = len(result.log)
                    kind = "answered" if logical_id in self.held_ids else None
                    request = "Update" if kind else "Create"
                    result.log.append(Sent(status, request, logical_id, kind, None))
                    self._start(logical_id, desired[logical_id], finished)
            if not in_flight:
                break  # what is left waits on something that will not finish
            logical_id, answer = finished.get()
            in_flight.discard(logical_id)
            result.answers[logical_id] = answer
            sent = result.log[logged[logical_id]]
            result.log[logged[logical_id]] = replace(sent, answer=answer["Status"])
            if answer["Status"] == "SUCCESS":
                done.add(logical_id)
            else:
                failed = True
        # Those still in progress are cancelled: CloudFormation no longer waits for their answers.
        result.cancelled = sorted(in_flight, key=started.index)
        result.not_started = pending
        self._end_threads()
        return started

    def _end_threads(self) -> None:
        """Tell every request still in flight it is abandoned, and wait until its thread ended."""
        for _, abandoned in self._threads.values():
            abandoned.set()
        for thread, _ in self._threads.values():
            thread.join(JOIN_SECONDS)
        self._threads.clear()

    def _start(
        self,
        logical_id: str,
        props: dict[str, Any],
        finished: queue.Queue[tuple[str, dict[str, Any]]],
    ) -> None:
        held = self.held_ids.get(logical_id)
        request = "Update" if held else "Create"
        old = self.held_properties.get(logical_id)

        abandoned = threading.Event()

        def send() -> None:
            answer = self.send(request, logical_id, props, held, old, abandoned=abandoned)
            finished.put((logical_id, answer))

        thread = threading.Thread(target=send, daemon=True, name=f"cfn-{logical_id}")
        self._threads[logical_id] = (thread, abandoned)
        thread.start()

    # ---- after the forward phase -----------------------------------------------------------------

    def _replaced(self, logical_id: str, result: Result) -> bool:
        answer = result.answers.get(logical_id)
        held = self.held_ids.get(logical_id)
        return bool(held and answer and answer["PhysicalResourceId"] != held)

    def _keep_failed(self, desired: dict[str, dict[str, Any]], result: Result) -> None:
        """Rollback disabled: what succeeded is kept; a failed Create's resource is retried by
        the next deploy, a failed Update's keeps its old properties."""
        result.status = "UPDATE_FAILED" if self.updating else "CREATE_FAILED"
        self.set_status(result.status)
        result.properties, result.physical_ids = dict(self.held_properties), dict(self.held_ids)
        for logical_id, answer in result.answers.items():
            if answer["Status"] == "SUCCESS":
                result.properties[logical_id] = desired[logical_id]
                result.physical_ids[logical_id] = str(answer["PhysicalResourceId"])

    def roll_back(self, desired: dict[str, dict[str, Any]], result: Result) -> None:
        """Undo the operation `result` describes: after its failure, or as RollbackStack."""
        newest_first = list(reversed(result.started))
        if self.updating:
            self.set_status(UPDATE_ROLLBACK)
            for logical_id in newest_first:
                if logical_id in self.held_ids and not self._replaced(logical_id, result):
                    answer = self.send(
                        "Update",
                        logical_id,
                        self.held_properties[logical_id],
                        self.held_ids[logical_id],
                        desired[logical_id],
                    )
                    result.undone[logical_id] = answer
                    result.log.append(
                        Sent(UPDATE_ROLLBACK, "Update", logical_id, "before", answer["Status"])
                    )
                    if answer["Status"] != "SUCCESS":
                        result.status = "UPDATE_ROLLBACK_FAILED"
                        return
        phase = ROLLBACK_CLEANUP if self.updating else ROLLBACK
        self.set_status(phase)
        failed = False
        for logical_id in newest_first:
            created = logical_id not in self.held_ids
            if not (created or self._replaced(logical_id, result)):
                continue
            if logical_id in result.cancelled:
                physical, kind = generated_id(self.stack_name, logical_id), "generated"
            else:
                physical, kind = result.answers[logical_id]["PhysicalResourceId"], "answered"
            attempts = CLEANUP_ATTEMPTS if self.updating else 1
            answer = self._delete(
                result, phase, logical_id, desired[logical_id], physical, kind, attempts
            )
            result.undone[logical_id] = answer
            failed = failed or answer["Status"] != "SUCCESS"
        if self.updating:
            result.status = "UPDATE_ROLLBACK_COMPLETE"  # a failed cleanup Delete is skipped
        else:
            result.status = "ROLLBACK_FAILED" if failed else "ROLLBACK_COMPLETE"
        self.set_status(result.status)
        result.properties, result.physical_ids = self.held_properties, self.held_ids

    def _delete(
        self,
        result: Result,
        phase: str,
        logical_id: str,
        props: dict[str, Any],
        physical: str,
        kind: str,
        attempts: int,
    ) -> dict[str, Any]:
        for _ in range(attempts):
            answer = self.send("Delete", logical_id, props, physical, None)
            result.log.append(Sent(phase, "Delete", logical_id, kind, answer["Status"]))
            if answer["Status"] == "SUCCESS":
                break
        return answer

    def _clean_up(self, desired: dict[str, dict[str, Any]], result: Result) -> None:
        self.set_status(CLEANUP)
        replaced = [i for i in reversed(list(desired)) if self._replaced(i, result)]
        removed = [i for i in reversed(list(self.held_ids)) if i not in desired]
        for logical_id in replaced + removed:  # their old ids
            props, physical = self.held_properties[logical_id], self.held_ids[logical_id]
            self._delete(result, CLEANUP, logical_id, props, physical, "before", CLEANUP_ATTEMPTS)
        self._keep(desired, result)
        result.status = "UPDATE_COMPLETE"
        self.set_status(result.status)

    def delete_stack(self) -> Result:
        """DeleteStack: a Delete for every resource, newest first, naming the id it holds."""
        result = Result(status=DELETE)
        self.set_status(DELETE)
        for logical_id in reversed(list(self.held_ids)):
            props, physical = self.held_properties[logical_id], self.held_ids[logical_id]
            self._delete(result, DELETE, logical_id, props, physical, "answered", 1)
        result.status = "DELETE_COMPLETE"
        self.set_status(result.status)
        return result

    def _keep(self, desired: dict[str, dict[str, Any]], result: Result) -> None:
        result.properties = dict(desired)
        result.physical_ids = {
            logical_id: str(
                result.answers[logical_id]["PhysicalResourceId"]
                if logical_id in result.answers
                else self.held_ids[logical_id]
            )
            for logical_id in desired
        }


def in_dependency_order(migrations: list[str], depends_on: dict[str, list[str]]) -> list[str]:
    """The migrations in template order, each after what it depends on."""
    placed: list[str] = []
    while len(placed) < len(migrations):
        ready = [
            m
            for m in migrations
            if m not in placed and all(d in placed for d in depends_on.get(m, []))
        ]
        if not ready:
            raise ValueError(f"circular DependsOn among {sorted(set(migrations) - set(placed))}")
        placed.append(ready[0])
    return placed
