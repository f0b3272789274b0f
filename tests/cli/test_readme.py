"""The README's shell snippets marked `<!-- readme-test -->` run as written and succeed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SNIPPET = re.compile(r"<!-- readme-test -->\n```sh\n(.*?)```", re.DOTALL)


def snippets() -> list[str]:
    return SNIPPET.findall((ROOT / "README.md").read_text())


def test_the_readme_marks_runnable_snippets():
    assert snippets()


@pytest.mark.parametrize("script", snippets())
def test_a_readme_snippet_runs_as_written(tmp_path, script):
    # A checkout's layout: the repository's files, and the virtual environment at .venv.
    for name in ("migrations", "template.yaml", "Makefile", "examples"):
        (tmp_path / name).symlink_to(ROOT / name)
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
