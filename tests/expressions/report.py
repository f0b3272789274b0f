"""Judge the whole corpus by the checker and by the emulator; print the agreement.

.venv/bin/python -m tests.expressions.report
"""

from __future__ import annotations

from dataclasses import dataclass

import boto3

from dynamigrate.local.emulator import emulated_aws
from tests.expressions import oracle
from tests.expressions.corpus import CORPUS, Case


@dataclass(frozen=True)
class Row:
    case: Case
    problems: list[str]
    judgement: oracle.Judgement

    @property
    def checker_valid(self) -> bool:
        return not self.problems

    @property
    def emulator_valid(self) -> bool:
        return self.judgement.verdict == "accepted"


def judge_all() -> list[Row]:
    with emulated_aws():
        client = boto3.client("dynamodb")
        oracle.create_table(client)
        return [Row(c, oracle.checker(c), oracle.emulator(client, c)) for c in CORPUS]


def main() -> None:
    rows = judge_all()
    disagreements = [r for r in rows if r.checker_valid != r.emulator_valid]
    print(f"corpus: {len(rows)} expressions")
    print(f"valid per the checker: {sum(r.checker_valid for r in rows)}")
    print(f"agree: {len(rows) - len(disagreements)}/{len(rows)}")
    for row in disagreements:
        print(f"- {row.case.id[:120]}")
        print(f"    checker: {row.problems[0] if row.problems else 'valid'}"[:200])
        print(f"    emulator: {row.judgement.verdict} {row.judgement.reason}"[:200])


if __name__ == "__main__":
    from dynamigrate.local.engine import set_default_environment

    set_default_environment()
    main()
