"""The compiled-policy cache (DESIGN.md, Speed: "cache the compiled policy, invalidated by file
change"): used on the second call, never stale, never trusted when corrupt."""

from __future__ import annotations

import glob
import os
import stat

import pytest
from conftest import GUARD, PYTHON, imported, run_guard, run_process

from expacti_cli import cache
from expacti_cli import policy as policy_mod
from expacti_cli.decide import decide_argv


def _imports_of_guard_run(*args: str) -> tuple[int, set[str]]:
    result = run_process([PYTHON, "-X", "importtime", GUARD, *args], timeout=60)
    return result.returncode, imported(result.stderr)


def _verdict(command: str) -> str:
    return decide_argv(policy_mod.load(), command.split(), "anonymous").verdict


def test_second_call_uses_the_cache_without_tomllib(write_policy):
    write_policy("[[allow]]\nid = 'true'\nmatch = 'true'\n")
    status, first = _imports_of_guard_run("--", "true")
    assert status == 0
    assert "tomllib" in first  # compiled from TOML once
    status, second = _imports_of_guard_run("--", "true")
    assert status == 0
    assert "tomllib" not in second
    assert "expacti_cli.policy" in second


def test_edit_invalidates_the_cache_in_a_real_run(write_policy, marker, tool_bin):
    path = write_policy("[[allow]]\nid = 'tool'\nmatch = 'tool **'\n")
    assert run_guard("--", "tool", str(marker)).returncode == 0
    # Same size, same inode: only the content (and mtime) changes.
    text = path.read_text()
    path.write_text(text.replace("[[allow]]", "[[deny]] "))
    assert path.stat().st_size == len(text)
    marker.unlink()
    result = run_guard("--", "tool", str(marker))
    assert result.returncode == 77
    assert "rule tool" in result.stderr
    assert not marker.exists()


def test_cache_hit_and_invalidation_in_process(write_policy, counting_compile):
    path = write_policy("[[allow]]\nid = 'mytool-a'\nmatch = 'mytool-a'\n")
    assert _verdict("mytool-a") == "allow"
    assert _verdict("mytool-a") == "allow"
    assert len(counting_compile) == 1

    path.write_text(path.read_text() + "\n[[allow]]\nid = 'mytool-b'\nmatch = 'mytool-b'\n")
    assert _verdict("mytool-b") == "allow"
    assert len(counting_compile) == 2

    path.unlink()  # deleting the user policy is a change too
    assert _verdict("mytool-a") == "review"
    assert len(counting_compile) == 3

    write_policy("[[deny]]\nid = 'mytool-a'\nmatch = 'mytool-a'\n")  # and so is creating it
    assert _verdict("mytool-a") == "deny"
    assert len(counting_compile) == 4


def test_replacing_the_file_atomically_invalidates(write_policy, counting_compile, tmp_path):
    path = write_policy("[[allow]]\nid = 'mytool-a'\nmatch = 'mytool-a'\n")
    assert _verdict("mytool-a") == "allow"
    replacement = tmp_path / "new.toml"
    replacement.write_text("[[deny]]\nid = 'mytool-a'\nmatch = 'mytool-a'\n")
    st = path.stat()
    os.utime(replacement, ns=(st.st_atime_ns, st.st_mtime_ns))  # even with the same mtime
    os.replace(replacement, path)
    assert _verdict("mytool-a") == "deny"


def test_policy_option_uses_its_own_cache(write_policy, tmp_path):
    one = write_policy("[[allow]]\nid = 'mytool-a'\nmatch = 'mytool-a'\n", tmp_path / "one.toml")
    two = write_policy("[[deny]]\nid = 'mytool-a'\nmatch = 'mytool-a'\n", tmp_path / "two.toml")
    for _ in range(2):
        assert decide_argv(policy_mod.load(str(one)), ["mytool-a"]).verdict == "allow"
        assert decide_argv(policy_mod.load(str(two)), ["mytool-a"]).verdict == "deny"


def _cache_file() -> str:
    files, _ = policy_mod.source_files(None)
    return cache.cache_file(files)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda b: b"garbage", id="garbage"),
        pytest.param(lambda b: b[: len(b) // 2], id="truncated"),
        pytest.param(lambda b: b[:40] + bytes([b[40] ^ 1]) + b[41:], id="one-bit-flipped"),
        pytest.param(lambda b: b[:-1], id="last-byte-cut"),
        pytest.param(lambda b: b"", id="empty"),
        pytest.param(lambda b: b"0" * 64 + b[64:], id="digest-zeroed"),
    ],
)
def test_corrupt_cache_is_rebuilt_not_trusted(write_policy, counting_compile, damage):
    write_policy("[[allow]]\nid = 'mytool-a'\nmatch = 'mytool-a'\n")
    assert _verdict("mytool-a") == "allow"
    target = _cache_file()
    with open(target, "rb") as f:
        good = f.read()
    with open(target, "wb") as f:
        f.write(damage(good))
    assert _verdict("mytool-a") == "allow"
    assert len(counting_compile) == 2, "the damaged cache was used"
    with open(target, "rb") as f:
        assert f.read() == good, "the cache was not rebuilt"


def test_corrupt_cache_in_a_real_run(write_policy, tool_bin, marker):
    """A cache file replaced by one compiled for another policy is not taken for this one."""
    write_policy("[[deny]]\nid = 'no-tool'\nmatch = 'tool **'\n")
    assert run_guard("--", "tool", str(marker)).returncode == 77
    # The installed guard keys its cache by its own copy of the catalogue, which is not this
    # source tree's in a non-editable install: take the one file that run wrote.
    (target,) = glob.glob(os.path.join(os.environ["GUARD_CACHE_DIR"], "policy-*.marshal"))
    with open(target, "rb") as f:
        blob = bytearray(f.read())
    blob[100:110] = b"\x00" * 10
    with open(target, "wb") as f:
        f.write(blob)
    assert run_guard("--", "tool", str(marker)).returncode == 77
    assert not marker.exists()


def test_cache_written_privately(write_policy, guard_env):
    write_policy("[[allow]]\nid = 'mytool-a'\nmatch = 'mytool-a'\n")
    policy_mod.load()
    target = _cache_file()
    assert os.path.dirname(target) == str(guard_env.cache_dir)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(guard_env.cache_dir).st_mode) == 0o700


def test_unwritable_cache_only_costs_speed(write_policy, tmp_path, monkeypatch, tool_bin, marker):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("GUARD_CACHE_DIR", str(blocker / "cache"))
    write_policy("[[allow]]\nid = 'tool'\nmatch = 'tool **'\n")
    result = run_guard("--", "tool", str(marker))
    assert result.returncode == 0, result.stderr
    assert marker.exists()


def test_cache_from_another_version_is_ignored(write_policy, counting_compile, monkeypatch):
    write_policy("[[allow]]\nid = 'mytool-a'\nmatch = 'mytool-a'\n")
    policy_mod.load()
    monkeypatch.setattr(cache, "__version__", "0.0.0-other")
    policy_mod.load()
    assert len(counting_compile) == 2
