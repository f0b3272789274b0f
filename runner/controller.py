"""The controller's steps: begin, poll, answer and fail, each one Lambda task of the controller.

The controller state machine (in template.yaml) carries a small `state` between the steps:

    Begin -> Route -> (Answer | Wait -> Poll -> Route | Done)

`begin` decides (runner.lifecycle) and takes the migration's lock, `poll` follows the migration
execution and copies its progress into the history record until it ends or the custom-resource
window is spent, `answer` sends CloudFormation its one answer, and `fail` (every Catch) records the
failure and answers FAILED if nothing was answered yet. Every step is safe to retry: executions are
named after the request, the lock owner is the request, and the answer is sent once per state.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from runner import cfn_response
from runner.controller_state import (
    ANSWERED_POLL_SECONDS,
    LEASE_GRACE_SECONDS,
    MAX_POLLS_PER_EXECUTION,
    answer_data,
    execution_name,
    failure_reason,
    lambda_message,
    lease_until,
    stable_run_id,
    stack_time,
    to_answer,
    waiting,
    window_seconds,
)
from runner.events import ignore
from runner.history import FAILED, ROLLED_BACK, ROLLING_BACK, RUNNING, SUCCEEDED, RunRef
from runner.ledger import MigrationLedger, MigrationRecord, run_summary, runs_with_current
from runner.lifecycle import (
    OPERATION_STATUSES,
    Decision,
    Request,
    Stack,
    decide,
    restores_old_properties,
)
from runner.run_records import recorded

if TYPE_CHECKING:  # the stubs are a dev dependency only, as in Powertools
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_stepfunctions import SFNClient

TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
Send = Callable[..., None]  # (event, body, budget=seconds left) -> None
Notify = Callable[[MigrationRecord, str], None]  # (record written, "started"|"progress"|"ended")


@dataclass
class Controller:
    """The steps, with every AWS dependency injected."""

    sfn: SFNClient
    cloudformation: CloudFormationClient
    ledger: MigrationLedger
    send: Send = cfn_response.send
    clock: Callable[[], float] = time.time
    messages: list[str] = field(default_factory=list)
    notify: Notify = ignore  # runner.events.RunNotifier: events and run metrics

    def _notify(self, record: MigrationRecord, change: str) -> None:
        try:
            self.notify(record, change)
        except Exception as exc:  # observing a run never changes its outcome
            self.messages.append(f"could not report the run's {change}: {exc}")

    # ---- begin -------------------------------------------------------------------------------

    def begin(self, event: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
        req = Request.from_event(event)
        now = int(self.clock())
        state: dict[str, Any] = {
            "owner": req.request_id,
            "deadline": int(config.get("deadline") or now + window_seconds(req.service_timeout)),
            "pollSeconds": int(config.get("pollSeconds", 15)),
            "answeredPollSeconds": int(config.get("answeredPollSeconds", ANSWERED_POLL_SECONDS)),
            "maxPolls": int(config.get("maxPolls", MAX_POLLS_PER_EXECUTION)),
            "polls": 0,
            "handovers": 0,
            "answered": False,
            "physicalId": req.physical_id or req.plain_physical_id,
        }
        return self._decide(event, state)

    def _decide(self, event: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
        stack = self._stack(str(event["StackId"]))
        old = restores_old_properties(event, stack.status)
        target = Request.from_event(event, old=old)
        state = {**state, "old": old}
        record = self.ledger.get(target.table, target.record_id)
        decision = decide(target, record, stack)
        if decision.action == "answer":
            data = {"Status": record.status} if record else {}
            if record and record.execution_arn:
                data["ExecutionArn"] = record.execution_arn
            return to_answer(state, decision.status or "FAILED", decision.reason, data, then="done")
        now = int(self.clock())
        if decision.action == "join" and record and record.lease_expires < now:
            decision = Decision("start", resume_run_id=record.run_id)  # its controller is gone
        if decision.action == "join":
            return waiting(state, "begin", now)
        return self._take(target, state, decision, stack)

    def _stack(self, stack_id: str) -> Stack:
        """The stack's status and operation; the operation is recorded while it can be read."""
        try:
            stacks = self.cloudformation.describe_stacks(StackName=stack_id)["Stacks"]
        except ClientError as exc:
            if "does not exist" in str(exc):
                return Stack(None)
            raise
        if not stacks:
            return Stack(None)
        status = str(stacks[0]["StackStatus"])
        if status in OPERATION_STATUSES:
            created = stacks[0]["CreationTime"]
            updated = stacks[0].get("LastUpdatedTime")
            began = created if status == "CREATE_IN_PROGRESS" else updated or created
            return Stack(status, self.ledger.note_operation(stack_id, stack_time(began)))
        return Stack(status, self.ledger.operation(stack_id))

    def _take(
        self, req: Request, state: dict[str, Any], decision: Decision, stack: Stack
    ) -> dict[str, Any]:
        down = decision.action == "down"
        now = int(self.clock())
        lock = self.ledger.acquire(
            req.table,
            req.record_id,
            state["owner"],
            req.checksum,
            lease_seconds=max(0, state["deadline"] - now) + LEASE_GRACE_SECONDS,
            now=now,
            allow_succeeded=down,
        )
        running = lock.record.execution_arn if lock.record.status == RUNNING else None
        if not lock.acquired:  # another request runs it: wait, then decide again
            if down and running:  # rolling back: the Up must not go on; its controller sees it
                self._stop(running, "dynamigrate.RolledBack", "the stack is rolling back")
            return waiting(state, "begin", now)
        if running and down:  # the Up's controller is gone: Down only once its run has stopped
            self._stop(running, "dynamigrate.RolledBack", "the stack is rolling back")
            if self._still_running(running):
                return waiting(state, "begin", now)
        elif running and self._still_running(running):  # adopt the run of a vanished controller
            run_id = lock.record.run_id or stable_run_id(req.request_id)
            physical = req.run_physical_id(stable_run_id(req.request_id))
            self.ledger.update_owned(
                req.table,
                req.record_id,
                state["owner"],
                {
                    "physicalId": physical,
                    "stackId": req.stack_id,
                    "logicalId": req.logical_id,
                    "operation": stack.operation,
                },
            )
            state.update(runId=run_id, direction="up", executionArn=running, physicalId=physical)
            return waiting(state, "run", now)
        blockers = [] if req.dry_run else self.ledger.running_before(req.table, req.migration_id)
        if blockers and not down:
            self.messages.append(f"waiting for {blockers[0].migration_id} on {req.table}")
            return waiting(state, "begin", now)
        run_id = decision.resume_run_id or stable_run_id(req.request_id)
        direction = "down" if down else "up"
        arn = self._start_execution(req, run_id, direction)
        started: dict[str, Any] = {
            "status": ROLLING_BACK if down else RUNNING,
            "runId": run_id,
            "direction": direction,
            "executionArn": arn,
            "stateMachineArn": req.state_machine_arn,
            "requestId": req.request_id,
            "dryRun": req.dry_run,
            "startedAt": now,
            "lastError": None,
        }
        if down and lock.record.attributes.get("direction", {}).get("S") == "up":
            started["upRun"] = run_summary(lock.record)  # history keeps the Up's cause and counts
        runs = runs_with_current(lock.record, arn)
        if runs is not None:  # every run stays in the history, oldest first
            started["runs"] = runs
        if not down:  # the run's identity: what a rollback matches (runner.lifecycle.undoes)
            state["physicalId"] = req.run_physical_id(stable_run_id(req.request_id))
            started.update(
                physicalId=state["physicalId"],
                stackId=req.stack_id,
                logicalId=req.logical_id,
                operation=stack.operation,
                requestType=req.request_type,
            )
        record = self.ledger.update_owned(req.table, req.record_id, state["owner"], started)
        self._notify(record, "started")
        state.update(runId=run_id, direction=direction, executionArn=arn)
        return waiting(state, "run", now)

    def _start_execution(self, req: Request, run_id: str, direction: str) -> str:
        if not req.state_machine_arn:
            raise ValueError(f"{req.logical_id}: the request has no StateMachineArn")
        name = execution_name(req.migration_id, req.request_id, direction)
        payload = json.dumps({"runId": run_id, "direction": direction, "dryRun": req.dry_run})
        try:
            return str(
                self.sfn.start_execution(
                    stateMachineArn=req.state_machine_arn, name=name, input=payload
                )["executionArn"]
            )
        except ClientError as exc:  # a retried Begin: the execution exists and already ended
            if exc.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
                raise
            prefix = req.state_machine_arn.replace(":stateMachine:", ":execution:", 1)
            return f"{prefix}:{name}"

    def _stop(self, execution_arn: str, error: str, cause: str) -> None:
        try:
            self.sfn.stop_execution(executionArn=execution_arn, error=error, cause=cause)
        except ClientError as exc:
            self.messages.append(f"could not stop {execution_arn}: {exc}")

    def _still_running(self, execution_arn: str) -> bool:
        status = self.sfn.describe_execution(executionArn=execution_arn)["status"]
        return bool(status == "RUNNING")

    # ---- poll --------------------------------------------------------------------------------

    def poll(self, event: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
        req = Request.from_event(event, old=bool(state.get("old")))
        state = {**state, "polls": state.get("polls", 0) + 1}
        now = int(self.clock())
        if state["mode"] == "begin":
            if not state["answered"] and now >= state["deadline"]:
                return self._timed_out_waiting(req, state)
            return self._decide(event, state)
        desc = self.sfn.describe_execution(executionArn=state["executionArn"])
        run = RunRef(req.table, req.migration_id, state["direction"], state["runId"], req.dry_run)
        totals = self.ledger.run_totals(run)
        progress = {
            "counters": totals.counters,
            "segmentsDone": totals.segments_done,
            "pages": totals.pages,
            "updatedAt": now,
            **totals.pacing,  # the rate it holds and why, throttles seen (runner.pacer)
            **recorded(totals.records),  # its restore point and verification (runner.run_records)
        }
        if desc["status"] not in TERMINAL:
            record = self._record(req, state, {**progress, "leaseExpires": lease_until(state, now)})
            self._notify(record, "progress")
            if not state["answered"] and now >= state["deadline"]:
                return self._timed_out_running(req, state, totals.counters)
            return waiting(state, "run", now)
        if desc["status"] == "SUCCEEDED":
            final = ROLLED_BACK if state["direction"] == "down" else SUCCEEDED
            changes = {**progress, "status": final, "endedAt": now}
            output = json.loads(desc.get("output") or "{}")
            if req.dry_run:
                changes["samples"] = output.get("samples", [])
            elif output.get("samples"):  # a restore's kept items (runner.restore)
                changes["keptSamples"] = output["samples"]
            self._notify(self._record(req, state, changes, release=True), "ended")
            data = answer_data(final, state, totals.counters)
            return to_answer(state, "SUCCESS", f"Migration {req.migration_id}: {final}", data)
        error = failure_reason(desc, totals.errors)
        changes = {**progress, "status": FAILED, "endedAt": now, "lastError": error[:2000]}
        self._notify(self._record(req, state, changes, release=True), "ended")
        what = "Down" if state["direction"] == "down" else "Migration"
        reason = f"{what} {req.migration_id} on table {req.table} failed: {error}"
        return to_answer(state, "FAILED", reason, answer_data(FAILED, state, totals.counters))

    def _record(
        self, req: Request, state: dict[str, Any], changes: dict[str, Any], release: bool = False
    ) -> MigrationRecord:
        return self.ledger.update_owned(
            req.table, req.record_id, state["owner"], changes, release=release
        )

    def _timed_out_running(
        self, req: Request, state: dict[str, Any], counters: dict[str, int]
    ) -> dict[str, Any]:
        window = f"the custom resource's window ({req.service_timeout} s ServiceTimeout)"
        if req.on_timeout == "Continue":
            reason = f"Migration {req.migration_id} continues after {window}; see the history"
            data = answer_data(RUNNING, state, counters)
            return to_answer(state, "SUCCESS", reason, data, then="wait")
        self._stop(state["executionArn"], "dynamigrate.Timeout", f"did not finish within {window}")
        error = (
            f"Migration {req.migration_id} did not finish within {window} and was stopped; its "
            "checkpoints are kept, so the next deploy resumes it. Raise ServiceTimeout (max 3600) "
            "or set OnTimeout: Continue."
        )
        record = self._record(
            req,
            state,
            {"status": FAILED, "lastError": error, "endedAt": int(self.clock())},
            release=True,
        )
        self._notify(record, "ended")
        return to_answer(state, "FAILED", error, answer_data(FAILED, state, counters))

    def _timed_out_waiting(self, req: Request, state: dict[str, Any]) -> dict[str, Any]:
        if req.on_timeout != "Continue":  # it will not run: the next deploy must not wait on it
            self.ledger.release(req.table, req.record_id, state["owner"])
        if req.on_timeout == "Continue":
            reason = f"Migration {req.migration_id} waits for an earlier run; it runs after it"
            return to_answer(state, "SUCCESS", reason, {"Status": "PENDING"}, then="wait")
        reason = (
            f"Migration {req.migration_id} on table {req.table} waited for an earlier run for the "
            f"whole window ({req.service_timeout} s ServiceTimeout) and did not start"
        )
        return to_answer(state, "FAILED", reason, {"Status": "PENDING"})

    def handover(
        self, event: dict[str, Any], state: dict[str, Any], controller: dict[str, str]
    ) -> dict[str, Any]:
        """Continue in a fresh controller execution before this one's history grows large."""
        count = state.get("handovers", 0) + 1
        fresh = {**state, "polls": 0, "handovers": count, "phase": "wait"}
        self.sfn.start_execution(
            stateMachineArn=controller["stateMachineArn"],
            name=execution_name(controller["executionName"], str(count)),
            input=json.dumps({"event": event, "state": fresh}),
        )
        return {**state, "phase": "done"}

    # ---- answer and fail ---------------------------------------------------------------------

    def answer(
        self, event: dict[str, Any], state: dict[str, Any], budget: float | None = None
    ) -> dict[str, Any]:
        pending = state["answer"]
        if not state["answered"]:
            body = cfn_response.build_body(
                event, pending["status"], pending["reason"], state["physicalId"], pending["data"]
            )
            self.send(event, body, budget=budget)
        then = pending.get("then", "done")
        out = {**state, "answered": True, "phase": then}
        return waiting(out, out.get("mode", "run"), self.clock()) if then == "wait" else out

    def fail(
        self,
        event: dict[str, Any],
        state: dict[str, Any],
        error: dict[str, Any],
        budget: float | None = None,
    ) -> None:
        """After any step failed for good: stop what runs, record FAILED, answer if still due."""
        message = f"{error.get('Error', 'Error')}: {lambda_message(error.get('Cause'))}"
        req = None
        with contextlib.suppress(KeyError, ValueError, TypeError):
            req = Request.from_event(event, old=bool(state.get("old")))
        if req and state.get("executionArn") and state.get("mode") == "run":
            self._stop(state["executionArn"], "dynamigrate.ControllerFailed", message[:1000])
        if req and state.get("owner"):
            try:
                changes = {
                    "status": FAILED,
                    "lastError": message[:2000],
                    "endedAt": int(self.clock()),
                }
                self._notify(self._record(req, state, changes, release=True), "ended")
            except Exception as exc:  # recording is best effort; the answer is not
                self.messages.append(f"could not record the failure: {exc}")
        if not state.get("answered"):
            reason = f"dynamigrate controller failed: {message}"
            physical = state.get("physicalId")
            body = cfn_response.build_body(event, "FAILED", reason, physical)
            self.send(event, body, budget=budget)
