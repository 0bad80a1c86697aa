"""With GUARD_SERVER set, a hook only asks: `guard serve` decides and records (DESIGN.md,
"Where the decision is made"). A stand-in server on a real Unix socket answers with the
protocol of `expacti_cli.protocol`; the hook must obey it and fail closed without it."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path
from typing import Any

import pytest
from conftest import GuardEnv
from hook_support import POLICY, HookEnv

from expacti_cli import protocol


class FakeServer:
    """Answers every request with `reply` and remembers what it was asked."""

    def __init__(self, path: Path, reply: dict[str, Any]) -> None:
        self.asked: list[dict[str, Any]] = []
        self.reply = reply
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(4)
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                buffer = bytearray()
                line = protocol.read_line(conn.recv, buffer)
                if line is not None:
                    self.asked.append(protocol.decode(line))
                    conn.sendall(protocol.encode(self.reply))

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def hook_env(tmp_path: Path, guard_env: GuardEnv, policy_file: Path, write_policy: Any) -> HookEnv:
    write_policy(POLICY, policy_file)
    return HookEnv(tmp_path, guard_env, policy_file, "claude-code")


def _pre(command: str) -> str:
    return json.dumps(
        {
            "session_id": "srv-session",
            "cwd": "/home/dev/demo",
            "hook_event_name": "PreToolUse",
            "tool_name": "Bash",
            "tool_input": {"command": command},
            "tool_use_id": "toolu_srv",
        }
    )


def _decision(done: Any) -> tuple[str, str]:
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)["hookSpecificOutput"]
    return out["permissionDecision"], out["permissionDecisionReason"]


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ({"status": "done", "decision": "allowed"}, "allow"),
        ({"status": "done", "decision": "approved"}, "allow"),
        (
            {"status": "done", "decision": "denied", "message": "guard: denied: by the server"},
            "deny",
        ),
    ],
)
def test_the_server_decides(hook_env: HookEnv, reply: dict[str, Any], expected: str) -> None:
    path = hook_env.root / "guard.sock"
    server = FakeServer(path, reply)
    hook_env.env["GUARD_SERVER"] = f"unix:{path}"
    try:
        verdict, reason = _decision(hook_env.call(_pre("ls -la")))  # whitelisted locally
    finally:
        server.close()
    assert verdict == expected
    if expected == "deny":
        assert reason == "guard: denied: by the server"
    (asked,) = server.asked
    assert (asked["op"], asked["line"], asked["session"]) == ("decide", "ls -la", "srv-session")
    assert asked["cwd"] == "/home/dev/demo"
    assert not hook_env.log.exists()  # the server records; the agent's user writes nothing


def test_no_server_is_a_denial(hook_env: HookEnv) -> None:
    hook_env.env["GUARD_SERVER"] = f"unix:{hook_env.root / 'nobody.sock'}"
    verdict, reason = _decision(hook_env.call(_pre("ls -la")))
    assert verdict == "deny"
    assert "cannot reach the guard server" in reason
