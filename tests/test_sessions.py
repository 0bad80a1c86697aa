"""Session grants ("approve for this session"): bound to agent, session, cwd and command, private
on disk, and gone when the session ends."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from types import SimpleNamespace

from expacti_cli import sessions


def _req(**changes: str) -> SimpleNamespace:
    base = {"agent": "bot", "session": "s-1", "cwd": "/src", "command": "make test"}
    return SimpleNamespace(**{**base, **changes})


def test_a_grant_covers_exactly_its_request(guard_env):
    sessions.grant(_req(), "alice")
    assert sessions.granted(_req())["reviewer"] == "alice"
    for other in (
        _req(agent="bot-2"),
        _req(session="s-2"),
        _req(cwd="/"),
        _req(command="make test -k x"),
    ):
        assert sessions.granted(other) is None


def test_grants_are_private(guard_env):
    sessions.grant(_req(), "alice")
    top = os.path.join(str(guard_env.state_dir), "sessions")
    assert stat.S_IMODE(os.stat(top).st_mode) == 0o700
    for root, dirs, files in os.walk(top):
        for d in dirs:
            assert stat.S_IMODE(os.stat(os.path.join(root, d)).st_mode) == 0o700
        for f in files:
            assert stat.S_IMODE(os.stat(os.path.join(root, f)).st_mode) == 0o600


def test_a_named_session_grant_expires(guard_env):
    sessions.grant(_req(), "alice")
    later = sessions.granted(_req())["at"] + sessions.SESSION_TTL + 1
    assert sessions.granted(_req(), now=later) is None
    assert sessions.granted(_req()) is None  # and it is gone from disk


def test_a_unix_session_grant_ends_with_its_leader(guard_env):
    leader = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        req = _req(session=f"sid-{leader.pid}")
        sessions.grant(req, "alice")
        assert sessions.granted(req) is not None
    finally:
        leader.kill()
        leader.wait()
    assert sessions.granted(req) is None
