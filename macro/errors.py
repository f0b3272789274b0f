"""Located, aggregated errors: each problem is data (where and what), rendered as one line.

Like aws-sam-translator's InvalidResourceException inside InvalidDocumentException, and cfn-lint's
RuleMatch(path, message): the macro's errorMessage, `render`, `lint` and the CDK construct all read
the same `Problem` objects; only the rendering makes them text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Problem:
    """One mistake: the resource and property path it is at, what is wrong, and where known the
    1-based character of the property's expression (or the template's line) it starts at.

    A problem of no resource is a template section's (`Template`, `Transform`) or, with `line`,
    a line's.
    """

    message: str
    logical_id: str | None = None
    path: str = ""  # the property path, e.g. Up.Update.Expression
    position: int | None = None
    line: int | None = None
    section: str = "Template"

    @classmethod
    def at(cls, path: str, message: str, position: int | None = None) -> Problem:
        """A problem of a property of a resource not yet named (see `of`)."""
        return cls(message, path=path, position=position)

    def of(self, logical_id: str) -> Problem:
        """This problem, at resource `logical_id`."""
        return replace(self, logical_id=logical_id)

    @property
    def property_path(self) -> list[str]:
        """The property path's keys, as cfn-lint's paths list them."""
        return self.path.split(".") if self.path else []

    def where(self) -> str:
        """`Resource [X] property P`, `line N` or the section: what the message is prefixed with."""
        if self.logical_id is not None:
            return f"Resource [{self.logical_id}]" + (f" property {self.path}" if self.path else "")
        if self.line is not None:
            return f"line {self.line}"
        return self.section

    def __str__(self) -> str:
        return f"{self.where()}: {self.message}"


def located(logical_id: str, path: str, message: str) -> Problem:
    """A problem at resource `logical_id` and property `path`."""
    return Problem(message, logical_id=logical_id, path=path)


class InvalidTemplateError(Exception):
    """Every problem found in a template, each naming its resource and property."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        header = f"Invalid template: {count} error{'s' if count != 1 else ''}"
        super().__init__(header + "\n" + "\n".join(str(p) for p in self.problems))
