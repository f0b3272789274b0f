"""Sample data for the demo: `python -m migrations.sample_data --out DIR [--orders N]`.

Writes DIR/orders.jsonl (plain JSON lines, numbers as exact decimals) and DIR/customers.jsonl
(DynamoDB's export format), deterministic for a given size.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken"]
LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson"]


def orders(count: int, customers: int, seed: int = 7) -> list[dict[str, object]]:
    rng = random.Random(seed)
    out: list[dict[str, object]] = []
    for i in range(count):
        customer = f"test-{i % 7}" if i % 40 == 0 else f"c-{rng.randrange(customers)}"
        order: dict[str, object] = {
            "pk": f"ORDER#{i:06d}",
            "customer": customer,
            "total": f"{rng.randrange(100, 1000000) / 100:.2f}",
            "created_at": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}",
            "lines": [{"sku": f"SKU-{rng.randrange(500)}", "qty": rng.randrange(1, 5)}],
        }
        if i % 5 == 0:
            order["status"] = "SHIPPED"
        out.append(order)
    return out


def customers(count: int, seed: int = 11) -> list[dict[str, object]]:
    rng = random.Random(seed)
    out: list[dict[str, object]] = []
    for i in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        out.append(
            {
                "Item": {
                    "id": {"S": f"c-{i}"},
                    "name": {"S": f"{first} {last}"},
                    "email": {"S": f"{first}.{last}{i}@Example.com"},
                    "since": {"N": str(2000 + i % 26)},
                }
            }
        )
    return out


def write(path: Path, rows: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--customers", type=int, default=400)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    order_rows = orders(args.orders, args.customers)
    for row in order_rows:  # totals as JSON numbers: read back as exact decimals
        row["total"] = float(str(row["total"]))
    write(args.out / "orders.jsonl", order_rows)
    write(args.out / "customers.jsonl", customers(args.customers))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
