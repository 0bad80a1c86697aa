"""`guard doctor` as a real process on a healthy and on broken setups."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import SYSTEM_PATH, GuardEnv, GuardSetup, run_guard, write_script

POLICY = """
[[allow]]
id = "t-tools"
match = ["mytool **"]
"""


class DoctorEnv(GuardSetup):
    """The user policy (named by GUARD_POLICY) allowing `mytool`, a bin dir with a real one."""

    def __init__(self, root: Path, guard_env: GuardEnv, policy: Path) -> None:
        super().__init__(root, guard_env, policy)
        self.bin = root / "bin"
        self.bin.mkdir()
        write_script(self.bin / "mytool", "echo real\n")

    def run(self, *args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
        return run_guard(
            *args,
            env=self.env,
            path=SYSTEM_PATH if path is None else path,
            cwd=self.root,
            timeout=60,
        )

    def healthy_setup(self) -> str:
        """Shims installed and first on PATH, a few good audit entries. Returns that PATH."""
        done = self.run("shims", "install", "mytool")
        assert done.returncode == 0, done.stderr
        path = os.pathsep.join([str(self.shims), str(self.bin), SYSTEM_PATH])
        for _ in range(3):
            assert self.run("--", "mytool", path=path).returncode == 0
        return path

    def doctor(self, *args: str, path: str | None = None) -> tuple[int, dict[str, Any]]:
        done = self.run("doctor", "--json", *args, path=path)
        return done.returncode, json.loads(done.stdout)


def fails(report: dict[str, Any]) -> list[str]:
    return [c["message"] for c in report["checks"] if c["status"] == "fail"]


@pytest.fixture
def doctor_env(
    tmp_path: Path, guard_env: GuardEnv, write_policy: Any, monkeypatch: pytest.MonkeyPatch
) -> DoctorEnv:
    policy = write_policy(POLICY)  # the user policy in guard_env's config dir
    monkeypatch.setenv("GUARD_POLICY", str(policy))
    return DoctorEnv(tmp_path, guard_env, policy)


def test_healthy_setup_exits_0_and_says_where_things_are(doctor_env: DoctorEnv) -> None:
    path = doctor_env.healthy_setup()
    done = doctor_env.run("doctor", path=path)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert f"policy: {doctor_env.policy}" in out
    assert f"audit log: {doctor_env.log}" in out
    assert "cache: " in out
    assert "policy valid" in out
    assert "audit log chain intact (3 entries)" in out
    assert f"mytool ({doctor_env.bin / 'mytool'})" in out  # what the shims shadow
    assert "shim directory is first on PATH" in out
    assert "FAIL" not in out


def test_warns_when_this_user_can_write_guards_own_files(doctor_env: DoctorEnv) -> None:
    code, report = doctor_env.doctor(path=doctor_env.healthy_setup())
    assert code == 0  # a warning, not a failure
    (warning,) = [c for c in report["checks"] if c["name"] == "access"]
    assert warning["status"] == "warn"
    assert str(doctor_env.policy) in warning["message"]
    assert "another Unix user" in warning["message"]


def test_shims_after_the_real_directory(doctor_env: DoctorEnv) -> None:
    doctor_env.healthy_setup()
    late = os.pathsep.join([str(doctor_env.bin), str(doctor_env.shims), SYSTEM_PATH])
    code, report = doctor_env.doctor(path=late)
    assert code == 1
    (message,) = fails(report)
    assert f"comes after {doctor_env.bin}" in message
    assert "mytool" in message


def test_path_option_checks_the_agents_path(doctor_env: DoctorEnv) -> None:
    doctor_env.healthy_setup()
    late = os.pathsep.join([str(doctor_env.bin), str(doctor_env.shims)])
    code, report = doctor_env.doctor("--path", late)
    assert code == 1
    assert "mytool" in fails(report)[0]


def test_shims_not_on_path_is_a_warning(doctor_env: DoctorEnv) -> None:
    doctor_env.healthy_setup()
    code, report = doctor_env.doctor(path=SYSTEM_PATH)
    assert code == 0
    assert any(c["status"] == "warn" and "not on PATH" in c["message"] for c in report["checks"])


def test_invalid_policy(doctor_env: DoctorEnv) -> None:
    path = doctor_env.healthy_setup()
    doctor_env.policy.write_text('[[allow]]\nid = "t-broken"\nmatch = 42\n')
    code, report = doctor_env.doctor(path=path)
    assert code == 1
    (message,) = fails(report)
    assert message.startswith("policy invalid:")
    assert str(doctor_env.policy) in message
    assert "t-broken" in message


def test_unwritable_audit_log(doctor_env: DoctorEnv) -> None:
    path = doctor_env.healthy_setup()
    blocker = doctor_env.root / "not-a-dir"
    blocker.write_text("")
    log = blocker / "audit.jsonl"
    code, report = doctor_env.doctor("--audit-log", str(log), path=path)
    assert code == 1
    (message,) = fails(report)
    assert f"audit log {log} is not writable" in message


def test_edited_audit_log(doctor_env: DoctorEnv) -> None:
    path = doctor_env.healthy_setup()
    lines = doctor_env.log.read_text().splitlines()
    lines[1] = lines[1].replace('"decision":"allowed"', '"decision":"denied"')
    doctor_env.log.write_text("\n".join(lines) + "\n")
    code, report = doctor_env.doctor(path=path)
    assert code == 1
    (message,) = fails(report)
    assert message.startswith("audit log chain broken at")
    assert f"{doctor_env.log}:2" in message


def test_broken_shim(doctor_env: DoctorEnv) -> None:
    path = doctor_env.healthy_setup()
    (doctor_env.shims / "mytool").unlink()
    (doctor_env.shims / "mytool").symlink_to("/nonexistent/guard")
    code, report = doctor_env.doctor(path=path)
    assert code == 1
    assert "shims that do not run guard: mytool" in fails(report)[0]


def test_human_output_one_line_per_problem(doctor_env: DoctorEnv) -> None:
    doctor_env.healthy_setup()
    doctor_env.policy.write_text("not toml [")
    late = os.pathsep.join([str(doctor_env.bin), str(doctor_env.shims), SYSTEM_PATH])
    done = doctor_env.run("doctor", path=late)
    assert done.returncode == 1
    fail_lines = [line for line in done.stdout.splitlines() if line.startswith("FAIL")]
    assert len(fail_lines) == 2
    assert "doctor found problems" in done.stderr


def test_keyed_audit_log_is_verified_with_its_key(doctor_env: DoctorEnv) -> None:
    key = doctor_env.root / "audit.key"
    key.write_text("s3cret-key\n")
    doctor_env.env["GUARD_AUDIT_KEY_FILE"] = str(key)
    path = doctor_env.healthy_setup()
    code, report = doctor_env.doctor(path=path)
    assert code == 0, fails(report)
    assert any(c["message"] == "audit log chain intact (3 entries)" for c in report["checks"])
    key.write_text("another-key\n")
    code, report = doctor_env.doctor(path=path)
    assert code == 1
    assert fails(report)[0].startswith("audit log chain broken at")
