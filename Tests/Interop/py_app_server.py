"""A small, independent application server for interoperability tests: answers one
request per connection and closes, as the tutorial's server does, with its texts
(python-sockets-tutorial/libserver.py: single quotes, Python's str() of the value).

usage: py_app_server.py HOST PORT   (PORT 0 picks a free port; prints 'Listening on HOST:PORT')
"""

import json
import socket
import sys

import wire

ANSWERS = {
    "morpheus": "Follow the white rabbit. \U0001f430",
    "ring": "In the caves beneath the Misty Mountains. \U0001f48d",
    "\U0001f436": "\U0001f43e Playing ball! \U0001f3d0",
}


def respond(header, content):
    if header["content-type"] == "text/json":
        request = json.loads(content.decode(header["content-encoding"]))
        action = request.get("action")
        if action == "search":
            query = request.get("value")
            answer = ANSWERS.get(query) or f"No match for '{query}'."
        else:
            answer = f"Error: invalid action '{action}'."
        return wire.encode({"result": answer}, "text/json", "utf-8")
    body = b"First 10 bytes of request: " + content[:10]
    return wire.encode(body, "binary/custom-server-binary-type", "binary")


def main():
    if len(sys.argv) != 3:
        print(f"usage: {sys.argv[0]} HOST PORT", file=sys.stderr)
        sys.exit(2)
    host, port = sys.argv[1], int(sys.argv[2])
    with socket.create_server((host, port)) as listener:
        listener.settimeout(60)  # stops by itself if a test forgets it
        print(f"Listening on {host}:{listener.getsockname()[1]}", flush=True)
        while True:
            try:
                conn, _ = listener.accept()
            except socket.timeout:
                return
            with conn:
                conn.settimeout(10)
                message = wire.read_message(conn)
                if message is None:
                    continue
                header, content, _ = message
                conn.sendall(respond(header, content))


if __name__ == "__main__":
    main()
