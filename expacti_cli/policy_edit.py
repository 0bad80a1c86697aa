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


def add_allow_rule(
    path: str, rule_id: str | None, patterns: list[str], comment: str | None = None
) -> str:
    """Append an [[allow]] rule matching `patterns` to the policy at `path`; return its id."""
    import tomli_w

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
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except FileNotFoundError:
            text = ""
        except OSError as exc:
            raise PolicyError(f"{path}: cannot read: {exc.strerror}") from exc
        # Ids must be unique across every layer, not just this file.
        files = [*policy_mod.builtin_files(), path]
        layers = [(f, *policy_mod.read_layer(f)) for f in files[:-1]]
        layers.append((path, *_parse(path, text)))
        taken = {
            str(rule.get("id"))
            for _, layer, _ in layers
            for kind in policy_mod.RULE_KINDS
            for rule in layer.get(kind, [])
            if isinstance(rule, dict)
        }
        base = rule_id or f"remembered-{_slug(patterns[0])}"
        rule_id = base
        n = 2
        while rule_id in taken:
            rule_id = f"{base}-{n}"
            n += 1
        rule: dict[str, Any] = {
            "id": rule_id,
            "match": patterns if len(patterns) > 1 else patterns[0],
        }
        # `[[allow]]` spelled out: tomli_w writes a short array of tables inline
        # (`allow = [{...}]`), which after another table would become one of its keys.
        block = "[[allow]]\n" + tomli_w.dumps(rule)
        if comment:
            block = "".join(f"# {line}\n" for line in comment.splitlines()) + block
        if text and not text.endswith("\n"):
            text += "\n"
        new_text = text + ("\n" if text else "") + block
        layers[-1] = (path, *_parse(path, new_text))
        policy_mod.compile_layers(layers)  # refuse to write a policy that would not load
        _atomic_write(path, new_text)
        return rule_id
    finally:
        os.close(lock)


def _parse(path: str, text: str) -> tuple[dict[str, Any], str]:
    import tomllib

    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: invalid TOML, not editing it: {exc}") from exc


def _atomic_write(path: str, text: str) -> None:
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
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
