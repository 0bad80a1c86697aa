"""Shell line -> the simple commands bash would run, with what makes them unsafe to auto-allow.

Conservative by construction: tree-sitter-bash gives only the structure; every word is re-read
by our own lexer (bash's quoting, ANSI-C and brace rules); anything the two read differently,
any node kind not handled, any budget overrun is a concern, never an allow. Knowledge about
programs is catalogue data read through spec.py.

Modules, in pipeline order:
  analyser   analyse(line, spec): the entry; plain lines go to plain.py, others to walk.py
  plain      the tree-sitter-free fast path for lines of plain words and && || ; |
  syntax     tree-sitter loading, node kinds, masks for spellings it misreads
  walk       the syntax walk: statements, words, simple commands, in bash's order
  control    pipelines, && ||, if/case/loops: which code shares the line state
  assign     assignments and declarations (export, declare, local, unset...)
  redirects  redirections and heredocs: stdin, writes
  lexer      bash's reading of one word (quotes, $'...', braces, known variables)
  commands   one simple command: its Part, builtins that run code, catalogue programs
  wrappers   programs that run another command (sudo, env, xargs, sh -c, find -exec)
  options    getopt-style option reading against a catalogue entry
  envsplit   `env -S` string splitting, as GNU env does
  sinks      bash's own evaluation sinks (subscripts, name arguments, prompts, callbacks)
  paths      sensitive-path matching (one helper)
  state      line state carried between commands (cwd, variables, aliases, hash)
  binding    values bound at run time: positional parameters, arrays, printf -v, mapfile,
             ${!x} and namerefs, ${x:=word}, set -k
  frame      Budget, Source, Frame: where the walker stands
  session    one analysis in progress: spec, budget, concern sink
  spec       the one accessor of the compiled catalogue
  model      Analysis, Part, Concern, Redirect; concern ids as data

This file stays import-light: `analyse` and the records load their modules on first use.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .model import Analysis, Concern, Part, Redirect

__all__ = ["Analysis", "Concern", "Part", "Redirect", "analyse"]


def analyse(line: str, spec: dict[str, Any], **kwargs: Any) -> Analysis:
    """Every simple command `bash -c LINE` would run, with concerns; never raises for input.
    See analyser.analyse for the keyword arguments (`cwd`, `fast`)."""
    from .analyser import analyse as run

    return run(line, spec, **kwargs)


def __getattr__(name: str) -> Any:
    if name in ("Analysis", "Concern", "Part", "Redirect"):
        from . import model

        return getattr(model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
