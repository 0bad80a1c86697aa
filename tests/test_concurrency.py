"""Many agents at once (DESIGN.md, Audit log: "appended atomically, safe with many agents at
once"): real processes append to one log and edit one policy concurrently."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tomllib

from conftest import GUARD, PYTHON, assert_chain, audit_entries, compile_policy

PROCESSES = 8


def _start_all(commands: list[list[str]]) -> list[subprocess.Popen[str]]:
    return [
        subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        for cmd in commands
    ]


def _wait_all(procs: list[subprocess.Popen[str]], timeout: float = 120) -> None:
    for proc in procs:
        out, err = proc.communicate(timeout=timeout)
        assert proc.returncode == 0, (out, err)


APPENDER = textwrap.dedent(
    """
    import sys
    from expacti_cli import audit
    path, worker, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    sys.stdin.close()
    for i in range(count):
        audit.append(
            path,
            {"agent": f"w{worker}", "seq": i, "command": "x" * (i % 300)},
            fsync=False,
        )
    """
)


def test_concurrent_appends_keep_every_line_and_the_chain(guard_env, tmp_path):
    log = tmp_path / "audit.jsonl"
    per = 200
    procs = _start_all(
        [[PYTHON, "-c", APPENDER, str(log), str(w), str(per)] for w in range(PROCESSES)]
    )
    _wait_all(procs)
    entries = audit_entries(log)  # every line parses: none torn or interleaved
    assert len(entries) == PROCESSES * per
    assert_chain(entries)
    # Each worker's entries are all there, in its own order.
    for w in range(PROCESSES):
        mine = [e["seq"] for e in entries if e["agent"] == f"w{w}"]
        assert mine == list(range(per))


def test_concurrent_appends_across_rotation(guard_env, tmp_path):
    """With a small max_bytes the log rotates under load; the chain runs on across files."""
    from expacti_cli import audit

    log = tmp_path / "audit.jsonl"
    script = APPENDER.replace("fsync=False,", "fsync=False, max_bytes=20000,")
    procs = _start_all([[PYTHON, "-c", script, str(log), str(w), "50"] for w in range(4)])
    _wait_all(procs)
    files = audit.log_files(str(log))
    assert len(files) > 2, "expected rotation"
    entries = [e for f in files for e in audit_entries(f)]
    assert len(entries) == 200
    assert_chain(entries)


def test_concurrent_real_guard_invocations(guard_env, write_policy):
    write_policy(
        """
        [anomalies]
        enabled = false   # 200 commands a minute from one agent would be a rate spike

        [[allow]]
        id = "true"
        match = "true"
        """
    )
    per = 25
    loop = f'for i in $(seq {per}); do "{GUARD}" -- true || exit 1; done'
    procs = _start_all([["/bin/sh", "-c", loop] for _ in range(PROCESSES)])
    _wait_all(procs)
    entries = audit_entries(guard_env.audit_log)
    assert len(entries) == PROCESSES * per
    assert all(e["decision"] == "allowed" and e["argv"] == ["true"] for e in entries)
    assert len({e["id"] for e in entries}) == len(entries)
    assert_chain(entries)


EDITOR = textwrap.dedent(
    """
    import sys
    from expacti_cli import policy_edit
    path, worker = sys.argv[1], sys.argv[2]
    for i in range(3):
        policy_edit.add_allow_rule(path, None, [f"prog{worker}-{i} **"])
        # The same suggested id from every process: the ids must still come out unique.
        policy_edit.add_allow_rule(path, None, [f"shared --n{worker}-{i}"])
    """
)


def test_concurrent_remember_keeps_every_rule(guard_env, write_policy):
    path = write_policy(
        """
        # my policy: this comment must survive every edit
        [settings]
        default = "review"
        """
    )
    workers = 6
    procs = _start_all([[PYTHON, "-c", EDITOR, str(path), str(w)] for w in range(workers)])
    _wait_all(procs)
    text = path.read_text()
    assert "# my policy: this comment must survive every edit" in text
    layer = tomllib.loads(text)
    rules = layer["allow"]
    assert len(rules) == workers * 3 * 2
    assert len({r["id"] for r in rules}) == len(rules)
    expected = {f"prog{w}-{i} **" for w in range(workers) for i in range(3)}
    expected |= {f"shared --n{w}-{i}" for w in range(workers) for i in range(3)}
    assert {r["match"] for r in rules} == expected
    compile_policy(text)  # still a valid policy
    # ...and guard itself loads it with the catalogue.
    result = subprocess.run(
        [sys.executable, "-m", "expacti_cli", "policy", "show", "--json"],
        capture_output=True,
        text=True,
        check=False,
        start_new_session=True,
    )
    assert result.returncode == 0, result.stderr
