"""dynamigrate macro: expands Custom::DynamoMigration resources (see macro/expand.py, coming)."""
