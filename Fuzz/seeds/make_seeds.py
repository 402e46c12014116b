"""Writes the hand-made seeds of the content and matcher fuzz targets (Fuzz/seeds/content,
Fuzz/seeds/matcher). Run from anywhere: python3 Fuzz/seeds/make_seeds.py. Encodings come
from Python's json, independently of Conduit; our server's bytes are the tutorial's."""

import json
import os
import struct

here = os.path.dirname(os.path.abspath(__file__))


def message(obj_or_bytes, content_type, encoding="utf-8", header_order=None, byteorder="little",
            separators=(", ", ": "), ensure_ascii=False, indent=None):
    if content_type == "text/json":
        content = json.dumps(obj_or_bytes, ensure_ascii=ensure_ascii, indent=indent,
                             separators=None if indent else separators).encode("utf-8")
    else:
        content = obj_or_bytes
    header = {"byteorder": byteorder, "content-type": content_type, "content-encoding": encoding,
              "content-length": len(content)}
    if header_order:
        header = {key: header[key] for key in header_order}
    header_bytes = json.dumps(header, ensure_ascii=False, separators=separators).encode("utf-8")
    return struct.pack(">H", len(header_bytes)) + header_bytes + content


def write(folder, name, data):
    with open(os.path.join(here, folder, name), "wb") as f:
        f.write(data)


# Content: JSON texts (the app's requests and awkward values) and whole messages.
contents = {
    "search_morpheus": {"action": "search", "value": "morpheus"},
    "search_dog": {"action": "search", "value": "\U0001f436"},
    "search_list": {"action": "search", "value": [1, 2e3, None, True, {"a": "\u00e9"}]},
    "unknown_action": {"action": "upper", "value": "x"},
    "no_action": {"value": "it's \"quoted\"\n\t\u0001 \U0001f600"},
    "nested": {"a": {"b": [[[]], {}]}, "a ": -0.0},
}
for name, value in contents.items():
    write("content", name, json.dumps(value, ensure_ascii=False).encode("utf-8"))
write("content", "numbers", b"[1, -0, 0.5e-7, 1E400, 123456789012345678901234567890, 1.0]")
write("content", "escapes", b'{"action": "s\\u0065arch", "value": "\\ud83d\\udc36"}')
write("content", "binary_message", message(b"binary\xf0\x9f\x98\x83", "binary/custom-client-binary-type", "binary"))
write("content", "json_message", message({"action": "search", "value": "ring"}, "text/json"))

# Matcher: byte 0 = answer set | refill << 2 | in flight << 3; byte 1 chunk; byte 2 split.
answers = {
    "morpheus": "Follow the white rabbit. \U0001f430",
    "ring": "In the caves beneath the Misty Mountains. \U0001f48d",
    "dog": "\U0001f43e Playing ball! \U0001f3d0",
}
search = [message({"result": answers[k]}, "text/json") for k in ("morpheus", "ring", "dog")]
reordered = ["content-length", "content-encoding", "content-type", "byteorder"]
search_other = [message({"result": answers[k]}, "text/json", header_order=reordered, byteorder="big",
                        separators=(",", ":"), ensure_ascii=True) for k in ("morpheus", "ring", "dog")]
binary = [message(b"First 10 bytes of request: binary" + v[:4].encode(), "binary/custom-server-binary-type", "binary")
          for v in ("abcdefghijklmnop", "bcdefghijklmnopq", "cdefghijklmnopqr")]
binary_other = [message(b"First 10 bytes of request: binary" + v[:4].encode(), "binary/custom-server-binary-type",
                        "binary", header_order=reordered, indent=None, separators=(" ,", " : "))
                for v in ("abcdefghijklmnop", "bcdefghijklmnopq", "cdefghijklmnopqr")]
objects = [message({"result": {"a": 1, "b": [True, None], "c": "\u00e9\U0001f430"}}, "text/json"),
           message({"result": {"x": {"y": -2.5e3, "z": ""}, "w": 0}}, "text/json")]
objects_other = [message({"result": {"c": "\u00e9\U0001f430", "b": [True, None], "a": 1.0}}, "text/json", indent=2),
                 message({"result": {"w": -0, "x": {"z": "", "y": -25e2}}}, "text/json", ensure_ascii=True)]


def layout(answer_set, in_flight, refill=False, chunk=7, split=100):
    return bytes([answer_set | (4 if refill else 0) | (in_flight << 3), chunk, split])


write("matcher", "search_exact", layout(0, 3) + b"".join(search))
write("matcher", "search_reencoded", layout(0, 3) + b"".join(search_other))
write("matcher", "search_refill", layout(0, 1, refill=True) + b"".join(search + search_other))
write("matcher", "search_duplicate", layout(0, 2) + search[0] + search[0])
write("matcher", "search_unasked", layout(0, 1) + search[0] + search[1])
write("matcher", "binary_exact", layout(1, 3) + b"".join(binary))
write("matcher", "binary_reencoded", layout(1, 3, chunk=1) + b"".join(binary_other))
write("matcher", "objects_exact", layout(2, 2) + b"".join(objects))
write("matcher", "objects_reencoded", layout(2, 2, refill=True) + b"".join(objects_other + objects))
write("matcher", "nothing_in_flight", layout(0, 0) + search[0])
