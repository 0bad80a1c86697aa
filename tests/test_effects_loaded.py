# ruff: noqa: S108  (the temporary directories are the subject of these tests, never written)
"""Code loaded from drop zones, plugin subcommands and stored credentials sent to a named server
(effects/loaded.py): the parts the corpus cannot vary (the user's home, the workspace, PATH)."""

from __future__ import annotations

import os

import pytest

from expacti_cli.effects.loaded import drop_zone
from expacti_cli.errors import PolicyError
from expacti_cli.grammar.schema import expand

SHELL = {"drop_zones": ["/tmp", "/var/tmp", "/dev/shm", "~/Downloads", "/home/*", "/root"]}


def _zone(word: str, home: str = "/home/dev") -> str | None:
    path = word.replace("~", home, 1) if word.startswith("~") else word
    return drop_zone(word, path, SHELL, home)


def test_temporary_directories_downloads_and_other_homes_are_drop_zones():
    assert _zone("/tmp/x.cfg") == "/tmp"
    assert _zone("/dev/shm/p.so") == "/dev/shm"
    assert _zone("~/Downloads/kubeconfig") == "/home/dev/Downloads"
    assert _zone("/home/bob/.curlrc") == "/home/*"
    assert _zone('"$TMPDIR/x.mk"') == "$TMPDIR"


def test_own_home_and_its_config_are_not_drop_zones():
    assert _zone("~/.kube/config") is None
    assert _zone("/home/dev/.curlrc") is None
    # a HOME below /tmp (a test's temporary home) keeps its own files ordinary
    assert _zone("/tmp/t1/home/.curlrc", home="/tmp/t1/home") is None
    assert _zone("/root/.curlrc", home="/root") is None


def test_relative_words_and_the_workspace_are_not_drop_zones(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert drop_zone("x.cfg", str(tmp_path / "x.cfg"), SHELL, "/home/dev") is None
    assert drop_zone(str(tmp_path / "x.cfg"), str(tmp_path / "x.cfg"), SHELL, "/home/dev") is None
    assert drop_zone("/tmp/elsewhere.cfg", "/tmp/elsewhere.cfg", SHELL, "/home/dev") == "/tmp"


def _plugins(table: dict) -> dict:
    return expand("test", {"kubectl": table})[1]["kubectl"]["plugins"]


def test_plugins_table_merges_listed_subcommands_into_the_builtins():
    got = _plugins(
        {
            "plugins": {"prefix": "kubectl-", "builtins": ["alpha"]},
            "commands": {"rollout undo": "change", "get": "read"},
        }
    )
    assert got == {"prefix": "kubectl-", "builtins": ["alpha", "get", "rollout"]}


@pytest.mark.parametrize(
    "plugins",
    [
        {"prefix": "kubectl"},
        {"prefix": "oc-"},
        {"prefix": "kubectl-", "dirs": ["/x"]},
        {"prefix": "kubectl-", "builtins": "get"},
    ],
)
def test_plugins_table_is_validated(plugins):
    with pytest.raises(PolicyError, match="plugins"):
        _plugins({"plugins": plugins})


def test_an_installed_plugin_outside_the_system_directories_is_unknown_code(tmp_path, monkeypatch):
    from expacti_cli import check, policy

    tool = tmp_path / "kubectl-hello"
    tool.write_text("#!/bin/sh\necho hi\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    pol = policy.load(os.path.join(os.path.dirname(__file__), "effects", "whitelist.toml"))
    decision = check.check(pol, line="kubectl hello")
    assert decision.verdict == "review"
    assert str(tool) in (decision.reason or "")
    assert check.check(pol, line="kubectl get pods").verdict == "allow"
