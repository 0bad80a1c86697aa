"""Writing rules back to the user policy: "approve and remember", `guard audit suggest --apply`.

The new `[[allow]]` table is formatted by tomli-w and appended to the file's text, so every
comment and layout choice elsewhere is kept. The write is atomic (temp file in the same
directory, fsync, os.replace) under a lock, so concurrent reviewers never lose each other's rules,
and the result is validated as a policy before it replaces the old file.
"""

from __future__ import annotations

import fcntl
import os

from . import paths
from .errors import PolicyError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _slug(pattern: str) -> str:
    words = [w for w in pattern.replace("*", " ").split() if w.isascii()][:3]
    slug = "-".join("".join(c for c in w.lower() if c.isalnum()) for w in words)
    return "-".join(p for p in slug.split("-") if p) or "rule"


class Added:
    """What `add_allow_rule` did: `rule_id` written, or the existing rule that already allows
    it (`added` False: nothing was written)."""

    __slots__ = ("added", "rule_id")

    def __init__(self, rule_id: str, added: bool) -> None:
        self.rule_id = rule_id
        self.added = added


def add_allow_rule(
    path: str,
    rule_id: str | None,
    patterns: list[str],
    comment: str | None = None,
    *,
    agents: list[str] | None = None,
    learned: dict[str, str] | None = None,
    expires: str | None = None,
    covers: list[list[str]] | None = None,
) -> Added:
    """Append an [[allow]] rule matching `patterns` to the policy at `path`.

    `agents` scopes it (globs, as in the policy; None: every agent); `learned` records who
    remembered it, when and from which command; `expires` is an RFC 3339 time. Idempotent, also
    between concurrent processes (the check runs under the file's lock): when a rule with the
    same patterns and scope exists, or the policy already allows every command in `covers`
    (the commands that taught the rule) for every agent in scope, nothing is written.
    """
    from . import policy as policy_mod

    if not patterns:
        raise PolicyError("no pattern to whitelist")
    for pattern in patterns:
        try:
            policy_mod.compile_pattern(pattern)
        except ValueError as exc:
            raise PolicyError(f"cannot whitelist {pattern!r}: {exc}") from None
    paths.ensure_dir(os.path.dirname(os.path.abspath(path)))
    lock = os.open(path + ".lock", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        text = _read_text(path)
        _parse(path, text)  # a user policy that is not TOML is not edited
        builtins = policy_mod.builtin_files()
        compiled = policy_mod.compile_files([*builtins, path])
        existing = _already(compiled, patterns, agents, covers)
        if existing is not None:
            return Added(existing, False)
        taken = {str(rule["id"]) for rule in compiled["rules"]}  # unique across every layer
        rule_id = _free_id(rule_id or f"remembered-{_slug(patterns[0])}", taken)
        rule: dict[str, Any] = {
            "id": rule_id,
            "match": patterns if len(patterns) > 1 else patterns[0],
        }
        if agents:
            rule["agents"] = agents
        if expires:
            rule["expires"] = expires
        if learned:
            rule["learned"] = learned
        _atomic_write(path, _with_block(text, rule, comment), builtins)
        return Added(rule_id, True)
    finally:
        os.close(lock)


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read: {exc.strerror}") from exc


def _free_id(base: str, taken: set[str]) -> str:
    rule_id, n = base, 2
    while rule_id in taken:
        rule_id, n = f"{base}-{n}", n + 1
    return rule_id


def _with_block(text: str, rule: dict[str, Any], comment: str | None) -> str:
    import tomli_w

    learned = rule.pop("learned", None)
    # `[[allow]]` spelled out: tomli_w writes a short array of tables inline
    # (`allow = [{...}]`), which after another table would become one of its keys.
    block = "[[allow]]\n" + tomli_w.dumps(rule)
    if learned:
        block += tomli_w.dumps({"learned": learned}).replace("[learned]", "[allow.learned]", 1)
    if comment:
        block = "".join(f"# {line}\n" for line in comment.splitlines()) + block
    if text and not text.endswith("\n"):
        text += "\n"
    return text + ("\n" if text else "") + block


def _already(
    compiled: dict[str, Any],
    patterns: list[str],
    agents: list[str] | None,
    covers: list[list[str]] | None,
) -> str | None:
    """The id of a rule that makes this one redundant, if any."""
    scope = sorted(agents or [])
    for rule in compiled["rules"]:
        if (
            rule["kind"] == "allow"
            and sorted(rule["match"]) == sorted(patterns)
            and sorted(rule["agents"]) == scope
            and not rule.get("expires")
        ):
            return str(rule["id"])
    if not covers:
        return None
    from .decide import ALLOW, decide_argv
    from .policy import Policy

    if agents and any(c in a for a in agents for c in "*?["):
        return None  # a glob scope: only an identical rule makes it redundant
    policy = Policy(compiled)
    who = agents or ["\0any agent"]  # unscoped: redundant only if allowed for anyone
    decisions = [decide_argv(policy, argv, agent) for argv in covers for agent in who]
    if all(d.verdict == ALLOW for d in decisions):
        return str(decisions[0].rule)
    return None


def _parse(path: str, text: str) -> tuple[dict[str, Any], str]:
    import tomllib

    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: invalid TOML, not editing it: {exc}") from exc


def _atomic_write(path: str, text: str, builtins: list[str] | None = None) -> None:
    """Replace `path` with `text` atomically. With `builtins`, first check that the policy
    still loads with it (the temp file is compiled as the user layer, so a bad rule is never
    written); `guard init` writes its starter without that check."""
    from . import policy as policy_mod

    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        mode = os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        mode = 0o600
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        try:
            if builtins is not None:
                policy_mod.compile_files([*builtins, tmp])
        except PolicyError as exc:
            raise PolicyError(exc.message.replace(tmp, path)) from None
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
