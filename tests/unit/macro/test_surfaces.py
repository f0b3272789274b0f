"""A contract property reaches every surface: the README's resource reference lists each one."""

from __future__ import annotations

import re
from pathlib import Path

from macro.contract import PROPERTIES, VERIFY

README = Path(__file__).resolve().parents[3] / "README.md"


def _resource_block() -> str:
    section = README.read_text().split("## The resource you write", 1)[1]
    return section.split("```yaml\n", 1)[1].split("```", 1)[0]


def test_the_readme_resource_reference_lists_every_property():
    listed = set(re.findall(r"^      ([A-Za-z]+):", _resource_block(), re.MULTILINE))
    assert listed == set(PROPERTIES)


def test_the_readme_resource_reference_lists_every_verify_key():
    after = _resource_block().split("      Verify:", 1)[1]
    block = re.split(r"^      [A-Za-z]", after, maxsplit=1, flags=re.MULTILINE)[0]
    keys = set(re.findall(r"^        ([A-Za-z]+):", block, re.MULTILINE))
    assert keys | {"Values"} == set(VERIFY)  # Values is said beside Names
    assert "Values" in block
