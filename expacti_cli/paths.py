"""Every file location guard uses, each overridable by a GUARD_* variable, resolved lazily.

Locations follow platformdirs. On Linux the XDG rules are applied directly (a test checks
they give exactly what platformdirs gives) because importing platformdirs costs ~35 ms,
more than an allowed command may take in all; other systems ask platformdirs itself.
"""

from __future__ import annotations

import os
import sys

APP = "expacti-cli"
# Every variable a location below is derived from (the shell analysis keys what it expands
# `~` and `$GUARD_*` patterns to on their values; a test reads this module for them).
VARIABLES = (
    "HOME",
    "XDG_CONFIG_HOME",
    "XDG_STATE_HOME",
    "XDG_CACHE_HOME",
    "GUARD_CONFIG_DIR",
    "GUARD_STATE_DIR",
    "GUARD_CACHE_DIR",
    "GUARD_POLICY",
    "GUARD_AUDIT_LOG",
    "GUARD_AGENTS_FILE",
    "GUARD_SHIM_DIR",
    "GUARD_REVIEW_DIR",
)


def _xdg(var: str, fallback: str) -> str:
    base = os.environ.get(var, "")
    if not os.path.isabs(base):  # unset, empty or relative: ignored, as by platformdirs
        base = os.path.expanduser(fallback)
    return os.path.join(base, APP)


def _platform_dir(kind: str) -> str:
    if sys.platform.startswith("linux"):
        if kind == "config":
            return _xdg("XDG_CONFIG_HOME", "~/.config")
        if kind == "state":
            return _xdg("XDG_STATE_HOME", "~/.local/state")
        if kind == "cache":
            return _xdg("XDG_CACHE_HOME", "~/.cache")
    import platformdirs

    return str(getattr(platformdirs, f"user_{kind}_dir")(APP, appauthor=False))


def config_dir() -> str:
    return os.environ.get("GUARD_CONFIG_DIR") or _platform_dir("config")


def state_dir() -> str:
    return os.environ.get("GUARD_STATE_DIR") or _platform_dir("state")


def cache_dir() -> str:
    return os.environ.get("GUARD_CACHE_DIR") or _platform_dir("cache")


def user_policy() -> str:
    """The user policy: GUARD_POLICY, else policy.toml in the config dir."""
    return os.environ.get("GUARD_POLICY") or os.path.join(config_dir(), "policy.toml")


def builtin_policies() -> str:
    """The catalogue shipped inside the package."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "policies")


def grammar_files() -> list[str]:
    """The shipped program grammars (expacti_cli/grammar/programs/*.toml), in layer order."""
    from .errors import PolicyError

    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "grammar", "programs")
    try:
        names = sorted(n for n in os.listdir(here) if n.endswith(".toml"))
    except OSError as exc:
        raise PolicyError(f"cannot read the built-in grammars {here}: {exc}") from exc
    return [os.path.join(here, n) for n in names]


def package_dir() -> str:
    """guard's installed package (its code: a write there is self-tamper)."""
    return os.path.dirname(os.path.abspath(__file__))


def launcher() -> str:
    """The `guard` launcher beside the running interpreter."""
    import sys

    return os.path.join(os.path.dirname(sys.executable), "guard")


def audit_log() -> str:
    return os.environ.get("GUARD_AUDIT_LOG") or os.path.join(state_dir(), "audit.jsonl")


def agents_file() -> str:
    """Registered agent identities (hashed tokens, revocations)."""
    return os.environ.get("GUARD_AGENTS_FILE") or os.path.join(config_dir(), "agents.toml")


def agent_state_dir() -> str:
    """Small per-agent state: recent commands and anomaly statistics."""
    return os.path.join(state_dir(), "agents")


def shim_dir() -> str:
    return os.environ.get("GUARD_SHIM_DIR") or os.path.join(state_dir(), "shims")


def review_dir() -> str:
    """Where pending reviews wait for the reviewer console (`guard review`)."""
    return os.environ.get("GUARD_REVIEW_DIR") or os.path.join(state_dir(), "reviews")


def ensure_dir(path: str) -> str:
    """Create a private (0o700) directory if it is missing; return it."""
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path
