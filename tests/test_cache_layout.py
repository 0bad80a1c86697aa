"""The cache file's layout (cache.py): a header, then an area of blobs read through an index.
Damage anywhere in the area is caught when the file is read, as anywhere else; an index that
points outside the area (a hand-made file with a valid checksum) never yields a short blob: the
decision that needs it fails closed."""

from __future__ import annotations

import marshal
import zlib

import pytest

from expacti_cli import cache
from expacti_cli import policy as policy_mod
from expacti_cli.decide import decide_argv
from expacti_cli.gate import Request, evaluate


@pytest.fixture
def counting_compile(monkeypatch):
    calls = []
    real = policy_mod.compile_files

    def compile_files(files):
        calls.append(list(files))
        return real(files)

    monkeypatch.setattr(policy_mod, "compile_files", compile_files)
    return calls


def _target() -> str:
    files, _ = policy_mod.source_files(None)
    return cache.cache_file(files)


def _area_start(blob: bytes) -> int:
    return 16 + int(blob[8:16], 16)


def test_a_flipped_bit_inside_the_blob_area_is_rebuilt(write_policy, counting_compile):
    write_policy("[[allow]]\nid = 'mytool-a'\nmatch = 'mytool-a'\n")
    assert decide_argv(policy_mod.load(), ["mytool-a"]).verdict == "allow"
    with open(_target(), "rb") as f:
        good = f.read()
    middle = (_area_start(good) + len(good)) // 2
    damaged = bytearray(good)
    damaged[middle] ^= 0x01
    with open(_target(), "wb") as f:
        f.write(damaged)
    assert decide_argv(policy_mod.load(), ["mytool-a"]).verdict == "allow"
    assert len(counting_compile) == 2, "the damaged cache was used"
    with open(_target(), "rb") as f:
        assert f.read() != bytes(damaged), "the cache was not rebuilt"
    assert decide_argv(policy_mod.load(), ["mytool-a"]).verdict == "allow"
    assert len(counting_compile) == 2, "the rebuilt cache was not used"


def test_an_index_past_the_area_fails_closed(write_policy):
    """A checksum-valid file whose index points past its end: the blob is refused, and the
    decision that needed it is a denial, never an allow read from a short blob."""
    write_policy("[[allow]]\nid = 'mytool-a'\nmatch = 'mytool-a'\n")
    policy_mod.load()
    with open(_target(), "rb") as f:
        blob = f.read()
    start = _area_start(blob)
    fmt, version, head, tables = marshal.loads(blob[16:start])
    names, spans = head["rule_blobs"]
    i = names.index("mytool-a")
    offset = int.from_bytes(spans[8 * i : 8 * i + 4], "little")
    bad = offset.to_bytes(4, "little") + (len(blob)).to_bytes(4, "little")
    head["rule_blobs"] = (names, spans[: 8 * i] + bad + spans[8 * i + 8 :])
    header = marshal.dumps((fmt, version, head, tables))
    payload = b"%08x" % len(header) + header + blob[start:]
    with open(_target(), "wb") as f:
        f.write(b"%08x" % zlib.crc32(payload) + payload)
    policy = policy_mod.load()
    assert isinstance(policy.data["rule_blobs"], cache.Slices), "the crafted file was not read"
    with pytest.raises(ValueError, match="past the end"):
        policy.data["rule_blobs"]["mytool-a"]
    decision = evaluate(policy, Request("prefix", argv=["mytool-a"]))
    assert decision.verdict == "deny"
    assert decision.rule == "internal-error"
