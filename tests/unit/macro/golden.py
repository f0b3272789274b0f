"""Golden files: tests/unit/macro/input/<case>.yaml -> tests/unit/macro/output/<case>.json.

Regenerate after an intended change with `.venv/bin/python -m tests.unit.macro.golden`, then review
`git diff tests/unit/macro/output`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dynamigrate.templates import load_template
from macro.expand import Settings, expand

HERE = Path(__file__).parent
INPUTS = sorted((HERE / "input").glob("*.yaml"))
SETTINGS = Settings(
    runner_arn="arn:aws:lambda:us-east-1:123456789012:function:dynamigrate-runner",
    worker_function_arn="arn:aws:lambda:us-east-1:123456789012:function:dynamigrate-worker",
    worker_role_arn="arn:aws:iam::123456789012:role/dynamigrate-worker",
    history_table="dynamigrate-history",
    artifacts_bucket="dynamigrate-artifacts-123456789012",
)


def expand_template(template: dict[str, Any]) -> dict[str, Any]:
    """The expanded parent and every uploaded nested template of one template."""
    nested: dict[str, Any] = {}

    def upload(key: str, body: bytes) -> str:
        nested[key] = json.loads(body)
        return f"https://artifacts.s3.us-east-1.amazonaws.com/{key}"

    return {"template": expand(template, SETTINGS, upload), "nested": nested}


def expand_case(path: Path) -> dict[str, Any]:
    """The expanded parent and every uploaded nested template of one input case."""
    return expand_template(load_template(path))


def output_path(path: Path) -> Path:
    return HERE / "output" / f"{path.stem}.json"


def render(result: dict[str, Any]) -> str:
    return json.dumps(result, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    for case in INPUTS:
        output_path(case).write_text(render(expand_case(case)))
        print(f"wrote {output_path(case).relative_to(HERE.parent.parent)}")
