"""Property-based: arbitrary property values expand, or fail with located errors only."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from macro.errors import InvalidTemplateError
from macro.expand import expand
from tests.unit.macro.golden import SETTINGS

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 5000),
    st.text(max_size=12),
    st.floats(allow_nan=False),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(
                [
                    "Ref",
                    "Fn::GetAtt",
                    "Update",
                    "Delete",
                    "Function",
                    "Scan",
                    "Query",
                    "Expression",
                    "Segments",
                    "#n",
                    ":v",
                    "x",
                ]
            ),
            inner,
            max_size=3,
        ),
    ),
    max_leaves=8,
)
KEYS = [
    "TableName",
    "MigrationId",
    "Source",
    "Up",
    "Down",
    "Target",
    "MaxWritesPerSecond",
    "MaxConcurrency",
    "MaxCapacityPercent",
    "DryRun",
    "OnTimeout",
    "ServiceTimeout",
    "Description",
    "Bogus",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(KEYS), values, max_size=8))
def test_expand_either_succeeds_or_reports_located_errors(props):
    fragment = {"Resources": {"M": {"Type": "Custom::DynamoMigration", "Properties": props}}}
    try:
        out = expand(fragment, SETTINGS, lambda key, body: key)
    except InvalidTemplateError as exc:
        problems = [str(p) for p in exc.problems]
    else:
        assert out["Resources"]["M"]["Type"] == "Custom::DynamoMigration"
        assert "MStack" in out["Resources"]
        return
    assert problems
    assert all(p.startswith(("Resource [M]", "Template:")) for p in problems)
