"""What an agent asked for, and who asked: the one record every mode hands to the decision.

Its own small module so that client mode (`GUARD_SERVER`) builds a request without importing
the local decision pipeline (`gate` and the policy, effects and audit modules it loads).
"""

import os


class Request:
    """What an agent asked for, and who asked."""

    __slots__ = (
        "agent",
        "argv",
        "audit_path",
        "cwd",
        "line",
        "mode",
        "policy_path",
        "session",
        "shell_argv",
        "token",
    )

    def __init__(
        self,
        mode: str,
        *,
        argv: list[str] | None = None,
        line: str | None = None,
        shell_argv: list[str] | None = None,
        agent: str | None = None,
        session: str | None = None,
        policy_path: str | None = None,
        audit_path: str | None = None,
    ) -> None:
        env = os.environ
        self.mode = mode
        self.argv = argv or []
        self.line = line
        self.shell_argv = shell_argv or []  # how to run `line`: [shell, flags..., line, args...]
        self.agent = agent or env.get("GUARD_AGENT") or "anonymous"
        self.token = env.get("GUARD_AGENT_TOKEN")
        self.session = session or env.get("GUARD_SESSION") or f"sid-{os.getsid(0)}"
        self.policy_path = policy_path
        self.audit_path = audit_path
        try:
            self.cwd = os.getcwd()
        except OSError:
            self.cwd = env.get("PWD", "?")

    @property
    def command(self) -> str:
        """The request as one line of text (a shell line as given, an argv quoted)."""
        if self.line is not None:
            return self.line
        from .tokenize import join

        return join(self.argv)
