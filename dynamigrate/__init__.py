"""dynamigrate: DynamoDB data migrations as infrastructure."""

__version__ = "0.1.0"
