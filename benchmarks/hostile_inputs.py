"""Worst-case decision time on hostile inputs (issue 9: no decision over 2 s on any input).

    python benchmarks/hostile_inputs.py [--only FAMILY] [--limit 2.0]

Generates inputs an agent could send to stall guard, by family: long words, deep nesting,
catastrophic-regex bait (the built-in sed and SQL rules, a user `(a+)+$` rule), 1 MB commands,
many globs and long paths. Each goes through the installed launcher twice: `guard check --json`
(the dry run) and the real run (`guard -c LINE`, or `guard -- PROG ARGS` when the input is an
argv). The policy allows only harmless programs (ls, echo, true, printf) in a scratch directory,
so whatever runs is harmless; everything else is reviewed and, with no terminal, denied.

Prints one row per case (wall and CPU seconds of the whole guard process, interpreter start
included) and the worst case per mode. CPU time is the figure that does not depend on how many
others share the machine: the decision budget (settings.decision_budget) counts it too.
Limits of the platform: one argument is at most 128 KiB
(Linux MAX_ARG_STRLEN), so a 1 MB command is an argv of several arguments; a `-c` line is one
argument, at most 128 KiB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import tempfile
import time

from common import installed_guard

ARG_MAX = 128 * 1024 - 1  # one argument, NUL included
POLICY = """
[[allow]]
id = "harmless"
match = ["ls **", "echo **", "true **", "printf **", "tool **"]

[[review]]
id = "catastrophic-bait"
match = "tool **"
contains = ['(a+)+$', '(x|x)*y', '(\\w+\\s?)+$']
"""


def cases() -> list[tuple[str, str, list[str] | str]]:
    """(family, name, argv or shell line)."""
    word = "a" * (ARG_MAX - 8)
    out: list[tuple[str, str, list[str] | str]] = [
        ("long-words", "one 128 KB word (argv)", ["ls", word]),
        ("long-words", "one 128 KB word (-c)", "ls " + word[:-4]),
        ("long-words", "128 KB of quotes (-c)", "echo " + "'a'\"b\"" * 21_000),
        ("long-words", "128 KB of escapes (-c)", "echo " + "\\a" * 60_000),
        ("deep-nesting", "5,000 $( ) (-c)", "echo " + "$(" * 5_000 + "true" + ")" * 5_000),
        ("deep-nesting", "20,000 ( ) (-c)", "(" * 20_000 + "true" + ")" * 20_000),
        ("deep-nesting", "5,000 { } (-c)", "{ " * 5_000 + "true; " + "} " * 5_000),
        ("deep-nesting", "bash -c quoted 10 deep (-c)", _nested_bash(10)),
        ("deep-nesting", "40,000 backslash-quotes (-c)", "echo " + "\\'" * 40_000),
        ("regex-bait", "sed ;\\% x 40,000 (argv)", ["sed", ";\\%" * 40_000, "f"]),
        ("regex-bait", "sed newlines (argv)", ["sed", "\n" * ARG_MAX, "f"]),
        ("regex-bait", "sed s with many delimiters (argv)", ["sed", "s/" + "\\/" * 60_000, "f"]),
        (
            "regex-bait",
            "psql DELETE FROM + words (argv)",
            ["psql", "-c", "DELETE FROM " + "a " * 60_000],
        ),
        (
            "regex-bait",
            "psql UPDATE SET + where-ish (argv)",
            ["psql", "-c", "UPDATE t SET " + "wher " * 25_000],
        ),
        ("regex-bait", "(a+)+$ on 128 KB (argv)", ["tool", "a" * (ARG_MAX - 10) + "!"]),
        ("regex-bait", "(x|x)*y on 128 KB (argv)", ["tool", "x" * (ARG_MAX - 10)]),
        ("regex-bait", "vim + bait (argv)", ["vim", "+" + "1" * (ARG_MAX - 10) + "x"]),
        ("1mb", "ls + 8 args of 128 KB (argv)", ["ls", *[word] * 8]),
        ("1mb", "echo + 100,000 small args (argv)", ["echo", *["a-b"] * 100_000]),
        (
            "1mb",
            "psql + 8 x 128 KB SQL (argv)",
            ["psql", *["-c", "DELETE FROM " + "x " * 60_000] * 4],
        ),
        ("1mb", "128 KB of ; commands (-c)", "true; " * 21_000),
        ("1mb", "128 KB pipeline (-c)", "true | " * 18_000 + "true"),
        ("1mb", "128 KB of && (-c)", "true && " * 16_000 + "true"),
        ("globs", "2,000 glob words (-c)", "ls " + " ".join(["*a*b*c*"] * 2_000)),
        ("globs", "star-a word of 128 KB (-c)", "ls " + "*a" * 60_000),
        ("globs", "path of 30,000 segments (-c)", "echo x > " + "a/" * 30_000 + "b"),
        ("globs", "write under many ** paths (-c)", "echo x > " + "/.git/x" * 10_000),
        ("globs", "8 x 128 KB glob args (argv)", ["ls", *["*?[a-z]" * 18_000] * 8]),
    ]
    return out


def _nested_bash(depth: int) -> str:
    line = "true"
    for _ in range(depth):
        line = "bash -c " + "'" + line.replace("'", "'\\''") + "'"
    return line


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(argv: list[str], env: dict[str, str], cwd: str) -> tuple[int, str, float, float]:
    cpu, start = _cpu(), time.perf_counter()
    try:
        proc = subprocess.run(
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=120,
            start_new_session=True,
            check=False,
        )
        code, out = proc.returncode, proc.stdout
    except subprocess.TimeoutExpired:
        code, out = -1, ""
    except OSError as exc:  # E2BIG: more than the kernel takes
        return -2, str(exc), 0.0, 0.0
    return code, out, time.perf_counter() - start, _cpu() - cpu


def _verdict(code: int, out: str) -> str:
    if code == -1:
        return "TIMEOUT"
    try:
        d = json.loads(out)
    except ValueError:
        return f"exit {code}"
    return f"{d['verdict']} ({d['rule'] or 'default'})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", help="run one family only")
    parser.add_argument("--limit", type=float, default=2.0)
    opts = parser.parse_args()
    guard = installed_guard()
    worst: dict[str, tuple[float, str]] = {}
    worst_cpu: dict[str, tuple[float, str]] = {}
    tried = over = over_cpu = 0
    with tempfile.TemporaryDirectory() as root:
        work = os.path.join(root, "work")
        os.mkdir(work)
        policy = os.path.join(root, "policy.toml")
        with open(policy, "w") as f:
            f.write(POLICY)
        env = {k: v for k, v in os.environ.items() if not k.startswith("GUARD_")}
        for var, sub in (("CONFIG", "config"), ("STATE", "state"), ("CACHE", "cache")):
            env[f"GUARD_{var}_DIR"] = os.path.join(root, sub)
        env.update(GUARD_POLICY=policy, GUARD_AUDIT_LOG=os.path.join(root, "audit.jsonl"))
        env["GUARD_AGENTS_FILE"] = os.path.join(root, "agents")
        _run([guard, "check", "--", "true"], env, work)  # compile the policy once
        print(
            f"{'family':<13} {'case':<38} {'mode':<6} {'verdict / exit':<34} {'wall':>6} {'cpu':>6}"
        )
        for family, name, item in cases():
            if opts.only and family != opts.only:
                continue
            shell = isinstance(item, str)
            runs = {
                "check": [guard, "check", "--json", *(["-c", item] if shell else ["--", *item])],
                "run": [guard, *(["-c", item] if shell else ["--", *item])],
            }
            for mode, argv in runs.items():
                code, out, wall, cpu = _run(argv, env, work)
                if code == -2:
                    print(f"{family:<13} {name:<38} {mode:<6} skipped: {out[:40]}")
                    continue
                tried += 1
                over += wall > opts.limit
                over_cpu += cpu > opts.limit
                shown = _verdict(code, out) if mode == "check" else f"exit {code}"
                print(f"{family:<13} {name:<38} {mode:<6} {shown:<34} {wall:6.2f} {cpu:6.2f}")
                if wall > worst.get(mode, (0.0, ""))[0]:
                    worst[mode] = (wall, f"{family}: {name}")
                if cpu > worst_cpu.get(mode, (0.0, ""))[0]:
                    worst_cpu[mode] = (cpu, f"{family}: {name}")
    print()
    for mode, (wall, what) in worst.items():
        print(f"worst {mode:<6} wall {wall:.2f} s  ({what})")
    for mode, (cpu, what) in worst_cpu.items():
        print(f"worst {mode:<6} CPU  {cpu:.2f} s  ({what})")
    print(
        f"{tried} runs: {over} over {opts.limit:g} s of wall time, {over_cpu} over {opts.limit:g} s"
        f" of CPU (guard's start included; load average now {os.getloadavg()[0]:.1f})"
    )


if __name__ == "__main__":
    main()
