"""A small CDK app with three migrations: `npx cdk synth` (or `python app.py`) synthesizes it
into ./cdk.out.

Then `dynamigrate local run cdk.out/Shop.template.json --data Customers=customers.jsonl` runs its
migrations on the embedded emulator, the transform function in-process from its asset directory.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_

from dynamigrate.cdk import DynamoMigration, Function, Scan, Update

HERE = Path(__file__).resolve().parent


class Shop(cdk.Stack):
    def __init__(self, scope: cdk.App, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        customers = dynamodb.Table(
            self,
            "Customers",
            partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        )
        split = lambda_.Function(
            self,
            "SplitNames",
            runtime=lambda_.Runtime.PYTHON_3_12,
            handler="split_names.handler",
            code=lambda_.Code.from_asset(str(HERE / "functions")),
            timeout=cdk.Duration.seconds(60),
        )
        tier = {"#t": "tier"}
        DynamoMigration(
            self,
            "AddTier",
            table=customers,
            migration_id="2026-03-01-add-tier",
            up=Update("SET #t = :basic", "attribute_not_exists(#t)", tier, {":basic": "BASIC"}),
            down=Update("REMOVE #t", names=tier),
        )
        DynamoMigration(
            self,
            "SplitName",
            table=customers,
            migration_id="2026-03-02-split-name",
            source=Scan(filter="attribute_exists(#n)", names={"#n": "name"}),
            up=Function(split),
        )
        DynamoMigration(
            self,
            "FlagVip",
            table=customers,
            migration_id="2026-03-03-flag-vip",
            source=Scan(filter="spent > :k", values={":k": 1000}),
            up=Update("SET vip = :yes", values={":yes": True}),
            down=Update("REMOVE vip"),
        )


def main(out: str | None = None) -> cdk.App:
    """Run by the CDK CLI, the output directory is its CDK_OUTDIR; run alone, ./cdk.out."""
    # what `cdk synth` sets: the construct paths and asset directories in the template's metadata
    context = {"aws:cdk:enable-path-metadata": True, "aws:cdk:enable-asset-metadata": True}
    outdir = out or os.environ.get("CDK_OUTDIR") or "cdk.out"
    app = cdk.App(outdir=outdir, context=context)
    Shop(app, "Shop")
    app.synth()
    return app


if __name__ == "__main__":
    main(*sys.argv[1:])
