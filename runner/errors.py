"""Errors the worker raises; their class names become Step Functions error names."""


class MigrationError(Exception):
    """The migration itself is wrong (bad expression, bad function output): retrying cannot help."""


class FunctionFailed(MigrationError):
    """The transform function raised: `error` is Lambda's "<errorType>: <errorMessage>"."""

    def __init__(self, function: str, error: str) -> None:
        super().__init__(f"the transform function {function} failed: {error}")
        self.function = function
        self.error = error


class ThrottledError(Exception):
    """DynamoDB kept throttling past the worker's own retries; the state machine retries later."""


class ConcurrentRunError(Exception):
    """Another worker advanced this segment's checkpoint: two runs of one migration overlap."""


class MigrationFailed(Exception):
    """The run ended with segments that failed or items that could not be migrated."""


class HistoryError(Exception):
    """The history table could not be read or written."""


class RoleNotReadyError(Exception):
    """The migration's data role could not be assumed yet (IAM still propagating a new role)."""
