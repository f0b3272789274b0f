"""Golden files of the macro, cfn-lint over everything it generates, and purity."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from dynamigrate.lint import lint_expanded
from dynamigrate.templates import load_template
from tests.unit.macro.golden import INPUTS, expand_case, output_path, render

CASES = [pytest.param(path, id=path.stem) for path in INPUTS]


@pytest.mark.parametrize("path", CASES)
def test_expansion_matches_the_golden_file(path):
    expected = output_path(path).read_text()
    hint = "run `python -m tests.unit.macro.golden`, review the diff"
    assert render(expand_case(path)) == expected, hint


def lint(template: dict[str, Any]) -> list[str]:
    return [str(m) for m in lint_expanded(template)]


@pytest.mark.parametrize("path", CASES)
def test_generated_templates_are_lint_clean(path):
    result = expand_case(path)
    assert lint(result["template"]) == []
    for key, nested in result["nested"].items():
        assert lint(nested) == [], key


@pytest.mark.parametrize("path", CASES)
def test_the_input_fragment_is_never_mutated(path):
    from macro.expand import expand
    from tests.unit.macro.golden import SETTINGS

    fragment = load_template(path)
    before = copy.deepcopy(fragment)
    expand(fragment, SETTINGS, lambda key, body: f"https://b.s3.amazonaws.com/{key}")
    assert fragment == before


def test_a_template_without_migrations_comes_back_unchanged():
    path = next(p for p in INPUTS if p.stem == "no_migrations")
    assert expand_case(path) == {"template": load_template(path), "nested": {}}


def test_unchanged_migrations_upload_the_same_key():
    path = next(p for p in INPUTS if p.stem == "update_scan")
    # The key is the content's hash: the same input uploads under the key it had when the golden
    # file was written, so an unchanged migration never changes its nested stack's TemplateURL.
    golden = json.loads(output_path(path).read_text())
    assert list(expand_case(path)["nested"]) == list(golden["nested"])
    edited = load_template(path)
    edited["Resources"]["OrdersAddStatus"]["Properties"]["Description"] = "reworded"
    from macro.expand import expand
    from tests.unit.macro.golden import SETTINGS

    keys: list[str] = []
    out = expand(edited, SETTINGS, lambda key, body: keys.append(key) or key)
    assert keys == list(expand_case(path)["nested"])
    assert (
        out["Resources"]["OrdersAddStatus"]["Properties"]["Checksum"]
        == (expand_case(path)["template"]["Resources"]["OrdersAddStatus"]["Properties"]["Checksum"])
    )
