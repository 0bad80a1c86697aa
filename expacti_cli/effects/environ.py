"""Environment variables a command is given (`NAME=VALUE cmd`, exports known in the line):
each is judged by the role its program's grammar gives it (`[X.env]`), and GUARD_* for the
commands it runs is self-tamper. `GIT_CONFIG_COUNT`-style pairs are read with the program's
`-c KEY=VALUE` keys table."""

from __future__ import annotations

from ..wildcard import match as wildcard_match

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .roles import Command as _Command


def _role(roles: dict[str, str], name: str) -> str | None:
    """The role of a variable: its own entry, or a glob entry (`TF_VAR_*`)."""
    role = roles.get(name)
    if role is None:
        for glob, r in roles.items():
            if "*" in glob and wildcard_match(glob, name):
                return r
    return role


def judge(c: _Command, env: dict[str, str]) -> None:
    view = c.view
    config = view.get("env_config") if view else None
    if config and config["count"] in env:
        _config(c, env, config)
    hosts = []
    for name, value in env.items():
        if name.startswith("GUARD_"):
            c.add("env", f"sets {name} for the commands it runs", "self-tamper", ())
        role = _role(view["env"], name) if view else None
        if role == "split":  # words the program takes as its own arguments (TF_CLI_ARGS)
            role = "options"
        if role == "options" and _runtime(value):
            # `MAKEFLAGS="$X" make`, or after `set -k`: options known only at run time may be
            # any option, those that run code or read rules from elsewhere included.
            what = f"{name} holds options known only at run time ({value})"
            c.add("run", what, "unknown-code", ())
            continue
        if role:
            from ..grammar.scan import Word

            c.role(Word(role, value, 0, name))
            if role == "host":
                hosts.append(Word(role, value, 0, name))
    if hosts and c.inv is not None and any(w.role == "context" for w in c.inv.words):
        c.inv.words += hosts  # `DOCKER_HOST=tcp://h docker build .`: the context goes to h
        for w in [w for w in c.inv.words if w.role == "context"]:
            c.role(w)


def _runtime(value: str) -> bool:
    """Does a word of this value start with a run-time part (an expansion or substitution:
    its source text), so that it may be any option? A run-time part after a literal start
    (`-j$(nproc)`, `--eval=$(…)`) is read by the option it belongs to. A literal `$` in a
    quoted value reads the same: taken as run-time (fail closed)."""
    return any(word.lstrip("\"'")[:1] in ("$", "`") for word in value.split())


def _config(c: _Command, env: dict[str, str], config: dict[str, str]) -> None:
    """`GIT_CONFIG_COUNT=N` with `GIT_CONFIG_KEY_<n>`/`_VALUE_<n>`: each pair is read as the
    program's `-c KEY=VALUE`; a pair the line does not show may be any configuration."""
    from ..grammar.scan import Word

    count = env[config["count"]]
    for n in range(min(int(count), 64) if count.isdigit() else 0):
        key, value = env.get(f"{config['key']}{n}"), env.get(f"{config['value']}{n}")
        if key is None or value is None:
            what = f"{config['key']}{n} / {config['value']}{n} unknown here: any configuration"
            c.add("run", what, "unknown-code", ())
        elif c.key_role(config["option"], key) in ("config", "dir"):
            # More configuration or a directory of hooks and templates: code it may run.
            c.add("run", f"{key}={value} loads configuration that may run code", "unknown-code", ())
        else:
            c.role(Word("keyval", f"{key}={value}", 0, config["option"]))
