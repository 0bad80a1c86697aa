"""Fault injection on the audit log, with real processes, real files and real faults (issue 9).

Families: special files as the log (FIFO, devices, symlinks), a full disk (a real tmpfs), entries
of any size (1 MB and 10 MB commands through the installed guard), SIGKILL during writes,
rotation racing `verify`, an append-only (`chattr +a`) log, torn tails against edits, keyed
stretches. Root is needed for tmpfs and chattr: as root a mount that fails is a failure, never a
skip (CI runs as root).
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import random
import resource
import select
import shutil
import signal
import stat
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from audit_builder import entry, lines, rewrite, write
from conftest import GUARD, audit_entries, run_guard

from expacti_cli import audit, auditrepair, auditverify

ALLOW_TOOL = """
[[allow]]
id = "tool-ok"
match = "tool **"

[anomalies]
enabled = false
"""
NO_FSYNC = "\n[audit]\nfsync = false\n"
ROOT = os.geteuid() == 0


def _program(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/bin:/bin")
    assert found, f"{name} is not installed: the fault tests need it"
    return found


def _needs_root() -> None:
    if not ROOT:
        pytest.skip("needs root (tmpfs mounts, chattr): CI runs these as root")


def _verify_cli(log: Path | str, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_guard("audit", "verify", "--audit-log", str(log), *extra, timeout=120)


def _one_line_error(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines_ = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines_) == 1, stderr
    return lines_[0]


# ------------------------------------------------------------------ special files as the log


@pytest.fixture
def allow_tool(tool_bin: Path, write_policy: Any) -> None:
    write_policy(ALLOW_TOOL + NO_FSYNC)  # fsync off: the refusal must not depend on fsync


def _refused(log: Path, marker: Path, *, timeout: float = 15) -> str:
    result = run_guard(
        "--", "tool", str(marker), env={"GUARD_AUDIT_LOG": str(log)}, timeout=timeout
    )
    assert result.returncode == 77, result
    assert not marker.exists(), "ran although its audit line went nowhere"
    return _one_line_error(result.stderr)


@pytest.mark.usefixtures("allow_tool")
def test_a_fifo_as_the_log_is_refused_at_once(tmp_path: Path, marker: Path) -> None:
    fifo = tmp_path / "audit.jsonl"
    os.mkfifo(fifo)
    line = _refused(fifo, marker)  # before: blocked forever opening the FIFO
    assert str(fifo) in line and "FIFO" in line


@pytest.mark.usefixtures("allow_tool")
def test_a_fifo_with_a_reader_is_refused_too(tmp_path: Path, marker: Path) -> None:
    fifo = tmp_path / "audit.jsonl"
    os.mkfifo(fifo)
    reader = subprocess.Popen([_program("cat"), str(fifo)], stdout=subprocess.PIPE)
    try:
        time.sleep(0.2)
        line = _refused(fifo, marker)  # before: the entry went into the pipe, the command ran
        assert "FIFO" in line
    finally:
        reader.kill()
        reader.wait()


@pytest.mark.usefixtures("allow_tool")
@pytest.mark.parametrize("target", ["/dev/null", "/dev/stdout", "/dev/zero"])
def test_a_symlink_to_a_device_is_refused_whatever_fsync_says(
    tmp_path: Path, marker: Path, target: str
) -> None:
    link = tmp_path / "audit.jsonl"
    link.symlink_to(target)
    line = _refused(link, marker)  # before: with fsync = false every entry was discarded
    assert "symbolic link" in line


@pytest.mark.usefixtures("allow_tool")
def test_a_device_node_as_the_log_is_refused(tmp_path: Path, marker: Path) -> None:
    _refused(Path("/dev/null"), marker)
    if ROOT:
        node = tmp_path / "audit.jsonl"
        os.mknod(node, 0o600 | stat.S_IFCHR, os.makedev(1, 3))  # a second /dev/null
        assert "character device" in _refused(node, marker)


@pytest.mark.usefixtures("allow_tool")
def test_a_fifo_as_the_lock_file_is_refused_at_once(tmp_path: Path, marker: Path) -> None:
    log = tmp_path / "audit.jsonl"
    os.mkfifo(str(log) + ".lock")
    assert "lock" in _refused(log, marker)


@pytest.mark.usefixtures("allow_tool")
@pytest.mark.parametrize("kind", ["fifo", "zero"])
def test_a_key_file_that_is_not_a_file_denies_in_one_line(
    tmp_path: Path, marker: Path, kind: str
) -> None:
    key = tmp_path / "key"
    if kind == "fifo":
        os.mkfifo(key)
    else:
        key.symlink_to("/dev/zero")  # before: read until memory ran out
    result = run_guard(
        "--", "tool", str(marker), env={"GUARD_AUDIT_KEY_FILE": str(key)}, timeout=15
    )
    assert result.returncode == 77
    assert not marker.exists()
    assert str(key) in _one_line_error(result.stderr)


def test_verify_refuses_a_fifo_among_the_rotated_files(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    write(log, [entry() for _ in range(3)])
    os.mkfifo(str(log) + ".000001")
    result = _verify_cli(log)  # before: blocked forever reading the FIFO
    assert result.returncode != 0
    assert "FIFO" in _one_line_error(result.stderr)


# ------------------------------------------------------------------ a full disk (real tmpfs)


@pytest.fixture
def tmpfs(tmp_path: Path) -> Any:
    """A 1 MiB tmpfs of our own. As root a failed mount fails the test (never a skip)."""
    _needs_root()
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    done = subprocess.run(
        [_program("mount"), "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"cannot mount a tmpfs as root: {done.stderr}"
    yield mount
    subprocess.run([_program("umount"), "-l", str(mount)], check=False)


def _fill(directory: Path, leave_pages: int) -> Path:
    """Fill the file system, then give back `leave_pages` pages of 4 KiB."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError:
        pass  # full
    finally:
        os.close(fd)
    size = filler.stat().st_size
    os.truncate(filler, max(0, size - 4096 * leave_pages - (size % 4096)))
    return filler


@pytest.mark.usefixtures("tool_bin")
def test_full_disk_denies_rolls_back_and_verify_passes_after(
    tmpfs: Path, write_policy: Any, tmp_path: Path
) -> None:
    write_policy(ALLOW_TOOL)
    log = tmpfs / "audit.jsonl"
    env = {"GUARD_AUDIT_LOG": str(log)}
    assert run_guard("--", "tool", str(tmp_path / "m0"), env=env).returncode == 0
    tried = held = 0
    rng = random.Random(9)  # noqa: S311 - reproducible test data, not secrets
    for leave in (0, 1, 2, 3):
        filler = _fill(tmpfs, leave)
        for _ in range(3):
            tried += 1
            big = "x" * rng.randint(4096 * (leave + 1), 4096 * (leave + 4))
            marker = tmp_path / f"m{tried}"
            result = run_guard("--", "tool", str(marker), big, env=env)
            assert result.returncode == 77, result.stderr
            assert not marker.exists()
            # The partial line was rolled back: the chain verifies while the disk is full.
            check = _verify_cli(log)
            assert check.returncode == 0, check.stderr  # before: 65, a half line
            assert "No space left" in _one_line_error(result.stderr)
            held += 1
        filler.unlink()
        assert run_guard("--", "tool", str(tmp_path / "after"), env=env).returncode == 0
        assert _verify_cli(log).returncode == 0
    assert (tried, held) == (12, 12)
    print(f"full disk: {tried} tried, {held} held, {tried - held} failed")


# ------------------------------------------------------------------ entries of any size


def _big_stack() -> None:
    # Linux caps argv at a quarter of the stack limit: 10 MB of arguments need a bigger one.
    resource.setrlimit(resource.RLIMIT_STACK, (256 << 20, 256 << 20))


def _guard_big(args: list[str], log: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GUARD_AUDIT_LOG": str(log)}
    return subprocess.run(
        [GUARD, "--", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_big_stack,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        check=False,
    )


@pytest.mark.usefixtures("tool_bin")
@pytest.mark.parametrize(("megabytes", "way"), [(1, "argv"), (5, "argv"), (10, "writer")])
def test_huge_commands_through_guard_keep_the_chain(
    write_policy: Any, tmp_path: Path, megabytes: int, way: str
) -> None:
    """Linux caps argv at 6 MB whatever the stack limit (a 5 MB command makes an entry of over
    10 MB: argv and command), and hooks now refuse commands over 1 MiB, so the 10 MB command
    is written by the writer itself; then the installed guard must chain after it."""
    write_policy(ALLOW_TOOL + NO_FSYNC)
    log = tmp_path / "audit.jsonl"
    chunk = "y" * (100 * 1024)  # one argument may not exceed 128 KiB
    for i in range(2):
        marker = str(tmp_path / f"big{i}")
        # Allowed, or denied by the decision's time budget: either way one entry is written.
        if way == "argv":
            result = _guard_big(["tool", marker, "0", *[chunk] * (megabytes * 10)], log)
            assert result.returncode in (0, 77), result.stderr[:500]
        else:
            audit.append(str(log), entry(["tool", marker, "0", "y" * (megabytes * 1_000_000)]))
    small = run_guard("--", "tool", str(tmp_path / "small"), env={"GUARD_AUDIT_LOG": str(log)})
    assert small.returncode == 0, small.stderr
    entries = audit_entries(log)
    assert len(entries) == 3
    assert len(entries[0]["command"]) >= megabytes * 1_000_000
    for before, after in itertools.pairwise(entries):
        assert after["prev"] == before["hash"]  # before: GENESIS after an entry over 1 MiB
    assert _verify_cli(log).returncode == 0


def test_a_5_mb_entry_keeps_the_chain(tmp_path: Path) -> None:
    log = str(tmp_path / "audit.jsonl")
    write(log, [entry(), entry(["hook-payload", "z" * (5 << 20)]), entry(), entry()])
    assert auditverify.verify(log).ok
    assert audit.last_hash_in(log) == json.loads(lines(log)[-1])["hash"]


# ------------------------------------------------------------------ torn tails and edits


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "audit.jsonl"
    write(path, [entry(["echo", str(i)]) for i in range(6)])
    return path


def test_a_torn_tail_is_not_an_edit(log: Path) -> None:
    with open(log, "a", encoding="ascii") as f:
        f.write('{"agent":"half a li')
    torn = _verify_cli(log)
    assert torn.returncode == 74  # before: 65, like tampering
    assert "torn" in torn.stderr and "interrupted write" in torn.stderr

    edited = log.parent / "edited.jsonl"
    text = lines(log)[:-1]
    text[2] = text[2].replace('"echo","2"', '"echo","HACKED"')
    rewrite(edited, text)
    result = _verify_cli(edited)
    assert result.returncode == 65
    assert "(edited)" in result.stderr and "interrupted" not in result.stderr


def test_repair_quarantines_a_torn_tail_and_records_it_in_the_chain(log: Path) -> None:
    before = log.read_bytes()
    torn = b'{"agent":"half a li'
    with open(log, "ab") as f:
        f.write(torn)
    result = run_guard("audit", "repair", "--audit-log", str(log))
    assert result.returncode == 0, result.stderr
    assert "removed" in result.stdout and "audit: ok" in result.stdout
    side = [p for p in log.parent.iterdir() if ".torn-" in p.name]
    assert [p.read_bytes() for p in side] == [torn]  # the removed bytes are kept
    assert log.read_bytes().startswith(before)
    event = audit_entries(log)[-1]
    assert event["event"] == "audit-repair"
    assert event["repairs"][0]["bytes"] == len(torn)
    assert event["prev"] == json.loads(before.splitlines()[-1])["hash"]
    assert _verify_cli(log).returncode == 0


def test_repair_dry_run_changes_nothing(log: Path) -> None:
    with open(log, "a", encoding="ascii") as f:
        f.write('{"agent":"half a li')
    content = log.read_bytes()
    result = run_guard("audit", "repair", "--dry-run", "--audit-log", str(log))
    assert result.returncode == 0, result.stderr
    assert "would quarantine" in result.stdout
    assert log.read_bytes() == content
    assert not [p for p in log.parent.iterdir() if ".torn-" in p.name]
    assert _verify_cli(log).returncode == 74


def test_a_torn_line_sealed_by_the_next_writer_is_torn_and_repairable(log: Path) -> None:
    with open(log, "a", encoding="ascii") as f:
        f.write('{"agent":"half')  # SIGKILL mid-write; the next guard seals it and goes on
    write(log, [entry()])
    result = _verify_cli(log)
    assert result.returncode == 74, result.stderr  # before: 65 (corrupt)
    assert "sealed" in result.stderr
    assert run_guard("audit", "repair", "--audit-log", str(log)).returncode == 0
    assert '{"agent":"half\n' in log.read_text()  # nothing rewritten: acknowledged in place
    assert _verify_cli(log).returncode == 0
    write(log, [entry()])
    assert _verify_cli(log).returncode == 0


@pytest.mark.parametrize("keep", [1, 2, 40, -2])
def test_a_write_cut_anywhere_and_sealed_is_torn(log: Path, keep: int) -> None:
    """A write may stop at any byte (a page boundary): even `{` alone is a torn line."""
    whole = lines(log)[-1]
    with open(log, "a", encoding="ascii") as f:
        f.write(whole[:keep] if keep > 0 else whole[: keep - 1])
    write(log, [entry()])
    result = auditverify.verify(str(log))
    assert [t.size for t in result.torn] == [keep if keep > 0 else len(whole) + keep - 1]
    assert auditverify.failure(result).exit_code == 74  # type: ignore[union-attr]
    assert auditrepair.repair(str(log)).after.ok


def test_writers_killed_one_after_the_other_leave_only_torn_lines(log: Path) -> None:
    """A torn line sealed by a writer that was killed too: no entry follows the sealed line."""
    with open(log, "a", encoding="ascii") as f:
        f.write('{"agent":"first killed')
        f.write('\n{"agent":"second killed, sealing the first')
    result = auditverify.verify(str(log))
    assert len(result.torn) == result.breaks == 2
    assert auditverify.failure(result).exit_code == 74  # type: ignore[union-attr]
    assert auditrepair.repair(str(log)).after.ok


def test_repair_leaves_an_edit_alone(log: Path) -> None:
    text = lines(log)
    text[1] = text[1].replace('"echo","1"', '"echo","HACKED"')
    rewrite(log, text)
    content = log.read_bytes()
    result = run_guard("audit", "repair", "--audit-log", str(log))
    assert result.returncode == 65
    assert "no torn line" in result.stdout
    assert log.read_bytes() == content


def test_garbage_that_breaks_the_chain_is_not_excused_as_torn(log: Path) -> None:
    text = lines(log)
    text[3] = '{"agent":"replaced by garbage\n'  # a whole entry replaced: the chain breaks
    rewrite(log, text)
    result = auditverify.verify(str(log))
    assert result.first_break is not None and not result.first_break.torn
    assert auditverify.failure(result).exit_code == 65  # type: ignore[union-attr]


# ------------------------------------------------------------------ SIGKILL during writes


def _announced_big_append(path: str, ready: int) -> None:
    """One append of a 4 MB line that says (a byte on `ready`) when its write starts, so the
    parent can kill it at a random moment of that write (this forked child's os.write only)."""
    real_write = os.write

    def write(fd: int, data: bytes) -> int:
        if len(data) > 1 << 20:
            real_write(ready, b"w")
        return real_write(fd, data)

    os.write = write  # type: ignore[assignment]
    audit.append(path, entry(["big", "w" * (2 << 20)]), fsync=False)


def _kill_during_write(ctx: Any, path: str, delay: float) -> None:
    """Start a writer, wait until its write begins, SIGKILL it `delay` seconds later."""
    ready, announce = os.pipe()
    try:
        proc = ctx.Process(target=_announced_big_append, args=(path, announce))
        proc.start()
        if select.select([ready], [], [], 30)[0]:
            os.read(ready, 1)
            time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.join()
    finally:
        os.close(ready)
        os.close(announce)


@pytest.mark.slow
def test_sigkill_loop_never_makes_a_false_tamper_alarm(tmp_path: Path) -> None:
    """Writers of 4 MB lines SIGKILLed at a random moment of their write: most die mid-write.
    The log then holds torn lines (verify: 74, repairable), never what looks like tampering."""
    path = str(tmp_path / "audit.jsonl")
    write(path, [entry()])
    ctx = multiprocessing.get_context("fork")
    rng = random.Random(1)  # noqa: S311 - reproducible test data, not secrets
    kills = torn_seen = 0
    deadline = time.time() + 30
    while time.time() < deadline and (torn_seen < 3 or kills < 20):
        _kill_during_write(ctx, path, rng.uniform(0.0, 0.01))
        kills += 1
        with open(path, "rb") as f:
            f.seek(-1, os.SEEK_END)
            torn_seen += f.read(1) != b"\n"
        if kills % 10 == 0:
            check = _verify_cli(path)  # ok, or torn lines only: never "tampered" (65)
            assert check.returncode in (0, 74), check.stderr
    assert torn_seen >= 1, f"no write was interrupted in {kills} kills: the test proves nothing"
    check = _verify_cli(path)
    assert check.returncode in (0, 74), check.stderr  # before: 65 (corrupt)
    repaired = auditrepair.repair(path)
    assert repaired.after.ok, repaired.after.first_break
    write(path, [entry()])
    assert auditverify.verify(path).ok
    print(f"SIGKILL: {kills} kills, {torn_seen} torn tails, 0 false tamper alarms")


# ------------------------------------------------------------------ rotation racing verify


def _decider(path: str, worker: int, count: int) -> None:
    for i in range(count):
        audit.append(
            path,
            entry(["echo", f"{worker}-{i}"], agent=f"agent-{worker}"),
            fsync=False,
            max_bytes=12 * 1024,
        )


def _verifier(path: str, stop: Any, out: Any) -> None:
    runs = breaks = 0
    first = None
    while not stop.is_set():
        result = auditverify.verify(path)
        runs += 1
        if not result.ok:
            breaks += 1
            first = first or repr(result.first_break)
    out.put((runs, breaks, first))


@pytest.mark.slow
def test_1600_decisions_rotating_under_a_verify_loop_make_no_false_break(tmp_path: Path) -> None:
    path = str(tmp_path / "audit.jsonl")
    ctx = multiprocessing.get_context("fork")
    stop, out = ctx.Event(), ctx.Queue()
    verifiers = [ctx.Process(target=_verifier, args=(path, stop, out)) for _ in range(2)]
    for v in verifiers:
        v.start()
    writers = [ctx.Process(target=_decider, args=(path, w, 200)) for w in range(8)]
    started = time.time()
    for w in writers:
        w.start()
    for w in writers:
        w.join(120)
        assert w.exitcode == 0
    stop.set()
    results = [out.get(timeout=60) for _ in verifiers]
    for v in verifiers:
        v.join(60)
    runs = sum(r[0] for r in results)
    breaks = sum(r[1] for r in results)
    assert len(audit.rotated_files(path)) >= 10  # it really rotated, many times
    final = auditverify.verify(path)
    assert final.ok and final.entries == 1600
    assert breaks == 0, [r[2] for r in results]  # before: false "truncated" breaks
    assert runs >= 10, "the verify loop hardly ran: the race was not exercised"
    assert _verify_cli(path).returncode == 0
    print(
        f"rotation vs verify: 1600 decisions, {runs} verify runs, {breaks} false breaks, "
        f"{time.time() - started:.1f}s"
    )


@pytest.mark.usefixtures("tool_bin")
def test_real_guard_decisions_rotate_while_verify_runs(write_policy: Any, tmp_path: Path) -> None:
    write_policy(ALLOW_TOOL + NO_FSYNC + "max_bytes = 4096\n")
    log = tmp_path / "audit.jsonl"
    env = {**os.environ, "GUARD_AUDIT_LOG": str(log)}
    procs = [
        subprocess.Popen(
            [GUARD, "--", "tool", str(tmp_path / f"m{i}")],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )
        for i in range(40)
    ]
    while any(p.poll() is None for p in procs):
        assert auditverify.verify(str(log)).ok
    for p in procs:
        _, err = p.communicate(timeout=60)
        # Allowed, or (40 guards on a busy machine) denied for exceeding the decision's time
        # budget: both are decisions with one entry each.
        assert p.returncode == 0 or (p.returncode == 77 and "budget" in err), err
    assert len(audit.rotated_files(str(log))) >= 3
    assert auditverify.verify(str(log)).entries == 40
    assert _verify_cli(log).returncode == 0


# ------------------------------------------------------------------ append-only log, rotation


@pytest.fixture
def append_only(tmp_path: Path) -> Any:
    _needs_root()
    made: list[Path] = []

    def make(path: Path) -> None:
        path.touch()
        done = subprocess.run(
            [_program("chattr"), "+a", str(path)], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, f"chattr +a failed as root: {done.stderr}"
        made.append(path)

    yield make
    for path in made:
        subprocess.run([_program("chattr"), "-a", str(path)], check=False)


@pytest.mark.usefixtures("tool_bin")
def test_append_only_log_that_cannot_rotate_still_runs_what_it_allowed(
    write_policy: Any, tmp_path: Path, append_only: Any
) -> None:
    write_policy(ALLOW_TOOL + NO_FSYNC + "max_bytes = 1024\n")
    log = tmp_path / "audit.jsonl"
    append_only(log)
    env = {"GUARD_AUDIT_LOG": str(log)}
    for i in range(4):
        marker = tmp_path / f"m{i}"
        result = run_guard("--", "tool", str(marker), env=env)
        assert result.returncode == 0, result.stderr  # before: 77 after writing `allowed`
        assert marker.exists()
        assert ("cannot rotate" in result.stderr) == (i > 0)  # the first entry is below 1 KiB
    entries = audit_entries(log)
    assert [e["decision"] for e in entries] == ["allowed"] * 4
    assert _verify_cli(log).returncode == 0


def test_append_only_log_on_a_full_disk_leaves_a_repairable_torn_tail(
    tmpfs: Path, append_only: Any
) -> None:
    log = tmpfs / "audit.jsonl"
    write(log, [entry()])
    append_only(log)
    _fill(tmpfs, 0)
    with pytest.raises(audit.AuditError, match="guard audit repair"):
        audit.append(str(log), entry(["x" * 20000]), fsync=False)  # cannot be rolled back
    (tmpfs / "filler").unlink()
    result = auditverify.verify(str(log))
    if not result.ok:  # a short write happened: torn, never tampering, and repairable
        assert auditverify.failure(result).exit_code == 74  # type: ignore[union-attr]
        repaired = auditrepair.repair(str(log))
        assert repaired.after.ok
        assert "sealed" in repaired.repairs[0]["action"]
    write(log, [entry()])
    assert auditverify.verify(str(log)).ok


# ------------------------------------------------------------------ keyed stretches


def _key(tmp_path: Path, text: bytes = b"k3y-for-tests") -> Path:
    key = tmp_path / "audit.key"
    key.write_bytes(text)
    key.chmod(0o600)
    return key


def test_verify_without_the_key_says_keyed_and_fails(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    write(log, [entry() for _ in range(3)], key=b"k3y-for-tests")
    result = _verify_cli(log)
    assert result.returncode == 66
    assert "keyed" in result.stderr and "without its key" in result.stderr
    assert "audit: ok" not in result.stdout


@pytest.mark.usefixtures("tool_bin")
def test_turning_a_key_on_starts_a_recorded_keyed_stretch(
    write_policy: Any, tmp_path: Path
) -> None:
    write_policy(ALLOW_TOOL + NO_FSYNC)
    log = tmp_path / "audit.jsonl"
    key = _key(tmp_path)
    plain_env = {"GUARD_AUDIT_LOG": str(log)}
    for i in range(3):
        assert run_guard("--", "tool", str(tmp_path / f"u{i}"), env=plain_env).returncode == 0
    keyed_env = {"GUARD_AUDIT_LOG": str(log), "GUARD_AUDIT_KEY_FILE": str(key)}
    for i in range(3):
        assert run_guard("--", "tool", str(tmp_path / f"k{i}"), env=keyed_env).returncode == 0
    entries = audit_entries(log)
    assert [e.get("event") for e in entries] == [None] * 3 + ["audit-key-on"] + [None] * 3
    result = _verify_cli(log, "--key-file", str(key))
    assert result.returncode == 0, result.stderr  # before: line 1 "edited", forever
    assert f"keyed from {log}:4" in result.stdout
    assert _verify_cli(log).returncode == 66
    # An unkeyed entry after the keyed stretch (key turned off, or a forger without it).
    assert run_guard("--", "tool", str(tmp_path / "off"), env=plain_env).returncode == 0
    off = _verify_cli(log, "--key-file", str(key))
    assert off.returncode == 65
    assert "unkeyed entry inside the keyed stretch" in off.stderr


def test_verify_with_a_wrong_key_names_both_key_ids(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    write(log, [entry()])
    write(log, [entry()], key=b"right")
    result = auditverify.verify(str(log), b"wrong")
    assert result.first_break is not None and result.first_break.kind == "edited"
    assert audit.key_id(b"right") in result.first_break.detail


def test_every_entry_names_the_account_of_the_uid_never_the_agents_user_variable(
    guard_env, monkeypatch
):
    """`user` is the account of the process's uid, as the system names it; $USER is the
    agent's to set and names nothing."""
    import pwd

    from expacti_cli import audit as audit_mod

    monkeypatch.setenv("USER", "someone-else")
    assert audit_mod.user_name() == pwd.getpwuid(os.getuid()).pw_name
    for account in pwd.getpwall()[:20]:
        assert audit_mod.user_name(account.pw_uid) == pwd.getpwuid(account.pw_uid).pw_name
    named = {account.pw_uid for account in pwd.getpwall()}
    unnamed = next(uid for uid in range(990_000, 999_999) if uid not in named)
    assert audit_mod.user_name(unnamed) == str(unnamed)
