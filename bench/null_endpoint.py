"""An HTTP endpoint that answers every request with `{}`: the far end of a client-CPU measurement.

    .venv/bin/python -m bench.null_endpoint PORT

Runs in its own process, so a client measuring its own CPU time counts what a real request costs
it (serializing, signing, HTTP over a kept-alive connection, parsing) and none of the server's
work. Each reply goes out in one write, so no delayed-ACK stall distorts the figure.
"""

from __future__ import annotations

import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPLY = (
    b"HTTP/1.1 200 OK\r\n"
    b"Content-Type: application/x-amz-json-1.0\r\n"
    b"x-amzn-RequestId: null-endpoint\r\n"
    b"Content-Length: 2\r\n\r\n{}"
)


class NullHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.wfile.write(REPLY)
        self.wfile.flush()

    def log_message(self, format: str, *args: object) -> None:
        return


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), NullHandler)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
