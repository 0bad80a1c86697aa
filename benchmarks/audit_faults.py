"""Fault injection on the audit log: cases tried, held and failed per fault family (issue 9).

    sudo python benchmarks/audit_faults.py [--kills N] [--decisions N]

Runs real faults against the writer, `verify` and `repair` (library calls in real processes,
and the installed `guard` for the special files and the append-only log), then prints one row
per family: how many cases were tried, how many held (the log stayed verifiable or the fault
was refused/classified as it should be) and how many failed. Also prints what a small append
costs after a huge last entry (the previous hash is found from the end of the file).
Needs root for the tmpfs mount and chattr; families that need it are reported as not run.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

from audit_builder import entry, lines, rewrite

from expacti_cli import audit, auditrepair, auditverify
from expacti_cli.errors import AuditError

GUARD = os.path.join(os.path.dirname(sys.executable), "guard")
ROOT = os.geteuid() == 0
rows: list[tuple[str, int, int, str]] = []


def row(family: str, tried: int, held: int, note: str = "") -> None:
    rows.append((family, tried, held, note))
    print(f"  {family}: {held}/{tried} held {note}", file=sys.stderr)


def guard(env: dict[str, str], *args: str, timeout: float = 10) -> subprocess.CompletedProcess:
    return subprocess.run(
        [GUARD, *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        check=False,
    )


def special_files(work: str) -> None:
    policy = os.path.join(work, "policy.toml")
    with open(policy, "w") as f:
        f.write('[[allow]]\nid = "t"\nmatch = "true"\n[audit]\nfsync = false\n')
    base = {"GUARD_POLICY": policy, "GUARD_STATE_DIR": os.path.join(work, "state")}
    cases: list[tuple[str, dict[str, str]]] = []
    for target in ("/dev/null", "/dev/stdout", "/dev/zero"):
        link = os.path.join(work, f"link-{os.path.basename(target)}")
        os.symlink(target, link)
        cases.append((f"symlink to {target}", {"GUARD_AUDIT_LOG": link}))
    fifo = os.path.join(work, "fifo.jsonl")
    os.mkfifo(fifo)
    cases.append(("FIFO", {"GUARD_AUDIT_LOG": fifo}))
    cases.append(("/dev/null itself", {"GUARD_AUDIT_LOG": "/dev/null"}))
    if ROOT:
        node = os.path.join(work, "node.jsonl")
        os.mknod(node, 0o600 | 0o020000, os.makedev(1, 3))
        cases.append(("character device node", {"GUARD_AUDIT_LOG": node}))
    lockfifo = os.path.join(work, "lk.jsonl")
    os.mkfifo(lockfifo + ".lock")
    cases.append(("FIFO lock file", {"GUARD_AUDIT_LOG": lockfifo}))
    keyfifo = os.path.join(work, "key.fifo")
    os.mkfifo(keyfifo)
    log = os.path.join(work, "ok.jsonl")
    cases.append(("FIFO key file", {"GUARD_AUDIT_LOG": log, "GUARD_AUDIT_KEY_FILE": keyfifo}))
    cases.append(
        ("/dev/zero key file", {"GUARD_AUDIT_LOG": log, "GUARD_AUDIT_KEY_FILE": "/dev/zero"})
    )
    held = 0
    for name, env in cases:
        try:
            done = guard({**base, **env}, "--", "true")
            ok = done.returncode == 77 and len(done.stderr.strip().splitlines()) == 1
        except subprocess.TimeoutExpired:
            ok = False
        held += ok
        if not ok:
            print(f"    FAILED: {name}", file=sys.stderr)
    row("special files as log/lock/key", len(cases), held, "(refused at once, exit 77, one line)")


def _fill(directory: str, leave_pages: int) -> str:
    filler = os.path.join(directory, "filler")
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
    size = os.path.getsize(filler)
    os.truncate(filler, max(0, size - 4096 * leave_pages - size % 4096))
    return filler


def full_disk(work: str) -> None:
    if not ROOT:
        row("full disk (tmpfs)", 0, 0, "(not run: needs root)")
        return
    mount = os.path.join(work, "tmpfs")
    os.mkdir(mount)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mount], check=True)  # noqa: S607
    try:
        log = os.path.join(mount, "audit.jsonl")
        audit.append(log, entry(), fsync=False)
        rng = random.Random(9)  # noqa: S311
        tried = held = 0
        for leave in range(4):
            filler = _fill(mount, leave)
            for _ in range(10):
                tried += 1
                size = rng.randint(100, 4096 * (leave + 4))
                try:
                    audit.append(log, entry(["x" * size]), fsync=False)
                except AuditError:
                    pass  # refused: the command would be denied
                held += auditverify.verify(log).ok
            os.unlink(filler)
            audit.append(log, entry(), fsync=False)
            tried += 1
            held += auditverify.verify(log).ok
        row("full disk (tmpfs)", tried, held, "(rolled back; verify ok while full and after)")
    finally:
        subprocess.run(["umount", "-l", mount], check=False)  # noqa: S607


def huge_entries(work: str) -> None:
    tried = held = 0
    costs = []
    for megabytes in (0.001, 1, 5, 10, 20):
        log = os.path.join(work, f"huge-{megabytes}.jsonl")
        big = "y" * int(megabytes * 1_000_000)
        audit.append(log, entry(["a", big]), fsync=False)
        audit.append(log, entry(["b", big]), fsync=False)
        started = time.perf_counter()
        audit.append(log, entry(["small"]), fsync=False)
        costs.append((megabytes, (time.perf_counter() - started) * 1000))
        tried += 1
        held += auditverify.verify(log).ok
    row("huge entries (1 KB .. 20 MB)", tried, held, "(the next entry chains after them)")
    for megabytes, ms in costs:
        print(f"    append after a {megabytes:g} MB entry: {ms:.2f} ms", file=sys.stderr)


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


def sigkill(work: str, kills: int) -> None:
    path = os.path.join(work, "killed.jsonl")
    audit.append(path, entry(), fsync=False)
    ctx = multiprocessing.get_context("fork")
    rng = random.Random(1)  # noqa: S311
    torn = false_alarms = 0
    for _ in range(kills):
        _kill_during_write(ctx, path, rng.uniform(0.0, 0.01))
        with open(path, "rb") as f:
            f.seek(-1, os.SEEK_END)
            torn += f.read(1) != b"\n"
        problem = auditverify.failure(auditverify.verify(path))
        false_alarms += problem is not None and problem.exit_code != 74
    repaired = auditrepair.repair(path).after.ok
    row(
        "SIGKILL during 4 MB writes",
        kills,
        kills - false_alarms,
        f"({torn} torn tails, {false_alarms} false tamper alarms, repair -> ok: {repaired})",
    )


def _decider(path: str, worker: int, count: int) -> None:
    for i in range(count):
        audit.append(path, entry(["echo", f"{worker}-{i}"]), fsync=False, max_bytes=12 * 1024)


def _verifier(path: str, stop: object, out: object) -> None:
    runs = breaks = 0
    while not stop.is_set():  # type: ignore[attr-defined]
        runs += 1
        breaks += not auditverify.verify(path).ok
    out.put((runs, breaks))  # type: ignore[attr-defined]


def rotation_race(work: str, decisions: int) -> None:
    path = os.path.join(work, "race.jsonl")
    ctx = multiprocessing.get_context("fork")
    stop, out = ctx.Event(), ctx.Queue()
    verifiers = [ctx.Process(target=_verifier, args=(path, stop, out)) for _ in range(2)]
    for v in verifiers:
        v.start()
    writers = [ctx.Process(target=_decider, args=(path, w, decisions // 8)) for w in range(8)]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    stop.set()
    results = [out.get() for _ in verifiers]
    for v in verifiers:
        v.join()
    runs = sum(r[0] for r in results)
    breaks = sum(r[1] for r in results)
    final = auditverify.verify(path)
    rotated = len(audit.rotated_files(path))
    row(
        "rotation racing verify",
        runs,
        runs - breaks,
        f"({final.entries} decisions, {rotated} rotations, {breaks} false breaks, "
        f"final ok: {final.ok})",
    )


def append_only(work: str) -> None:
    if not ROOT:
        row("append-only log, rotation", 0, 0, "(not run: needs root)")
        return
    policy = os.path.join(work, "ao-policy.toml")
    with open(policy, "w") as f:
        f.write(
            '[[allow]]\nid = "t"\nmatch = "touch **"\n[audit]\nfsync = false\nmax_bytes = 1024\n'
        )
    log = os.path.join(work, "ao.jsonl")
    open(log, "w").close()
    subprocess.run(["chattr", "+a", log], check=True)  # noqa: S607
    state = os.path.join(work, "ao-state")
    env = {"GUARD_POLICY": policy, "GUARD_AUDIT_LOG": log, "GUARD_STATE_DIR": state}
    tried = held = 0
    try:
        for i in range(10):
            marker = os.path.join(work, f"ao-{i}")  # outside guard's state dir (self-tamper)
            done = guard(env, "--", "touch", marker)
            tried += 1
            held += done.returncode == 0 and os.path.exists(marker)
        held -= not auditverify.verify(log).ok
    finally:
        subprocess.run(["chattr", "-a", log], check=False)  # noqa: S607
    row("append-only (chattr +a) log, rotation", tried, held, "(allowed => ran; verify ok)")


def torn_vs_edit(work: str) -> None:
    rng = random.Random(5)  # noqa: S311
    tried = held = 0
    for i in range(40):
        log = os.path.join(work, f"te-{i}.jsonl")
        for n in range(5):
            audit.append(log, entry(["echo", str(n)]), fsync=False)
        text = lines(log)
        if i % 2:  # a torn tail: the last line cut anywhere
            cut = rng.randint(1, len(text[-1]) - 2)
            text[-1] = text[-1][:cut]
            expect = 74
        else:  # an edit of one field of one line
            k = rng.randrange(5)
            text[k] = text[k].replace('"echo"', '"ech0"')
            expect = 65
        rewrite(log, text)
        problem = auditverify.failure(auditverify.verify(log))
        tried += 1
        ok = problem is not None and problem.exit_code == expect
        if expect == 74 and ok:
            ok = auditrepair.repair(log).after.ok
        held += ok
    row("torn tail vs edited line", tried, held, "(74 torn and repaired, 65 edited)")


def keyed(work: str) -> None:
    key = b"bench-key"
    checks = []
    log = os.path.join(work, "keyed.jsonl")
    for n in range(3):
        audit.append(log, entry(["plain", str(n)]), fsync=False)
    for n in range(3):
        audit.append(log, entry(["keyed", str(n)]), key=key, fsync=False)
    checks.append(auditverify.verify(log, key).ok)
    no_key = auditverify.failure(auditverify.verify(log))
    checks.append(no_key is not None and no_key.exit_code == 66)
    wrong = auditverify.failure(auditverify.verify(log, b"other"))
    checks.append(wrong is not None and wrong.exit_code == 65)
    audit.append(log, entry(["key turned off"]), fsync=False)
    off = auditverify.failure(auditverify.verify(log, key))
    checks.append(off is not None and off.exit_code == 65)
    row("keyed stretches", len(checks), sum(checks), "(switch ok, no key 66, wrong/off 65)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=40)
    parser.add_argument("--decisions", type=int, default=1600)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="guard-faults-")
    try:
        special_files(work)
        full_disk(work)
        huge_entries(work)
        sigkill(work, args.kills)
        rotation_race(work, args.decisions)
        append_only(work)
        torn_vs_edit(work)
        keyed(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'family':40} {'tried':>6} {'held':>6} {'failed':>6}  note")
    for family, tried, held, note in rows:
        print(f"{family:40} {tried:6} {held:6} {tried - held:6}  {note}")
    return 0 if all(t == h for _, t, h, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
