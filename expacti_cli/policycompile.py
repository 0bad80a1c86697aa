"""Compiling a policy: TOML layers read, validated strictly (unknown keys, types, ranges, each
error naming its file and line) and merged into the plain data `policy.Policy` reads.

Only a cache miss, `guard policy test` and the policy editors load this module; a decision whose
compiled policy is cached reads it through `policy.load` and never imports tomllib or this code.
"""

from __future__ import annotations

import os

from .errors import PolicyError
from .policy import (
    _CATALOGUE_TABLES,
    ANALYSED_KINDS,
    DEFAULT_ANOMALIES,
    DEFAULT_AUDIT,
    DEFAULT_SETTINGS,
    RULE_KINDS,
)
from .settings import out_of_range

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_RULE_KEYS: dict[str, Any] = {
    "id": str,
    "match": (str, list),
    "flags": list,
    "global_flags": list,
    "contains": list,
    "reason": str,
    "agents": list,
    "examples": list,
    "not_examples": list,
    "expires": str,  # RFC 3339 UTC time after which the rule no longer applies
    "learned": dict,  # who remembered the rule, when, from which command (policy_edit)
    "class": str,  # [[protected]]: the protected class (effects/model.py LIFT)
}
_SETTINGS = {
    "default": ("review", "deny"),
    "when_no_reviewer": ("deny", "allow"),
    "review_timeout": "duration",
    "require_identity": bool,
    "decision_budget": "duration",
}
_AUDIT = {"max_bytes": int, "fsync": bool, "key_file": str}
_ANOMALIES = {
    "enabled": bool,
    "min_history": int,
    "max_rate": int,
    "rate_window": "duration",
    "min_hour_share": float,
    "rate_factor": float,
    "rate_floor": int,
    "rate_learning": int,
}
_PROGRAM_LISTS = ("names", "global_options", "global_flags", "value_options", "targets")
_PROGRAM_KEYS: dict[str, Any] = {
    **{k: list for k in _PROGRAM_LISTS},
    "equivalent": dict,
    "clusters": bool,
    "target_positional": int,
    "path": str,
    "sha256": str,
}
_TOP_LEVEL = {
    "settings",
    "audit",
    "anomalies",
    "grammar",
    "programs",
    "wrappers",
    "shell",
    *RULE_KINDS,
}

# A policy of 10,000 rules is about 1 MB; anything past this bound is not a policy.
MAX_POLICY_BYTES = 16 * 1024 * 1024


def read_layer(path: str) -> tuple[dict[str, Any], str]:
    import tomllib

    from .safefile import read_text

    try:
        text = read_text(path, "policy file", MAX_POLICY_BYTES, PolicyError)
    except FileNotFoundError:
        return {}, ""
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: invalid TOML: {exc}") from exc
    except RecursionError:  # tomllib recurses once per nested array or inline table
        raise PolicyError(f"{path}: invalid TOML: arrays or tables nested too deeply") from None


def compile_files(files: list[str]) -> dict[str, Any]:
    from .grammar.schema import builtin_files as grammar_files

    grammars = set(grammar_files())
    layers = []
    for f in files:
        layer, text = read_layer(f)
        layers.append((f, {"grammar": layer} if f in grammars else layer, text))
    return compile_layers(layers)


class _Where:
    """Finds the line of a rule (by its `[[kind]]` header) and of a key inside it."""

    def __init__(self, path: str, text: str) -> None:
        import re

        self.path = path
        self.lines = text.splitlines()
        self.headers: dict[str, list[int]] = {}
        self._all_headers: list[int] | None = None
        self._rule_keys: dict[int, dict[str, int]] = {}
        header = re.compile(r"^\s*\[\[\s*([A-Za-z_-]+)\s*\]\]")
        for no, line in enumerate(self.lines, 1):
            m = header.match(line)
            if m:
                self.headers.setdefault(m.group(1), []).append(no)

    def rule(self, kind: str, index: int, key: str | None = None) -> str:
        starts = self.headers.get(kind, [])
        if index >= len(starts):
            return self.path
        start = starts[index]
        if key is not None:
            no = self._keys_of(start).get(key)
            if no is not None:
                return f"{self.path}:{no}"
        return f"{self.path}:{start}"

    def _keys_of(self, start: int) -> dict[str, int]:
        """The line of each key of the rule whose header is on line `start` (its lines are
        scanned once: compile stays linear in the number of rules)."""
        found = self._rule_keys.get(start)
        if found is None:
            import bisect

            if self._all_headers is None:
                self._all_headers = sorted(n for lines in self.headers.values() for n in lines)
            after = bisect.bisect_right(self._all_headers, start)
            end = self._all_headers[after] if after < len(self._all_headers) else len(self.lines)
            found = self._rule_keys[start] = {}
            for no in range(start + 1, end + 1):
                text = self.lines[no - 1].lstrip()
                name = text.split("=", 1)[0].strip().strip('"') if "=" in text else ""
                if name and name not in found:
                    found[name] = no
        return found

    def key(self, table: str, key: str) -> str:
        in_table = False
        for no, line in enumerate(self.lines, 1):
            s = line.strip()
            if s.startswith("["):
                in_table = s.strip("[] ") == table
            elif in_table and s.startswith((key + " ", key + "=")):
                return f"{self.path}:{no}"
        return self.path


def parse_duration(value: object, what: str) -> float:
    """'120s', '2m', '1h', '1d', '500ms' or a number of seconds; names the bad value."""
    if isinstance(value, bool):
        raise ValueError(f"{what}: expected a duration like '120s', got {value!r}")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f"{what}: duration must not be negative, got {value!r}")
        if value != value or value == float("inf"):  # TOML has `nan` and `inf`
            raise ValueError(f"{what}: expected a finite duration, got {value!r}")
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"{what}: expected a duration like '120s', got {value!r}")
    text = value.strip().lower()
    units = (("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0), ("d", 86400.0))
    suffix, factor = next(((s, f) for s, f in units if text.endswith(s)), ("", 1.0))
    number = text[: len(text) - len(suffix)].strip()
    try:
        seconds = float(number) * factor
    except ValueError:
        raise ValueError(f"{what}: expected a duration like '120s', got {value!r}") from None
    if not number or seconds < 0 or seconds != seconds or seconds == float("inf"):
        raise ValueError(f"{what}: expected a duration like '120s', got {value!r}")
    return seconds


def _type_name(t: object) -> str:
    if isinstance(t, tuple):
        return " or ".join(_type_name(x) for x in t)
    names: dict[object, str] = {
        str: "a string",
        list: "a list",
        dict: "a table",
        bool: "true/false",
        int: "an integer",
    }
    return names.get(t, str(t))


def _check_table(
    layer: dict[str, Any], name: str, schema: dict[str, Any], where: _Where, into: dict[str, Any]
) -> None:
    table = layer.get(name)
    if table is None:
        return
    if not isinstance(table, dict):
        raise PolicyError(f"{where.path}: [{name}] must be a table")
    for key, given in table.items():
        value = given
        loc = where.key(name, key)
        kind = schema.get(key)
        if kind is None:
            known = ", ".join(sorted(schema))
            raise PolicyError(f"{loc}: [{name}]: unknown key '{key}' (known: {known})")
        if kind == "duration":
            try:
                value = parse_duration(value, f"[{name}] {key}")
            except ValueError as exc:
                raise PolicyError(f"{loc}: {exc}") from None
        elif isinstance(kind, tuple) and all(isinstance(k, str) for k in kind):
            if value not in kind:
                choices = " or ".join(repr(k) for k in kind)
                raise PolicyError(f"{loc}: [{name}] {key} must be {choices}, got {value!r}")
        elif kind is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise PolicyError(f"{loc}: [{name}] {key} must be a number, got {value!r}")
            value = float(value)
        elif (isinstance(value, bool) and kind is int) or not isinstance(value, kind):
            raise PolicyError(f"{loc}: [{name}] {key} must be {_type_name(kind)}, got {value!r}")
        if kind is int and value < 0:
            raise PolicyError(f"{loc}: [{name}] {key} must not be negative, got {value!r}")
        why = out_of_range(name, key, value)
        if why:  # the value as written ("0s"), not as parsed (0.0)
            raise PolicyError(f"{loc}: {why.rpartition(', got ')[0]}, got {given!r}")
        into[key] = value


def _str_list(value: object, loc: str, what: str, *, empty_ok: bool = True) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyError(f"{loc}: {what} must be a list of strings")
    if not empty_ok and not value:
        raise PolicyError(f"{loc}: {what} must not be empty")
    if any(not v.strip() for v in value):
        raise PolicyError(f"{loc}: {what} has an empty entry")
    return list(value)


def compile_pattern(text: str) -> list[tuple[str, ...]]:
    from .wildcard import is_glob

    try:
        words = _split(text)
    except ValueError as exc:
        raise ValueError(f"pattern {text!r}: {exc}") from None
    if not words:
        raise ValueError("empty pattern")
    if words[0] == "**":
        raise ValueError(f"pattern {text!r}: the program cannot be '**'")
    tokens: list[tuple[str, ...]] = []
    for i, word in enumerate(words):
        if word == "**":
            tokens.append(("S",))
        elif is_glob(word):
            literal = _escaped_literal(word)
            tokens.append(("G", word) if literal is None else ("L", literal))
        else:
            tokens.append(("L", os.path.normpath(word) if i == 0 and "/" in word else word))
    return tokens


def _escaped_literal(word: str) -> str | None:
    """The text a glob stands for when each of its glob characters is escaped as `[c]` (how
    `suggest.quote_token` spells a literal `*`, `?` or `[`), else None: such a pattern names
    one exact command, and its token is the literal (an exact rule, `exact_only`)."""
    out, i = [], 0
    while i < len(word):
        c = word[i]
        if c == "[" and word[i + 2 : i + 3] == "]" and word[i + 1] in "*?[":
            out.append(word[i + 1])
            i += 3
        elif c in "*?[":
            return None
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _split(text: str) -> list[str]:
    # Most patterns have no quote, backslash or whitespace but spaces: then shlex's words are
    # the space-separated ones, at a fraction of shlex's cost (10,000 rules compile ~2x faster).
    if text.isprintable() and not any(c in text for c in "'\"\\"):
        return [word for word in text.split(" ") if word]
    from .tokenize import split_words

    return split_words(text)


def _compile_programs(layers: list[tuple[str, dict[str, Any], str]]) -> dict[str, Any]:
    merged: dict[str, dict[str, Any]] = {}
    for path, layer, text in layers:
        table = layer.get("programs")
        if table is None:
            continue
        where = _Where(path, text)
        if not isinstance(table, dict):
            raise PolicyError(f"{path}: [programs] must be a table of programs")
        for name, spec in table.items():
            if not isinstance(spec, dict):
                raise PolicyError(f"{where.path}: [programs.{name}] must be a table")
            into = merged.setdefault(name, {"equivalent": {}})
            for key, value in spec.items():
                _program_key(into, name, key, value, where.key(f"programs.{name}", key))
    compiled: dict[str, Any] = {}
    for name, spec in merged.items():
        aliases = {a: canon for canon, al in spec.pop("equivalent").items() for a in al}
        out: dict[str, Any] = {"aliases": aliases}
        for key, value in spec.items():
            out[key] = frozenset(value) if key in _PROGRAM_LISTS and key != "names" else value
        compiled[name] = out
        for other in spec.get("names", []):
            compiled.setdefault(other, out)
    return compiled


def _program_key(into: dict[str, Any], name: str, key: str, value: object, loc: str) -> None:
    """Merge one key of a [programs.NAME] table into what earlier layers said of NAME."""
    kind = _PROGRAM_KEYS.get(key)
    what = f"{loc}: [programs.{name}]"
    if kind is None:
        raise PolicyError(
            f"{what}: unknown key '{key}' (known: {', '.join(sorted(_PROGRAM_KEYS))})"
        )
    if key in _PROGRAM_LISTS:
        items = _str_list(value, loc, f"[programs.{name}] {key}")
        into[key] = list(dict.fromkeys([*into.get(key, []), *items]))
        return
    if key == "equivalent":
        if not isinstance(value, dict):
            raise PolicyError(f"{what} equivalent must be a table")
        for canon, aliases in value.items():
            into["equivalent"][canon] = _str_list(
                aliases, loc, f"[programs.{name}] equivalent.{canon}"
            )
        return
    if (isinstance(value, bool) and kind is int) or not isinstance(value, kind):
        raise PolicyError(f"{what} {key} must be {_type_name(kind)}, got {value!r}")
    if key == "target_positional" and isinstance(value, int) and value < 0:
        raise PolicyError(f"{what} target_positional must not be negative, got {value!r}")
    if key == "sha256" and isinstance(value, str):
        if len(value) != 64 or any(c not in "0123456789abcdef" for c in value.lower()):
            raise PolicyError(f"{what} sha256 must be 64 hex digits")
        value = value.lower()
    into[key] = value


def _compile_flag(flag: str, aliases: dict[str, str]) -> tuple[str, str | None]:
    opt, eq, glob = flag.partition("=")
    if not opt.startswith("-") or opt == "-":
        raise ValueError(f"flag {flag!r} must start with '-'")
    return aliases.get(opt, opt), (glob.lower() if eq else None)


class _At:
    """Where a rule and its keys are in the policy file, for error messages; `label` names the
    rule the way every message about it begins."""

    __slots__ = ("index", "kind", "label", "where")

    def __init__(self, where: _Where, kind: str, index: int, label: str) -> None:
        self.where, self.kind, self.index, self.label = where, kind, index, label

    def __call__(self, key: str | None = None) -> str:
        return self.where.rule(self.kind, self.index, key)

    def error(self, key: str | None, message: str) -> PolicyError:
        return PolicyError(f"{self(key)}: {self.label}: {message}")


def _compile_rule(
    kind: str, index: int, raw: object, where: _Where, programs: dict[str, Any]
) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise PolicyError(f"{where.rule(kind, index)}: [[{kind}]] entries must be tables")
    rid = raw.get("id")
    label = f"[[{kind}]] rule {rid!r}" if isinstance(rid, str) else f"[[{kind}]] rule #{index + 1}"
    at = _At(where, kind, index, label)
    _rule_keys(raw, at)
    if not isinstance(rid, str) or not rid.strip():
        raise at.error(None, "missing 'id'")
    texts, patterns = _rule_patterns(raw, at)
    prog = patterns[0][0]
    spec = programs.get(prog[1]) if prog[0] == "L" else None
    aliases = spec["aliases"] if spec else {}
    lists = {key: _str_list(raw.get(key, []), at(key), f"{label}: {key}") for key in _LISTS}
    for key in ("examples", "not_examples"):
        for example in lists[key]:
            try:
                _split(example)
            except ValueError as exc:
                raise at.error(key, f"{key} {example!r}: {exc}") from None
    return {
        "expires": _expiry(raw.get("expires"), at("expires"), label),
        "learned": _rule_learned(raw, at),
        "kind": kind,
        "id": rid,
        "match": texts,
        "patterns": patterns,
        "exact": [all(t[0] == "L" for t in p) for p in patterns],
        "flags": _rule_flags(raw, "flags", at, aliases),
        "global_flags": _rule_flags(raw, "global_flags", at, aliases),
        "contains": _rule_contains(raw, at),
        "reason": raw.get("reason", ""),
        "class": _rule_class(kind, raw, at),
        "origin": at(),
        **lists,
    }


_LISTS = ("agents", "examples", "not_examples")


def _rule_keys(raw: dict[str, Any], at: _At) -> None:
    """Every key known and of its type."""
    for key, value in raw.items():
        expected = _RULE_KEYS.get(key)
        if expected is None:
            known = ", ".join(sorted(_RULE_KEYS))
            raise at.error(key, f"unknown key '{key}' (known: {known})")
        if not isinstance(value, expected):
            raise at.error(key, f"{key} must be {_type_name(expected)}, got {value!r}")


def _rule_patterns(raw: dict[str, Any], at: _At) -> tuple[list[str], list[list[tuple[str, ...]]]]:
    """(the `match` texts, each compiled)."""
    if "match" not in raw:
        raise at.error(None, "missing 'match'")
    match = raw["match"]
    texts = (
        [match] if isinstance(match, str) else _str_list(match, at("match"), f"{at.label}: match")
    )
    if not texts:
        raise at.error("match", "match must not be empty")
    patterns = []
    for text in texts:
        try:
            patterns.append(compile_pattern(text))
        except ValueError as exc:
            raise at.error("match", str(exc)) from None
    return texts, patterns


def _rule_flags(
    raw: dict[str, Any], key: str, at: _At, aliases: dict[str, str]
) -> list[tuple[str, str | None]]:
    """`flags` or `global_flags`, each in its canonical spelling (the program's aliases)."""
    if key not in raw:
        return []
    compiled = []
    for flag in _str_list(raw[key], at(key), f"{at.label}: {key}", empty_ok=False):
        try:
            compiled.append(_compile_flag(flag, aliases))
        except ValueError as exc:
            raise at.error(key, str(exc)) from None
    return compiled


def _rule_contains(raw: dict[str, Any], at: _At) -> list[str]:
    """`contains`: RE2 expressions, each checked to compile."""
    if "contains" not in raw:
        return []
    from .match import contains_regex

    exprs = _str_list(raw["contains"], at("contains"), f"{at.label}: contains", empty_ok=False)
    for expr in exprs:
        try:
            contains_regex(expr, remember=False)
        except ValueError as exc:
            raise at.error("contains", f"bad regex {expr!r}: {exc}") from None
    return exprs


def _rule_class(kind: str, raw: dict[str, Any], at: _At) -> str:
    """A [[protected]] rule's class of effects (effects/model.py LIFT); no other rule has one."""
    pclass: str = raw.get("class", "")
    if (kind == "protected") != bool(pclass):
        raise at.error(None, "'class' is required for [[protected]] rules only")
    if pclass:
        from .effects.model import LIFT

        if pclass not in LIFT:
            raise at.error("class", f"unknown class {pclass!r} (known: {', '.join(LIFT)})")
    return pclass


def _rule_learned(raw: dict[str, Any], at: _At) -> dict[str, str]:
    """What `approve and remember` recorded of the rule (who, when, the command): strings."""
    learned: dict[str, str] = raw.get("learned", {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in learned.items()):
        raise at.error("learned", "learned holds strings")
    return learned


def _expiry(value: str | None, loc: str, label: str) -> float:
    """`expires = "2026-12-01T00:00:00Z"` as epoch seconds; 0.0 when the rule never expires."""
    if value is None:
        return 0.0
    from datetime import datetime

    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise PolicyError(
            f"{loc}: {label}: expires must be an RFC 3339 time with a zone, e.g. "
            f"2026-12-01T00:00:00Z, got {value!r}"
        )
    return when.timestamp()


def compile_layers(layers: list[tuple[str, dict[str, Any], str]]) -> dict[str, Any]:
    """Validate and merge layers [(path, parsed TOML, text)] into the compiled policy."""
    from .grammar.layers import expand_grammars

    layers, grammars = expand_grammars(layers)
    settings = dict(DEFAULT_SETTINGS)
    audit = dict(DEFAULT_AUDIT)
    anomalies = dict(DEFAULT_ANOMALIES)
    for path, layer, text in layers:
        where = _Where(path, text)
        for key in layer:
            if key not in _TOP_LEVEL:
                known = ", ".join(sorted(_TOP_LEVEL))
                raise PolicyError(f"{where.path}: unknown top-level key '{key}' (known: {known})")
        _check_table(layer, "settings", _SETTINGS, where, settings)
        _check_table(layer, "audit", _AUDIT, where, audit)
        _check_table(layer, "anomalies", _ANOMALIES, where, anomalies)
    programs = _compile_programs(layers)

    rules: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    for path, layer, text in layers:
        where = _Where(path, text)
        for kind in RULE_KINDS:
            entries = layer.get(kind, [])
            if not isinstance(entries, list):
                raise PolicyError(f"{path}: '{kind}' must be an array of tables: [[{kind}]]")
            for i, raw in enumerate(entries):
                rule = _compile_rule(kind, i, raw, where, programs)
                if rule["id"] in seen:
                    raise PolicyError(
                        f"{rule['origin']}: duplicate rule id '{rule['id']}' "
                        f"(first defined at {seen[rule['id']]})"
                    )
                seen[rule["id"]] = rule["origin"]
                rules.append(rule)
    from . import shellspec

    shell = shellspec.compile(
        [(p, {k: layer[k] for k in ("wrappers", "shell") if k in layer}) for p, layer, _ in layers]
    )
    return {
        "settings": settings,
        "audit": audit,
        "anomalies": anomalies,
        "programs": programs,
        "grammar": grammars,
        "rules": rules,
        "shell": shell,
    }


# --------------------------------------------------------------- the runtime form (cached)

_RUNTIME_DROPS = ("examples", "not_examples")  # only `guard policy test` reads them


def _pack(value: Any) -> bytes:
    import marshal
    import zlib

    return zlib.compress(marshal.dumps(value), 1)


def pack(data: dict[str, Any]) -> dict[str, Any]:
    """The runtime form of a compiled policy, as cached.

    Rules, program knowledge and the shell catalogue are kept as marshal blobs, one per program
    name, so a decision unmarshals only what concerns its program: its cost does not grow with
    the number of rules (DESIGN.md, Speed).
    """
    import marshal

    from .grammar.layers import grammar_blobs

    by_name: dict[str, list[dict[str, Any]]] = {}
    wild: list[dict[str, Any]] = []
    for seq, full in enumerate(data["rules"]):
        rule = {k: v for k, v in full.items() if k not in _RUNTIME_DROPS}
        rule["seq"] = seq
        heads = {p[0] for p in rule["patterns"]}
        if any(h[0] != "L" or "/" in h[1] for h in heads):
            wild.append(rule)
        else:
            for head in sorted({h[1] for h in heads}):
                by_name.setdefault(head, []).append(rule)
    shell = data["shell"]
    names: set[str] = set()
    globs: list[str] = []
    for kind in ANALYSED_KINDS:
        names.update(shell.get(f"{kind}_names", {}))
        globs.extend(glob for glob, _ in shell.get(f"{kind}_globs", ()))
    return {
        "packed": True,
        "settings": data["settings"],
        "audit": data["audit"],
        "anomalies": data["anomalies"],
        # Compressed: a rule naming many programs is copied into each of their blobs, and only
        # the blob of the program at hand is ever unpacked.
        "rule_blobs": {name: _pack(rules) for name, rules in by_name.items()},
        "wild_blob": marshal.dumps(wild),
        "program_blobs": {name: _pack(spec) for name, spec in data["programs"].items()},
        "grammar_blobs": grammar_blobs(data.get("grammar", {})),  # grammar/layers.py
        # The shell catalogue by key, and its program tables entry by entry: a prefix call
        # reads only `shell`, a plain line the entries of its own programs.
        "shell_blobs": {
            key: (
                {name: marshal.dumps(entry) for name, entry in value.items()}
                if key in _CATALOGUE_TABLES
                else marshal.dumps(value)
            )
            for key, value in shell.items()
        },
        "analysed": (frozenset(names), tuple(globs)),
        "stamp": data.get("stamp", ()),
    }
