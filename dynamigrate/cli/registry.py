"""Verbs declared once: each command function carries its own arguments and help.

Like alembic's `CommandLine`, which builds each subparser from the command function, the parser
is built from the registered verbs: registering a verb (its name, arguments, help and function)
touches only the module that defines it. `dynamigrate.cli.entry` is the only error boundary.
"""

from __future__ import annotations

import argparse
import inspect
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from dynamigrate.aws import Connection

USAGE_ERROR = 1  # `local run`/`local deploy` use 2 for "a migration failed"

Command = Callable[..., int]


@dataclass(frozen=True)
class Arg:
    """One `add_argument` call: its flags and keyword arguments."""

    flags: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)


def arg(*flags: str, **options: Any) -> Arg:
    return Arg(flags, options)


@dataclass(frozen=True)
class Verb:
    """A command: `name` is its words on the command line (`render`, `local run`)."""

    name: str
    function: Command
    args: tuple[Arg, ...]
    help: str
    description: str | None
    aws: bool


VERBS: dict[str, Verb] = {}
GROUPS: dict[str, str] = {}  # a verb's first word -> its help, for verbs of two words


def group(name: str, help: str) -> None:
    """Declare the first word of two-word verbs (`local`), with its help."""
    GROUPS[name] = help


def verb(
    name: str,
    *args: Arg,
    help: str | None = None,
    description: str | None = None,
    aws: bool = False,
) -> Callable[[Command], Command]:
    """Register a command function under `name`, with its arguments.

    Each argument's destination names a parameter of the function; with `aws`, the function also
    receives `connection` (a Connection from --endpoint-url, --region and --profile) and the
    `history_table` and `app_stack` options. The help defaults to the docstring's first line.
    """

    def register(function: Command) -> Command:
        lines = (function.__doc__ or "").strip().splitlines()
        summary = help or (lines[0].rstrip(".") if lines else name)
        VERBS[name] = Verb(name, function, args, summary, description, aws)
        return function

    return register


class _Help(argparse.HelpFormatter):
    """Every option's help ends with its default, where it has one."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default not in (None, False, argparse.SUPPRESS) and "default" not in text:
            text += " (default: %(default)s)"
        return text


class _Parser(argparse.ArgumentParser):
    """Usage errors exit 1 with the usage of the (sub)command that was mistyped."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Help)
        super().__init__(*args, **kwargs)
        self.set_defaults(_parser=self)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message}\n")


def _aws_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "AWS (boto3's AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL apply)"
    )
    group.add_argument("--endpoint-url", help="e.g. http://127.0.0.1:4566 for `local serve`")
    group.add_argument("--region", help="the AWS region (default: the profile's, else us-east-1)")
    group.add_argument("--profile", help="a profile of your AWS config")
    group.add_argument(
        "--history-table",
        help="history table name (default: $DYNAMIGRATE_HISTORY_TABLE, else the output of the "
        "dynamigrate stack, else dynamigrate-history)",
    )
    group.add_argument("--app-stack", help="the stack of the dynamigrate application")


class CommandLine:
    """The parser built from VERBS, and the call of the chosen verb."""

    def __init__(self, prog: str, description: str, version: str) -> None:
        self.parser = _Parser(prog=prog, description=description)
        self.parser.add_argument("--version", action="version", version=f"{prog} {version}")
        sub = self.parser.add_subparsers(dest="command", required=True)
        groups: dict[str, Any] = {}
        for registered in VERBS.values():
            first, _, rest = registered.name.partition(" ")
            where = sub
            if rest:
                if first not in groups:
                    parent = sub.add_parser(first, help=GROUPS[first])
                    groups[first] = parent.add_subparsers(dest=f"{first}_command", required=True)
                where = groups[first]
            parser = where.add_parser(
                rest or first, help=registered.help, description=registered.description
            )
            for argument in registered.args:
                parser.add_argument(*argument.flags, **argument.options)
            if registered.aws:
                _aws_options(parser)
            parser.set_defaults(_verb=registered)

    def parse(self, argv: Sequence[str] | None) -> argparse.Namespace:
        args, extra = self.parser.parse_known_args(argv)
        if extra:  # report it with the usage of the command it was meant for
            args._parser.error(f"unrecognized arguments: {' '.join(extra)}")
        return args

    @staticmethod
    def call(args: argparse.Namespace) -> int:
        """Call the chosen verb with the arguments its signature names."""
        chosen: Verb = args._verb
        values = vars(args)
        if chosen.aws:
            values["connection"] = Connection(
                endpoint_url=args.endpoint_url, region=args.region, profile=args.profile
            )
        names = inspect.signature(chosen.function).parameters
        return chosen.function(**{name: values[name] for name in names})
