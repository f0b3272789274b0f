"""The runner: the Lambda code that runs migrations on AWS (and, unchanged, on the emulator).

`handlers/` holds the three Lambda entries (the custom resource, the controller's steps, the page
worker); `lifecycle` decides what a CloudFormation request means (pure), `controller` and `entry`
drive it, `cfn_response` answers; the worker reads pages (`source`), applies the operation
(`operations`, `item_diff`, `conditions`), paces its writes (`pacing`, `planning`, `retry`) and
records progress (`history`); `ledger` holds each migration's record and lock.
"""
