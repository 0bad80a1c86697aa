"""Code a program loads from places anyone may write, and programs it runs by a derived name.

- **Drop zones.** A value whose role is configuration, a program file or module given by an
  option, or a loader or plugin directory (`curl -K`, `make -f`, `node --require`, `KUBECONFIG`,
  `git -c include.path=`, `terraform -plugin-dir`) makes the program run what that file says
  (a kubeconfig's `exec` credential plugin, a Makefile's recipes, a curlrc's `--output`). Below
  a drop zone ([shell] drop_zones: the temporary directories, `~/Downloads`, another user's
  home) the file is nobody's reviewed configuration: code of unknown safety. Configuration in
  the workspace and in the user's own default locations stays ordinary. An interpreter's main
  script operand (`python3 /tmp/x.py`) is not judged here: running a named script is what a
  whitelisted interpreter is for.
- **Projects and working directories.** A local project a package manager builds (role
  `project`: `pip install DIR`, `npm link DIR`; `module-dir`: `go work use DIR`) and a runner's
  working directory (`make -C DIR`) in a drop zone run code from there (their setup scripts,
  Makefile, package.json scripts).
- **Plugins.** `kubectl NAME`, `git NAME`, `gh NAME`, `cargo NAME`, `docker NAME`, `helm NAME`
  with NAME no built-in subcommand ([X.plugins]) runs the program PREFIX-NAME: judged like a
  program named in a value.
- **Stored credentials sent to a named server** (role `credentials-to`: `kubectl --server`,
  `aws --endpoint-url`, `VAULT_ADDR`): a host not on this machine receives a secret.
"""

from __future__ import annotations

import os

from ..wildcard import match as wildcard_match
from .model import LOOPBACK

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Spellings of the temporary directory a word may carry before it is expanded.
_TMPDIR_WORDS = ("$TMPDIR", "${TMPDIR}", "$TMP", "${TMP}", "$TEMP", "${TEMP}")


def _zones(shell: dict[str, Any], home: str) -> list[str]:
    out = []
    for entry in shell.get("drop_zones", ()):
        zone = entry
        if entry == "$TMPDIR":
            zone = os.environ.get("TMPDIR", "")
        elif entry.startswith("~/"):
            zone = home + entry[1:]
        if zone:
            out.append(zone.rstrip("/") or "/")
    return out


def _below(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def drop_zone(word: str, path: str | None, shell: dict[str, Any], home: str) -> str | None:
    """The drop zone that `path` (the resolved `word`) lies in, or None. Only a word that names
    its place itself counts (absolute, `~`, a variable): a relative one is in the directory the
    line works in. The workspace (the directory guard was asked from) and the user's own home
    are none, except the zones named below home in the list itself (`~/Downloads`)."""
    text = word.strip("\"'")
    if text.startswith(_TMPDIR_WORDS):
        return text.split("/", 1)[0]
    if not path or not path.startswith("/") or not text.startswith(("/", "~", "$")):
        return None  # a relative word is in the directory the line chose to work in
    path = os.path.normpath(path)
    mine = [z for z in shell.get("drop_zones", ()) if z.startswith("~/")]
    if _below(path, home) and not any(_below(path, home + z[1:]) for z in mine):
        return None
    try:
        workspace = os.getcwd()
    except OSError:
        workspace = ""
    if workspace not in ("", "/", home) and _below(path, workspace):
        return None
    for zone in _zones(shell, home):
        if "*" in zone:  # another user's home (`/home/*`): ours was let through above
            head = "/".join(path.split("/")[: zone.count("/") + 1])
            if wildcard_match(zone, head):
                return zone
        elif _below(path, zone):
            return zone
    return None


# Where installed shared libraries live (the dynamic linker's default paths, ld.so(8)).
_SYSTEM_LIB = (
    "/lib/",
    "/lib64/",
    "/lib32/",
    "/usr/lib/",
    "/usr/lib64/",
    "/usr/lib32/",
    "/usr/local/lib/",
    "/opt/homebrew/lib/",
)
_LIBRARY_SUFFIXES = (".so", ".dylib", ".dll", ".bundle")


def native_library(c: Any, w: Any, path: str | None) -> bool:
    """A shared library an option loads into the program (`openssl -engine ./x.so`, `gcc
    -fplugin=x.so`, `ssh -I lib.so`, `php -d extension=./x.so`): machine code no whitelist
    names, wherever it lies, unless the system installed it. A name without a path or suffix
    (`-engine pkcs11`, `-fplugin=annobin`) is looked up in the program's own directories."""
    value = w.value.strip("\"'")
    base = os.path.basename(value)
    if not any(base.endswith(s) or s + "." in base for s in _LIBRARY_SUFFIXES):
        return False
    where = os.path.normpath(path) + "/" if path and path.startswith("/") else ""
    if where.startswith(_SYSTEM_LIB) and not where.startswith("/usr/local/lib/python"):
        return False
    what = f"loads the native library {w.value} ({w.option or 'an operand'})"
    c.add("run", what, "unknown-code", ())
    return True


def from_drop_zone(c: Any, w: Any, path: str | None) -> None:
    """A configuration, program file or plugin given by an option, variable or `config`
    operand (effects.resolve `_Command.runs`): from a drop zone it is code of unknown safety;
    a native library is, wherever it lies outside the system's library directories."""
    if w.option is not None and native_library(c, w, path):
        return
    zone = drop_zone(w.value, path, c.ctx.classes.shell, c.ctx.home)
    if zone:
        what = f"loads {w.value} ({w.option or 'an operand'}) from {zone}, where anyone may write"
        c.add("run", what, "unknown-code", ())


def local_project(c: Any, w: Any) -> None:
    """A package spec that is a local directory or archive (`pip install /tmp/x`, `pip install
    -e DIR`, `npm install /tmp/x`, `npm link DIR`): the program builds it, and its build code
    runs (setup.py or the pyproject build backend, package.json lifecycle scripts). From a
    drop zone it is code of unknown safety; a project in the workspace is the user's own."""
    value = w.value.strip("\"'")
    value = value[5:] if value.startswith("file:") and not value.startswith("file://") else value
    path = c.path(value) if value and "://" not in value else None
    how = c.ctx.line.origin(path) if path else None
    if how in ("fetched", "written"):  # `git clone URL r && pip install ./r`
        cls = "network-code" if how == "fetched" else "unknown-code"
        c.add("run", f"builds {value}, {how} earlier in the line", cls, ())
        return
    if not value.startswith(("/", "~", "$")):
        return
    zone = drop_zone(value, c.path(value), c.ctx.classes.shell, c.ctx.home)
    if zone:
        what = f"builds {value} ({w.option or 'an operand'}) from {zone}, where anyone may write"
        c.add("run", what, "unknown-code", ())


def runner_dir(c: Any) -> None:
    """A build or test runner told to work in a directory (`make -C DIR`, `npm --prefix DIR`,
    `cargo -C DIR`, role `dir`) runs the files it finds there (the grammar's `runs`: a
    Makefile, package.json scripts, build.rs): in a drop zone, code of unknown safety. So does
    one the line moved into a drop zone first (`cd /tmp/x && make`): the directory it works in
    is named by the line, not the workspace guard was asked from."""
    shell, home = c.ctx.classes.shell, c.ctx.home
    for w in c.inv.words:
        if w.role == "dir":
            zone = drop_zone(w.value, c.path(w.value), shell, home)
            if zone:
                what = f"builds or tests in {w.value} ({w.option}) from {zone}, writable by anyone"
                c.add("run", what, "unknown-code", ())
                return
    zone = drop_zone(c.cwd, c.cwd, shell, home) if c.cwd else None
    if zone:
        what = f"builds or tests in {c.cwd}, where the line moved, from {zone}, writable by anyone"
        c.add("run", what, "unknown-code", ())


def credentials_to(c: Any, w: Any) -> None:
    """`credentials-to`: a server the program presents its stored credentials to (`kubectl
    --server`: the current context's token or client certificate; `aws --endpoint-url`: the
    access key id and session token of the signed request; `VAULT_ADDR`: the Vault token). A
    host not on this machine receives a secret; loopback (a local emulator, a tunnel) does not."""
    value = w.value.strip("\"'")
    from .sends import url_host

    host = url_host(value).lower()
    if not host or host.startswith(LOOPBACK):
        return
    c.contact(w)
    what = f"presents its stored credentials to {value} ({w.option or 'a value'})"
    c.add("send", what, "secret-exfiltration", ())


def plugin(c: Any) -> None:
    """`kubectl NAME`, `git NAME`, `gh NAME`, `cargo NAME`, `docker NAME`, `helm NAME`: a first
    word that is no built-in subcommand (the grammar's [X.plugins] builtins and [X.commands])
    runs the program PREFIX-NAME, found on PATH or in the program's plugin directory. Judged
    like a program named in a value: one outside the system's directories, or not installed
    yet (the line may put it there), is code of unknown safety."""
    view, inv = c.view, c.inv
    spec = view.get("plugins") if view else None
    if not spec or inv is None or inv.command or not inv.operands:
        return
    prefix = spec["prefix"]
    if os.path.basename(c.argv[0]) + "-" != prefix:
        return  # another name of the same grammar (`oc` for kubectl) has plugins of its own
    name, index = inv.operands[0]
    if name in spec["builtins"] or not _plain_name(name) or _aliased(inv, name):
        return
    found = _on_path(prefix + name)
    if found and _system(found):
        return
    where = found or "not installed here"
    c.add("run", f"runs the plugin {prefix}{name} ({where})", "unknown-code", (c.argv[index],))


def _aliased(inv: Any, name: str) -> bool:
    """Does the call itself define NAME as an alias (`git -c alias.st=status st`)? git-config(1)
    alias.*: the alias's expansion runs instead of a plugin, and the expansion is judged as its
    value (the grammar's `alias` role: `!CMD` a shell command, else git's own arguments)."""
    key = f"alias.{name}=".lower()
    return any(v is not None and v.lower().startswith(key) for _, v, _ in inv.options)


def _plain_name(word: str) -> bool:
    return bool(word) and word[0].isalnum() and all(ch.isalnum() or ch in "-_." for ch in word)


def _on_path(name: str) -> str | None:
    for d in os.environ.get("PATH", "").split(os.pathsep):
        path = os.path.join(d, name)
        if d and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def _system(path: str) -> bool:
    from .paths import SYSTEM_BIN

    return os.path.realpath(path).startswith(SYSTEM_BIN) or path.startswith(SYSTEM_BIN)
