"""What a rollback does with a migration's changes, from its `Down`, and what that needs.

- `Down` absent or `{Restore: {}}`: the Up keeps before-images in the artifacts bucket and the
  rollback restores them (runner.before_images, runner.restore);
- `{Keep: {}}`: the changes stay;
- an Update, Delete or Function: that operation runs on rollback.
"""

from __future__ import annotations

from typing import Any, Literal

Rollback = Literal["restore", "keep", "down"]
ROLLBACK_KINDS = ("Restore", "Keep")  # the `Down` forms that are not an operation
BEFORE_IMAGES_PREFIX = "dynamigrate/before-images/"  # runner.before_images.PREFIX


def rollback_of(props: dict[str, Any]) -> Rollback:
    down = props.get("Down")
    if not isinstance(down, dict) or "Restore" in down:
        return "restore"
    return "keep" if "Keep" in down else "down"


def has_down(props: dict[str, Any]) -> bool:
    """Whether a rollback runs anything (the custom resource's `HasDown`)."""
    return rollback_of(props) != "keep"


def keeps_journal(props: dict[str, Any]) -> bool:
    """Whether the runs write page journals or before-images to the artifacts bucket: a restoring
    rollback's Up, and any Update or Function (runner.journal: exactly once across a page
    re-processed after a crash; the runner journals only the ones that are not repeatable)."""
    if rollback_of(props) == "restore":
        return True
    operations = [props.get("Up"), props.get("Down")]
    return any(isinstance(o, dict) and ("Update" in o or "Function" in o) for o in operations)


def restore_table_actions(props: dict[str, Any]) -> set[str]:
    """What a restore writes beyond the Up's own actions: a deleted item is re-created."""
    if rollback_of(props) != "restore":
        return set()
    up = props.get("Up") or {}
    if "Delete" in up or ("Function" in up and "Target" not in props):
        return {"dynamodb:PutItem"}
    return set()


def restore_target_actions(props: dict[str, Any]) -> set[str]:
    """A restore deletes the items the run put into its `Target` table, after reading each
    (runner.restore: an attribute the application added keeps the item)."""
    if rollback_of(props) != "restore":
        return set()
    return {"dynamodb:DeleteItem", "dynamodb:GetItem"}


def before_image_statements(bucket: str, migration_id: str) -> list[dict[str, Any]]:
    """The data role's access to its own migration's before-images, and nothing else: objects
    under `<prefix>/<table>/<migration>/`, and listing that prefix only (the `s3:prefix`
    condition key of ListBucket: Service Authorization Reference, Amazon S3, "Condition keys")."""
    if not bucket:
        return []
    prefix = f"{BEFORE_IMAGES_PREFIX}${{TableName}}/{migration_id}/"
    return [
        {
            "Sid": "BeforeImages",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": {"Fn::Sub": f"arn:${{AWS::Partition}}:s3:::{bucket}/{prefix}*"},
        },
        {
            "Sid": "ListBeforeImages",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": {"Fn::Sub": f"arn:${{AWS::Partition}}:s3:::{bucket}"},
            "Condition": {"StringLike": {"s3:prefix": {"Fn::Sub": f"{prefix}*"}}},
        },
    ]
