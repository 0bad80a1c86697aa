"""The agents' socket protocol: one JSON object per line, each way.

Client -> server: `{"op": "decide", "mode", "argv", "line", "shell_argv", "cwd", "agent",
"token", "session", "program"}` (program: the real program the client found on its PATH).
On the socket, guard's client sends `"program_follows": true` instead and the program as a
line of its own right after, `{"program": PATH|null}`: it searches PATH while the server
decides, and the server reads that line before it records the entry (a request that promises
it and does not send it is denied). Fields named `_...` are the server's and never read from
a request.
Server -> client: `{"status": "pending", "id", "timeout"}` while a human is asked (zero or
one), then `{"status": "done", "decision": "allowed"|"approved"|"denied", "message"}`.
A line longer than `MAX_LINE` bytes is refused. Decoding uses the C scanner of `_json`, so
the client never imports `json` (which costs ~15 ms with `re` and `enum`).

Versions: a decide request carries `"v": VERSION`; the server refuses any other version (a
request without `v` is version 1). The server's answers are canonical (`jsonline`: sorted keys,
no spaces), so the client compares the most common one, `ALLOWED`, as bytes and parses only
the others; whatever it cannot read is a denial (client.py).
"""

from . import jsonline

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_LINE = 1 << 20
VERSION = 1


class ProtocolError(Exception):
    """A line that is not one JSON object."""


_SCANNER: "list[Any]" = []  # made on first use: an allowed answer is read without it


def _scanner() -> "Any":
    """`_json`'s C scanner, set up as `json` would (strict; no NaN or Infinity)."""
    import _json

    class _Context:
        strict = True
        object_hook = None
        object_pairs_hook = None
        parse_float = float
        parse_int = int
        memo: dict[str, str] = {}  # noqa: RUF012 - the scanner's interning table

        @staticmethod
        def parse_constant(name: str) -> float:
            raise ProtocolError(f"{name} is not allowed")

    return _json.make_scanner(_Context())  # type: ignore[arg-type]  # duck-typed


def _scan(text: str, start: int) -> "tuple[Any, int]":
    if not _SCANNER:
        _SCANNER.append(_scanner())
    return _SCANNER[0](text, start)  # type: ignore[no-any-return]


def encode(obj: "dict[str, Any]") -> bytes:
    return jsonline.dumps(obj).encode("ascii") + b"\n"


# The answer to an allowed request, byte for byte as the server sends it.
ALLOWED = encode({"status": "done", "decision": "allowed"})


def decode(data: bytes) -> "dict[str, Any]":
    """One JSON object from one line; raises ProtocolError for anything else."""
    try:
        text = data.decode("utf-8").strip()
        obj, end = _scan(text, 0)
    except (UnicodeDecodeError, StopIteration, ValueError) as exc:
        raise ProtocolError("not a JSON line") from exc
    if end != len(text) or not isinstance(obj, dict):
        raise ProtocolError("not one JSON object")
    return obj


def read_line(recv: "Any", buffer: bytearray) -> bytes | None:
    """The next line from `recv(n)` (a socket's), using and refilling `buffer`; None at EOF.
    Raises ProtocolError past MAX_LINE bytes."""
    while True:
        nl = buffer.find(b"\n")
        if nl >= 0:
            line = bytes(buffer[: nl + 1])
            del buffer[: nl + 1]
            return line
        if len(buffer) > MAX_LINE:
            raise ProtocolError(f"a line longer than {MAX_LINE} bytes")
        chunk = recv(65536)
        if not chunk:
            return None
        buffer.extend(chunk)
