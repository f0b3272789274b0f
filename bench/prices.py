"""The published us-east-1 prices bench/ scripts price their counts at, each with its source.

DynamoDB, Step Functions and Lambda come from `dynamigrate plan`'s table (dynamigrate/plan.py),
so a benchmark and a plan price the same unit the same way:
- DynamoDB on demand, https://aws.amazon.com/dynamodb/pricing/on-demand/ : $0.625 per million
  write request units, $0.125 per million read request units;
- Step Functions Standard, https://aws.amazon.com/step-functions/pricing/ : $0.025 per 1,000
  state transitions;
- Lambda arm64, https://aws.amazon.com/lambda/pricing/ : $0.20 per million requests,
  $0.0000133334 per GB-second.

S3 is not in that table (a plan does not price before-images); from
https://aws.amazon.com/s3/pricing/ , S3 Standard in US East (N. Virginia), November 2026:
- PUT, COPY, POST, LIST requests: $0.005 per 1,000;
- GET, SELECT and all other requests: $0.0004 per 1,000 (DELETE is free);
- storage: $0.023 per GB-month (first 50 TB), a GB being 2^30 bytes as S3 bills it.
"""

from __future__ import annotations

from dynamigrate.plan import (
    LAMBDA_GB_SECOND,
    LAMBDA_PER_MILLION,
    READ_PER_MILLION,
    TRANSITION_PER_THOUSAND,
    WRITE_PER_MILLION,
)

WRITE_UNIT = WRITE_PER_MILLION / 1e6
READ_UNIT = READ_PER_MILLION / 1e6
TRANSITION = TRANSITION_PER_THOUSAND / 1000
LAMBDA_REQUEST = LAMBDA_PER_MILLION / 1e6

S3_PUT_REQUEST = 0.005 / 1000  # PUT, COPY, POST, LIST
S3_GET_REQUEST = 0.0004 / 1000  # GET, SELECT and all other requests
S3_GB_MONTH = 0.023
S3_GB = 2**30

__all__ = [
    "LAMBDA_GB_SECOND",
    "LAMBDA_REQUEST",
    "READ_UNIT",
    "S3_GB",
    "S3_GB_MONTH",
    "S3_GET_REQUEST",
    "S3_PUT_REQUEST",
    "TRANSITION",
    "WRITE_UNIT",
]
