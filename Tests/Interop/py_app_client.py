"""A small, independent application client for interoperability tests.

usage: py_app_client.py HOST PORT ACTION VALUE [--tls-ca CAFILE]
With --tls-ca, speaks TLS (Python's ssl module, checking the server's certificate
against CAFILE and its name against HOST). Prints 'Got result: ...' or 'Got response: b'...'', then the raw response as hex.
"""

import json
import socket
import ssl
import sys

import wire


def main():
    args = sys.argv[1:]
    cafile = None
    if len(args) == 6 and args[4] == "--tls-ca":
        cafile = args[5]
        args = args[:4]
    if len(args) != 4:
        print(f"usage: {sys.argv[0]} HOST PORT ACTION VALUE [--tls-ca CAFILE]", file=sys.stderr)
        sys.exit(2)
    host, port, action, value = args[0], int(args[1]), args[2], args[3]
    if action == "search":
        request = wire.encode({"action": action, "value": value}, "text/json", "utf-8")
    else:
        request = wire.encode((action + value).encode("utf-8"), "binary/custom-client-binary-type", "binary")
    with socket.create_connection((host, port), timeout=10) as plain:
        sock = plain
        if cafile:
            sock = ssl.create_default_context(cafile=cafile).wrap_socket(plain, server_hostname=host)
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
