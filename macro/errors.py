"""Located, aggregated errors, in the style of aws-sam-translator's InvalidDocumentException."""

from __future__ import annotations


class InvalidTemplateError(Exception):
    """Every problem found in a template, each naming its resource and property."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        count = len(problems)
        header = f"Invalid template: {count} error{'s' if count != 1 else ''}"
        super().__init__(header + "\n" + "\n".join(problems))


def located(logical_id: str, path: str, message: str) -> str:
    where = f"Resource [{logical_id}]" + (f" property {path}" if path else "")
    return f"{where}: {message}"
