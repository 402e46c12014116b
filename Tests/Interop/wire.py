"""The message format of shared/PROTOCOL.md, written independently of Conduit
(standard library only) so that tests can check that both sides interoperate."""

import json
import struct
import sys


def encode(obj_or_bytes, content_type, encoding):
    """A whole message: 2-byte big-endian header length, JSON header, content."""
    if content_type == "text/json":
        content = json.dumps(obj_or_bytes, ensure_ascii=False).encode(encoding)
    else:
        content = obj_or_bytes
    header = {
        "byteorder": sys.byteorder,
        "content-type": content_type,
        "content-encoding": encoding,
        "content-length": len(content),
    }
    header_bytes = json.dumps(header, ensure_ascii=False).encode("utf-8")
    return struct.pack(">H", len(header_bytes)) + header_bytes + content


def read_exactly(sock, count):
    """Reads exactly `count` bytes, or raises EOFError if the peer closes first."""
    chunks = []
    while count > 0:
        chunk = sock.recv(min(count, 65536))
        if not chunk:
            raise EOFError("peer closed mid-message")
        chunks.append(chunk)
        count -= len(chunk)
    return b"".join(chunks)


def read_message(sock):
    """Returns (header dict, content bytes, raw message bytes), or None at a clean EOF."""
    first = sock.recv(2)
    if not first:
        return None
    if len(first) == 1:
        first += read_exactly(sock, 1)
    (header_length,) = struct.unpack(">H", first)
    header_bytes = read_exactly(sock, header_length)
    header = json.loads(header_bytes.decode("utf-8"))
    for key in ("byteorder", "content-length", "content-type", "content-encoding"):
        if key not in header:
            raise ValueError(f"missing required header {key!r}")
    content = read_exactly(sock, header["content-length"])
    return header, content, first + header_bytes + content
