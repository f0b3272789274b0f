"""The CLI keeps its word: one line and exit 1 for a mistake, never a traceback (issue 15)."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from dynamigrate.cli import main
from tests.cli.test_checked_before_deploy import HEADER, TABLE, migration

DEMO = Path(__file__).parents[2] / "migrations" / "template.yaml"


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def not_dynamigrate() -> Iterator[str]:
    """An HTTP server that is not `local serve` (a web page on the port)."""

    class Page(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"<html>hello</html>")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_render_into_a_file(tmp_path, capsys):
    target = tmp_path / "afile"
    target.write_text("")
    assert main(["render", str(DEMO), "-o", str(target)]) == 1
    assert (
        _one_line(capsys)
        == f"dynamigrate: error: -o {target}: cannot write there (Not a directory)"
    )


def test_local_run_out_into_a_file(tmp_path, capsys):
    target = tmp_path / "afile"
    target.write_text("")
    assert main(["local", "run", str(DEMO), "--out", str(target)]) == 1
    assert _one_line(capsys) == f"dynamigrate: error: --out {target}: not a directory"


def test_local_deploy_against_a_server_that_is_not_dynamigrate(tmp_path, capsys, not_dynamigrate):
    template = tmp_path / "t.yaml"
    template.write_text(HEADER + "Resources:\n" + TABLE + migration("{Delete: {}}"))
    assert main(["local", "deploy", str(template), "--endpoint-url", not_dynamigrate]) == 1
    line = _one_line(capsys)
    assert line.startswith(f"dynamigrate: error: no dynamigrate emulator at {not_dynamigrate} (it")
    assert "`dynamigrate local serve`" in line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--profile", "nope"],
            "dynamigrate: error: --profile nope: no such profile in your AWS config",
        ),
        (
            ["--endpoint-url", "notaurl"],
            "dynamigrate: error: --endpoint-url notaurl: not a URL (e.g. http://127.0.0.1:4566)",
        ),
        (
            ["--endpoint-url", "http://127.0.0.1:9"],
            "dynamigrate: error: history table dynamigrate-history: cannot reach "
            "http://127.0.0.1:9/: start `dynamigrate local serve` (port 4566) or pass "
            "--endpoint-url",
        ),
    ],
    ids=["profile", "endpoint-not-a-url", "nothing-listening"],
)
def test_aws_options_mistakes(capsys, args, message):
    assert main(["history", *args]) == 1
    assert _one_line(capsys) == message


def test_a_local_endpoint_needs_no_credentials(monkeypatch, capsys):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    assert main(["history", "--endpoint-url", "http://127.0.0.1:9"]) == 1
    assert "cannot reach http://127.0.0.1:9/" in _one_line(capsys)  # not "no credentials"
    assert main(["history"]) == 1
    assert "no AWS credentials" in _one_line(capsys)


def test_usage_errors_exit_1_with_the_subcommands_usage(capsys):
    with pytest.raises(SystemExit) as info:
        main(["render", "--bogus", "x"])
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("usage: dynamigrate render ")
    assert err.endswith("dynamigrate render: error: unrecognized arguments: --bogus\n")
    with pytest.raises(SystemExit) as info:
        main(["local", "run"])
    assert info.value.code == 1
    assert "usage: dynamigrate local run" in capsys.readouterr().err


def test_version_and_help_defaults():
    exe = Path(sys.executable).parent / "dynamigrate"
    version = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("dynamigrate 0.")
    helps = {
        ("render",): ["(default: out)", "(default: us-east-1)"],
        ("new",): ["(default: template.yaml)", "(default: update)"],
        ("local", "serve"): ["(default: 4566)"],
        ("local", "deploy"): ["(default: local)"],
    }
    for command, shown in helps.items():
        text = subprocess.run(
            [str(exe), *command, "--help"], capture_output=True, text=True, check=True
        ).stdout
        for default in shown:
            assert default in " ".join(text.split()), (command, default)
        assert "(default: None)" not in text


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ('{"id": "a"}\n', "items.jsonl:1: the item has no pk (the table's partition key)"),
        ('{"pk": 5}\n', "items.jsonl:1: pk must be a string (S), as the table declares it; got N"),
        ('{"pk": "a", "n": 1e400}\n', "items.jsonl:1: attribute n: 1E+400 is outside DynamoDB's"),
        (
            '{"pk": "a"}\n{"pk": "b"}\n{"pk": "a"}\n',
            'items.jsonl:3: the same key as line 1 ({"pk": {"S": "a"}})',
        ),
        ('{"pk": {"S": "a"}, "n": {"N": "abc"}}\n', "items.jsonl:1: attribute n: 'abc' is not a"),
    ],
    ids=["missing-key", "key-type", "overflow", "duplicate", "bad-number"],
)
def test_a_bad_data_file_is_one_located_line(tmp_path, capsys, lines, message):
    template = tmp_path / "t.yaml"
    template.write_text(HEADER + "Resources:\n" + TABLE + migration("{Delete: {}}"))
    data = tmp_path / "items.jsonl"
    data.write_text(lines)
    code = main(["local", "run", str(template), "--data", f"Orders={data}", "--out", str(tmp_path)])
    assert code == 1
    assert message in _one_line(capsys)


def test_samples_print_as_dynamodb_json_with_binary_as_base64(tmp_path, capsys):
    template = tmp_path / "t.yaml"
    template.write_text(
        HEADER
        + "Resources:\n"
        + TABLE
        + migration('{Update: {Expression: "SET flag = :t", Values: {":t": true}}}')
    )
    data = tmp_path / "items.jsonl"
    data.write_text('{"Item": {"pk": {"S": "a"}, "blob": {"B": "AP8="}}}\n')
    argv = ["local", "run", str(template), "--data", f"Orders={data}", "--out", str(tmp_path / "o")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert '  before: {"blob": {"B": "AP8="}, "pk": {"S": "a"}}' in out
    assert "b'" not in out  # never a Python bytes repr
    assert main([*argv, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "M1 (dry run), an item it would change:" in out
    assert '  before: {"blob": {"B": "AP8="}, "pk": {"S": "a"}}' in out
    history = json.loads((tmp_path / "o" / "history.json").read_text())
    (sample,) = history[0]["samples"]
    assert sample["key"] == {"pk": {"S": "a"}}
    assert (sample["after"], sample["operation"]) == (None, "SET flag = :t")
    assert "  update: SET flag = :t" in out


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("Resources:\n  A: {Type: x\n  B: 1\n", ":3:4: did not find expected ',' or '}'"),
        ("Resources:\n  A:\n  Type: x\n\tB: 2\n", ":4:1: found a tab character"),
    ],
    ids=["flow-map", "tab"],
)
def test_a_yaml_error_names_its_line_and_column(tmp_path, capsys, text, where):
    path = tmp_path / "t.yaml"
    path.write_text(text)
    assert main(["render", str(path), "-o", str(tmp_path / "o")]) == 1
    assert _one_line(capsys).startswith(f"dynamigrate: error: {path}{where}")


NODE_FUNCTION = """\
  Fn:
    Type: AWS::Serverless::Function
    Properties: {Runtime: nodejs20.x, Handler: index.handler, CodeUri: fn/}
"""
INLINE_FUNCTION = """\
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: arn:aws:iam::123456789012:role/fn
      Code: {ZipFile: "def handler(event, context):\\n    return event"}
"""


@pytest.mark.parametrize(
    ("function", "up", "message"),
    [
        (
            NODE_FUNCTION,
            "{Function: !GetAtt Fn.Arn}",
            "Resource [M1] property Up.Function: Fn is a nodejs20.x function: a local run "
            "executes Python only; run this migration on AWS, or write its transform as a "
            "Python function",
        ),
        (
            INLINE_FUNCTION,
            "{Function: !Ref Fn}",
            "Resource [M1] property Up.Function: Fn is an AWS::Lambda::Function whose code is no "
            "directory of a CDK cloud assembly (no aws:asset:path metadata",
        ),
    ],
    ids=["nodejs", "inline-code"],
)
def test_a_function_a_local_run_cannot_execute_is_named(tmp_path, capsys, function, up, message):
    template = tmp_path / "t.yaml"
    template.write_text(HEADER + "Resources:\n" + TABLE + function + migration(up))
    code = main(["local", "run", str(template), "--out", str(tmp_path / "out")])
    assert code == 1
    assert message in _one_line(capsys)
