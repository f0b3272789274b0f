"""`plan` against a deployed stack says what the next deploy does, as the deploy reports it."""

from __future__ import annotations

import copy

from dynamigrate.plan import plan
from tests.functional.templates import items_template, local_deployer, migration

TEMPLATE = items_template(
    {
        "Dry": migration(
            "m1-dry", {"Update": {"Expression": "SET a = :t", "Values": {":t": 1}}}, DryRun=True
        )
    }
)


def test_an_unchanged_dry_run_already_deployed_is_unchanged_in_plan_as_in_the_deploy(tmp_path):
    items = [{"pk": {"S": f"i{n}"}} for n in range(5)]
    changed = copy.deepcopy(TEMPLATE)
    changed["Resources"]["Dry"]["Properties"]["Up"]["Update"]["Values"][":t"] = 2
    with local_deployer() as deployer:
        tables = {"Items": "items"}

        def planned(template: dict) -> list[tuple[str, bool]]:
            found = plan(template, deployer.ledger, deployer.dynamodb, tables)
            return [(p.state, p.estimate is not None) for p in found]

        first = deployer.deploy(TEMPLATE, tmp_path, {"Items": items})
        assert [o.status for o in first.outcomes] == ["SUCCESS"]
        assert planned(TEMPLATE) == [("unchanged", False)]
        again = deployer.deploy(TEMPLATE, tmp_path)
        assert [(o.status, o.reason) for o in again.outcomes] == [("SUCCESS", "unchanged")]
        assert planned(changed) == [("dry-run", True)]
