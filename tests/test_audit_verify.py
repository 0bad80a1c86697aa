"""`auditverify.verify`: every kind of tampering is found at the right line."""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path

import pytest
from audit_builder import entry, lines, rewrite, seal, write

from expacti_cli import audit, auditread, auditverify


@pytest.fixture
def log(tmp_path: Path) -> str:
    """A 10-entry log in one file."""
    return write(tmp_path / "audit.jsonl", [entry(["echo", str(i)]) for i in range(10)])


def _break(path: str, key: bytes | None = None) -> auditverify.Break:
    result = auditverify.verify(path, key)
    assert not result.ok
    assert result.first_break is not None
    return result.first_break


def test_an_intact_log_verifies(log: str) -> None:
    result = auditverify.verify(log)
    assert result.ok
    assert result.entries == 10
    assert result.breaks == 0
    assert result.first_break is None
    assert result.last_hash == json.loads(lines(log)[-1])["hash"]


def test_an_empty_or_missing_log_verifies(tmp_path: Path) -> None:
    result = auditverify.verify(str(tmp_path / "none.jsonl"))
    assert result.ok and result.entries == 0


def test_edited_line_is_found_at_its_line(log: str) -> None:
    text = lines(log)
    text[3] = text[3].replace('"echo","3"', '"echo","HACKED"')
    rewrite(log, text)
    b = _break(log)
    assert (b.file, b.line, b.kind) == (log, 4, "edited")
    assert auditverify.verify(log).breaks == 1  # the next line still chains to the stored hash


def test_deleted_line_is_found_where_the_gap_is(log: str) -> None:
    text = lines(log)
    del text[4]
    rewrite(log, text)
    b = _break(log)
    assert (b.line, b.kind) == (5, "deleted")  # old line 6 is now line 5 and misses its prev


def test_several_deleted_lines_count_once(log: str) -> None:
    text = lines(log)
    del text[2:5]
    rewrite(log, text)
    result = auditverify.verify(log)
    assert result.first_break is not None
    assert (result.first_break.line, result.first_break.kind) == (3, "deleted")
    assert result.breaks == 1


def test_inserted_forged_line_with_a_random_prev(log: str) -> None:
    text = lines(log)
    text.insert(5, seal(entry(["rm", "-rf", "/"]), "ab" * 32))
    rewrite(log, text)
    b = _break(log)
    assert (b.line, b.kind) == (6, "inserted")
    assert auditverify.verify(log).breaks == 1


def test_inserted_line_that_chains_to_its_predecessor(log: str) -> None:
    # The forger copies the right prev, so the forged line itself links; the line after it
    # does not, and points back past it: the break is reported AT the forged line.
    text = lines(log)
    prev = json.loads(text[4])["hash"]
    text.insert(5, seal(entry(["rm", "-rf", "/"]), prev))
    rewrite(log, text)
    b = _break(log)
    assert (b.line, b.kind) == (6, "inserted")


def test_replayed_copy_of_an_earlier_line(log: str) -> None:
    text = lines(log)
    text.insert(7, text[2])
    rewrite(log, text)
    b = _break(log)
    assert (b.line, b.kind) == (8, "inserted")
    assert "copy" in b.detail


def test_swapped_lines_are_reordered(log: str) -> None:
    text = lines(log)
    text[3], text[4] = text[4], text[3]
    rewrite(log, text)
    result = auditverify.verify(log)
    assert result.first_break is not None
    assert (result.first_break.line, result.first_break.kind) == (4, "reordered")
    assert result.breaks == 1


def test_line_moved_far_back_is_reordered(log: str) -> None:
    text = lines(log)
    moved = text.pop(8)
    text.insert(2, moved)
    rewrite(log, text)
    b = _break(log)
    assert (b.line, b.kind) == (3, "reordered")


def test_torn_last_line_is_truncated(log: str) -> None:
    text = lines(log)
    text[-1] = text[-1][: len(text[-1]) // 2]
    rewrite(log, text)
    b = _break(log)
    assert (b.line, b.kind) == (10, "truncated")


def test_corrupt_line_is_reported_and_the_walk_goes_on(log: str) -> None:
    text = lines(log)
    text[6] = "this is not json\n"
    rewrite(log, text)
    result = auditverify.verify(log)
    assert result.first_break is not None
    assert (result.first_break.line, result.first_break.kind) == (7, "corrupt")
    assert "not a JSON object" in result.first_break.detail
    assert result.entries == 10


def test_a_torn_line_mid_file_left_by_a_crash_is_corrupt(tmp_path: Path) -> None:
    path = str(tmp_path / "audit.jsonl")
    write(path, [entry(), entry()])
    with open(path, "a", encoding="ascii") as f:
        f.write('{"agent":"half')  # a crash mid-write
    write(path, [entry()])  # the writer starts a new line and chains past the torn one
    b = _break(path)
    assert (b.line, b.kind) == (3, "corrupt")
    assert auditverify.verify(path).breaks == 1


def _rotated_log(tmp_path: Path, n: int = 30) -> str:
    path = str(tmp_path / "audit.jsonl")
    for i in range(n):
        audit.append(path, entry(["echo", str(i)]), fsync=False, max_bytes=2000)
    if not os.path.exists(path):  # the last append rotated: start a live file too
        audit.append(path, entry(["echo", "live"]), fsync=False)
    assert len(audit.rotated_files(path)) >= 3
    return path


def test_chain_continues_across_rotated_files(tmp_path: Path) -> None:
    path = _rotated_log(tmp_path)
    result = auditverify.verify(path)
    assert result.ok, result.first_break
    assert result.entries in (30, 31)
    assert result.files == [*audit.rotated_files(path), path]


def test_missing_rotated_file_is_truncated(tmp_path: Path) -> None:
    path = _rotated_log(tmp_path)
    rotated = audit.rotated_files(path)
    os.unlink(rotated[1])
    b = _break(path)
    assert (b.file, b.line, b.kind) == (rotated[2], 1, "truncated")
    assert os.path.basename(rotated[1]) in b.detail


def test_missing_oldest_file_means_the_log_does_not_start_at_genesis(tmp_path: Path) -> None:
    path = _rotated_log(tmp_path)
    rotated = audit.rotated_files(path)
    os.unlink(rotated[0])
    b = _break(path)
    assert (b.file, b.line, b.kind) == (rotated[1], 1, "truncated")


def test_cut_end_of_a_rotated_file_is_truncated_at_the_next_file(tmp_path: Path) -> None:
    path = _rotated_log(tmp_path)
    rotated = audit.rotated_files(path)
    text = lines(rotated[-1])
    rewrite(rotated[-1], text[:-1])
    b = _break(path)
    assert (b.file, b.line, b.kind) == (path, 1, "truncated")


def test_keyed_log_verifies_with_its_key_only(tmp_path: Path) -> None:
    key = b"s3cret-key"
    path = write(tmp_path / "audit.jsonl", [entry() for _ in range(5)], key=key)
    assert auditverify.verify(path, key).ok
    assert auditverify.verify(path, key).keyed
    b = _break(path)  # no key: plain sha256 does not match
    assert (b.line, b.kind) == (1, "edited")
    assert "--key-file" in b.detail
    assert _break(path, b"wrong").kind == "edited"


def test_keyed_mode_rejects_a_chain_recomputed_without_the_key(tmp_path: Path) -> None:
    key = b"s3cret-key"
    path = write(tmp_path / "audit.jsonl", [entry(["echo", str(i)]) for i in range(8)], key=key)
    text = lines(path)
    # The attacker rewrites entry 4 and recomputes every hash after it with plain sha256:
    # without a key, the chain is perfect again...
    prev = json.loads(text[2])["hash"]
    for i in range(3, len(text)):
        obj = json.loads(text[i])
        if i == 3:
            obj["argv"] = ["echo", "nothing to see"]
            obj["command"] = "echo 'nothing to see'"
        text[i] = seal(obj, prev)
        prev = json.loads(text[i])["hash"]
    rewrite(path, text)
    # ...so the unkeyed walk only complains from line 1 (which was keyed), never about line 4;
    # with the key, verify finds the rewrite exactly where it starts.
    b = _break(path, key)
    assert (b.line, b.kind) == (4, "edited")


def test_whitespace_reencoded_line_with_same_content_still_verifies(log: str) -> None:
    text = lines(log)
    obj = json.loads(text[2])
    text[2] = json.dumps(obj, indent=None, separators=(", ", ": ")) + "\n"
    rewrite(log, text)
    assert auditverify.verify(log).ok


def test_lookahead_is_a_bounded_window(log: str) -> None:
    text = lines(log)
    moved = text.pop(8)
    text.insert(1, moved)
    rewrite(log, text)
    assert _break(log).kind == "reordered"
    # With a 2-line window the entry it continues from is out of sight: the line is only
    # seen as one the chain skips. Still found, at the same line.
    narrow = auditverify.verify(log, window=2).first_break
    assert narrow is not None
    assert (narrow.line, narrow.kind) == (2, "inserted")


def _writer(path: str, worker: int, count: int) -> None:
    for i in range(count):
        audit.append(
            path,
            entry(["echo", f"{worker}-{i}"], agent=f"agent-{worker}"),
            fsync=False,
            max_bytes=64 * 1024,
        )


@pytest.mark.slow
def test_concurrent_writer_processes_lose_nothing_and_keep_the_chain(tmp_path: Path) -> None:
    path = str(tmp_path / "audit.jsonl")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, w, 200)) for w in range(8)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    assert len(audit.rotated_files(path)) >= 2  # rotation happened during the run
    problems = auditread.Problems()
    commands = [r.entry["command"] for r in auditread.read_log(path, problems=problems)]
    assert problems.count == 0
    assert len(commands) == 1600
    assert sorted(commands) == sorted(f"echo {w}-{i}" for w in range(8) for i in range(200))
    result = auditverify.verify(path)
    assert result.ok, result.first_break
    assert result.entries == 1600


def _hold(kind: str, path: str, held, release) -> None:
    """In a child process: take the writers' lock or a reader's shared lock, then wait."""
    if kind == "writer":
        fd = audit.lock(path)
    else:
        fd = auditverify._take_lock(path)
        assert fd >= 0
    held.set()
    release.wait(30)
    os.close(fd)


def test_the_writers_lock_and_a_readers_shared_lock_exclude_each_other(tmp_path, monkeypatch):
    """Writers hold an exclusive record lock on `<log>.lock`, `audit verify` a shared one: a
    reader never takes a still moment while a writer appends, and a writer waits for it."""
    log = str(tmp_path / "audit.jsonl")
    audit.append(log, {"command": "first"}, fsync=False)
    ctx = multiprocessing.get_context("spawn")
    monkeypatch.setattr(auditverify, "LOCK_WAIT", 0.3)
    held, release = ctx.Event(), ctx.Event()
    writer = ctx.Process(target=_hold, args=("writer", log, held, release))
    writer.start()
    try:
        assert held.wait(30)
        assert auditverify._take_lock(log) == -1, "a reader locked while a writer held the lock"
    finally:
        release.set()
        writer.join(30)
    fd = auditverify._take_lock(log)
    assert fd >= 0, "the lock stayed taken after the writer let go"
    os.close(fd)

    held, release = ctx.Event(), ctx.Event()
    reader = ctx.Process(target=_hold, args=("reader", log, held, release))
    reader.start()
    appender = None
    try:
        assert held.wait(30)
        appender = ctx.Process(target=audit.append, args=(log, {"command": "second"}))
        appender.start()
        appender.join(0.5)
        assert appender.is_alive(), "a writer appended while a reader held the shared lock"
    finally:
        release.set()
        reader.join(30)
        if appender is not None:
            appender.join(30)
    assert appender.exitcode == 0
    assert [e["command"] for _, e in auditread.read_file(log)] == ["first", "second"]
    assert auditverify.verify(log).ok


def test_threads_of_one_process_append_one_verifiable_chain(tmp_path):
    """The writers' lock is a record lock, which a process holds for all its threads: the
    writer also serialises its own threads, so concurrent appends from one process (a hook
    host, a library user) neither interleave nor fork the chain."""
    import threading

    log = str(tmp_path / "audit.jsonl")
    threads, each = 8, 25
    start = threading.Barrier(threads)

    def work(n: int) -> None:
        start.wait()
        for i in range(each):
            audit.append(log, {"command": f"t{n}-{i}"}, fsync=False)

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    entries = [e for _, e in auditread.read_file(log)]
    assert len(entries) == threads * each
    assert len({e["command"] for e in entries}) == threads * each
    assert auditverify.verify(log).ok
