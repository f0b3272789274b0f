"""How long `dynamigrate local serve` takes to stop on Ctrl-C with stacks loaded, and what it says.

Starts a server, deploys the demo template to `--stacks` stacks (200 orders, 40 customers), then
sends SIGINT, idle or (`--busy`) while one more deploy runs, and prints the seconds from the
signal until the process ended, its exit code and what it printed meanwhile.

    .venv/bin/python bench/serve_stop.py [--stacks 2] [--busy]

To measure another checkout, put it first on PYTHONPATH.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = [sys.executable, "-m", "migrations.sample_data"]


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "dynamigrate.cli", *args]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stacks", type=int, default=2)
    parser.add_argument("--busy", action="store_true", help="interrupt during a deploy")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="serve-stop-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT")}
    subprocess.run(
        [*SAMPLE, "--out", str(work), "--orders", "200", "--customers", "40"],
        cwd=ROOT,
        check=True,
        env=env,
    )
    port = _port()
    url = f"http://127.0.0.1:{port}"
    out, err = (work / "serve.out").open("w"), (work / "serve.err").open("w")
    server = subprocess.Popen(_cli("local", "serve", "--port", str(port)), stdout=out, stderr=err)
    while url not in (work / "serve.out").read_text():
        if server.poll() is not None:
            print((work / "serve.err").read_text())
            return 1
        time.sleep(0.2)
    deploy = _cli("local", "deploy", str(ROOT / "migrations" / "template.yaml"), "--endpoint-url")
    data = ["--data", f"Orders={work / 'orders.jsonl'}"]
    data += ["--data", f"Customers={work / 'customers.jsonl'}"]
    for n in range(args.stacks):
        subprocess.run(
            [*deploy, url, *data, "--stack", f"s{n}"], env=env, check=True, capture_output=True
        )
    busy = None
    if args.busy:
        busy = subprocess.Popen([*deploy, url, *data, "--stack", "busy"], env=env)
        time.sleep(5)  # well into its first migration
    before = (work / "serve.err").stat().st_size
    started = time.monotonic()
    server.send_signal(signal.SIGINT)
    code = server.wait(timeout=600)
    seconds = time.monotonic() - started
    if busy is not None:
        busy.wait(timeout=600)
    said = (work / "serve.err").read_text()[before:].strip()
    print(f"stacks loaded: {args.stacks}{' + one deploying' if busy else ''}")
    print(f"stopped in {seconds:.2f} s, exit code {code}")
    print(f"said: {said or '(nothing)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
