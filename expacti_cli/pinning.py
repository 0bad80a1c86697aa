"""Binary pinning: `[programs.NAME] path = ..., sha256 = ...` — exec nothing else."""

from __future__ import annotations

import os

from .errors import Denied

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .policy import Policy


def file_sha256(path: str) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check(policy: Policy, called: str, resolved: str) -> None:
    """Raise Denied when the program found is not the one the policy pins.

    `path` is compared after resolving symlinks on both sides; `sha256` is the digest of the
    file that would be executed (the resolved target, not a link to it).
    """
    name = os.path.basename(called)
    spec = policy.programs.get(name)
    if not spec or name in spec.get("names", ()):
        # Other names sharing a spec (`names = ["podman"]` under [programs.docker]) share its
        # option knowledge, not its binary: a pin names one file.
        return
    pinned = spec.get("path")
    if pinned and os.path.realpath(resolved) != os.path.realpath(pinned):
        raise Denied(
            f"guard: denied: {called} resolves to {resolved}, but the policy pins it to {pinned}"
        )
    expected = spec.get("sha256")
    if expected:
        try:
            actual = file_sha256(resolved)
        except OSError as exc:
            raise Denied(f"guard: denied: cannot hash {resolved}: {exc.strerror}") from exc
        if actual != expected:
            raise Denied(
                f"guard: denied: {resolved} has sha256 {actual}, the policy pins {expected}"
            )
