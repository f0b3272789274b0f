"""CloudFormation's DescribeStackResource for the stacks `local serve` deployed.

`plan --stack` asks CloudFormation for a table's physical name. The stacks `local deploy` makes are
played by dynamigrate's local CloudFormation, not moto's (which knows nothing of them and fails
with an internal error), so the server answers this one read itself, in the Query API's XML
(CloudFormation API Reference: DescribeStackResource, Common Errors); every other request goes on
to moto unchanged.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

NAMESPACE = "http://cloudformation.amazonaws.com/doc/2010-05-15/"
TABLE_TYPE = "AWS::DynamoDB::Table"


def _form(environ: dict[str, Any]) -> dict[str, str]:
    """The request's form fields; the body is put back for whoever reads it next."""
    if environ.get("REQUEST_METHOD") != "POST" or "x-www-form-urlencoded" not in environ.get(
        "CONTENT_TYPE", ""
    ):
        return {}
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    environ["wsgi.input"] = io.BytesIO(body)
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}


def describe_stack_resource(
    environ: dict[str, Any], stacks: Mapping[str, Mapping[str, str]]
) -> tuple[str, bytes] | None:
    """(HTTP status, XML) for a DescribeStackResource on a local stack, else None."""
    form = _form(environ)
    stack = form.get("StackName", "")
    if form.get("Action") != "DescribeStackResource" or stack not in stacks:
        return None
    logical_id = form.get("LogicalResourceId", "")
    request_id = str(uuid.uuid4())
    physical = stacks[stack].get(logical_id)
    if physical is None:
        message = f"Resource {logical_id} does not exist for stack {stack}"
        return "400 Bad Request", (
            f'<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>Sender</Type>'
            f"<Code>ValidationError</Code><Message>{escape(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    stack_id = f"arn:aws:cloudformation:us-east-1:123456789012:stack/{stack}/local"
    return "200 OK", (
        f'<DescribeStackResourceResponse xmlns="{NAMESPACE}"><DescribeStackResourceResult>'
        f"<StackResourceDetail><StackId>{escape(stack_id)}</StackId>"
        f"<StackName>{escape(stack)}</StackName>"
        f"<LogicalResourceId>{escape(logical_id)}</LogicalResourceId>"
        f"<PhysicalResourceId>{escape(physical)}</PhysicalResourceId>"
        f"<ResourceType>{TABLE_TYPE}</ResourceType>"
        f"<LastUpdatedTimestamp>{now}</LastUpdatedTimestamp>"
        "<ResourceStatus>CREATE_COMPLETE</ResourceStatus></StackResourceDetail>"
        "</DescribeStackResourceResult>"
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
        "</DescribeStackResourceResponse>"
    ).encode()
