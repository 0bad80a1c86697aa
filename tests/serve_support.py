"""Real processes for the `guard serve` tests: Unix users, a server run as one, agents as others.

The tests run as root (as CI does): they create system users with `useradd`, start
`guard serve` as one of them and run each agent's `guard` as another, so the kernel, not the
test, says who is asking. The interpreter may live under a directory other users cannot enter
(`/root/.pyenv`); `traversable` adds the search bit (x, never r) to such directories for the
tests' duration and takes it away again.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

GUARD = os.path.join(os.path.dirname(sys.executable), "guard")
PREFIX = "gsv"  # test users: gsv-server, gsv-agent, ...


def ensure_user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],  # noqa: S607
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(name)


def _needs_search_bit(paths: list[str]) -> list[str]:
    found: list[str] = []
    for path in paths:
        current = os.path.dirname(os.path.realpath(path))
        while True:
            mode = os.stat(current).st_mode
            if not mode & stat.S_IXOTH and current not in found:
                found.append(current)
            if current == "/":
                break
            current = os.path.dirname(current)
    return found


@contextlib.contextmanager
def traversable() -> Iterator[None]:
    """Other users may run this interpreter and import guard while the block runs."""
    import expacti_cli

    targets = [
        os.path.realpath(sys.executable),
        GUARD,
        os.path.join(sys.prefix, "lib"),
        os.path.dirname(os.path.dirname(os.path.abspath(expacti_cli.__file__))) + "/x",
        os.path.join(sys.base_prefix, "lib", "x"),
    ]
    changed = _needs_search_bit(targets)
    for d in changed:
        os.chmod(d, os.stat(d).st_mode | stat.S_IXOTH)
    try:
        yield
    finally:
        for d in changed:
            os.chmod(d, os.stat(d).st_mode & ~stat.S_IXOTH)


def base_dir() -> Path:
    """A directory every test user can enter (pytest's tmp_path is root's alone)."""
    path = Path(tempfile.mkdtemp(prefix="guard-serve-"))
    path.chmod(0o711)
    return path


def user_dir(parent: Path, name: str, user: pwd.struct_passwd, mode: int = 0o700) -> Path:
    path = parent / name
    path.mkdir(mode=mode, exist_ok=True)
    os.chown(path, user.pw_uid, user.pw_gid)
    path.chmod(mode)
    return path


def env_for(home: Path, **extra: str) -> dict[str, str]:
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "GUARD_STATE_DIR": str(home / "state"),
        "GUARD_CONFIG_DIR": str(home / "config"),
        "GUARD_CACHE_DIR": str(home / "cache"),
    }
    env.update(extra)
    return env


def run_as(
    user: pwd.struct_passwd,
    argv: list[str],
    env: dict[str, str],
    cwd: Path,
    timeout: float = 30,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        user=user.pw_uid,
        group=user.pw_gid,
        extra_groups=[],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input,
        check=False,
    )


def popen_as(
    user: pwd.struct_passwd, argv: list[str], env: dict[str, str], cwd: Path, **kw: object
) -> subprocess.Popen[str]:
    return subprocess.Popen(  # type: ignore[call-overload]
        argv,
        user=user.pw_uid,
        group=user.pw_gid,
        extra_groups=[],
        env=env,
        cwd=cwd,
        text=True,
        **kw,
    )


class Server:
    """`guard serve` run as `user`, its files under `home` (0o700), its socket in `run_dir`."""

    def __init__(
        self, user: pwd.struct_passwd, home: Path, run_dir: Path, policy: str, db: str | None = None
    ) -> None:
        self.user, self.home, self.run_dir = user, home, run_dir
        self.socket = str(run_dir / "guard.sock")
        self.policy = home / "policy.toml"
        self.db = db
        self.write_policy(policy)
        self.proc: subprocess.Popen[str] | None = None
        self.log = home / "serve.log"

    @property
    def env(self) -> dict[str, str]:
        extra = {"GUARD_SERVER_DB": self.db} if self.db else {}
        return env_for(self.home, **extra)

    def write_policy(self, text: str) -> None:
        tmp = self.home / "policy.toml.tmp"
        tmp.write_text(text)
        os.chown(tmp, self.user.pw_uid, self.user.pw_gid)
        tmp.chmod(0o600)
        os.replace(tmp, self.policy)

    def guard(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        """`guard ARGS` as the server's user (administration: agents, reviewers, export)."""
        return run_as(self.user, [GUARD, *args], self.env, self.home, input=input)

    def start(self, *extra: str) -> Server:
        log = os.open(self.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.chown(self.log, self.user.pw_uid, self.user.pw_gid)
        try:
            self.proc = popen_as(
                self.user,
                [GUARD, "serve", "--socket", self.socket, "--policy", str(self.policy), *extra],
                self.env,
                self.home,
                stdout=log,
                stderr=log,
            )
        finally:
            os.close(log)
        deadline = time.time() + 20
        while not os.path.exists(self.socket):
            if self.proc.poll() is not None or time.time() > deadline:
                raise AssertionError(f"guard serve did not start:\n{self.log.read_text()}")
            time.sleep(0.05)
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.socket)

    def pending(self) -> list[str]:
        """Ids of the reviews waiting in the server's store (read as root, the test's view)."""
        import sqlite3

        db = self.home / "state" / "server" / "guard.db"
        with contextlib.closing(sqlite3.connect(db, timeout=10)) as conn:
            rows = conn.execute("SELECT id FROM reviews WHERE status = 'pending'").fetchall()
        return [r[0] for r in rows]
