"""A harness's file tools, judged as the shell command each amounts to.

A turned agent need not use the shell. Claude Code's Edit can rewrite `.claude/settings.json`
(and drop guard's own hook), Write can append to `~/.bashrc` or add a `.git/hooks` script,
Read can print `~/.aws/credentials`; Gemini CLI's write_file, replace and read_file the same.
A hook wired for these tools (Claude Code matcher `Bash|Read|Write|Edit|MultiEdit|...`) decides
each call as the command that does the same to the same path, so the one policy, its
protected effects and the audit judge them as they judge the Bash tool:

- a read (Read, read_file, read_many_files) as `cat -- PATH...`: a secret is exposed;
- a write (Write, Edit, MultiEdit, NotebookEdit, write_file, replace, and every file a Codex
  apply_patch adds, updates, deletes or moves to) as `true > PATH`, a
  redirection, judged by the path's class like any write (guard's own files, persistence,
  privilege, secrets); the new text is not read (the agent writes the workspace's code);
- a content search (Grep, search_file_content) as `grep -r -e PATTERN -- PATH`: it prints
  lines of every file below PATH;
- a listing (Glob, LS, list_directory, glob) as `ls -d -- PATH`: names only.

A path starting with `~` is the user's home, as the tools read it. Another tool is not
judged here: the harness module says so (`known` is False).
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# tool name -> (what the tool does, the tool_input fields that name its path: the first given)
TOOLS: dict[str, tuple[str, tuple[str, ...]]] = {
    # Claude Code (https://code.claude.com/docs/en/hooks: "PreToolUse input")
    "Read": ("read", ("file_path",)),
    "NotebookRead": ("read", ("notebook_path",)),
    "Write": ("write", ("file_path",)),
    "Edit": ("write", ("file_path",)),
    "MultiEdit": ("write", ("file_path",)),
    "NotebookEdit": ("write", ("notebook_path",)),
    "Grep": ("search", ("path",)),
    "Glob": ("list", ("path",)),
    "LS": ("list", ("path",)),
    # Gemini CLI (https://geminicli.com/docs/tools/file-system)
    "read_file": ("read", ("absolute_path", "file_path")),
    "read_many_files": ("read", ("paths",)),
    "write_file": ("write", ("file_path",)),
    "replace": ("write", ("file_path",)),
    "search_file_content": ("search", ("path", "dir_path")),
    "list_directory": ("list", ("path", "dir_path")),
    "glob": ("list", ("path", "dir_path")),
    # Codex CLI: apply_patch carries its patch in tool_input.command
    "apply_patch": ("patch", ("command",)),
}
_PATCH_PATHS = ("*** Add File: ", "*** Update File: ", "*** Delete File: ", "*** Move to: ")
_OPTIONAL = ("search", "list")  # no path: the working directory


def known(tool: str) -> bool:
    return tool in TOOLS


def line(tool: str, tool_input: Any) -> str | None:
    """The command a call of `tool` (a `known` one) amounts to; None when its input does not
    name its path as the tool's documentation says (the harness module calls it malformed)."""
    import shlex

    what, fields = TOOLS[tool]
    if not isinstance(tool_input, dict):
        return None
    given = [tool_input[f] for f in fields if f in tool_input]
    paths = _paths(given[0]) if given else ([] if what in _OPTIONAL else None)
    if paths is None:
        return None
    if what == "patch":
        paths, what = _patched(paths[0]), "write"
    if not paths and what not in _OPTIONAL:
        return None
    words = [shlex.quote(_home(p)) for p in paths] or ["."]
    if what == "read":
        return "cat -- " + " ".join(words)
    if what == "write":
        return "; ".join(f"true > {w}" for w in words)
    if what == "search":
        pattern = tool_input.get("pattern")
        if not isinstance(pattern, str):
            return None
        return f"grep -r -e {shlex.quote(pattern)} -- " + " ".join(words)
    return "ls -d -- " + " ".join(words)


def _paths(value: Any) -> list[str] | None:
    if isinstance(value, str) and value:
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return list(value)
    return None


def _patched(patch: str) -> list[str]:
    """The files a Codex patch adds, updates, deletes or moves to (its `*** Add File: PATH`
    lines and the like): each is written."""
    return [
        line[len(head) :].strip()
        for line in patch.splitlines()
        for head in _PATCH_PATHS
        if line.startswith(head) and line[len(head) :].strip()
    ]


def _home(path: str) -> str:
    return os.path.expanduser(path) if path.startswith("~") else path
