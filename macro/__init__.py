"""The DynamoMigrations macro: expands each Custom::DynamoMigration of a template.

`expand` (pure: the upload is injected) checks the contract (`contract`, `expressions`,
`table_keys`) and renders each migration's nested stack and state machine (`nested`,
`state_machine`, the jinja2 `templates/`); `handler` is the Lambda entry CloudFormation calls;
`errors` holds the problems, as data, that every surface reports.
"""
