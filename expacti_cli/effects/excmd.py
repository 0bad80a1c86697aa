"""Ex commands given on a vi-family editor's command line (vim(1) `-c CMD`, `--cmd CMD`; the
same as `:CMD` typed in the editor; `:help cmdline-lines`).

A `|` separates commands (`:help :bar`). Each is read by its name, after an optional `:` and
range (`%`, `1,$`, `42`):
- options, display and movement (`set nu`, `syntax on`, `noh`, `42`, `normal! G` is NOT here:
  `:normal` types keys, `:` among them) change nothing outside the buffer: ordinary;
- quitting and writing the buffer back (`q`, `wq`, `x`, `w`) are the editor's own work on its
  files (the file operands are writes already); `w FILE` / `saveas FILE` write FILE, `r FILE` /
  `e FILE` read it; `w !CMD`, `r !CMD` and `!CMD` run a shell command line;
- `s/PAT/REP/` substitutes, unless the replacement is an expression (`\\=`: vimscript);
- anything else (`call system()`, `py3`, `lua`, `source`, `terminal`, `exe`, `g/pat/cmd`,
  `normal`, `let`, an unknown name) is vimscript guard does not read: code of unknown safety.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..grammar.scan import Word
    from .roles import Command as _Command

# Commands that change only the editor's state (vim's :help index names; abbreviations too).
_ORDINARY = frozenset(
    (
        "syntax",
        "syn",
        "filetype",
        "filet",
        "nohlsearch",
        "noh",
        "nohl",
        "q",
        "quit",
        "q!",
        "qa",
        "qall",
        "qa!",
        "qall!",
        "quitall",
        "quitall!",
        "wq",
        "wq!",
        "wqa",
        "wqall",
        "x",
        "xit",
        "xa",
        "xall",
        "wa",
        "wall",
        "update",
        "up",
        "retab",
        "ret",
        "sort",
        "sor",
        "undo",
        "u",
        "redo",
        "red",
        "diffupdate",
        "diffu",
        "diffthis",
        "difft",
        "diffoff",
        "diffo",
        "foldopen",
        "foldo",
        "foldclose",
        "foldc",
        "only",
        "on",
        "vsplit",
        "vs",
        "split",
        "sp",
        "tabnext",
        "tabn",
        "bnext",
        "bn",
        "bprevious",
        "bp",
        "redraw",
        "redr",
        "messages",
        "mes",
        "version",
        "ve",
        "startinsert",
        "star",
        "stopinsert",
        "goto",
        "go",
        "d",
        "delete",
        "y",
        "yank",
        "j",
        "join",
        "le",
        "left",
        "ri",
        "right",
        "ce",
        "center",
        ">",
        "<",
        "=",
    )
)
# `:set` of options that only change display and editing; an option naming a program or an
# expression vim runs later (shell, *prg, *expr, *func, runtimepath, exrc, modeline...) is
# code, and any option not listed here is treated like one.
_SET = frozenset(("set", "se", "setlocal", "setl", "setglobal", "setg"))
_SAFE_OPTIONS = frozenset(
    [
        "nu",
        "number",
        "rnu",
        "relativenumber",
        "ft",
        "filetype",
        "syn",
        "syntax",
        "tw",
        "textwidth",
        "ts",
        "tabstop",
        "sw",
        "shiftwidth",
        "sts",
        "softtabstop",
        "et",
        "expandtab",
        "ai",
        "autoindent",
        "si",
        "smartindent",
        "ci",
        "cindent",
        "list",
        "wrap",
        "lbr",
        "linebreak",
        "paste",
        "hls",
        "hlsearch",
        "is",
        "incsearch",
        "ic",
        "ignorecase",
        "scs",
        "smartcase",
        "spell",
        "spl",
        "spelllang",
        "enc",
        "encoding",
        "fenc",
        "fileencoding",
        "ff",
        "fileformat",
        "bg",
        "background",
        "cul",
        "cursorline",
        "cuc",
        "cursorcolumn",
        "ro",
        "readonly",
        "ma",
        "modifiable",
        "bin",
        "binary",
        "eol",
        "fixeol",
        "fixendofline",
        "bomb",
        "fen",
        "foldenable",
        "fdm",
        "foldmethod",
        "fdl",
        "foldlevel",
        "cc",
        "colorcolumn",
        "so",
        "scrolloff",
        "siso",
        "sidescrolloff",
        "mouse",
        "ls",
        "laststatus",
        "ru",
        "ruler",
        "sc",
        "showcmd",
        "smd",
        "showmode",
        "cp",
        "compatible",
        "tgc",
        "termguicolors",
        "ws",
        "wrapscan",
        "ul",
        "undolevels",
        "nowrap",
        "wm",
        "wrapmargin",
        "js",
        "joinspaces",
        "sr",
        "shiftround",
        "ve",
        "virtualedit",
        "ar",
        "autoread",
        "aw",
        "autowrite",
        "hid",
        "hidden",
        "lz",
        "lazyredraw",
        "tm",
        "timeoutlen",
        "nf",
        "nrformats",
        "fo",
        "formatoptions",
        "com",
        "comments",
        "cms",
        "commentstring",
        "sta",
        "smarttab",
        "bs",
        "backspace",
        "ww",
        "whichwrap",
        "sol",
        "startofline",
        "vb",
        "visualbell",
        "eb",
        "errorbells",
        "all",
    ]
)
# `:normal` keys: Ex commands (`:`), filters through a shell (`!`), registers run as commands
# (`@`), Ex mode (`Q`), the expression register and `=` filter, `K` (runs 'keywordprg'), and
# any line end (which would submit a command) make it code.
_NORMAL_UNSAFE = frozenset(':!@Q=K"\r\n\x16')
# Command modifiers (`:help :silent`, `:help :keepjumps`, `:help :vertical`): the command after
# one is what runs.
_MODIFIERS = frozenset(
    [
        "silent",
        "silent!",
        "sil",
        "sil!",
        "unsilent",
        "keepjumps",
        "keepj",
        "keepmarks",
        "kee",
        "keepalt",
        "keepa",
        "keeppatterns",
        "keepp",
        "lockmarks",
        "loc",
        "noautocmd",
        "noa",
        "noswapfile",
        "nos",
        "vertical",
        "vert",
        "leftabove",
        "lefta",
        "aboveleft",
        "abo",
        "belowright",
        "bel",
        "rightbelow",
        "rightb",
        "topleft",
        "to",
        "botright",
        "bo",
        "tab",
    ]
)
_WRITES = frozenset(("w", "write", "w!", "write!", "sav", "saveas", "sav!", "saveas!", "wq", "x"))
_READS = frozenset(("r", "read", "e", "edit", "e!", "edit!", "sp", "split", "vs", "vsplit"))
_RANGE = frozenset("0123456789%$.,;'<>+-")


def judge(c: _Command, w: Word) -> None:
    """Every command of one `-c`/`--cmd` value (or `+CMD` operand)."""
    from .words import unquote

    text = unquote(w.value).strip()
    for part in text.split("|"):
        _one(c, w, part.strip())


def _one(c: _Command, w: Word, cmd: str) -> None:
    from ..grammar.scan import Word

    cmd = cmd.lstrip(":").lstrip()
    while True:  # `:silent! CMD`, `:keepjumps CMD`: a modifier, then the command it runs
        head, _, tail = cmd.partition(" ")
        if head not in _MODIFIERS or not tail.strip():
            break
        cmd = tail.lstrip()
    k = 0
    while k < len(cmd) and cmd[k] in _RANGE:
        k += 1
    cmd = cmd[k:].lstrip()
    if not cmd or cmd.startswith(("/", "?")):  # a line number or a search: moves the cursor
        return
    if cmd.startswith("!"):
        c.add("command", cmd[1:], None, ())
        return
    name, rest = _name(cmd)
    arg = rest.strip()
    if name in ("s", "substitute") and "\\=" not in rest and "`" not in rest:
        return
    if name in _WRITES or name in _READS:
        if arg.startswith("!"):
            c.add("command", arg[1:], None, ())
        elif arg.startswith(("++", "`")) or "`" in arg:
            _unknown(c, w, cmd)
        elif arg:
            c.role(Word("write" if name in _WRITES else "read", arg, w.index, w.option))
        return
    if name in _SET and _safe_set(arg):
        return
    if name in ("norm", "normal", "norm!", "normal!") and not set(arg) & _NORMAL_UNSAFE:
        return
    if name in _ORDINARY and "`" not in rest and "system(" not in rest:
        return
    _unknown(c, w, cmd)


def _safe_set(arg: str) -> bool:
    """Every word of a `:set` sets, toggles or shows an option of _SAFE_OPTIONS to a plain value."""
    for word in arg.split():
        name = word
        for sep in ("+=", "-=", "^=", "=", ":"):
            name = name.split(sep, 1)[0]
        name = name.rstrip("!?&")
        for prefix in ("no", "inv"):
            if name.startswith(prefix) and name[len(prefix) :] in _SAFE_OPTIONS:
                name = name[len(prefix) :]
        value = word[len(name) :]
        if name not in _SAFE_OPTIONS or "`" in value or "\\=" in value:
            return False
    return True


def _name(cmd: str) -> tuple[str, str]:
    """The command's name and the rest: letters (and a `!` right after them), or one sign."""
    k = 0
    while k < len(cmd) and cmd[k].isalpha():
        k += 1
    if k == 0:
        return cmd[:1], cmd[1:]
    if k < len(cmd) and cmd[k] == "!":
        k += 1
    return cmd[:k], cmd[k:]


def _unknown(c: _Command, w: Word, cmd: str) -> None:
    c.add("run", f"runs the Ex command {cmd!r} ({w.option or 'an operand'})", "unknown-code", ())
