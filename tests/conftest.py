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

# The installed launcher (bin/guard), next to the interpreter of this venv.
GUARD = os.path.join(os.path.dirname(sys.executable), "guard")
PYTHON = sys.executable

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


def run_guard(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | str | None = None,
    input: str | None = None,
    timeout: float = 30,
    executable: str = GUARD,
) -> subprocess.CompletedProcess[str]:
    """Run the installed guard as a real process with no controlling terminal.

    `start_new_session=True` detaches it from any terminal pytest has, so a review has nobody
    to ask (`/dev/tty` cannot be opened) exactly as for an agent running in the background.
    """
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run(
        [executable, *args],
        env=full_env,
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


TOOL_SCRIPT = """#!/bin/sh
# tool FILE [STATUS]: create FILE (proof that it ran), say so, exit with STATUS
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
        "relay": "#!/bin/sh\ncat\n",
        "check": '#!/bin/sh\necho "the program called check ran: $*"\n',
    }
    for name, body in scripts.items():
        path = directory / name
        path.write_text(body)
        path.chmod(0o755)
    monkeypatch.setenv("PATH", f"{directory}{os.pathsep}{os.environ.get('PATH', os.defpath)}")
    return directory
