"""The transform: every Custom::DynamoMigration becomes a nested stack plus the custom resource.

`expand` is pure: the nested templates leave through the injected `upload` callable, and the
input fragment is never mutated.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from macro.contract import validate
from macro.errors import InvalidTemplateError, Problem, located
from macro.nested import checksum, nested_template, normalized_spec
from macro.rollback import has_down

FUNCTION_TYPES = ("AWS::Lambda::Function", "AWS::Serverless::Function")
MIGRATION_TYPE = "Custom::DynamoMigration"
DEFAULT_SERVICE_TIMEOUT = 3600
MAX_RESOURCES = 500
MAX_TEMPLATE_BYTES = 1_000_000
# A processed template passed inline (TemplateBody) may hold 51,200 bytes; 1 MB only through
# S3 (TemplateURL): CloudFormation quotas, and "Troubleshooting processed templates".
MAX_INLINE_TEMPLATE_BYTES = 51_200
Upload = Callable[[str, bytes], Any]  # (key, body) -> TemplateURL (a string or an intrinsic)


@dataclass(frozen=True)
class Settings:
    """What the installed application tells the macro (from the macro function's environment)."""

    runner_arn: str
    worker_function_arn: str
    worker_role_arn: str
    history_table: str
    key_prefix: str = "dynamigrate/nested/"
    artifacts_bucket: str = ""  # where the runs' before-images go (macro.rollback)


def table_identity(table: Any) -> str:
    """One string per table a TableName names (a literal name, or the same intrinsic)."""
    return json.dumps(table, sort_keys=True)


def duplicate_id(migration_id: str, other: str) -> str:
    """Two migrations of one table with one MigrationId: the later one is refused."""
    return f"{migration_id!r} is also the MigrationId of {other} on the same table"


def _depends_on(resource: dict[str, Any]) -> list[str]:
    existing = resource.get("DependsOn", [])
    return [existing] if isinstance(existing, str) else list(existing)


def _problems(resources: dict[str, Any], migrations: list[str]) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[tuple[str, str], str] = {}
    for logical_id in migrations:
        props = resources[logical_id].get("Properties")
        problems.extend(validate(logical_id, props, resources))
        # Checked whatever else is wrong, so that one pass reports every problem.
        mid = props.get("MigrationId", logical_id) if isinstance(props, dict) else None
        if not isinstance(mid, str) or "TableName" not in props:
            continue
        key = (table_identity(props["TableName"]), mid)
        if key in seen:
            path = "MigrationId" if "MigrationId" in props else ""
            problems.append(located(logical_id, path, duplicate_id(key[1], seen[key])))
        seen[key] = logical_id
    return problems


def chains(resources: dict[str, Any], migrations: list[str]) -> list[list[str]]:
    """The migrations of each table, in MigrationId order (each runs after the one before)."""
    by_table: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for logical_id in migrations:
        props = resources[logical_id]["Properties"]
        by_table[table_identity(props["TableName"])].append(
            (props.get("MigrationId", logical_id), logical_id)
        )
    return [[logical_id for _, logical_id in sorted(chain)] for chain in by_table.values()]


def condition_problems(resources: dict[str, Any], ordered: list[list[str]]) -> list[Problem]:
    """A migration may follow only one that exists whenever it exists.

    Each migration DependsOn the one before it on its table, and CloudFormation refuses a
    DependsOn naming a resource whose Condition is false ("Unresolved resource dependencies",
    cfn-lint E3005); DependsOn takes no intrinsic function. So the one before must have no
    Condition or the same one: a table's conditional migrations come last in MigrationId order,
    all with one Condition, and each still runs after every earlier migration when it is true.
    """
    problems: list[Problem] = []
    for chain in ordered:
        for previous, current in itertools.pairwise(chain):
            before = resources[previous].get("Condition")
            after = resources[current].get("Condition")
            if before is None or before == after:
                continue
            theirs = f"the Condition {after!r}" if after is not None else "no Condition"
            problems.append(
                located(
                    previous,
                    "Condition",
                    f"{current}, the next migration of the same table, has {theirs} and must "
                    f"run after {previous}, which may not exist ({before!r}): CloudFormation "
                    "cannot make a resource wait for one whose Condition is false. Give "
                    f"{current} the Condition {before!r} too, or give {previous} a later "
                    "MigrationId than the table's migrations without it",
                )
            )
    return problems


def function_arn(value: Any, resources: dict[str, Any]) -> Any:
    """The ARN of a transform function given by name, ARN or reference.

    Lambda takes a name or an ARN, but the data role's policy needs an ARN (IAM refuses any other
    Resource with MalformedPolicyDocument): a name becomes the ARN in this stack's partition,
    region and account, and a Ref to a function of the template (whose Ref is its name) becomes
    its GetAtt Arn. Other intrinsics (a parameter, an import) must give an ARN themselves.
    """
    if isinstance(value, str):
        if value.startswith("arn:"):
            return value
        return {
            "Fn::Join": [
                "",
                [
                    "arn:",
                    {"Ref": "AWS::Partition"},
                    ":lambda:",
                    {"Ref": "AWS::Region"},
                    ":",
                    {"Ref": "AWS::AccountId"},
                    ":function:",
                    value,
                ],
            ]
        }
    if isinstance(value, dict) and list(value) == ["Ref"]:
        target = resources.get(value["Ref"])
        if isinstance(target, dict) and target.get("Type") in FUNCTION_TYPES:
            return {"Fn::GetAtt": [value["Ref"], "Arn"]}
    return value


def _stack_parameters(
    props: dict[str, Any], settings: Settings, resources: dict[str, Any]
) -> dict[str, Any]:
    params: dict[str, Any] = {"TableName": props["TableName"]}
    if "Target" in props:
        params["TargetTableName"] = props["Target"]
    for direction in ("Up", "Down"):
        if "Function" in (props.get(direction) or {}):
            function = props[direction]["Function"]
            params[f"{direction}FunctionArn"] = function_arn(function, resources)
    params.update(
        WorkerFunctionArn=settings.worker_function_arn,
        WorkerRoleArn=settings.worker_role_arn,
        HistoryTableName=settings.history_table,
    )
    return params


def _expand_one(
    logical_id: str,
    resource: dict[str, Any],
    settings: Settings,
    upload: Upload,
    resources: dict[str, Any] | None = None,
) -> tuple[str, dict[str, Any] | None, dict[str, Any]]:
    props = resource["Properties"]
    migration_id = props.get("MigrationId", logical_id)
    stack_id = f"{logical_id}Stack"
    disposed = props.get("Dispose", False) is True
    stack: dict[str, Any] | None = None
    if not disposed:
        spec = normalized_spec(migration_id, props)
        body = json.dumps(
            nested_template(migration_id, spec, props, settings.artifacts_bucket),
            sort_keys=True,
            separators=(",", ":"),
        ).encode()
        url = upload(f"{settings.key_prefix}{hashlib.sha256(body).hexdigest()}.json", body)
        stack = {
            "Type": "AWS::CloudFormation::Stack",
            "Properties": {
                "TemplateURL": url,
                "Parameters": _stack_parameters(props, settings, resources or {}),
            },
        }
    custom: dict[str, Any] = {
        "Type": MIGRATION_TYPE,
        "Properties": {
            "ServiceToken": settings.runner_arn,
            "ServiceTimeout": props.get("ServiceTimeout", DEFAULT_SERVICE_TIMEOUT),
            # The runner's deadline reads this one: that CloudFormation forwards its reserved
            # ServiceTimeout to the handler is not documented.
            "ServiceTimeoutSeconds": props.get("ServiceTimeout", DEFAULT_SERVICE_TIMEOUT),
            "MigrationId": migration_id,
            "TableName": props["TableName"],
            "StateMachineArn": ""
            if disposed
            else {"Fn::GetAtt": [stack_id, "Outputs.StateMachineArn"]},
            "Checksum": checksum(props),
            "HasDown": has_down(props),
            "DryRun": props.get("DryRun", False),
            "OnTimeout": props.get("OnTimeout", "Fail"),
            "Dispose": disposed,
        },
    }
    for key in ("Condition", "Metadata"):
        if key in resource:
            custom[key] = copy.deepcopy(resource[key])
            if key == "Condition" and stack is not None:
                stack[key] = resource[key]
    return stack_id, stack, custom


def expand(fragment: dict[str, Any], settings: Settings, upload: Upload) -> dict[str, Any]:
    """The template with every migration expanded, or InvalidTemplateError with every problem."""
    resources = fragment.get("Resources")
    if not isinstance(resources, dict):
        return copy.deepcopy(fragment)
    migrations = [
        k for k, v in resources.items() if isinstance(v, dict) and v.get("Type") == MIGRATION_TYPE
    ]
    if not migrations:
        return copy.deepcopy(fragment)
    problems = _problems(resources, migrations)
    for logical_id in migrations:
        if f"{logical_id}Stack" in resources:
            problems.append(
                located(
                    logical_id,
                    "",
                    f"the macro needs the logical id "
                    f"{logical_id}Stack for its nested stack; rename that resource",
                )
            )
    chained = [  # checked beside every other problem: one pass reports them all
        m
        for m in migrations
        if isinstance(resources[m].get("Properties"), dict)
        and "TableName" in resources[m]["Properties"]
    ]
    problems.extend(condition_problems(resources, chains(resources, chained)))
    if problems:
        raise InvalidTemplateError(problems)

    out = copy.deepcopy(fragment)
    for logical_id in migrations:
        # The nested stack depends on its table through the TableName parameter (a Ref or GetAtt),
        # and the custom resource on the stack through the StateMachineArn GetAtt.
        stack_id, stack, custom = _expand_one(
            logical_id, resources[logical_id], settings, upload, resources
        )
        custom["DependsOn"] = _depends_on(resources[logical_id])
        if stack is not None:  # a disposed migration keeps only its record-keeping resource
            out["Resources"][stack_id] = stack
        out["Resources"][logical_id] = custom
    for ordered in chains(resources, migrations):
        for previous, current in itertools.pairwise(ordered):
            depends = out["Resources"][current]["DependsOn"]
            if previous not in depends:
                depends.append(previous)
    for logical_id in migrations:
        if not out["Resources"][logical_id]["DependsOn"]:
            del out["Resources"][logical_id]["DependsOn"]
    _check_limits(out)
    return out


def expanded_size(template: dict[str, Any]) -> int:
    """The bytes of a processed template, compactly serialized."""
    return len(json.dumps(template, separators=(",", ":")).encode())


def inline_size_warning(template: dict[str, Any]) -> str | None:
    """A note when the expansion passes what an inline template may hold (None when it fits).

    The macro protocol has only success or failure, and through S3 the template is fine, so
    this is a warning: `dynamigrate lint` reports it and the macro function logs it.
    """
    size = expanded_size(template)
    if size <= MAX_INLINE_TEMPLATE_BYTES:
        return None
    return (
        f"Template: {size} bytes after expansion; a processed template passed inline "
        f"(--template-body) may hold {MAX_INLINE_TEMPLATE_BYTES}, so deploy it through S3 "
        f"(sam deploy or aws cloudformation deploy --s3-bucket), which allows {MAX_TEMPLATE_BYTES}"
    )


def _check_limits(template: dict[str, Any]) -> None:
    count = len(template["Resources"])
    size = expanded_size(template)
    problems = []
    if count > MAX_RESOURCES:
        problems.append(
            Problem(
                f"{count} resources after expansion (each migration adds a nested "
                f"stack); CloudFormation allows {MAX_RESOURCES}. Split the migrations "
                "across stacks or remove applied ones."
            )
        )
    if size > MAX_TEMPLATE_BYTES:
        problems.append(
            Problem(f"{size} bytes after expansion; CloudFormation allows {MAX_TEMPLATE_BYTES}.")
        )
    if problems:
        raise InvalidTemplateError(problems)
