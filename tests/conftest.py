"""Shared fixtures: every guard path in tmp_path, and helpers to run the installed `guard`.

No test may read or write the real user's config, state, cache or audit log: the autouse
`guard_env` fixture points every `GUARD_*` location (and the XDG base directories, as a second
fence) at the test's own tmp_path and removes the variables that would change who is asking.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from expacti_cli import audit
from expacti_cli import policy as policy_mod

# The installed launcher (bin/guard), next to the interpreter of this venv.
GUARD = os.path.join(os.path.dirname(sys.executable), "guard")
PYTHON = sys.executable
# PATH as pytest was started with (before any fixture puts a directory of its own first).
SYSTEM_PATH = os.environ.get("PATH", os.defpath)

# Every variable that moves one of guard's files (paths.py). guard_env sets all but
# GUARD_POLICY, which it removes: a test that wants one names it (`policy_file`).
GUARD_PATH_VARS = (
    "GUARD_CONFIG_DIR",
    "GUARD_STATE_DIR",
    "GUARD_CACHE_DIR",
    "GUARD_AUDIT_LOG",
    "GUARD_POLICY",
    "GUARD_AGENTS_FILE",
    "GUARD_SHIM_DIR",
    "GUARD_REVIEW_DIR",
)

# Variables that would make a test depend on the calling environment.
_UNSET = (
    "GUARD_POLICY",
    "GUARD_AGENT",
    "GUARD_AGENT_TOKEN",
    "GUARD_SESSION",
    "GUARD_DEBUG",
    "GUARD_SHELL",
    "GUARD_AUDIT_KEY_FILE",
    "GUARD_REVIEWER",
    "GUARD_EXECUTABLE",
    "GUARD_BIN",  # the examples' name for the launcher
    "NO_COLOR",
    "FORCE_COLOR",
)


@dataclass
class GuardEnv:
    """Where guard keeps its files for this test."""

    root: Path
    config_dir: Path
    state_dir: Path
    cache_dir: Path
    audit_log: Path
    shim_dir: Path
    agents_file: Path
    review_dir: Path

    @property
    def user_policy(self) -> Path:
        return self.config_dir / "policy.toml"


class GuardSetup:
    """A base for a test file's own setup of guard run as real processes: guard_env's files
    under short names, the policy file guard reads, and the variables a test adds for guard."""

    def __init__(self, root: Path, guard_env: GuardEnv, policy: Path) -> None:
        self.root = root
        self.policy = policy
        self.log = guard_env.audit_log
        self.shims = guard_env.shim_dir
        self.env: dict[str, str] = {}  # set for guard on top of this process's environment

    def entries(self) -> list[dict[str, Any]]:
        return audit_entries(self.log)


@pytest.fixture(autouse=True)
def guard_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GuardEnv:
    root = tmp_path / "guard-home"
    env = GuardEnv(
        root=root,
        config_dir=root / "config",
        state_dir=root / "state",
        cache_dir=root / "cache",
        audit_log=root / "state" / "audit.jsonl",
        shim_dir=root / "shims",
        agents_file=root / "config" / "agents.toml",
        review_dir=root / "reviews",
    )
    monkeypatch.setenv("GUARD_CONFIG_DIR", str(env.config_dir))
    monkeypatch.setenv("GUARD_STATE_DIR", str(env.state_dir))
    monkeypatch.setenv("GUARD_CACHE_DIR", str(env.cache_dir))
    monkeypatch.setenv("GUARD_AUDIT_LOG", str(env.audit_log))
    monkeypatch.setenv("GUARD_SHIM_DIR", str(env.shim_dir))
    monkeypatch.setenv("GUARD_AGENTS_FILE", str(env.agents_file))
    monkeypatch.setenv("GUARD_REVIEW_DIR", str(env.review_dir))
    # A second fence: anything that falls back to platformdirs still lands in tmp_path.
    for var, sub in (
        ("XDG_CONFIG_HOME", "xdg-config"),
        ("XDG_STATE_HOME", "xdg-state"),
        ("XDG_CACHE_HOME", "xdg-cache"),
        ("XDG_DATA_HOME", "xdg-data"),
    ):
        monkeypatch.setenv(var, str(tmp_path / sub))
    for var in _UNSET:
        monkeypatch.delenv(var, raising=False)
    return env


@pytest.fixture
def write_policy(guard_env: GuardEnv) -> Any:
    """Write a user policy (dedented TOML); by default the user policy in the config dir."""

    def write(text: str, path: Path | str | None = None) -> Path:
        target = Path(path) if path is not None else guard_env.user_policy
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text), encoding="utf-8")
        return target

    return write


@pytest.fixture
def policy_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path/policy.toml, named by GUARD_POLICY for this test (not yet written)."""
    path = tmp_path / "policy.toml"
    monkeypatch.setenv("GUARD_POLICY", str(path))
    return path


def _process_env(env: dict[str, str] | None, path: str | None) -> dict[str, str]:
    """This process's environment (guard_env's paths), with `env` on top and PATH set to
    `path` when given."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    if path is not None:
        full_env["PATH"] = path
    return full_env


def imported(stderr: str) -> set[str]:
    """Module names from `python -X importtime` output."""
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":
                names.add(name)
    return names


def run_process(
    argv: list[str],
    *,
    env: dict[str, str] | None = None,
    path: str | None = None,
    cwd: Path | str | None = None,
    input: str | None = None,
    timeout: float = 30,
) -> subprocess.CompletedProcess[str]:
    """Run a program (guard, a shim, an agent's script) as a real process with no controlling
    terminal.

    `start_new_session=True` detaches it from any terminal pytest has, so a review has nobody
    to ask (`/dev/tty` cannot be opened) exactly as for an agent running in the background.
    """
    return subprocess.run(
        argv,
        env=_process_env(env, path),
        cwd=cwd,
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        errors="surrogateescape",  # programs may print bytes that are not UTF-8
        timeout=timeout,
        start_new_session=True,
        check=False,
    )


def run_guard(
    *args: str,
    env: dict[str, str] | None = None,
    path: str | None = None,
    cwd: Path | str | None = None,
    input: str | None = None,
    timeout: float = 30,
    executable: str = GUARD,
) -> subprocess.CompletedProcess[str]:
    """Run the installed guard as a real process with no controlling terminal (run_process)."""
    return run_process(
        [executable, *args], env=env, path=path, cwd=cwd, input=input, timeout=timeout
    )


def spawn_guard(
    *args: str, env: dict[str, str] | None = None, cwd: Path | str | None = None
) -> subprocess.Popen[str]:
    """Start the installed guard like run_guard, without waiting: an agent with no terminal
    whose answer comes later (stdout and stderr piped; the caller waits and reaps it)."""
    return subprocess.Popen(
        [GUARD, *args],
        env=_process_env(env, None),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def audit_entries(path: Path | str) -> list[dict[str, Any]]:
    """Every line of one audit file, parsed (fails the test on a torn line)."""
    with open(path, encoding="ascii") as f:
        return [json.loads(line) for line in f.read().splitlines()]


def assert_chain(entries: list[dict[str, Any]], key: bytes | None = None) -> None:
    """Recompute every hash and check each entry links to the previous one."""
    prev = audit.GENESIS
    for i, original in enumerate(entries):
        entry = dict(original)
        digest = entry.pop("hash")
        assert entry["prev"] == prev, f"entry {i}: chain broken (prev does not link)"
        assert audit.entry_hash(audit.canonical(entry), key) == digest, f"entry {i}: bad hash"
        prev = digest


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    """A file a command would create: its absence proves the command did not run."""
    return tmp_path / "ran.marker"


@pytest.fixture
def builtin_rule_id() -> str:
    """The id of one rule of the shipped catalogue (which the tests require to exist)."""
    import tomllib

    from expacti_cli import policy

    for path in policy.builtin_files():
        with open(path, "rb") as f:
            layer = tomllib.load(f)
        for kind in policy.RULE_KINDS:
            for rule in layer.get(kind, []):
                return str(rule["id"])
    raise AssertionError("the built-in catalogue expacti_cli/policies/*.toml has no rules")


def compile_policy(text: str, path: str = "test-policy.toml") -> Any:
    """A Policy compiled from this TOML alone (no built-in catalogue): for engine tests."""
    import tomllib

    from expacti_cli import policy

    text = textwrap.dedent(text)
    data = policy.compile_layers([(path, tomllib.loads(text), text)])
    data["stamp"] = ()
    return policy.Policy(data)


def write_script(path: Path, body: str) -> Path:
    """An executable shell script at `path`: `#!/bin/sh`, then `body`."""
    path.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    path.chmod(0o755)
    return path


TOOL_SCRIPT = """# tool FILE [STATUS]: create FILE (proof that it ran), say so, exit with STATUS
touch "$1"
echo "tool ran: $1"
exit "${2:-0}"
"""


@pytest.fixture
def tool_bin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory first on PATH with programs of our own (no built-in rule knows them):
    `tool FILE [STATUS]` creates FILE and exits STATUS; `relay` copies stdin to stdout;
    `check` is a program named like a guard subcommand."""
    directory = tmp_path / "bin"
    directory.mkdir()
    scripts = {
        "tool": TOOL_SCRIPT,
        "relay": "cat\n",
        "check": 'echo "the program called check ran: $*"\n',
    }
    for name, body in scripts.items():
        write_script(directory / name, body)
    monkeypatch.setenv("PATH", f"{directory}{os.pathsep}{os.environ.get('PATH', os.defpath)}")
    return directory


@pytest.fixture
def counting_compile(monkeypatch):
    """Count how often the policy is compiled from TOML in this process."""
    calls = []
    real = policy_mod.compile_files

    def compile_files(files):
        calls.append(list(files))
        return real(files)

    monkeypatch.setattr(policy_mod, "compile_files", compile_files)
    return calls
