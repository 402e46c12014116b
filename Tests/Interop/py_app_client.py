"""A small, independent application client for interoperability tests.

usage: py_app_client.py HOST PORT ACTION VALUE
Prints 'Got result: ...' or 'Got response: b'...'', then the raw response as hex.
"""

import json
import socket
import sys

import wire


def main():
    if len(sys.argv) != 5:
        print(f"usage: {sys.argv[0]} HOST PORT ACTION VALUE", file=sys.stderr)
        sys.exit(2)
    host, port, action, value = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    if action == "search":
        request = wire.encode({"action": action, "value": value}, "text/json", "utf-8")
    else:
        request = wire.encode((action + value).encode("utf-8"), "binary/custom-client-binary-type", "binary")
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(request)
        message = wire.read_message(sock)
    if message is None:
        print("server closed without a response", file=sys.stderr)
        sys.exit(1)
    header, content, raw = message
    if header["content-type"] == "text/json":
        result = json.loads(content.decode(header["content-encoding"])).get("result")
        print(f"Got result: {result}")
    else:
        print(f"Got response: {content!r}")
    print(f"raw: {raw.hex()}")


if __name__ == "__main__":
    main()
