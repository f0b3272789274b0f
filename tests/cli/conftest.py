"""The CLI tier: `server` is a real `dynamigrate local serve` process (tests/serve.py)."""

from tests.serve import server  # noqa: F401 - a fixture, by name
