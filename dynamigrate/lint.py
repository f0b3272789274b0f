"""`dynamigrate lint`: cfn-lint over what the macro makes of a template, at the user's own lines.

Plain cfn-lint sees a template before any macro runs (it runs no custom transform:
aws-cloudformation/cfn-lint issue 4020). Here the template is expanded by the macro's own
`expand`, as `render` does; the macro's contract errors become findings, and cfn-lint (the pinned
library) checks the expanded parent and every nested template. The macro keeps each migration's
logical id and names its nested stack `<LogicalId>Stack`, so every finding maps back to the
user's resource, and to the deepest property of its path that the user's template has.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import cfnlint.api
from cfnlint.decode import decode_str
from cfnlint.formatters import JsonFormatter, ParseableFormatter, SARIFFormatter
from cfnlint.match import Match
from cfnlint.rules import CloudFormationLintRule, Rules

from dynamigrate.template_checks import transform_problems
from dynamigrate.templates import Located, located_problem, mark
from macro.errors import InvalidTemplateError
from macro.expand import MIGRATION_TYPE, Settings, expand, inline_size_warning

FORMATS = {"parseable": ParseableFormatter, "json": JsonFormatter, "sarif": SARIFFormatter}
SEVERITIES = ("error", "warning", "informational")


class ContractRule(CloudFormationLintRule):  # type: ignore[misc]
    """The findings of the macro itself: what it would refuse at deploy."""

    id = "E9001"
    shortdesc = "Custom::DynamoMigration contract"
    description = "The DynamoMigrations macro refuses this migration (the deploy would fail)"
    source_url = "https://github.com/dynamigrate/dynamigrate#the-resource-you-write"
    tags: ClassVar[list[str]] = ["dynamigrate"]


CONTRACT = ContractRule()


class InlineSizeRule(CloudFormationLintRule):  # type: ignore[misc]
    """The expansion passes what a template passed inline may hold (51,200 bytes)."""

    id = "W9002"
    shortdesc = "Expanded template too large to pass inline"
    description = "Deploy through S3: a processed template passed inline may hold 51,200 bytes"
    source_url = "https://github.com/dynamigrate/dynamigrate#limits"
    tags: ClassVar[list[str]] = ["dynamigrate"]


INLINE_SIZE = InlineSizeRule()


def _finding(filename: str, rule: Any, message: str, where: Located) -> Match:
    return Match.create(
        message=message,
        filename=filename,
        rule=rule,
        linenumber=where.line,
        columnnumber=where.column,
        linenumberend=where.line,
        columnnumberend=where.column + 1,
    )


def lint_expanded(template: dict[str, Any], region: str = "us-east-1") -> list[Any]:
    """cfn-lint's matches for a template the macro expanded (its own Transform entry dropped)."""
    template = dict(template)
    transforms = template.pop("Transform", [])
    rest = [
        t
        for t in ([transforms] if isinstance(transforms, str) else transforms)
        if t != "DynamoMigrations"
    ]
    if rest:
        template["Transform"] = rest
    return list(cfnlint.api.lint(json.dumps(template), regions=[region]))


def lint_template(path: Path, settings: Settings, region: str = "us-east-1") -> list[Match]:
    """Every finding of the macro and of cfn-lint for one template, at the user's lines."""
    filename = str(path)
    decoded, errors = decode_str(path.read_text())
    if errors:
        return [
            _finding(filename, e.rule, e.message, Located(e.linenumber, e.columnnumber))
            for e in errors
        ]
    plain = json.loads(json.dumps(decoded))
    transform = [
        _finding(filename, CONTRACT, str(problem), located_problem(decoded, problem))
        for problem in transform_problems(plain)
    ]
    return transform + _expanded_findings(filename, decoded, plain, settings, region)


def _expanded_findings(
    filename: str, decoded: Any, plain: dict[str, Any], settings: Settings, region: str
) -> list[Match]:
    nested: dict[str, Any] = {}

    def upload(key: str, body: bytes) -> str:  # kept here: only their findings matter
        nested[key] = json.loads(body)
        return f"https://artifacts.s3.{region}.amazonaws.com/{key}"

    try:
        expanded = expand(plain, settings, upload)
    except InvalidTemplateError as exc:
        return [
            _finding(filename, CONTRACT, str(problem), located_problem(decoded, problem))
            for problem in exc.problems
        ]
    resources = expanded.get("Resources") or {}
    migrations = {
        k for k, v in resources.items() if isinstance(v, dict) and v.get("Type") == MIGRATION_TYPE
    }
    findings = []
    warning = inline_size_warning(expanded)
    if warning:
        findings.append(_finding(filename, INLINE_SIZE, warning, Located(1, 1)))
    for match in lint_expanded(expanded, region):
        where = list(getattr(match, "path", None) or [])
        if len(where) >= 2 and where[0] == "Resources":
            owner = str(where[1])
            if owner.endswith("Stack") and owner[: -len("Stack")] in migrations:
                owner = owner[: -len("Stack")]
                where = ["Resources", owner]
            else:
                where = ["Resources", owner, *where[2:]]
        findings.append(_finding(filename, match.rule, match.message, mark(decoded, where)))
    url_of = {
        str(resources[f"{m}Stack"]["Properties"]["TemplateURL"]).rsplit("/", 1)[-1]: m
        for m in migrations
        if f"{m}Stack" in resources
    }
    for key, body in nested.items():
        owner = url_of.get(key.rsplit("/", 1)[-1], "")
        for match in lint_expanded(body, region):
            inner = "/".join(str(p) for p in getattr(match, "path", None) or [])
            message = f"in the nested stack of {owner} ({inner}): {match.message}"
            where_owner = mark(decoded, ["Resources", owner])
            findings.append(_finding(filename, match.rule, message, where_owner))
    return unique(findings)


def unique(findings: list[Match]) -> list[Match]:
    """One finding per rule, message and line (a migration's nested stack repeats its Condition)."""
    seen: set[tuple[str, str, int]] = set()
    kept = []
    for match in findings:
        key = (match.rule.id, match.message, match.linenumber)
        if key not in seen:
            seen.add(key)
            kept.append(match)
    return kept


def report(findings: list[Match], fmt: str) -> str:
    """The findings in one of cfn-lint's own formats."""
    rules = Rules({match.rule.id: match.rule for match in findings})
    return str(FORMATS[fmt]().print_matches(findings, rules, None) or "")


def exit_code(findings: list[Match], fail_on: str = "error") -> int:
    """0 when nothing at or above `fail_on` was found, else 1."""
    worst = SEVERITIES.index(fail_on)
    severities = [m.rule.severity for m in findings if m.rule.severity in SEVERITIES]
    return int(any(SEVERITIES.index(severity) <= worst for severity in severities))
