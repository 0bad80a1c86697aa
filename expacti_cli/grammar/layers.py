"""Program grammars as policy layers: each `[grammar.NAME]` table implies the `[programs]`,
`[wrappers]` and `[shell.*]` tables the matcher and the shell analysis read, and the effect
model's view of the program; `policy.compile_layers` calls `expand_grammars` first and
`policy.pack` stores the views with `grammar_blobs` and `policy.Grammars` reads them back
(kept out of this package so that a decision does not load it)."""

from __future__ import annotations

from ..errors import PolicyError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def grammar_blobs(views: dict[str, Any]) -> dict[str, Any]:
    """The grammars as the cache keeps them: one zlib-compressed marshal blob per grammar
    (aws and gcloud describe thousands of operations: compressed, the cache a decision reads
    stays small), every other name pointing at its grammar, glob names apart."""
    import marshal
    import zlib

    from .schema import index

    exact, globs = index(views)
    return {
        "blobs": {name: zlib.compress(marshal.dumps(view), 1) for name, view in views.items()},
        # Names point at their grammar in bytes: the cache keeps a table of bytes in its blob
        # area with a flat index (cache.Slices), so a decision does not unmarshal 400 names.
        "names": {name: grammar.encode() for name, grammar in exact.items()},
        "globs": globs,
    }


def expand_grammars(
    layers: list[tuple[str, dict[str, Any], str]],
) -> tuple[list[tuple[str, dict[str, Any], str]], dict[str, Any]]:
    """Each layer's [grammar.NAME] tables -> the [programs]/[wrappers]/[shell] tables they imply
    (merged under the layer's own), and the effect-model view of every program."""
    from .schema import builtin_files as grammar_files
    from .schema import expand

    shipped = set(grammar_files())

    def builtin(path: str) -> bool:
        return path in shipped

    out = []
    views: dict[str, Any] = {}
    origins: dict[str, tuple[str, str]] = {}
    for path, layer, text in layers:
        if "grammar" not in layer:
            out.append((path, layer, text))
            continue
        implied, found = expand(path, layer["grammar"])
        for name in found:
            if name in origins and origins[name][1] == "built-in" and builtin(path):
                raise PolicyError(
                    f"{path}: [{name}]: this program's grammar is already in {origins[name][0]} "
                    "(one grammar per program)"
                )
            origins[name] = (path, "built-in" if builtin(path) else "policy")
        views.update(found)
        merged = {k: v for k, v in layer.items() if k != "grammar"}
        for key in ("programs", "wrappers"):
            merged[key] = {**implied[key], **merged.get(key, {})}
        shell = dict(merged.get("shell", {}))
        for key, entries in implied["shell"].items():
            shell[key] = {**entries, **shell.get(key, {})}
        merged["shell"] = shell
        out.append((path, merged, text))
    return out, views
