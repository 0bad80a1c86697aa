"""The allowed path stays light (DESIGN.md, Speed; ARCHITECTURE.md, Speed): it imports neither
click nor rich, none of the costly standard modules the design avoids, and does not read the
whole audit log."""

from __future__ import annotations

import os
import subprocess

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
)
SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(expacti_cli.__file__)))


def _families(names: set[str], roots: tuple[str, ...]) -> set[str]:
    return {n for n in names if n.split(".", 1)[0] in roots}


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


def test_click_is_loaded_for_subcommands(allow_true):
    """The counter-check: the measurement does see click when guard really uses it."""
    result = _run([PYTHON, "-X", "importtime", GUARD, "policy", "path"])
    assert result.returncode == 0
    assert "click" in imported(result.stderr)


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

    read_bytes = 0
    real_read = os.read

    def counting_read(fd: int, n: int) -> bytes:
        nonlocal read_bytes
        data = real_read(fd, n)
        read_bytes += len(data)
        return data

    monkeypatch.setattr(audit.os, "read", counting_read)
    new = audit.append(str(log), {"n": "new"}, fsync=False)
    assert read_bytes < 64 * 1024
    assert new["prev"] != entry["hash"]  # it linked to the last entry, found in the tail
    last_two = log.read_text().splitlines()[-2:]
    assert f'"hash":"{new["prev"]}"' in last_two[0]
