"""Lambda handler of the CloudFormation macro: the macro protocol around `expand`.

Request: region, accountId, fragment, transformId, params, requestId, templateParameterValues.
Response: requestId (echoed), status ("success" or "failure"), fragment, errorMessage on failure.
Every failure carries an errorMessage; no exception escapes.
"""

from __future__ import annotations

import logging
import os
from functools import cache
from typing import Any

import boto3

from macro.errors import InvalidTemplateError
from macro.expand import Settings, expand, inline_size_warning

logger = logging.getLogger()
logger.setLevel(os.environ.get("LOG_LEVEL", "INFO"))


def settings_from_environment() -> Settings:
    env = os.environ
    return Settings(
        runner_arn=env["RUNNER_FUNCTION_ARN"],
        worker_function_arn=env["WORKER_FUNCTION_ARN"],
        worker_role_arn=env["WORKER_ROLE_ARN"],
        history_table=env["HISTORY_TABLE"],
        artifacts_bucket=env.get("ARTIFACTS_BUCKET", ""),
    )


@cache
def _s3() -> Any:
    return boto3.client("s3")


def s3_uploader(bucket: str) -> Any:
    """Content-addressed upload: an existing key already holds exactly this body.

    The TemplateURL is left for CloudFormation to complete with the stack's region and
    `AWS::URLSuffix`, the partition's domain ("amazonaws.com", "amazonaws.com.cn" in China;
    AWS CloudFormation User Guide, "Pseudo parameters reference"). The bucket is in the macro's
    region, which is the stack's: a macro serves only its own account and region.
    """

    def upload(key: str, body: bytes) -> dict[str, str]:
        try:
            _s3().head_object(Bucket=bucket, Key=key)
        except _s3().exceptions.ClientError:
            _s3().put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
        return template_url(bucket, key)

    return upload


def template_url(bucket: str, key: str) -> dict[str, str]:
    """The nested stack's TemplateURL, completed by CloudFormation with the stack's region and
    partition domain (`dynamigrate render` writes the same)."""
    return {"Fn::Sub": f"https://{bucket}.s3.${{AWS::Region}}.${{AWS::URLSuffix}}/{key}"}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request_id = event.get("requestId")
    try:
        upload = s3_uploader(os.environ["ARTIFACTS_BUCKET"])
        fragment = expand(event["fragment"], settings_from_environment(), upload)
    except InvalidTemplateError as exc:
        return {
            "requestId": request_id,
            "status": "failure",
            "fragment": event.get("fragment"),
            "errorMessage": str(exc),
        }
    except Exception as exc:  # the macro protocol needs an answer with a message, always
        logger.exception("DynamoMigrations macro failed")
        return {
            "requestId": request_id,
            "status": "failure",
            "fragment": event.get("fragment"),
            "errorMessage": f"DynamoMigrations macro internal error: {type(exc).__name__}: {exc}",
        }
    warning = inline_size_warning(fragment)
    if warning:
        logger.warning("%s", warning)
    return {"requestId": request_id, "status": "success", "fragment": fragment}
