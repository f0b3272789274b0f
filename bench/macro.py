"""Macro scale: `expand` time and output sizes for 10, 100 and the most migrations that fit.

    .venv/bin/python bench/macro.py [--json]

Each migration adds a nested stack to the parent, so CloudFormation's 500-resource limit bounds
how many fit in one template; this finds that number by expanding until the macro refuses.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from macro.errors import InvalidTemplateError
from macro.expand import expand
from tests.unit.macro.golden import SETTINGS


def template(count: int) -> dict[str, Any]:
    resources: dict[str, Any] = {
        "Orders": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            },
        }
    }
    for i in range(count):
        resources[f"Migration{i:04d}"] = {
            "Type": "Custom::DynamoMigration",
            "Properties": {
                "TableName": {"Ref": "Orders"},
                "MigrationId": f"2026-01-01-{i:04d}",
                "Source": {
                    "Scan": {
                        "Segments": 16,
                        "Filter": "attribute_not_exists(#s)",
                        "Names": {"#s": f"status{i}"},
                    }
                },
                "Up": {
                    "Update": {
                        "Expression": "SET #s = :p",
                        "Names": {"#s": f"status{i}"},
                        "Values": {":p": "PENDING"},
                    }
                },
            },
        }
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}


def measure(count: int) -> dict[str, Any]:
    nested: list[int] = []
    fragment = template(count)
    started = time.perf_counter()
    out = expand(fragment, SETTINGS, lambda key, body: nested.append(len(body)) or key)
    seconds = time.perf_counter() - started
    return {
        "migrations": count,
        "expand_ms": round(seconds * 1000, 1),
        "parent_resources": len(out["Resources"]),
        "parent_bytes": len(json.dumps(out, separators=(",", ":"))),
        "nested_bytes_each": max(nested),
    }


def most_that_fit() -> int:
    low, high = 1, 500
    while low < high:
        middle = (low + high + 1) // 2
        try:
            expand(template(middle), SETTINGS, lambda key, body: key)
            low = middle
        except InvalidTemplateError:
            high = middle - 1
    return low


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = [measure(n) for n in (10, 100, most_that_fit())]
    if args.json:
        print(json.dumps(rows))
        return
    columns = list(rows[0])
    print("  ".join(f"{c:>17}" for c in columns))
    for row in rows:
        print("  ".join(f"{row[c]:>17}" for c in columns))


if __name__ == "__main__":
    main()
