"""The allowed path stays light (DESIGN.md, Speed; ARCHITECTURE.md, Speed): it imports neither
click nor rich, none of the costly standard modules the design avoids, and does not read the
whole audit log."""

from __future__ import annotations

import gc
import json
import os
import socket
import subprocess
import threading

import pytest
from conftest import GUARD, PYTHON, imported, run_process

import expacti_cli

# Never on the allowed path, whatever the interpreter's start-up already loaded.
UI_MODULES = ("click", "rich")
# What the design keeps off the allowed path (ARCHITECTURE.md, Speed).
COSTLY = (
    "json",
    "re",
    "enum",
    "tomllib",
    "tomli_w",
    "hashlib",
    "dataclasses",
    "typing",
    "platformdirs",
    "shlex",
    "fnmatch",
    "subprocess",
    # Shared libraries a decision does without (ARCHITECTURE.md, Speed): the locks are
    # os.lockf record locks, the account name is read from /etc/passwd.
    "fcntl",
    "pwd",
)
# guard's own modules a decision with a warm cache does not need: the policy compiler, the
# grammar package (compile-time expansion; `policy.Grammars` reads the compiled views), the
# loaded-code checks and role handlers of commands with a grammar (`true` has none), a shell
# line's verdict, editing the agents file, binary pinning of a program with no pin.
OWN_LAZY = (
    "expacti_cli.policycompile",
    "expacti_cli.grammar",
    "expacti_cli.effects.loaded",
    "expacti_cli.effects.roles",
    "expacti_cli.decideline",
    "expacti_cli.identity_edit",
    "expacti_cli.pinning",
)
SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(expacti_cli.__file__)))


def _families(names: set[str], roots: tuple[str, ...]) -> set[str]:
    return {n for n in names if n.split(".", 1)[0] in roots}


def _own_lazy(names: set[str]) -> set[str]:
    return {n for n in names for m in OWN_LAZY if n == m or n.startswith(m + ".")}


def _run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_process(args, env=env, timeout=60)


@pytest.fixture
def allow_true(write_policy):
    write_policy("[[allow]]\nid = 'true'\nmatch = 'true'\n")
    # Warm the compiled-policy cache: the measured call is an ordinary, repeated one.
    assert _run([GUARD, "--", "true"]).returncode == 0


@pytest.fixture(scope="module")
def baseline() -> set[str]:
    """What the interpreter loads before any guard code (site, .pth files, editable finder)."""
    result = _run([PYTHON, "-X", "importtime", "-c", "pass"])
    return imported(result.stderr)


LAUNCHES = {
    "launcher": [PYTHON, "-X", "importtime", GUARD, "--", "true"],
    "module": [PYTHON, "-X", "importtime", "-m", "expacti_cli", "--", "true"],
}


@pytest.mark.parametrize("how", sorted(LAUNCHES))
def test_allowed_path_loads_neither_click_nor_rich(allow_true, guard_env, how):
    result = _run(LAUNCHES[how])
    assert result.returncode == 0, result.stderr[-2000:]
    names = imported(result.stderr)
    assert "expacti_cli.gate" in names, "the measurement did not see guard run"
    assert _families(names, UI_MODULES) == set()
    # It was the allowed path indeed: the command ran after an "allowed" decision.
    assert '"decision":"allowed"' in guard_env.audit_log.read_text().splitlines()[-1]


@pytest.mark.parametrize("how", sorted(LAUNCHES))
def test_allowed_path_adds_no_costly_module(allow_true, baseline, how):
    """Nothing the design avoids is loaded by guard's own code (beyond what start-up loaded)."""
    # `-m` from the checkout runs this source tree, whose catalogue path (and so cache file)
    # differs from the installed launcher's: warm the cache the measured way too.
    assert _run(LAUNCHES[how]).returncode == 0
    result = _run(LAUNCHES[how])
    assert result.returncode == 0
    added = imported(result.stderr) - baseline
    assert _families(added, COSTLY) == set()
    assert _own_lazy(added) == set()


def test_allowed_path_without_site_loads_no_costly_module(allow_true):
    """Without site (no .pth, no editable-install finder) start-up loads nearly nothing, so this
    proves guard's own imports strictly: none of the avoided modules appear at all."""

    def launch(*flags: str) -> subprocess.CompletedProcess[str]:
        return _run(
            [
                PYTHON,
                *flags,
                "-X",
                "importtime",
                "-c",
                "import sys; from expacti_cli.entry import main;"
                " sys.argv[0] = 'guard'; sys.exit(main())",
                "--",
                "true",
            ],
            env={"PYTHONPATH": SOURCE_ROOT},
        )

    # Warm this source tree's own cache with site: compiling checks the policy's `contains`
    # regexes with RE2, an installed package that -S cannot import (deciding never needs it).
    assert launch().returncode == 0
    result = launch("-S")
    # `-c` leaves sys.argv[0] as '-c'; the script sets it to 'guard' before main reads it.
    assert result.returncode == 0, result.stderr[-2000:]
    names = imported(result.stderr)
    assert "expacti_cli.gate" in names
    assert _families(names, (*UI_MODULES, *COSTLY)) == set()
    assert _own_lazy(names) == set()


def test_a_pinned_program_loads_pinning(write_policy, tmp_path):
    """The counter-check of OWN_LAZY's pinning: a program with a pin is checked against it."""
    import shutil

    true = os.path.realpath(shutil.which("true") or "/bin/true")
    write_policy(f"[programs.true]\npath = '{true}'\n[[allow]]\nid = 'true'\nmatch = 'true'\n")
    assert _run([GUARD, "--", "true"]).returncode == 0
    result = _run([PYTHON, "-X", "importtime", GUARD, "--", "true"])
    assert result.returncode == 0, result.stderr[-2000:]
    assert "expacti_cli.pinning" in imported(result.stderr)
    write_policy(
        f"[programs.true]\npath = '{tmp_path}/other'\n[[allow]]\nid = 't'\nmatch = 'true'\n"
    )
    result = _run([GUARD, "--", "true"])
    assert result.returncode != 0 and "pins it to" in result.stderr, result.stderr


def test_click_is_loaded_for_subcommands(allow_true):
    """The counter-check: the measurement does see click when guard really uses it."""
    result = _run([PYTHON, "-X", "importtime", GUARD, "policy", "path"])
    assert result.returncode == 0
    assert "click" in imported(result.stderr)


def _count_reads(monkeypatch: pytest.MonkeyPatch, module_os: object) -> list[int]:
    """Count the bytes read through `module_os.read` and `.pread` from now on: [total]."""
    total = [0]
    real_read, real_pread = os.read, os.pread

    def counting_read(fd: int, n: int) -> bytes:
        data = real_read(fd, n)
        total[0] += len(data)
        return data

    def counting_pread(fd: int, n: int, offset: int) -> bytes:
        data = real_pread(fd, n, offset)
        total[0] += len(data)
        return data

    monkeypatch.setattr(module_os, "read", counting_read)
    monkeypatch.setattr(module_os, "pread", counting_pread)
    return total


def test_appending_reads_only_the_tail_of_a_big_log(guard_env, monkeypatch, tmp_path):
    """The cost of an allowed command does not grow with the audit log."""
    from expacti_cli import audit

    log = tmp_path / "big.jsonl"
    entry = audit.append(str(log), {"n": 0}, fsync=False)
    filler = (log.read_text() * 1).encode()
    with open(log, "ab") as f:
        f.write(filler * 40_000)  # ~ 10 MB of earlier entries
    audit.append(str(log), {"n": "last"}, fsync=False)
    assert log.stat().st_size > 5_000_000

    read = _count_reads(monkeypatch, audit.os)
    new = audit.append(str(log), {"n": "new"}, fsync=False)
    assert read[0] < 64 * 1024
    assert new["prev"] != entry["hash"]  # it linked to the last entry, found in the tail
    last_two = log.read_text().splitlines()[-2:]
    assert f'"hash":"{new["prev"]}"' in last_two[0]


# --- client mode (GUARD_SERVER): the decision is the server's --------------------------------

# What client mode never loads: the local decision pipeline (entry chooses client mode before
# importing it) and, for an allowed answer (compared as bytes), the JSON scanner.
CLIENT_LEAVES = (
    "expacti_cli.gate",
    "expacti_cli.policy",
    "expacti_cli.cache",
    "expacti_cli.decide",
    "expacti_cli.effects",
    "expacti_cli.shell",
    "expacti_cli.audit",
    "expacti_cli.agentstate",
    "expacti_cli.identity",
    "zlib",
    "_json",
    "socket",
)


def _one_answer_server(path: str, reply: bytes) -> tuple[threading.Thread, list[bytes]]:
    """A stand-in for `guard serve` on a Unix socket: reads one request line, sends `reply`."""
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen(1)
    seen: list[bytes] = []

    def serve() -> None:
        listener.settimeout(30)
        try:
            conn, _ = listener.accept()
            with conn:
                data = b""
                while not data.endswith(b"\n"):
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                seen.append(data)
                conn.sendall(reply)
        finally:
            listener.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread, seen


def test_client_mode_leaves_the_decision_to_the_server(tmp_path, guard_env):
    from expacti_cli import protocol

    sock = str(tmp_path / "guard.sock")
    thread, seen = _one_answer_server(sock, protocol.ALLOWED)
    marker = tmp_path / "ran"
    result = _run(
        [PYTHON, "-X", "importtime", GUARD, "--", "touch", str(marker)],
        env={"GUARD_SERVER": f"unix:{sock}"},
    )
    thread.join(10)
    assert result.returncode == 0, result.stderr[-2000:]
    assert marker.exists(), "the allowed command did not run"
    names = imported(result.stderr)
    assert "expacti_cli.client" in names, "the measurement did not see client mode"
    assert _families(names, UI_MODULES) == set()
    assert {n for n in names if n in CLIENT_LEAVES or n.rsplit(".", 1)[0] in CLIENT_LEAVES} == set()
    request = json.loads(seen[0].split(b"\n")[0])  # the program line may follow it
    assert request["v"] == protocol.VERSION and request["argv"] == ["touch", str(marker)]
    assert not guard_env.audit_log.exists(), "client mode wrote a local audit log"


@pytest.mark.parametrize(
    ("reply", "runs"),
    [
        (b'{"status": "done", "decision": "allowed"}\n', True),  # not canonical: parsed
        (b'{"decision":"allowed","status":"done"} \n', True),
        (b'{"decision":"allowed","status":"done"}x\n', False),  # garbage after the object
        (b'{"decision":"allowed","status":"don"}\n', False),
        (b'{"decision":"allowed","status":"done","decision":"denied"}\n', False),
    ],
)
def test_client_mode_reads_every_answer_strictly(tmp_path, reply, runs):
    """The byte comparison is only a shortcut: other spellings of an answer are parsed, and
    anything that is not a clear allowed decision is a denial."""
    sock = str(tmp_path / "guard.sock")
    thread, _ = _one_answer_server(sock, reply)
    marker = tmp_path / "ran"
    result = _run([GUARD, "--", "touch", str(marker)], env={"GUARD_SERVER": f"unix:{sock}"})
    thread.join(10)
    assert marker.exists() == runs, result.stderr
    if not runs:
        assert result.returncode == 77 and result.stderr.count("\n") == 1, result.stderr


def test_main_restores_the_callers_cycle_collector_pace():
    """guard's one-shot paths collect garbage cycles at their own pace (entry.main), and give
    an in-process caller its own setting back."""
    from expacti_cli.entry import main

    before = gc.get_threshold()
    gc.set_threshold(123, 4, 5)
    try:
        assert main(["guard", "--no-such-option"]) == 64
        assert gc.get_threshold() == (123, 4, 5)
    finally:
        gc.set_threshold(*before)


def test_the_cached_catalogue_is_the_compiled_one(write_policy):
    """The shell catalogue and the blob tables come back from the indexed cache file entry
    for entry as compiled (policy.Catalogue, cache.Slices)."""
    from expacti_cli import cache
    from expacti_cli import policy as policy_mod

    write_policy("[[allow]]\nid = 'true'\nmatch = 'true'\n")
    files, _ = policy_mod.source_files()
    fresh = policy_mod.pack(policy_mod.compile_files(files))
    policy_mod.load()  # compiles and writes the cache
    cached = policy_mod.load()
    assert isinstance(cached.data["rule_blobs"], cache.Slices), "not read from the cache"
    for table in ("rule_blobs", "program_blobs"):  # compressed blobs: compare what they hold
        got = {k: policy_mod._unpack(v) for k, v in cached.data[table].items()}
        assert got == {k: policy_mod._unpack(v) for k, v in fresh[table].items()}, table
    compiled = policy_mod.compile_files(files)["shell"]
    catalogue = cached.shell
    assert set(catalogue) == set(compiled)
    for key, value in compiled.items():
        got = catalogue[key]
        assert (dict(got) if key in policy_mod._CATALOGUE_TABLES else got) == value, key


def test_an_unkeyed_append_reads_only_the_last_hash(tmp_path, monkeypatch):
    """Appending to a big log reads a few bytes at its end (the previous entry's hash), not
    the entry before it nor anything else: the cost of an allowed command does not grow with
    the log or with the size of its last entry."""
    from expacti_cli import audit

    log = tmp_path / "big.jsonl"
    audit.append(str(log), {"n": 0}, fsync=False)
    audit.append(str(log), {"n": 1, "text": "x" * 200_000}, fsync=False)  # a huge last entry
    read = _count_reads(monkeypatch, audit.os)
    new = audit.append(str(log), {"n": 2}, fsync=False)
    assert read[0] < 1024, read[0]
    last_two = log.read_text().splitlines()[-2:]
    assert f'"hash":"{new["prev"]}"' in last_two[0]  # chained to the huge entry
