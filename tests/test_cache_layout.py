"""The cache file's layout (cache.py): a header part with its own CRC, then an area of blobs
read through an index that holds each blob's own CRC. Damage in the header part (or a file cut
short) is caught when the file is read: the cache is rebuilt. Damage in a blob is caught when a
decision reads that blob: that decision denies and the file is removed, so the next call
rebuilds it; a blob no call reads is never read. An index that points outside the area (a
hand-made file with valid checksums) never yields a short blob: the decision fails closed."""

from __future__ import annotations

import marshal
import os
import zlib

import pytest
from conftest import run_guard

from expacti_cli import cache
from expacti_cli import policy as policy_mod
from expacti_cli.decide import decide_argv
from expacti_cli.gate import Request, evaluate

POLICY = "[[allow]]\nid = 'mytool-a'\nmatch = 'mytool-a'\n"


def _target() -> str:
    files, _ = policy_mod.source_files(None)
    return cache.cache_file(files)


def _read() -> bytes:
    with open(_target(), "rb") as f:
        return f.read()


def _write(blob: bytes) -> None:
    with open(_target(), "wb") as f:
        f.write(blob)


def _header(blob: bytes) -> tuple[int, tuple]:
    """(where the blob area starts, the header tuple)."""
    start = 16 + int(blob[8:16], 16)
    return start, marshal.loads(blob[16:start])


def _names(index: str) -> list[str]:
    """A table's names: its index holds each followed by a NUL."""
    return index.split("\0")[:-1]


def _blob_offset(blob: bytes, table: str, name: str) -> int:
    """Where the blob `name` of the top-level table `table` starts in the file."""
    start, (_, _, _, head, _) = _header(blob)
    names, spans = head[table]
    i = _names(names).index(name)
    return start + int.from_bytes(spans[12 * i : 12 * i + 4], "little")


def _tables(blob: bytes) -> tuple[object, dict[tuple[str, ...], dict[str, object]]]:
    """(the header's data without the blob spans, each table's blobs as values)."""
    start, (_, _, _, head, tables) = _header(blob)
    values: dict[tuple[str, ...], dict[str, object]] = {}
    for path in tables:
        node = head
        for key in path[:-1]:
            node = node[key]
        names, spans = node.pop(path[-1])
        table = values[path] = {}
        for i, name in enumerate(_names(names)):
            at = start + int.from_bytes(spans[12 * i : 12 * i + 4], "little")
            part = blob[at : at + int.from_bytes(spans[12 * i + 4 : 12 * i + 8], "little")]
            try:
                table[name] = marshal.loads(zlib.decompress(part))
            except zlib.error:
                table[name] = part
    return head, values


def _same_cache(a: bytes, b: bytes) -> bool:
    """Two cache files hold the same data. Compared by value: marshal may spell equal objects
    differently (it shares an object only when something else also refers to it)."""
    return _tables(a) == _tables(b)


def _flip(blob: bytes, at: int) -> bytes:
    return blob[:at] + bytes([blob[at] ^ 0x01]) + blob[at + 1 :]


def test_a_flipped_bit_in_the_header_part_is_rebuilt(write_policy, counting_compile):
    write_policy(POLICY)
    assert decide_argv(policy_mod.load(), ["mytool-a"]).verdict == "allow"
    good = _read()
    start, _ = _header(good)
    _write(_flip(good, start // 2))
    assert decide_argv(policy_mod.load(), ["mytool-a"]).verdict == "allow"
    assert len(counting_compile) == 2, "the damaged cache was used"
    assert _same_cache(_read(), good), "the cache was not rebuilt"
    assert decide_argv(policy_mod.load(), ["mytool-a"]).verdict == "allow"
    assert len(counting_compile) == 2, "the rebuilt cache was not used"


def test_a_file_cut_short_is_rebuilt(write_policy, counting_compile):
    write_policy(POLICY)
    policy_mod.load()
    good = _read()
    _write(good[:-1])
    assert decide_argv(policy_mod.load(), ["mytool-a"]).verdict == "allow"
    assert len(counting_compile) == 2, "the truncated cache was used"
    assert _same_cache(_read(), good)


def test_a_flipped_bit_in_a_blob_the_decision_reads_denies_then_rebuilds(
    write_policy, counting_compile
):
    write_policy(POLICY)
    assert decide_argv(policy_mod.load(), ["mytool-a"]).verdict == "allow"
    good = _read()
    _write(_flip(good, _blob_offset(good, "rule_blobs", "mytool-a")))
    policy = policy_mod.load()
    assert len(counting_compile) == 1, "the header part was damaged, not only the blob"
    decision = evaluate(policy, Request("prefix", argv=["mytool-a"]))
    assert decision.verdict == "deny"
    assert decision.rule == "internal-error"
    assert not os.path.exists(_target()), "the damaged cache was kept"
    assert decide_argv(policy_mod.load(), ["mytool-a"]).verdict == "allow"
    assert len(counting_compile) == 2, "the damaged cache was not rebuilt"
    assert _same_cache(_read(), good)


def test_a_damaged_blob_in_a_real_run_denies_then_the_next_run_allows(write_policy, tool_bin):
    write_policy("[[allow]]\nid = 'tool'\nmatch = 'tool **'\n")
    marker = tool_bin / "ran"
    assert run_guard("--", "tool", str(marker)).returncode == 0
    # The installed guard keys its cache by its own copy of the catalogue: take the one file.
    (target,) = [
        os.path.join(os.environ["GUARD_CACHE_DIR"], name)
        for name in os.listdir(os.environ["GUARD_CACHE_DIR"])
        if name.startswith("policy-")
    ]
    with open(target, "rb") as f:
        good = f.read()
    with open(target, "wb") as f:
        f.write(_flip(good, _blob_offset(good, "rule_blobs", "tool")))
    marker.unlink()
    result = run_guard("--", "tool", str(marker))
    assert result.returncode == 77
    assert not marker.exists(), "a decision read from a damaged blob ran the command"
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert run_guard("--", "tool", str(marker)).returncode == 0
    assert marker.exists()


def test_damage_in_a_blob_no_decision_reads_is_caught_when_read(write_policy, counting_compile):
    """The grammar data a call does not use is neither read nor checked; the call that does
    read it gets the error, never the damaged bytes."""
    write_policy(POLICY)
    policy_mod.load()
    good = _read()
    _, (_, _, _, head, _) = _header(good)
    last = _names(head["program_blobs"][0])[-1]
    _write(_flip(good, _blob_offset(good, "program_blobs", last)))
    policy = policy_mod.load()
    assert decide_argv(policy, ["mytool-a"]).verdict == "allow"
    assert len(counting_compile) == 1
    with pytest.raises(ValueError, match="damaged"):
        policy.data["program_blobs"][last]


def test_an_index_past_the_area_fails_closed(write_policy):
    """A checksum-valid file whose index points past its end: the blob is refused, and the
    decision that needed it is a denial, never an allow read from a short blob."""
    write_policy(POLICY)
    policy_mod.load()
    blob = _read()
    start, (fmt, version, size, head, tables) = _header(blob)
    names, spans = head["rule_blobs"]
    i = _names(names).index("mytool-a")
    span = spans[12 * i : 12 * i + 12]
    bad = span[:4] + len(blob).to_bytes(4, "little") + span[8:]
    head["rule_blobs"] = (names, spans[: 12 * i] + bad + spans[12 * i + 12 :])
    header = marshal.dumps((fmt, version, size, head, tables))
    part = b"%08x" % len(header) + header
    _write(b"%08x" % zlib.crc32(part) + part + blob[start:])
    policy = policy_mod.load()
    assert isinstance(policy.data["rule_blobs"], cache.Slices), "the crafted file was not read"
    with pytest.raises(ValueError, match="past the end"):
        policy.data["rule_blobs"]["mytool-a"]
    decision = evaluate(policy, Request("prefix", argv=["mytool-a"]))
    assert decision.verdict == "deny"
    assert decision.rule == "internal-error"


def test_the_command_guard_runs_does_not_inherit_the_cache_file(write_policy):
    """The blobs are read from a file kept open during the decision: close-on-exec, so the
    program guard runs never holds it."""
    write_policy("[[allow]]\nid = 'ls'\nmatch = 'ls **'\n")
    assert run_guard("--", "true").returncode == 0  # the cache now exists and is read next
    result = run_guard("--", "ls", "-l", "/proc/self/fd/")
    assert result.returncode == 0, result.stderr
    assert "->" in result.stdout, "ls showed no descriptors"
    assert ".marshal" not in result.stdout


def test_a_table_finds_exactly_the_names_it_holds(write_policy):
    """The index is one string of names: a name that is a prefix, suffix or part of another
    (`git`, `gitk`, `lazygit`), the first and the last name are each found as themselves."""
    names = ["git", "gitk", "lazygit", "it", "g"]
    rules = "".join(f"[[allow]]\nid = 'r-{n}'\nmatch = '{n} --version'\n" for n in names)
    write_policy(rules)
    policy_mod.load()
    policy = policy_mod.load()  # read from the cache just written
    table = policy.data["rule_blobs"]
    assert isinstance(table, cache.Slices)
    for name in names:
        assert name in table
        assert decide_argv(policy, [name, "--version"]).verdict == "allow"
    for absent in ["gi", "itk", "lazy", "", "git\0gitk", "t"]:
        assert absent not in table
        with pytest.raises(KeyError):
            table[absent]
    assert len(list(table)) == len(table)
    assert set(names) <= set(table)
