"""Validate and compile the shell-analysis catalogue: `[wrappers.NAME]` and `[shell]` tables.

The catalogue is data (policies/shell.toml, user layers on top); `shell.analyse` reads only
the compiled form returned here. That form holds nothing but dicts, lists, tuples, str, int,
float, bool and None, so the policy cache can store it with `marshal`.

Layering: a later `[wrappers.NAME]` (or `[shell.interpreters.NAME]`, `clients`, `writers`)
replaces the earlier entry of the same table name; other `[shell]` lists extend, scalars override.
"""

from __future__ import annotations

from expacti_cli.errors import PolicyError
from expacti_cli.paths import VARIABLES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Option kinds. Each key of a catalogue entry on the left lists options of the kind on the right.
# "value"-like kinds take an argument (attached `-uroot`, `--user=root`, or the next word).
_TAKES_VALUE = ("value", "split", "string", "code", "end", "replace")
_ATTACHED = ("attached", "attached_replace")
OPTION_KEYS = {
    "flags": "flag",  # no argument
    "value_options": "value",  # one argument
    "attached_options": "attached",  # an argument only when attached: xargs -i[R], perl -i[ext]
    "stop_options": "stop",  # nothing runs: `command -v`, `sudo -l`
    "split_options": "split",  # argument split into more arguments: `env -S STRING`
    "string_options": "string",  # argument is a shell line: `su -c STRING`, `flock -c STRING`
    "script_flags": "script",  # first positional is a shell line: `bash -c STRING`
    "stdin_flags": "stdin",  # script read from stdin in place of a command: `bash -s`, `sudo -s`
    "argv_flags": "argv",  # the rest is an argv, not a joined string: `watch -x`
    "code_options": "code",  # argument is inline program code: `python -c`, `perl -e`
    "end_options": "end",  # argument ends the options, the rest are plain arguments: `python -m`
    "info_options": "info",  # prints something and runs no program: `--version`
    "replace_options": "replace",  # argument is a replacement token: `xargs -I R`
    "attached_replace_options": "attached_replace",  # `xargs -i[R]` (default `{}`)
}

_WRAPPER_RUN = ("argv", "shell", "remote", "joined", "embedded")
_NO_COMMAND = ("nothing", "reads-stdin", "reads-redirected-stdin")

_WRAPPER_KEYS = {
    **dict.fromkeys(OPTION_KEYS, "strlist"),
    "names": "strlist",
    "run": "str",
    "clusters": "bool",
    "plus_options": "bool",
    "numeric_flags": "bool",
    "positionals": "int",
    "options_after_positionals": "bool",
    "assignments": "bool",
    "clears_env": "strlist",
    "keeps_env": "strlist",
    "subcommand": "str",
    "subcommands": "strlist",
    "global_options": "strlist",
    "consumes_stdin": "bool",
    "fills": "bool",
    "no_command": "str",
    "terminators": "strlist",
    "embedded_options": "strlist",
    "embedded_terminators": "strlist",
    "replace": "str",
    "description": "str",
    "scripts": "strlist",
}

_INTERPRETER_KEYS = {
    **dict.fromkeys(OPTION_KEYS, "strlist"),
    "names": "strlist",
    "clusters": "bool",
    "stdin_script": "str",
    "stdin_without_script": "bool",
    "code_subcommands": "strlist",
    "program_positional": "bool",
    "program_file_options": "strlist",
    "unsafe_code": "strlist",
    "string_quotes": "strlist",
    "code_language": "str",
    "description": "str",
}
# Inline code guard reads as a program (effects/pyprog.py): pure code raises no opaque-code.
CODE_LANGUAGES = ("python",)

_CLIENT_KEYS = {"names": "strlist", "stdin_args": "strlist", "description": "str"}

_WRITER_KEYS = {
    "names": "strlist",
    "files": "str",
    "file_options": "strlist",
    "file_prefixes": "strlist",
    "value_options": "strlist",
    "clusters": "bool",
    "only_with": "strlist",
    "script_options": "strlist",
    "description": "str",
}
_WRITER_FILES = ("none", "positional", "last")

_LIMITS = {
    "max_depth": (1, 64),
    "max_nesting": (8, 400),
    "max_bytes": (1024, 16 * 1024 * 1024),
    "max_nodes": (100, 10_000_000),
    "max_words": (1, 1_000_000),
}
_SHELL_LISTS = (
    "sensitive_paths",
    "safe_paths",
    "eval",
    "source",
    "trap",
    "alias",
    "code_variables",
    "loader_variables",
    "shell_variables",
    "stdin_paths",
    "coproc",
    # The effect model's path and name classes (effects/paths.py).
    "secret_paths",
    "public_paths",
    "tamper_paths",
    "privileged_paths",
    "secret_variables",
    "metadata_hosts",
    "recursive_readers",
    "recursive_flags",
    # Run-time words that can never be an option (shell/options.py may_be_option).
    "plain_variables",
    "plain_producers",
    # Directories of programs on PATH: a new name there takes over no command (shell/paths.py).
    "command_dirs",
    # "VARIABLE HOST-GLOB...": the service a credential variable is issued by (effects/paths.py).
    "secret_services",
    # Package registries that are their tools' defaults (effects/roles.py package).
    "default_registries",
    # Where anyone may write: configuration or plugins loaded from there are unknown code.
    "drop_zones",
)
_PATH_LISTS = (
    "sensitive_paths",
    "safe_paths",
    "secret_paths",
    "public_paths",
    "tamper_paths",
    "privileged_paths",
)
_SHELL_TABLES = {
    "interpreters": _INTERPRETER_KEYS,
    "clients": _CLIENT_KEYS,
    "writers": _WRITER_KEYS,
}

# Placeholders a sensitive path may start with, expanded at analysis time (shell._expand_path).
# Every GUARD_* variable a location is read from (paths.VARIABLES), and guard's own files.
PATH_PLACEHOLDERS = (
    "HOME",
    *(name for name in VARIABLES if name.startswith("GUARD_")),
    "GUARD_BUILTIN_POLICIES",
    "GUARD_PACKAGE_DIR",
    "GUARD_LAUNCHER",
)

DEFAULTS: dict[str, Any] = {
    "max_depth": 8,
    "max_nesting": 120,
    "max_bytes": 262_144,
    "max_nodes": 200_000,
    "max_words": 4096,
    "max_seconds": 3.0,
    "loader_values": {},
    **dict.fromkeys(_SHELL_LISTS, ()),
}


def _check_type(origin: str, where: str, key: str, value: Any, kind: str) -> None:
    bad = ""
    if kind == "strlist":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            bad = "a list of strings"
        elif any(not v for v in value):
            bad = "a list of non-empty strings"
    elif kind == "str" and (not isinstance(value, str) or not value):
        bad = "a non-empty string"
    elif kind == "bool" and not isinstance(value, bool):
        bad = "true or false"
    elif kind == "int" and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
        bad = "a non-negative integer"
    if bad:
        raise PolicyError(f"{origin}: {where}: {key!r} must be {bad}, not {value!r}")


def _check_table(origin: str, where: str, table: Any, keys: dict[str, str]) -> None:
    if not isinstance(table, dict):
        raise PolicyError(f"{origin}: {where}: must be a table, not {type(table).__name__}")
    for key, value in table.items():
        if key not in keys:
            raise PolicyError(f"{origin}: {where}: unknown key {key!r}")
        _check_type(origin, where, key, value, keys[key])


def _options(origin: str, where: str, table: dict[str, Any]) -> dict[str, str]:
    """All options of an entry as one {option: kind} map; an option may have one kind only."""
    options: dict[str, str] = {}
    for key, kind in OPTION_KEYS.items():
        for opt in table.get(key, ()):
            if not (opt.startswith(("-", "+")) and len(opt) > 1) and opt != "-":
                raise PolicyError(f"{origin}: {where}: {key}: {opt!r} is not an option")
            if opt in options and options[opt] != kind:
                raise PolicyError(
                    f"{origin}: {where}: option {opt!r} is listed as both "
                    f"{options[opt]!r} and {kind!r}"
                )
            options[opt] = kind
    return options


def _names(name: str, table: dict[str, Any]) -> list[str]:
    return [name, *[n for n in table.get("names", ()) if n != name]]


def _compile_wrapper(origin: str, name: str, table: Any) -> dict[str, Any]:
    where = f"[wrappers.{name}]"
    _check_table(origin, where, table, _WRAPPER_KEYS)
    run = table.get("run", "argv")
    if run not in _WRAPPER_RUN:
        raise PolicyError(f"{origin}: {where}: 'run' must be one of {', '.join(_WRAPPER_RUN)}")
    no_command = table.get("no_command", "nothing")
    if no_command not in _NO_COMMAND:
        raise PolicyError(
            f"{origin}: {where}: 'no_command' must be one of {', '.join(_NO_COMMAND)}"
        )
    if run == "embedded" and not table.get("embedded_options"):
        raise PolicyError(f"{origin}: {where}: run = 'embedded' needs 'embedded_options'")
    return {
        "names": _names(name, table),
        "run": run,
        "options": _options(origin, where, table),
        "clusters": table.get("clusters", True),
        "plus_options": table.get("plus_options", False),
        "numeric_flags": table.get("numeric_flags", False),
        "positionals": table.get("positionals", 0),
        "options_after_positionals": table.get("options_after_positionals", False),
        "assignments": table.get("assignments", False),
        # The caller's variables reach the command it runs unless one of these options (or
        # "always") clears them and none of `keeps_env` keeps them (sudo env_reset and -E).
        "clears_env": list(table.get("clears_env", ())),
        "keeps_env": list(table.get("keeps_env", ())),
        "subcommands": [
            sub.split()
            for sub in [*table.get("subcommands", ()), table.get("subcommand", "")]
            if sub
        ],
        "global_options": list(table.get("global_options", ())),
        "consumes_stdin": table.get("consumes_stdin", False),
        "fills": table.get("fills", False),
        "no_command": no_command,
        "terminators": list(table.get("terminators", ())),
        "embedded_options": list(table.get("embedded_options", ())),
        "embedded_terminators": list(table.get("embedded_terminators", (";", "+"))),
        "replace": table.get("replace", "{}"),
        # "GLOB=PROGRAM": a command word matching GLOB is a script PROGRAM runs (`uv run x.py`).
        "scripts": list(table.get("scripts", ())),
    }


def _compile_interpreter(origin: str, name: str, table: Any) -> dict[str, Any]:
    where = f"[shell.interpreters.{name}]"
    _check_table(origin, where, table, _INTERPRETER_KEYS)
    return {
        "names": _names(name, table),
        "options": _options(origin, where, table),
        "clusters": table.get("clusters", True),
        "stdin_script": table.get("stdin_script"),
        "stdin_without_script": table.get("stdin_without_script", True),
        "code_subcommands": list(table.get("code_subcommands", ())),
        "program_positional": table.get("program_positional", False),
        "program_file_options": list(table.get("program_file_options", ())),
        "unsafe_code": list(table.get("unsafe_code", ())),
        "string_quotes": list(table.get("string_quotes", ())),
        "code_language": _code_language(origin, where, table.get("code_language")),
    }


def _code_language(origin: str, where: str, value: str | None) -> str | None:
    if value is not None and value not in CODE_LANGUAGES:
        known = ", ".join(CODE_LANGUAGES)
        raise PolicyError(f"{origin}: {where}: code_language {value!r} is not one of {known}")
    return value


def _compile_client(origin: str, name: str, table: Any) -> dict[str, Any]:
    where = f"[shell.clients.{name}]"
    _check_table(origin, where, table, _CLIENT_KEYS)
    return {
        "names": _names(name, table),
        "stdin_args": [tuple(s.split()) for s in table.get("stdin_args", ())],
    }


def _compile_writer(origin: str, name: str, table: Any) -> dict[str, Any]:
    where = f"[shell.writers.{name}]"
    _check_table(origin, where, table, _WRITER_KEYS)
    files = table.get("files", "none")
    if files not in _WRITER_FILES:
        raise PolicyError(f"{origin}: {where}: 'files' must be one of {', '.join(_WRITER_FILES)}")
    return {
        "names": _names(name, table),
        "files": files,
        "file_options": list(table.get("file_options", ())),
        "file_prefixes": list(table.get("file_prefixes", ())),
        "value_options": list(table.get("value_options", ())),
        "clusters": table.get("clusters", False),
        "only_with": list(table.get("only_with", ())),
        "script_options": list(table.get("script_options", ())),
    }


def _check_path_pattern(origin: str, pattern: str) -> None:
    where = "[shell]: sensitive/safe path"
    if pattern.startswith("$"):
        head = pattern[1:].split("/", 1)[0].replace("{", "").replace("}", "").partition(".")[0]
        if head not in PATH_PLACEHOLDERS:
            raise PolicyError(
                f"{origin}: {where} {pattern!r}: unknown placeholder ${head} "
                f"(known: {', '.join('$' + p for p in PATH_PLACEHOLDERS)})"
            )
    elif not pattern.startswith(("/", "~/", "**/")) and pattern != "~":
        raise PolicyError(
            f"{origin}: {where} {pattern!r}: must start with '/', '~/', '**/' or a $GUARD_* "
            "placeholder"
        )


def _index(entries: dict[str, dict[str, Any]]) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Program name -> entry name, exact names first; names with glob characters go to a list."""
    exact: dict[str, str] = {}
    globs: list[tuple[str, str]] = []
    for entry_name, entry in entries.items():
        for n in entry["names"]:
            if any(c in n for c in "*?["):
                globs.append((n, entry_name))
            else:
                exact[n] = entry_name
    return exact, globs


# How an entry of [shell.interpreters], [shell.clients] and [shell.writers] is compiled.
_COMPILERS = {
    "interpreters": _compile_interpreter,
    "clients": _compile_client,
    "writers": _compile_writer,
}


def compile(layers: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Merge and validate the catalogue layers; return the marshal-able compiled spec."""
    wrappers: dict[str, dict[str, Any]] = {}
    tables: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in _SHELL_TABLES}
    shell: dict[str, Any] = dict(DEFAULTS)
    for key in _SHELL_LISTS:
        shell[key] = []
    for origin, layer in layers:
        if not isinstance(layer, dict):
            raise PolicyError(f"{origin}: shell catalogue layer must be a table")
        for key in layer:
            if key not in ("wrappers", "shell"):
                raise PolicyError(f"{origin}: unknown shell catalogue table {key!r}")
        raw_wrappers = layer.get("wrappers")
        if raw_wrappers is not None:
            if not isinstance(raw_wrappers, dict):
                raise PolicyError(f"{origin}: [wrappers]: must be a table of tables")
            for name, table in raw_wrappers.items():
                wrappers[name] = _compile_wrapper(origin, name, table)
        raw_shell = layer.get("shell")
        if raw_shell is None:
            continue
        if not isinstance(raw_shell, dict):
            raise PolicyError(f"{origin}: [shell]: must be a table")
        for key, value in raw_shell.items():
            if key in _SHELL_TABLES:
                _shell_table(origin, key, value, tables[key])
            else:
                _shell_key(origin, key, value, shell)
    spec: dict[str, Any] = {"shell": shell, "wrappers": wrappers}
    spec["wrapper_names"], spec["wrapper_globs"] = _index(wrappers)
    for key, entries in tables.items():
        spec[key] = entries
        spec[key[:-1] + "_names"], spec[key[:-1] + "_globs"] = _index(entries)
    return spec


def _shell_table(origin: str, key: str, value: object, into: dict[str, dict[str, Any]]) -> None:
    """[shell.interpreters], [shell.clients] or [shell.writers]: one entry per program."""
    if not isinstance(value, dict):
        raise PolicyError(f"{origin}: [shell.{key}]: must be a table of tables")
    for name, table in value.items():
        into[name] = _COMPILERS[key](origin, name, table)


def _shell_key(origin: str, key: str, value: Any, shell: dict[str, Any]) -> None:
    """One key of [shell] merged into what earlier layers said: lists grow, limits replace."""
    if key == "loader_values":
        if not isinstance(value, dict):
            raise PolicyError(f"{origin}: [shell.loader_values]: must be a table")
        known = {**shell.get(key, {}), **value}
        for var, globs in value.items():
            _check_type(origin, "[shell.loader_values]", var, globs, "strlist")
            if globs[:1] == ["@as"]:  # ["@as", "JAVA_TOOL_OPTIONS", GLOB...]: its forms, and more
                other = known.get(globs[1]) if len(globs) >= 2 else None
                if other is None or other[:1] == ["@as"]:
                    raise PolicyError(
                        f"{origin}: [shell.loader_values]: {var}: @as names no variable "
                        "whose forms are listed"
                    )
                known[var] = [*other, *globs[2:]]
        shell[key] = known
    elif key in _SHELL_LISTS:
        _check_type(origin, "[shell]", key, value, "strlist")
        if key in _PATH_LISTS:
            for pattern in value:
                _check_path_pattern(origin, pattern)
        shell[key] += [v for v in value if v not in shell[key]]
    elif key in _LIMITS:
        _check_type(origin, "[shell]", key, value, "int")
        low, high = _LIMITS[key]
        if not low <= value <= high:
            raise PolicyError(
                f"{origin}: [shell]: {key!r} must be between {low} and {high}, not {value}"
            )
        shell[key] = value
    elif key == "max_seconds":
        if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
            raise PolicyError(
                f"{origin}: [shell]: 'max_seconds' must be a positive number, not {value!r}"
            )
        shell[key] = float(value)
    else:
        raise PolicyError(f"{origin}: [shell]: unknown key {key!r}")


def load_builtin_spec() -> dict[str, Any]:
    """Compile the shipped catalogue alone: the program grammars and policies/shell.toml."""
    from expacti_cli import policy

    spec: dict[str, Any] = policy.compile_files(policy.builtin_files())["shell"]
    return spec
