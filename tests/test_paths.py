"""Every location follows platformdirs (STYLE.md, One paths.py), applied without importing
platformdirs on Linux; each is overridable by its GUARD_* variable."""

from __future__ import annotations

import os
import sys

import platformdirs
import pytest
from conftest import GUARD_PATH_VARS

from expacti_cli import paths

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the XDG rules are applied by hand on Linux"
)

APP = "expacti-cli"
XDG_VARS = ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME")


@pytest.fixture
def no_overrides(monkeypatch, tmp_path):
    for var in GUARD_PATH_VARS + XDG_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def expected() -> tuple[str, str, str]:
    return (
        platformdirs.user_config_dir(APP, appauthor=False),
        platformdirs.user_state_dir(APP, appauthor=False),
        platformdirs.user_cache_dir(APP, appauthor=False),
    )


def ours() -> tuple[str, str, str]:
    return (paths.config_dir(), paths.state_dir(), paths.cache_dir())


def test_defaults_equal_platformdirs(no_overrides, tmp_path):
    assert ours() == expected()
    assert paths.config_dir() == str(tmp_path / "home" / ".config" / APP)


def test_xdg_variables_equal_platformdirs(no_overrides, monkeypatch, tmp_path):
    for var in XDG_VARS:
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    assert ours() == expected()
    assert paths.state_dir() == str(tmp_path / "xdg_state_home" / APP)


@pytest.mark.parametrize("value", ["", "relative/dir", "./here"])
def test_empty_or_relative_xdg_is_ignored_like_platformdirs(no_overrides, monkeypatch, value):
    """The XDG spec: a relative path is invalid and must be ignored."""
    for var in XDG_VARS:
        monkeypatch.setenv(var, value)
    assert ours() == expected()
    assert all(os.path.isabs(p) for p in ours())


def test_guard_variables_override(no_overrides, monkeypatch, tmp_path):
    values = {var: str(tmp_path / var.lower()) for var in GUARD_PATH_VARS}
    for var, value in values.items():
        monkeypatch.setenv(var, value)
    assert paths.config_dir() == values["GUARD_CONFIG_DIR"]
    assert paths.state_dir() == values["GUARD_STATE_DIR"]
    assert paths.cache_dir() == values["GUARD_CACHE_DIR"]
    assert paths.audit_log() == values["GUARD_AUDIT_LOG"]
    assert paths.user_policy() == values["GUARD_POLICY"]
    assert paths.agents_file() == values["GUARD_AGENTS_FILE"]
    assert paths.shim_dir() == values["GUARD_SHIM_DIR"]
    assert paths.review_dir() == values["GUARD_REVIEW_DIR"]


def test_files_live_in_their_directories(no_overrides):
    config, state, _ = ours()
    assert paths.user_policy() == os.path.join(config, "policy.toml")
    assert paths.audit_log() == os.path.join(state, "audit.jsonl")
    assert paths.agents_file() == os.path.join(config, "agents.toml")


def test_paths_are_resolved_lazily(no_overrides, monkeypatch, tmp_path):
    """A variable set after import still counts (nothing is computed at import time)."""
    monkeypatch.setenv("GUARD_STATE_DIR", str(tmp_path / "late"))
    assert paths.audit_log() == str(tmp_path / "late" / "audit.jsonl")


def test_the_autouse_fixture_keeps_tests_away_from_real_files(guard_env):
    for location in (paths.config_dir(), paths.state_dir(), paths.cache_dir(), paths.audit_log()):
        assert location.startswith(str(guard_env.root))


def test_every_variable_a_location_reads_is_listed():
    """The shell analysis reuses what it expanded `$GUARD_POLICY`-style patterns to while these
    variables keep their values: a location read from a variable missing here would be stale."""
    import re

    with open(paths.__file__, encoding="utf-8") as f:
        source = f.read()
    read = set(re.findall(r"""(?:environ\.get|_xdg)\(\s*["']([A-Z_]+)["']""", source))
    assert read and read <= set(paths.VARIABLES)
    assert "HOME" in paths.VARIABLES  # `~` in every default


def test_a_changed_location_variable_moves_the_protected_path(tmp_path, monkeypatch):
    from expacti_cli.shell.paths import SensitivePaths

    spec = {
        "sensitive_paths": ["$GUARD_AUDIT_LOG"],
        "safe_paths": [],
        "stdin_paths": [],
        "command_dirs": [],
    }
    monkeypatch.setenv("GUARD_AUDIT_LOG", str(tmp_path / "one.jsonl"))
    assert SensitivePaths(spec, str(tmp_path)).hit(str(tmp_path / "one.jsonl"), None)
    monkeypatch.setenv("GUARD_AUDIT_LOG", str(tmp_path / "two.jsonl"))
    fresh = SensitivePaths(spec, str(tmp_path))
    assert fresh.hit(str(tmp_path / "two.jsonl"), None)
    assert not fresh.hit(str(tmp_path / "one.jsonl"), None)
