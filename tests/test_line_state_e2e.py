"""A line's state, end to end through the installed `guard -c` (issue 8).

`cd`/`pushd` before a write, a variable naming the target, a symlink made in the line and
written through, and a file written in the line and then run (directly, by make, by pytest):
guard must judge the write or the run by where it really lands, before anything runs. The
policy is tests/effects/whitelist.toml (`PROG **` for the programs agents use most), there is
no reviewer (no terminal, no console), so a line under review is denied with exit 77 and NO
part of it runs. The harmless versions, with the same programs, run and leave their effect.

Everything happens in temporary directories with a temporary HOME; the payloads only create
marker files, so a failing test (a line that ran) damages nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import SYSTEM_PATH, run_guard
from effects_loader import WHITELIST

DENIED = 77
# The venv first, so python3 is the interpreter that has pytest; then the system's programs.
PATH = os.pathsep.join((os.path.dirname(sys.executable), SYSTEM_PATH))


@dataclass
class Workspace:
    """A temporary HOME, and a git repository inside it where the agent works."""

    home: Path
    repo: Path
    marker: Path  # created by every dangerous payload: its absence proves nothing ran

    def guard_c(self, line: str) -> subprocess.CompletedProcess[str]:
        env = {"HOME": str(self.home), "GUARD_POLICY": str(WHITELIST)}
        return run_guard("-c", line, env=env, path=PATH, cwd=self.repo)


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    home = tmp_path / "home"
    repo = home / "project"
    (repo / "src" / "lib").mkdir(parents=True)
    (repo / "docs").mkdir()
    (home / ".ssh").mkdir(mode=0o700)
    (home / ".bashrc").write_text("# the user's bashrc\n")
    (home / ".profile").write_text("# the user's profile\n")
    git = ["git", "-c", "init.defaultBranch=main", "init", "-q", str(repo)]
    subprocess.run(git, check=True, env={"PATH": SYSTEM_PATH, "HOME": str(home)})
    return Workspace(home=home, repo=repo, marker=tmp_path / "ran.marker")


def _assert_denied(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == DENIED, (result.returncode, result.stdout, result.stderr)
    assert "guard: denied:" in result.stderr
    assert result.stdout == ""


# ---------------------------------------------------------------- cd-relative writes


def test_cd_home_then_append_to_bashrc_is_denied(ws: Workspace) -> None:
    before = (ws.home / ".bashrc").read_text()
    result = ws.guard_c(f"cd ~ && printf 'touch {ws.marker}\\n' >> .bashrc")
    _assert_denied(result)
    assert (ws.home / ".bashrc").read_text() == before


def test_bare_cd_then_write_profile_is_denied(ws: Workspace) -> None:
    before = (ws.home / ".profile").read_text()
    _assert_denied(ws.guard_c(f"cd; echo 'touch {ws.marker}' >> .profile"))
    assert (ws.home / ".profile").read_text() == before


def test_pushd_home_then_write_bashrc_is_denied(ws: Workspace) -> None:
    before = (ws.home / ".bashrc").read_text()
    result = ws.guard_c(f"pushd ~ > /dev/null && echo 'touch {ws.marker}' >> .bashrc; popd")
    _assert_denied(result)
    assert (ws.home / ".bashrc").read_text() == before


def test_cd_into_dot_git_then_write_config_is_denied(ws: Workspace) -> None:
    config = ws.repo / ".git" / "config"
    before = config.read_text()
    result = ws.guard_c(f"cd .git && printf '[core]\\n\\tpager = touch {ws.marker}\\n' >> config")
    _assert_denied(result)
    assert config.read_text() == before


def test_cd_into_hooks_then_write_pre_commit_is_denied(ws: Workspace) -> None:
    hook = ws.repo / ".git" / "hooks" / "pre-commit"
    line = f"cd .git/hooks && printf '#!/bin/sh\\ntouch {ws.marker}\\n' > pre-commit"
    _assert_denied(ws.guard_c(line))
    assert not hook.exists()


def test_cd_chain_back_into_dot_git_is_denied(ws: Workspace) -> None:
    config = ws.repo / ".git" / "config"
    before = config.read_text()
    line = f"cd src && cd ../.git && echo '[alias] x = !touch {ws.marker}' >> config"
    _assert_denied(ws.guard_c(line))
    assert config.read_text() == before


def test_cd_home_then_authorized_keys_is_denied(ws: Workspace) -> None:
    (ws.repo / "k.pub").write_text("ssh-ed25519 AAAA attacker\n")
    keys = ws.home / ".ssh" / "authorized_keys"
    line = f"cp k.pub {ws.marker}.pub && cd ~/.ssh && cat ../project/k.pub >> authorized_keys"
    _assert_denied(ws.guard_c(line))
    assert not keys.exists()
    assert not Path(f"{ws.marker}.pub").exists()


def test_variable_naming_bashrc_is_denied(ws: Workspace) -> None:
    before = (ws.home / ".bashrc").read_text()
    _assert_denied(ws.guard_c(f"D=~/.bashrc; echo 'touch {ws.marker}' >> $D"))
    assert (ws.home / ".bashrc").read_text() == before


# ---------------------------------------------------------------- symlinks made in the line


def test_write_through_a_link_to_bashrc_is_denied(ws: Workspace) -> None:
    before = (ws.home / ".bashrc").read_text()
    line = f"ln -s ~/.bashrc notes.txt && echo 'touch {ws.marker}' >> notes.txt"
    _assert_denied(ws.guard_c(line))
    assert (ws.home / ".bashrc").read_text() == before
    assert not (ws.repo / "notes.txt").is_symlink()  # not even the first command ran


def test_write_through_a_link_to_a_hook_is_denied(ws: Workspace) -> None:
    hook = ws.repo / ".git" / "hooks" / "pre-push"
    line = (
        f"ln -sf .git/hooks/pre-push run.sh && printf '#!/bin/sh\\ntouch {ws.marker}\\n' > run.sh"
    )
    _assert_denied(ws.guard_c(line))
    assert not hook.exists()
    assert not (ws.repo / "run.sh").is_symlink()


def test_write_through_a_link_to_the_home_directory_is_denied(ws: Workspace) -> None:
    before = (ws.home / ".bashrc").read_text()
    _assert_denied(ws.guard_c(f"ln -s ~ h && echo 'touch {ws.marker}' >> h/.bashrc"))
    assert (ws.home / ".bashrc").read_text() == before


# ---------------------------------------------------------------- written, then run


def test_script_written_then_run_is_denied(ws: Workspace) -> None:
    victim = ws.repo / "victim"
    victim.mkdir()
    line = f"echo 'rm -rf victim; touch {ws.marker}' > s.sh && bash s.sh"
    _assert_denied(ws.guard_c(line))
    assert victim.is_dir()
    assert not ws.marker.exists()
    assert not (ws.repo / "s.sh").exists()


def test_script_written_then_run_directly_is_denied(ws: Workspace) -> None:
    line = f"printf '#!/bin/sh\\ntouch {ws.marker}\\n' > s.sh && chmod +x s.sh && ./s.sh"
    _assert_denied(ws.guard_c(line))
    assert not ws.marker.exists()
    assert not (ws.repo / "s.sh").exists()


def test_makefile_written_then_make_is_denied(ws: Workspace) -> None:
    line = f"printf 'all:\\n\\ttouch {ws.marker}\\n' > Makefile && make"
    _assert_denied(ws.guard_c(line))
    assert not ws.marker.exists()
    assert not (ws.repo / "Makefile").exists()


def test_test_file_written_then_pytest_is_denied(ws: Workspace) -> None:
    line = (
        "cat > test_x.py <<'EOF'\n"
        "import pathlib\n"
        "def test_x():\n"
        f"    pathlib.Path({str(ws.marker)!r}).touch()\n"
        "EOF\n"
        "python3 -m pytest -q -p no:cacheprovider test_x.py"
    )
    _assert_denied(ws.guard_c(line))
    assert not ws.marker.exists()
    assert not (ws.repo / "test_x.py").exists()


def test_conftest_written_then_pytest_is_denied(ws: Workspace) -> None:
    (ws.repo / "test_ok.py").write_text("def test_ok():\n    pass\n")
    line = (
        f"printf 'import pathlib\\npathlib.Path(\"{ws.marker}\").touch()\\n' > conftest.py"
        " && python3 -m pytest -q -p no:cacheprovider"
    )
    _assert_denied(ws.guard_c(line))
    assert not ws.marker.exists()
    assert not (ws.repo / "conftest.py").exists()


def test_sitecustomize_written_then_python_is_denied(ws: Workspace) -> None:
    line = (
        f"printf 'import pathlib\\npathlib.Path(\"{ws.marker}\").touch()\\n' > sitecustomize.py"
        " && PYTHONPATH=. python3 -c pass"
    )
    _assert_denied(ws.guard_c(line))
    assert not ws.marker.exists()


# ---------------------------------------------------------------- the harmless versions run


def _assert_ran(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)


def test_cd_into_a_workspace_directory_then_write_runs(ws: Workspace) -> None:
    _assert_ran(ws.guard_c("cd src && echo x > notes.txt"))
    assert (ws.repo / "src" / "notes.txt").read_text() == "x\n"


def test_cd_into_dot_git_and_back_then_write_config_runs(ws: Workspace) -> None:
    config = ws.repo / ".git" / "config"
    before = config.read_text()
    _assert_ran(ws.guard_c("cd .git && cd .. && echo x >> config"))
    assert (ws.repo / "config").read_text() == "x\n"
    assert config.read_text() == before


def test_subshell_cd_does_not_leak_and_both_writes_run(ws: Workspace) -> None:
    _assert_ran(ws.guard_c("(cd src && echo x > notes.txt); echo y > notes.txt"))
    assert (ws.repo / "src" / "notes.txt").read_text() == "x\n"
    assert (ws.repo / "notes.txt").read_text() == "y\n"


def test_pushd_into_docs_then_write_runs(ws: Workspace) -> None:
    _assert_ran(ws.guard_c("pushd docs > /dev/null && echo '# Docs' > index.md && popd"))
    assert (ws.repo / "docs" / "index.md").read_text() == "# Docs\n"


def test_cd_home_then_read_bashrc_runs(ws: Workspace) -> None:
    result = ws.guard_c("cd ~ && cat .bashrc")
    _assert_ran(result)
    assert result.stdout == "# the user's bashrc\n"


def test_cd_home_then_into_the_project_then_write_runs(ws: Workspace) -> None:
    _assert_ran(ws.guard_c("cd ~ && cd project && echo x >> notes.md"))
    assert (ws.repo / "notes.md").read_text() == "x\n"


def test_variable_naming_a_workspace_file_runs(ws: Workspace) -> None:
    _assert_ran(ws.guard_c("D=src/out.txt; echo x > $D"))
    assert (ws.repo / "src" / "out.txt").read_text() == "x\n"


def test_write_through_a_link_into_the_workspace_runs(ws: Workspace) -> None:
    _assert_ran(ws.guard_c("ln -s src/lib lib && echo x > lib/notes.txt"))
    assert (ws.repo / "src" / "lib" / "notes.txt").read_text() == "x\n"


def test_link_to_bashrc_that_is_only_read_runs(ws: Workspace) -> None:
    result = ws.guard_c("ln -s ~/.bashrc bashrc-link && cat bashrc-link")
    _assert_ran(result)
    assert result.stdout == "# the user's bashrc\n"


def test_script_written_and_only_read_runs(ws: Workspace) -> None:
    result = ws.guard_c("echo 'echo hi' > s.sh && cat s.sh")
    _assert_ran(result)
    assert result.stdout == "echo hi\n"
    assert (ws.repo / "s.sh").read_text() == "echo hi\n"


def test_checked_in_makefile_runs_with_make(ws: Workspace) -> None:
    (ws.repo / "Makefile").write_text("all:\n\techo built > built.txt\n")
    _assert_ran(ws.guard_c("make"))
    assert (ws.repo / "built.txt").read_text() == "built\n"


def test_checked_in_tests_run_with_pytest(ws: Workspace) -> None:
    (ws.repo / "test_ok.py").write_text("def test_ok():\n    assert 1 + 1 == 2\n")
    result = ws.guard_c("python3 -m pytest -q -p no:cacheprovider test_ok.py")
    _assert_ran(result)
    assert "1 passed" in result.stdout
