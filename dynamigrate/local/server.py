"""`dynamigrate local serve`: the embedded emulator as a long-running server on 127.0.0.1.

One port serves the AWS APIs (moto's server, with dynamigrate's adaptations and the application
installed) and one extra route, `POST /_dynamigrate/deploy`, through which `dynamigrate local
deploy` asks the server to deploy a template: the runner, controller and transform functions run
in the server's process, so successive deploys act on one state (v1, then v2 with a new migration,
then a failing one that rolls back). Every other command reaches the same state through
`--endpoint-url`.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

from dynamigrate.data_files import DataFileError
from dynamigrate.local.cloudformation.resources import DeployError
from dynamigrate.local.cloudformation.responses import describe_stack_resource
from dynamigrate.local.emulator import install
from dynamigrate.local.seal import allow
from dynamigrate.local.stacks import LocalStacks
from dynamigrate.templates import TemplateError
from macro.errors import InvalidTemplateError

CONTROL_PREFIX = "/_dynamigrate/"
StartResponse = Callable[..., Any]


def _moto_app() -> Any:
    from moto.core.config import default_user_config  # noqa: PLC0415 - server mode only
    from moto.moto_server.werkzeug_app import (  # noqa: PLC0415
        DomainDispatcherApplication,
        create_backend_app,
    )

    default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = True
    return DomainDispatcherApplication(create_backend_app)


class LocalServer:
    """moto's server plus the control routes; the stacks it deploys are `LocalStacks`."""

    def __init__(self, port: int = 4566, poll_seconds: int = 1) -> None:
        self.port = port
        self.poll_seconds = poll_seconds
        self.stacks: LocalStacks | None = None
        self.server: BaseWSGIServer | None = None
        self._receiver_context: Any = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Serve in a thread, then install the application through the server itself."""
        from dynamigrate.local.app import LocalApp  # noqa: PLC0415
        from dynamigrate.local.cloudformation.protocol import response_receiver  # noqa: PLC0415
        from dynamigrate.local.engine import set_default_environment  # noqa: PLC0415

        set_default_environment()
        install()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        moto = _moto_app()
        self.server = make_server("127.0.0.1", self.port, self._wsgi(moto), threaded=True)
        self.port = self.server.server_port
        allow(self.endpoint)  # sealed (local serve): its own endpoint is the only one reachable
        # The server's own SDK calls (handlers, the state machine interpreter) come back here.
        os.environ["AWS_ENDPOINT_URL"] = self.endpoint
        os.environ["MOTO_PORT"] = str(self.port)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self._receiver_context = response_receiver()
        receiver = self._receiver_context.__enter__()
        self.stacks = LocalStacks(LocalApp(poll_seconds=self.poll_seconds), receiver)

    def stopping(self) -> str:
        """What stopping the server ends, in one line (a Ctrl-C ends the process at once)."""
        stacks = sorted(self.stacks.deployers) if self.stacks else []
        held = f"{len(stacks)} stack{'s' * (len(stacks) != 1)}"
        busy = self.stacks is not None and self.stacks.lock.locked()
        return (
            f"stopping the emulator on {self.endpoint}: its state ({held}"
            f"{': ' + ', '.join(stacks) if stacks else ''}) is discarded"
            f"{'; the deploy in progress is abandoned' if busy else ''}"
        )

    def _wsgi(self, moto: Any) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
        def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
            if environ.get("PATH_INFO", "").startswith(CONTROL_PREFIX):
                return self._control(environ, start_response)
            tables = self.stacks.tables if self.stacks else {}
            answered = describe_stack_resource(environ, tables)
            if answered is not None:
                start_response(answered[0], [("Content-Type", "text/xml")])
                return [answered[1]]
            result: Iterable[bytes] = moto(environ, start_response)
            return result

        return app

    def _control(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        """A control request: JSON in, the stack operation, JSON out."""
        status, body = "200 OK", {}
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            request = json.loads(environ["wsgi.input"].read(length) or b"{}")
            route = environ["PATH_INFO"].removeprefix(CONTROL_PREFIX)
            stack = str(request.get("stack") or "local")
            if self.stacks is None:
                status, body = "503 Service Unavailable", {"error": "the server is starting"}
            elif route == "deploy":
                body = self.stacks.deploy(
                    Path(request["template"]),
                    request.get("data") or {},
                    request.get("params") or {},
                    stack,
                    bool(request.get("dryRun")),
                    bool(request.get("disableRollback")),
                )
            elif route in ("rollback", "delete"):
                body = self.stacks.stack_operation(route, stack)
            else:
                status, body = "404 Not Found", {"error": "unknown route"}
        except (DeployError, DataFileError, TemplateError, InvalidTemplateError, ValueError) as exc:
            status, body = "400 Bad Request", {"error": str(exc)}
        payload = json.dumps(body).encode()
        start_response(status, [("Content-Type", "application/json")])
        return [payload]
