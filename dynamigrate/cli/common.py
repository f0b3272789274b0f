"""What the verbs share: the user's-mistake exception, the checked template, NAME=VALUE pairs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dynamigrate.settings import render_settings
from dynamigrate.templates import TemplateError, load_decoded, located_problem
from macro.errors import InvalidTemplateError, Problem
from macro.expand import expand


class UserError(Exception):
    """A mistake of the user's: printed as one clear message, exit code 1, no traceback."""


def checked_template(path: Path) -> dict[str, Any]:
    """The template, or UserError with every problem found before deploy, one per line.

    The Transform list, references to nothing (cfn-lint's rules), and everything the macro
    refuses (the contract and the expression checks), as the macro would report them.
    """
    from dynamigrate.template_checks import reference_problems, transform_problems  # noqa: PLC0415

    try:
        fragment, decoded = load_decoded(path)
    except TemplateError as exc:
        raise UserError(str(exc)) from exc
    problems = transform_problems(fragment)
    problems += reference_problems(path.read_text(encoding="utf-8-sig"))
    try:
        expand(fragment, render_settings("us-east-1", "123456789012"), lambda key, body: key)
    except InvalidTemplateError as exc:
        problems.extend(exc.problems)
    if problems:
        header = str(InvalidTemplateError(problems)).splitlines()[0]
        lines = [f"{path}:{line_of(decoded, p)}: {p}" for p in problems]
        raise UserError("\n".join([f"{path}: {header}", *lines]))
    return fragment


def line_of(decoded: Any, problem: Problem) -> str:
    """`line:column` of a problem in the template, as `lint` reports it."""
    where = located_problem(decoded, problem)
    return f"{where.line}:{where.column}"


def directory(path: Path, option: str) -> None:
    """Make the output directory PATH (and PATH/nested), or say why it cannot be."""
    try:
        (path / "nested").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{option} {path}: cannot write there ({exc.strerror})") from exc


def pairs(values: list[str] | None, option: str) -> dict[str, str]:
    """`NAME=VALUE` options (--data, --param, --table) as a dict; UserError names a bad one."""
    found: dict[str, str] = {}
    for value in values or []:
        name, sep, rest = value.partition("=")
        if not sep or not name or not rest:
            raise UserError(f"{option} {value!r}: expected NAME=VALUE")
        found[name] = rest
    return found
