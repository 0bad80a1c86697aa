"""Shared by the hook tests: a policy, the installed `guard hook HARNESS` run as a real process
with the harness's documented JSON on stdin, and a stand-in for `guard review` (a console that
holds the console lock and answers the one request it sees)."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from conftest import GUARD, GuardEnv, GuardSetup, run_guard

from expacti_cli import reviewqueue

POLICY = """
[[allow]]
id = "t-read"
match = ["ls **", "cat **", "mytool status **"]

[[deny]]
id = "t-no-frob"
match = "frobnicate **"
reason = "frobnicate corrupts the index"
"""

ALLOWED = "mytool status --short"
DENIED = "frobnicate --all"
REVIEWED = "rm -rf build"  # the built-in catalogue: irreversible, always a human's call


class HookEnv(GuardSetup):
    """A policy (GUARD_POLICY); calls `guard hook HARNESS` as the harness does."""

    def __init__(self, root: Path, guard_env: GuardEnv, policy: Path, harness: str) -> None:
        super().__init__(root, guard_env, policy)
        self.harness = harness

    def call(self, stdin: str, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return run_guard(
            "hook", self.harness, *args, input=stdin, env=self.env, cwd=self.root, timeout=timeout
        )

    def spawn(self, stdin: str, *args: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [GUARD, "hook", self.harness, *args],
            env={**os.environ, **self.env},
            cwd=self.root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        assert proc.stdin is not None
        proc.stdin.write(stdin)
        proc.stdin.close()
        return proc


class FakeConsole:
    """`guard review` reduced to what a hook sees: the console lock held, and an answer
    written for the first request that arrives (approve or deny)."""

    def __init__(self, approve: bool, reviewer: str = "alice") -> None:
        self.approve = approve
        self.reviewer = reviewer
        self.seen: list[dict[str, Any]] = []
        self._fd = reviewqueue.hold_console_lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            for request in reviewqueue.pending():
                if any(r["id"] == request["id"] for r in self.seen):
                    continue
                self.seen.append(request)
                reviewqueue.answer(
                    request["id"],
                    self.approve,
                    self.reviewer,
                    "looks fine" if self.approve else "not today",
                    request_digest=request["digest"],
                )
            time.sleep(0.05)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        os.close(self._fd)


def json_out(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """stdout as one JSON object (and nothing else: the harnesses parse it whole)."""
    data = json.loads(done.stdout)
    assert isinstance(data, dict)
    assert done.stdout.count("\n") == 1, done.stdout
    return data


def deep_json(depth: int = 100_000) -> str:
    return "[" * depth + "]" * depth


def huge_json(size: int = 10 * 1024 * 1024 + 1) -> str:
    return json.dumps({"hook_event_name": "x", "pad": "x" * size})
