"""Per-class figures of the effect corpus (issue 8), for the closing note.

    python benchmarks/effects_report.py [--failures]

Loads tests/effects/whitelist.toml (`PROG **` for the programs agents use most) with guard's
files moved to a temporary directory as the tests move them, decides every case of
tests/effects/ with `check.check`, and prints one row per effect class: dangerous cases
reviewed or denied / total, lookalikes allowed / total. `--failures` also lists the lines on
the wrong side. Nothing is run.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

from effects_loader import WHITELIST, classes, load


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--failures", action="store_true", help="list the misjudged lines")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        _move_guard_files(root)
        from expacti_cli import check, policy

        whitelist = policy.load(str(WHITELIST))

        def verdict(line: str) -> str:
            return check.check(whitelist, line=line).verdict

        rows, misjudged = [], []
        for cls in classes():
            caught = _count(verdict, cls, "dangerous", ("review", "deny"), misjudged)
            allowed = _count(verdict, cls, "lookalike", ("allow",), misjudged)
            rows.append((cls, caught, allowed))
    _print_table(rows)
    if args.failures:
        for cls, kind, label, verdict, line in misjudged:
            print(f"{cls} {kind} {label}: {verdict}: {line}")
    return 0


def _move_guard_files(root: str) -> None:
    """As the tests do (conftest.guard_env): guard's files and the XDG directories in `root`,
    so its protected files count by their default locations too, not only the ones in force."""
    for var in ("CONFIG", "STATE", "CACHE", "SHIM", "REVIEW"):
        os.environ[f"GUARD_{var}_DIR"] = os.path.join(root, var.lower())
    os.environ["GUARD_AUDIT_LOG"] = os.path.join(root, "state", "audit.jsonl")
    os.environ["GUARD_AGENTS_FILE"] = os.path.join(root, "config", "agents.toml")
    for var in ("CONFIG", "STATE", "CACHE", "DATA"):
        os.environ[f"XDG_{var}_HOME"] = os.path.join(root, f"xdg-{var.lower()}")
    for var in ("GUARD_POLICY", "GUARD_AGENT", "GUARD_AUDIT_KEY_FILE"):
        os.environ.pop(var, None)


def _count(
    verdict: Callable[[str], str],
    cls: str,
    kind: str,
    good: tuple[str, ...],
    misjudged: list[tuple[str, str, str, str, str]],
) -> tuple[int, int]:
    """(cases on the right side, all cases) of one class and kind; the rest go to misjudged."""
    cases = load(cls, kind)
    ok = 0
    for line, label in cases:
        decided = verdict(line)
        if decided in good:
            ok += 1
        else:
            misjudged.append((cls, kind, label, decided, line))
    return ok, len(cases)


def _print_table(rows: list[tuple[str, tuple[int, int], tuple[int, int]]]) -> None:
    print(f"{'class':<20} {'dangerous reviewed':>20} {'lookalikes allowed':>20}")
    total_d = [0, 0]
    total_l = [0, 0]
    for cls, (d_ok, d_all), (l_ok, l_all) in rows:
        print(f"{cls:<20} {_cell(d_ok, d_all):>20} {_cell(l_ok, l_all):>20}")
        total_d = [total_d[0] + d_ok, total_d[1] + d_all]
        total_l = [total_l[0] + l_ok, total_l[1] + l_all]
    print(f"{'all':<20} {_cell(*total_d):>20} {_cell(*total_l):>20}")


def _cell(ok: int, total: int) -> str:
    share = 100 * ok / total if total else 0.0
    return f"{ok}/{total} ({share:.1f}%)"


if __name__ == "__main__":
    sys.exit(main())
