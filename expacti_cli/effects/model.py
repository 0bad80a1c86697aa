"""Effects and protected classes (DESIGN.md "What a command does, not how it is spelled")."""

from __future__ import annotations

# Protected classes -> who may lift them. "never": no allow rule; "literal": an allow rule whose
# pattern names the operation (its anchor words) literally; "exact": an allow rule naming the
# whole command without wildcards.
LIFT = {
    "irreversible": "never",
    "self-tamper": "never",
    "privilege": "never",
    "secret-exfiltration": "never",
    "secret": "literal",
    "exfiltration": "literal",
    "production": "literal",
    "network-code": "literal",
    "persistence": "exact",
    "unknown-code": "exact",
}
# Effects a grammar declares for a program or subcommand -> the protected class they are.
TAG_CLASS = {
    "change": "production",
    "secret": "secret",
    "privilege": "privilege",
    "network-code": "network-code",
    "persist": "persistence",
    "send": "exfiltration",
    "tamper": "self-tamper",
}

LABEL = {
    "irreversible": "irreversible",
    "self-tamper": "tampers with guard",
    "privilege": "changes privileges",
    "secret-exfiltration": "sends a secret to a host",
    "secret": "exposes a secret",
    "exfiltration": "sends local data to a host",
    "production": "changes production state",
    "network-code": "runs code from the network",
    "persistence": "changes configuration that later runs code",
    "unknown-code": "runs code of unknown safety",
}


class Effect:
    """One thing a command does. `protected` is its protected class or None; `anchor` the argv
    words that name the operation (an allow rule must name them literally to lift it)."""

    __slots__ = ("anchor", "kind", "protected", "what")

    def __init__(
        self, kind: str, what: str, protected: str | None = None, anchor: tuple[str, ...] = ()
    ) -> None:
        self.kind = kind
        self.what = what
        self.protected = protected
        self.anchor = anchor

    @property
    def reason(self) -> str:
        label = LABEL.get(self.protected or "", self.kind)
        return f"{label}: {self.what}"

    def __repr__(self) -> str:
        return f"Effect({self.kind!r}, {self.what!r}, protected={self.protected!r})"


# Hosts on this machine, as a URL or host word begins: data sent there leaves no machine.
LOOPBACK = ("localhost", "127.", "[::1]", "::1", "0.0.0.0", "ip6-localhost")  # noqa: S104
