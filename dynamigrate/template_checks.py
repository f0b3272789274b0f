"""Whole-template checks that render, plan and the local commands run before anything else.

- The Transform list: CloudFormation runs the macros a template lists, in the listed order
  (User Guide, "CloudFormation template Transform section"). A template whose list lacks the
  macro deploys its Custom::DynamoMigration resources unexpanded (and fails: they have no
  ServiceToken); dynamigrate reads templates as written, so it must run before the SAM
  transform, which then translates what it adds.
- References: a Ref, GetAtt or DependsOn naming no resource of the template fails the deploy.
  cfn-lint's own rules find them (E1020 Ref, E1010 GetAtt, E3005 DependsOn, E1019 Sub); they are
  reported at the user's resource and property.
"""

from __future__ import annotations

import ast
import difflib
import re
from typing import Any

from macro.errors import Problem, located
from macro.expand import MIGRATION_TYPE

MACRO_NAME = "DynamoMigrations"
SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
REFERENCE_RULES = ("E1010", "E1019", "E1020", "E3005")
_NOT_ONE_OF = re.compile(r"^'(?P<name>[^']*)' is not one of (?P<known>\[.*\])$")


def _names(declared: Any) -> list[str] | None:
    entries = [declared] if isinstance(declared, str | dict) else declared
    if not isinstance(entries, list):
        return None
    names = []
    for entry in entries:
        name = entry.get("Name") if isinstance(entry, dict) else entry
        if not isinstance(name, str):
            return None
        names.append(name)
    return names


def transform_problems(template: dict[str, Any], macro_name: str = MACRO_NAME) -> list[Problem]:
    """What is wrong with the template's Transform list for its migrations."""
    resources = template.get("Resources")
    migrations = isinstance(resources, dict) and any(
        isinstance(r, dict) and r.get("Type") == MIGRATION_TYPE for r in resources.values()
    )
    names = _names(template.get("Transform", []))
    if names is None:
        return [_transform("must be a macro name or a list of macro names")]
    if macro_name in names:
        if SAM_TRANSFORM in names and names.index(SAM_TRANSFORM) < names.index(macro_name):
            return [
                _transform(
                    f"{macro_name} must come before {SAM_TRANSFORM} (CloudFormation runs "
                    f"them in the listed order): write Transform: [{macro_name}, {SAM_TRANSFORM}]"
                )
            ]
        return []
    unknown = [n for n in names if not n.startswith("AWS::")]
    close = difflib.get_close_matches(macro_name, unknown, n=1, cutoff=0.6)
    if close:
        return [_transform(f"{close[0]!r} is not the macro's name; did you mean {macro_name}?")]
    if migrations:
        wanted = [macro_name, *names]
        return [
            _transform(
                f"the template declares {MIGRATION_TYPE} resources but its Transform list "
                f"lacks {macro_name}, so CloudFormation would not expand them: write Transform: "
                f"[{', '.join(wanted)}]"
            )
        ]
    return []


def _transform(message: str) -> Problem:
    return Problem(message, section="Transform")


def _where(path: list[Any]) -> tuple[str, str] | None:
    if len(path) >= 2 and path[0] == "Resources":
        logical_id = str(path[1])
        if len(path) >= 4 and path[2] == "Properties":
            rest = [str(p) for p in path[3:] if p not in ("Ref", "Fn::GetAtt", "Fn::Sub")]
            return logical_id, ".".join(p for p in rest if not p.isdigit())
        return logical_id, ".".join(str(p) for p in path[2:3] if p != "Properties")
    return None


def _readable(message: str) -> str:
    """cfn-lint's "'X' is not one of [...]" as a sentence with a did-you-mean."""
    found = _NOT_ONE_OF.match(message)
    if found is None:
        return message
    name = found["name"]
    try:
        known = [k for k in ast.literal_eval(found["known"]) if not k.startswith("AWS::")]
    except (ValueError, SyntaxError):
        return message
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]}?" if close else f" (it has: {', '.join(known)})"
    return f"{name} is not a resource or parameter of this template{hint}"


def reference_problems(text: str, region: str = "us-east-1") -> list[Problem]:
    """cfn-lint's findings of references to nothing, at the user's resource and property."""
    import cfnlint.api  # noqa: PLC0415 - heavy; only when a template is checked

    problems = []
    for match in cfnlint.api.lint(text, regions=[region]):
        if match.rule.id not in REFERENCE_RULES:
            continue
        where = _where(list(match.path or []))
        message = f"{_readable(match.message)} (cfn-lint {match.rule.id}, line {match.linenumber})"
        if where is None:
            problems.append(Problem(message, line=match.linenumber))
        else:
            problems.append(located(where[0], where[1], message))
    return problems
