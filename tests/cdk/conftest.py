"""The CDK tier: aws-cdk-lib's jsii runtime runs on the machine's node (20, end-of-life for jsii:
its warning is silenced, the behaviour under test is the same)."""

import os

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "18,20")  # majors

from tests.serve import server  # noqa: F401 - a fixture, by name (after the env above)
