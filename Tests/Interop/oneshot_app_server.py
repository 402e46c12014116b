"""An application-protocol server written independently in Python, as the tutorial's
server behaves: one request per connection (2-byte big-endian header length, JSON
header, content), one answer, then the server closes. Answers are encoded with the
standard library's json.dumps, so a client that expects Conduit's encoding checks it
byte for byte against Python's.

Usage: python3 oneshot_app_server.py PORT  (prints "Listening on 127.0.0.1:PORT")
"""
import json
import selectors
import signal
import socket
import struct
import sys

TABLE = {
    "morpheus": "Follow the white rabbit. \U0001f430",
    "ring": "In the caves beneath the Misty Mountains. \U0001f48d",
    "\U0001f436": "\U0001f43e Playing ball! \U0001f3d0",
}


def encode(obj):
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")


def message(content, content_type, encoding):
    header = encode({
        "byteorder": sys.byteorder,
        "content-type": content_type,
        "content-encoding": encoding,
        "content-length": len(content),
    })
    return struct.pack(">H", len(header)) + header + content


def answer(header, content):
    if header["content-type"] == "text/json":
        request = json.loads(content.decode(header["content-encoding"]))
        value = request.get("value")
        result = TABLE.get(value, f"No match for '{value}'.")
        return message(encode({"result": result}), "text/json", "utf-8")
    return message(b"First 10 bytes of request: " + content[:10], "binary/custom-server-binary-type", "binary")


def complete(buffer):
    """The header and content of the message in buffer, once it is all there."""
    if len(buffer) < 2:
        return None
    (length,) = struct.unpack(">H", buffer[:2])
    if len(buffer) < 2 + length:
        return None
    header = json.loads(buffer[2:2 + length].decode("utf-8"))
    end = 2 + length + header["content-length"]
    if len(buffer) < end:
        return None
    return header, bytes(buffer[2 + length:end])


def main():
    # A test's threads block nearly every signal and a child inherits the mask: without
    # this, the test's SIGTERM would never arrive.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0))
    listener.listen(1024)
    listener.setblocking(False)
    print(f"Listening on 127.0.0.1:{listener.getsockname()[1]}", flush=True)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, None)
    while True:
        for key, _ in selector.select():
            if key.data is None:
                try:
                    connection, _ = listener.accept()
                except BlockingIOError:
                    continue
                connection.setblocking(False)
                selector.register(connection, selectors.EVENT_READ, {"in": bytearray(), "out": b""})
                continue
            connection, state = key.fileobj, key.data
            if state["out"]:
                try:
                    sent = connection.send(state["out"])
                except BlockingIOError:
                    continue
                except OSError:
                    sent = len(state["out"])
                state["out"] = state["out"][sent:]
                if not state["out"]:
                    selector.unregister(connection)
                    connection.close()
                continue
            try:
                data = connection.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                selector.unregister(connection)
                connection.close()
                continue
            state["in"] += data
            found = complete(state["in"])
            if found:
                state["out"] = answer(*found)
                selector.modify(connection, selectors.EVENT_WRITE, state)


if __name__ == "__main__":
    main()
