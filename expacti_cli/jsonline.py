"""Canonical JSON for audit lines, without importing `json`.

`json` pulls in `re` and `enum` (~15 ms), which an allowed command cannot afford. The output is
byte-for-byte what `json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)`
gives for the types an audit entry holds (a test checks this), so readers may use `json`.
"""

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing costs ~5 ms
if TYPE_CHECKING:
    from typing import Any


def _quote(text: str) -> str:
    """`text` as a JSON string, ASCII only. Printable ASCII without `"` or `\\` stands for
    itself; anything else goes through `_json`'s C encoder, loaded only then (most audit
    fields and requests are plain, and the client's hot path then never loads `_json`)."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return '"' + text + '"'
    from _json import encode_basestring_ascii

    return str(encode_basestring_ascii(text))


def dumps(obj: "Any") -> str:
    parts: list[str] = []
    _encode(obj, parts.append)
    return "".join(parts)


def dumps_str_keyed(obj: "Any") -> str:
    """`dumps` through `_json`'s C encoder (~3x faster; the server's chain appends): the same
    text for objects whose keys are all strings, which is what JSON-decoded input and the
    entries guard builds hold. A key of another type is written as its text instead of being
    refused, so this is not for anything else. Loads `_json`, so not for the hot path."""
    if not _ENCODER:
        import _json

        def refuse(obj: object) -> None:
            raise TypeError(f"cannot encode {type(obj).__name__} in an audit line")

        # (markers, default, string encoder, indent, key separator, item separator,
        # sort_keys, skipkeys, allow_nan): NaN and infinities raise ValueError, as in `dumps`.
        _ENCODER.append(
            _json.make_encoder(
                None, refuse, _json.encode_basestring_ascii, None, ":", ",", True, False, False
            )
        )
    return "".join(_ENCODER[0](obj, 0))


_ENCODER: "list[Any]" = []


def _encode(obj: "Any", out: "Any") -> None:
    if isinstance(obj, str):
        out(_quote(obj))
    elif obj is None:
        out("null")
    elif obj is True:
        out("true")
    elif obj is False:
        out("false")
    elif isinstance(obj, int):
        out(int.__repr__(obj))
    elif isinstance(obj, float):
        if obj != obj or obj in (float("inf"), float("-inf")):
            raise ValueError(f"cannot encode {obj!r} in an audit line")
        out(float.__repr__(obj))
    elif isinstance(obj, dict):
        out("{")
        first = True
        for key in sorted(obj):
            if not isinstance(key, str):
                raise TypeError(f"audit keys must be strings, not {key!r}")
            if not first:
                out(",")
            first = False
            out(_quote(key))
            out(":")
            _encode(obj[key], out)
        out("}")
    elif isinstance(obj, (list, tuple)):
        out("[")
        for i, item in enumerate(obj):
            if i:
                out(",")
            _encode(item, out)
        out("]")
    else:
        raise TypeError(f"cannot encode {type(obj).__name__} in an audit line")
