"""Shim mode with real processes: install/list/remove/env, exit statuses, no loops, children
of an approved program passing the shims again, and binary pinning."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import GUARD, SYSTEM_PATH, GuardEnv, GuardSetup, run_process, write_script

POLICY = """
[[allow]]
id = "t-tools"
match = ["mytool **", "false", "script.sh **", "nosuchprog-xyz **"]

[[deny]]
id = "t-no-evil"
match = "mytool --evil **"
reason = "the evil mode of mytool is off limits"

[[irreversible]]
id = "t-rm-recursive"
match = "rm **"
flags = ["-r", "-R", "--recursive"]
reason = "deletes a tree"
"""


class ShimEnv(GuardSetup):
    """A policy (GUARD_POLICY), a bin dir with a real `mytool`, and helpers."""

    def __init__(self, root: Path, guard_env: GuardEnv, policy: Path, write: Any) -> None:
        super().__init__(root, guard_env, policy)
        self.bin = root / "bin"
        self.bin.mkdir()
        self._write = write
        self.write_policy(POLICY)
        # The real program: says where it runs from and exits 3.
        self.tool = write_script(self.bin / "mytool", 'echo "real mytool $*"\nexit 3\n')

    def write_policy(self, text: str) -> None:
        self._write(text, self.policy)

    def run(
        self,
        argv: list[str],
        *,
        path: str | None = None,
        cwd: Path | None = None,
        timeout: float = 20,
    ) -> subprocess.CompletedProcess[str]:
        return run_process(
            argv,
            env=self.env,
            path=SYSTEM_PATH if path is None else path,
            cwd=cwd or self.root,
            timeout=timeout,
        )

    def guard(self, *args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
        return self.run([GUARD, *args], path=path)

    def install(self, *programs: str, directory: Path | None = None) -> Path:
        target = directory or self.shims
        done = self.guard("shims", "install", "--dir", str(target), *programs)
        assert done.returncode == 0, done.stderr
        return target

    def pathvar(self, *dirs: Path | str) -> str:
        return os.pathsep.join([*map(str, dirs), SYSTEM_PATH])


@pytest.fixture
def shim_env(tmp_path: Path, guard_env: GuardEnv, policy_file: Path, write_policy: Any) -> ShimEnv:
    return ShimEnv(tmp_path, guard_env, policy_file, write_policy)


# ---------------------------------------------------------------- guard shims ...


def test_install_creates_private_marked_dir_of_links_to_the_launcher(shim_env: ShimEnv) -> None:
    shim_env.install("mytool", "rm")
    mode = stat.S_IMODE(shim_env.shims.stat().st_mode)
    assert mode == 0o700
    assert (shim_env.shims / ".guard-shims").is_file()
    for name in ("mytool", "rm"):
        link = shim_env.shims / name
        assert link.is_symlink()
        assert os.path.realpath(link) == os.path.realpath(GUARD)


def test_install_without_names_shims_every_program_the_policy_names(shim_env: ShimEnv) -> None:
    shim_env.write_policy(
        POLICY
        + """
[programs.frobctl]
names = ["frobctl2"]

[[review]]
id = "t-glob"
match = "mkfs* **"
"""
    )
    done = shim_env.guard("shims", "install")
    assert done.returncode == 0, done.stderr
    names = set(os.listdir(shim_env.shims))
    # literal program tokens of rules, [programs.*] and their other names
    assert {"mytool", "false", "script.sh", "rm", "frobctl", "frobctl2"} <= names
    assert not any("*" in n for n in names)  # a glob names no single program


def test_install_refuses_a_directory_that_holds_other_files(shim_env: ShimEnv) -> None:
    done = shim_env.guard("shims", "install", "--dir", str(shim_env.bin), "mytool")
    assert done.returncode != 0
    assert "not a shim directory" in done.stderr
    assert not (shim_env.bin / ".guard-shims").exists()


def test_install_skips_names_guard_would_take_for_itself(shim_env: ShimEnv) -> None:
    done = shim_env.guard("shims", "install", "python3", "guard", "mytool")
    assert done.returncode == 0
    assert "skipped guard" in done.stderr
    # python3 is an ordinary program to shim: only guard's own names are refused.
    assert sorted(os.listdir(shim_env.shims)) == [".guard-shims", "mytool", "python3"]


def test_list_shows_each_shim_and_what_it_shadows(shim_env: ShimEnv) -> None:
    shim_env.install("mytool")
    done = shim_env.guard("shims", "list", "--json", path=shim_env.pathvar(shim_env.bin))
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    (row,) = data["shims"]
    assert row["name"] == "mytool"
    assert row["ok"] is True
    assert row["shadows"] == str(shim_env.tool)


def test_remove_one_then_all(shim_env: ShimEnv) -> None:
    shim_env.install("mytool", "rm")
    assert shim_env.guard("shims", "remove", "rm").returncode == 0
    assert sorted(os.listdir(shim_env.shims)) == [".guard-shims", "mytool"]
    assert shim_env.guard("shims", "remove").returncode == 0
    assert not shim_env.shims.exists()


@pytest.mark.parametrize(
    ("shell", "expected"),
    [
        ("bash", 'export PATH={d}:"$PATH"'),
        ("zsh", 'export PATH={d}:"$PATH"'),
        ("fish", "set -gx PATH {d} $PATH"),
    ],
)
def test_env_prints_the_line_that_puts_shims_first(
    shim_env: ShimEnv, shell: str, expected: str
) -> None:
    done = shim_env.guard("shims", "env", "--shell", shell)
    assert done.returncode == 0
    assert done.stdout.strip() == expected.format(d=shim_env.shims)


def test_env_line_really_puts_the_shims_first_in_bash(shim_env: ShimEnv) -> None:
    shim_env.install("mytool")
    line = shim_env.guard("shims", "env", "--shell", "bash").stdout
    done = shim_env.run(["bash", "-c", f"{line}\ncommand -v mytool"], path=shim_env.pathvar())
    assert done.stdout.strip() == str(shim_env.shims / "mytool")


# ---------------------------------------------------------------- running through shims


def test_allowed_program_runs_with_its_exit_status(shim_env: ShimEnv) -> None:
    shim_env.install("mytool", "false")
    path = shim_env.pathvar(shim_env.shims, shim_env.bin)
    done = shim_env.run(["mytool", "a", "b"], path=path)
    assert (done.returncode, done.stdout) == (3, "real mytool a b\n")
    assert shim_env.run(["false"], path=path).returncode == 1
    (first, second) = shim_env.entries()
    assert first["mode"] == "shim"
    assert first["decision"] == "allowed"
    assert first["argv"] == ["mytool", "a", "b"]
    assert first["program"] == str(shim_env.tool)
    assert second["argv"] == ["false"]


def test_prefix_mode_with_shims_on_path_checks_once(shim_env: ShimEnv) -> None:
    """guard -- mytool runs the real program, not the shim: one decision, one audit line."""
    shim_env.install("mytool")
    done = shim_env.guard("--", "mytool", path=shim_env.pathvar(shim_env.shims, shim_env.bin))
    assert (done.returncode, done.stdout) == (3, "real mytool \n")
    (entry,) = shim_env.entries()
    assert (entry["mode"], entry["program"]) == ("prefix", str(shim_env.tool))


def test_running_a_shim_by_path_is_refused(shim_env: ShimEnv) -> None:
    shim_env.install("mytool")
    done = shim_env.guard("--", str(shim_env.shims / "mytool"), path=shim_env.pathvar(shim_env.bin))
    assert done.returncode == 127
    assert "is guard itself or one of its shims" in done.stderr


def test_denied_program_exits_77_and_does_not_run(shim_env: ShimEnv) -> None:
    shim_env.install("mytool")
    done = shim_env.run(["mytool", "--evil"], path=shim_env.pathvar(shim_env.shims, shim_env.bin))
    assert done.returncode == 77
    assert done.stdout == ""
    assert done.stderr.startswith("guard: denied: mytool --evil (rule t-no-evil")
    assert shim_env.entries()[-1]["decision"] == "denied"


def test_program_found_nowhere_exits_127_with_a_clear_line(shim_env: ShimEnv) -> None:
    shim_env.install("nosuchprog-xyz")
    done = shim_env.run(["nosuchprog-xyz"], path=shim_env.pathvar(shim_env.shims))
    assert done.returncode == 127
    assert "nosuchprog-xyz: command not found on PATH" in done.stderr
    assert "shims" in done.stderr  # says only shims carry that name


# ---------------------------------------------------------------- no loops, whatever PATH


def _runs_real_tool(shim_env: ShimEnv, path: str, argv0: str = "mytool") -> None:
    done = shim_env.run([argv0, "x"], path=path, timeout=10)
    assert (done.returncode, done.stdout, done.stderr) == (3, "real mytool x\n", "")
    assert shim_env.entries()[-1]["program"] == str(shim_env.tool)


def test_shim_dir_twice_on_path(shim_env: ShimEnv) -> None:
    shims = shim_env.install("mytool")
    _runs_real_tool(shim_env, shim_env.pathvar(shims, shims, shim_env.bin))


def test_symlinked_shim_dir(shim_env: ShimEnv) -> None:
    shims = shim_env.install("mytool")
    link = shim_env.root / "shims-link"
    link.symlink_to(shims, target_is_directory=True)
    _runs_real_tool(shim_env, shim_env.pathvar(link, shim_env.bin))
    _runs_real_tool(shim_env, shim_env.pathvar(link, shims, link, shim_env.bin))


def test_two_shim_dirs_on_path(shim_env: ShimEnv) -> None:
    one = shim_env.install("mytool", directory=shim_env.root / "one")
    two = shim_env.install("mytool", directory=shim_env.root / "two")
    _runs_real_tool(shim_env, shim_env.pathvar(one, two, shim_env.bin))


def test_nested_shim_dir(shim_env: ShimEnv) -> None:
    outer = shim_env.install("mytool")
    inner = shim_env.install("mytool", directory=outer / "inner")
    _runs_real_tool(shim_env, shim_env.pathvar(inner, outer, shim_env.bin))


def test_shim_pointing_at_a_shim(shim_env: ShimEnv) -> None:
    shims = shim_env.install("mytool")
    stray = shim_env.root / "stray"  # no marker: only the link's target betrays it
    stray.mkdir()
    (stray / "mytool").symlink_to(shims / "mytool")
    _runs_real_tool(shim_env, shim_env.pathvar(stray, shim_env.bin))
    _runs_real_tool(shim_env, shim_env.pathvar(stray, shims, stray, shim_env.bin))
    # and called through the stray link itself
    _runs_real_tool(shim_env, shim_env.pathvar(stray, shim_env.bin), str(stray / "mytool"))


def test_copy_of_the_launcher_elsewhere_on_path(shim_env: ShimEnv) -> None:
    """Another guard installation named like the program: recognised by content, no ping-pong."""
    shims = shim_env.install("mytool")
    other = shim_env.root / "other-install"
    other.mkdir()
    shutil.copy2(os.path.realpath(GUARD), other / "mytool")
    _runs_real_tool(shim_env, shim_env.pathvar(shims, other, shim_env.bin))


def test_script_shims_where_links_cannot_serve(shim_env: ShimEnv) -> None:
    shims = shim_env.root / "script-shims"
    done = shim_env.guard("shims", "install", "--scripts", "--dir", str(shims), "mytool")
    assert done.returncode == 0, done.stderr
    assert not (shims / "mytool").is_symlink()
    assert (shims / "mytool").read_text().startswith("#!/bin/sh")
    _runs_real_tool(shim_env, shim_env.pathvar(shims, shim_env.bin))
    stray = shim_env.root / "stray"
    stray.mkdir()
    (stray / "mytool").symlink_to(shims / "mytool")
    _runs_real_tool(shim_env, shim_env.pathvar(stray, shim_env.bin))
    denied = shim_env.run(["mytool", "--evil"], path=shim_env.pathvar(shims, shim_env.bin))
    assert denied.returncode == 77


# ---------------------------------------------------------------- children pass the shims


def test_script_allowed_by_policy_is_stopped_at_its_rm(shim_env: ShimEnv) -> None:
    shim_env.install("rm")
    victim = shim_env.root / "victim"
    (victim / "sub").mkdir(parents=True)
    script = write_script(shim_env.root / "script.sh", 'rm -rf "$1"\n')
    done = shim_env.run(
        [GUARD, "--", "./script.sh", str(victim)], path=shim_env.pathvar(shim_env.shims)
    )
    assert done.returncode == 77
    assert "guard: denied: rm -rf" in done.stderr
    assert victim.is_dir()
    script_entry, rm_entry = shim_env.entries()
    assert (script_entry["decision"], script_entry["program"]) == ("allowed", "./script.sh")
    assert script.exists()
    assert (rm_entry["mode"], rm_entry["decision"]) == ("shim", "denied")
    assert rm_entry["irreversible"] is True


def test_find_exec_rm_is_stopped_by_the_rm_shim(shim_env: ShimEnv) -> None:
    """find itself is not shimmed here: the real find runs and execs `rm` from PATH."""
    shim_env.install("rm")
    work = shim_env.root / "work"
    (work / "victim" / "deep").mkdir(parents=True)
    done = shim_env.run(
        ["find", ".", "-name", "victim", "-exec", "rm", "-rf", "{}", "+"],
        path=shim_env.pathvar(shim_env.shims),
        cwd=work,
    )
    assert done.returncode != 0
    assert "guard: denied: rm -rf ./victim" in done.stderr
    assert (work / "victim" / "deep").is_dir()
    (entry,) = shim_env.entries()
    assert (entry["mode"], entry["decision"], entry["argv"]) == (
        "shim",
        "denied",
        ["rm", "-rf", "./victim"],
    )


# ---------------------------------------------------------------- binary pinning


def _pin(shim_env: ShimEnv, **keys: str) -> None:
    table = "".join(f'{k} = "{v}"\n' for k, v in keys.items())
    shim_env.write_policy(POLICY + "\n[programs.mytool]\n" + table)


def test_pinned_path_mismatch_refuses(shim_env: ShimEnv) -> None:
    elsewhere = write_script(shim_env.root / "mytool-pinned", "exit 0\n")
    _pin(shim_env, path=str(elsewhere))
    shim_env.install("mytool")
    done = shim_env.run(["mytool"], path=shim_env.pathvar(shim_env.shims, shim_env.bin))
    assert done.returncode == 77
    assert done.stdout == ""
    assert f"mytool resolves to {shim_env.tool}, but the policy pins it to {elsewhere}" in (
        done.stderr
    )
    assert shim_env.entries()[-1]["decision"] == "denied"


def test_pinned_sha256_mismatch_refuses(shim_env: ShimEnv) -> None:
    _pin(shim_env, path=str(shim_env.tool), sha256="0" * 64)
    done = shim_env.guard("--", "mytool", path=shim_env.pathvar(shim_env.bin))
    assert done.returncode == 77
    assert done.stdout == ""
    assert "sha256" in done.stderr
    assert f"the policy pins {'0' * 64}" in done.stderr


def test_matching_pin_runs(shim_env: ShimEnv) -> None:
    digest = hashlib.sha256(shim_env.tool.read_bytes()).hexdigest()
    _pin(shim_env, path=str(shim_env.tool), sha256=digest)
    shim_env.install("mytool")
    done = shim_env.run(["mytool", "ok"], path=shim_env.pathvar(shim_env.shims, shim_env.bin))
    assert (done.returncode, done.stdout) == (3, "real mytool ok\n")


def test_pin_follows_symlinks_to_the_pinned_file(shim_env: ShimEnv) -> None:
    linked = shim_env.root / "linkbin"
    linked.mkdir()
    (linked / "mytool").symlink_to(shim_env.tool)
    digest = hashlib.sha256(shim_env.tool.read_bytes()).hexdigest()
    _pin(shim_env, path=str(shim_env.tool), sha256=digest)
    done = shim_env.guard("--", "mytool", path=shim_env.pathvar(linked))
    assert done.returncode == 3


def test_a_module_dropped_beside_the_launcher_is_never_imported(
    guard_env: GuardEnv, tmp_path: Path
) -> None:
    """Python puts a script's directory first on its module path. The launcher removes it: a
    file dropped beside it (or beside the target of a shim link) named like a module guard
    imports must not run inside guard."""
    launcher_dir = tmp_path / "launcher"
    launcher_dir.mkdir()
    launcher = launcher_dir / "guard"
    shutil.copy2(GUARD, launcher)
    marker = tmp_path / "imported"
    for module in ("zlib", "_sha256", "fcntl", "pwd", "gc", "expacti_cli"):
        (launcher_dir / f"{module}.py").write_text(
            f"open({str(marker)!r}, 'a').write('{module} ')\n"
        )
    result = run_process([str(launcher), "--", "true"])
    assert result.returncode == 0, result.stderr
    assert not marker.exists(), f"guard imported {marker.read_text()}from its own directory"


def test_script_shims_ignore_the_agents_python_variables(shim_env: ShimEnv) -> None:
    """A shim runs in the agent's environment. PYTHONPATH naming a directory with a module
    named like guard's package would replace guard (`PYTHONPATH=DIR mytool --evil` would then
    decide nothing), and PYTHONWARNINGS imports the module its category names. A script shim
    runs Python with -E; the program still gets the variables."""
    evil = shim_env.root / "evil"
    (evil / "expacti_cli").mkdir(parents=True)
    marker = shim_env.root / "ran"
    payload = f"open({str(marker)!r}, 'a').write('ran ')\nimport sys\nsys.exit(0)\n"
    (evil / "expacti_cli" / "__init__.py").write_text(payload)
    (evil / "sitecustomize.py").write_text(payload)
    (evil / "evilwarn.py").write_text(payload + "class W(Warning): pass\n")
    scripts = shim_env.root / "script-shims"
    done = shim_env.guard("shims", "install", "--scripts", "--dir", str(scripts), "mytool")
    assert done.returncode == 0, done.stderr
    shim_env.env.update(PYTHONPATH=str(evil), PYTHONWARNINGS="error::evilwarn.W")
    denied = shim_env.run(["mytool", "--evil"], path=shim_env.pathvar(scripts, shim_env.bin))
    assert denied.returncode == 77, denied.stderr
    assert not marker.exists(), "guard ran a module the agent named in a PYTHON* variable"
    shim_env.tool.write_text('#!/bin/sh\necho "$PYTHONPATH"\n')
    allowed = shim_env.run(["mytool", "ok"], path=shim_env.pathvar(scripts, shim_env.bin))
    assert (allowed.returncode, allowed.stdout) == (0, f"{evil}\n"), allowed.stderr
