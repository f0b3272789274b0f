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


SET_B = {"Update": {"Expression": "SET b = :t", "Values": {":t": 1}}}
KINDS = items_template(
    {
        "Dry": TEMPLATE["Resources"]["Dry"],
        "Restored": migration(
            "m2-restored", SET_B, Verify={"Condition": "b = :t", "Values": {":t": 1}}
        ),
        "Kept": migration("m3-kept", SET_B, Down={"Keep": {}}),
        "Undone": migration("m4-undone", SET_B, Down={"Update": {"Expression": "REMOVE b"}}),
        "DryToo": migration(
            "m5-dry", SET_B, DryRun=True, Verify={"Condition": "attribute_exists(b)"}
        ),
    }
)


def test_plan_says_what_a_rollback_does_and_prices_verification_and_before_images(tmp_path):
    items = [{"pk": {"S": f"i{n}"}} for n in range(5)]
    with local_deployer() as deployer:
        deployed = deployer.deploy(TEMPLATE, tmp_path, {"Items": items})  # creates the table
        assert [o.status for o in deployed.outcomes] == ["SUCCESS"]
        found = plan(KINDS, deployer.ledger, deployer.dynamodb, {"Items": "items"})
    by_id = {p.migration_id: p for p in found}
    assert {m: p.rollback for m, p in by_id.items()} == {
        "m1-dry": None,  # unchanged: the deploy does not run it
        "m2-restored": "restore",
        "m3-kept": "keep",
        "m4-undone": "down",
        "m5-dry": "none",
    }
    restored, kept = by_id["m2-restored"].estimate, by_id["m3-kept"].estimate
    assert restored is not None
    assert kept is not None
    assert restored.verify_read_units == 2 * restored.read_units > 0  # strongly consistent
    assert restored.before_image_requests == 4  # one page, one worker call: images and journal
    assert (kept.verify_read_units, kept.before_image_requests) == (0.0, 0)
    dry = by_id["m5-dry"].estimate
    assert dry is not None
    assert (dry.verify_read_units, dry.before_image_requests) == (0.0, 0)
    assert by_id["m2-restored"].as_dict()["estimate"]["verifyReadUnits"] == (
        restored.verify_read_units
    )
