"""An application server that gives the right answers in an encoding of its own, for
the load tool's comparison tests: every answer is valid by PROTOCOL.md, but none has
our bytes. Header keys in reverse order without spaces, "byteorder": "big", JSON
content pretty-printed with ASCII escapes (Python's ensure_ascii=True). Unlike
py_app_server.py it keeps connections open and answers every request on them, as the
load tool needs; one thread per connection.

usage: py_reencoding_server.py HOST PORT   (PORT 0 picks a free port; prints 'Listening on HOST:PORT')
"""

import json
import socket
import socketserver
import struct
import sys

import wire
from py_app_server import ANSWERS


def encode(content, content_type, encoding):
    header = {
        "content-length": len(content),
        "content-encoding": encoding,
        "content-type": content_type,
        "byteorder": "big",
    }
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    return struct.pack(">H", len(header_bytes)) + header_bytes + content


def respond(header, content):
    if header["content-type"] == "text/json":
        request = json.loads(content.decode(header["content-encoding"]))
        query = request.get("value")
        answer = ANSWERS.get(query) or f"No match for '{query}'."
        body = json.dumps({"result": answer}, ensure_ascii=True, indent=2).encode("utf-8")
        return encode(body, "text/json", "utf-8")
    return encode(b"First 10 bytes of request: " + content[:10], "binary/custom-server-binary-type", "binary")


class Connection(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                message = wire.read_message(self.request)
                if message is None:
                    return
                header, content, _ = message
                self.request.sendall(respond(header, content))
        except (EOFError, ConnectionError):
            return


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    if len(sys.argv) != 3:
        print(f"usage: {sys.argv[0]} HOST PORT", file=sys.stderr)
        sys.exit(2)
    host, port = sys.argv[1], int(sys.argv[2])
    with Server((host, port), Connection) as server:
        print(f"Listening on {host}:{server.server_address[1]}", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main()
