"""Python program text given inline (`python3 -c CODE`): is it code that only computes and prints?

An interpreter's inline code is opaque to guard (concern `opaque-code`), and a whitelisted
interpreter still has a human read it: `python3 -c 'import os; os.system("curl … | sh")'` is the
classic way round a whitelist. But most inline Python agents run computes and prints
(`python3 -c "import json,sys; print(json.load(sys.stdin)['version'])"`). `why_not(text)`
reads the text with Python's own parser (`ast`, the language reference's grammar) and accepts
it only when every construct is on an allowlist, so that running it can do nothing but compute,
read standard input and the command line, and write to standard output and error:

- statements: expressions, assignments, `if`, `for`, `while`, `try`, `assert`, `raise`, `pass`,
  `break`, `continue`, imports of the modules below; no `def`, `class`, `with`, `global`,
  `del`, `async`, `match`;
- names: those the program binds itself, the modules it imported (only as `module.name`: a
  module held in a variable could be asked for anything), and the builtins that compute
  (`print`, `len`, `sorted`, `int`, …); never `open`, `eval`, `exec`, `compile`, `getattr`,
  `globals`, `vars`, `input` (Python 2's evaluates what it reads), `help`, `breakpoint`;
- attributes: of a module, only the names listed for it (`datetime.sys` and `statistics.sys`
  are public, and `sys.modules` holds `os`); of any value, none that starts with `_` (the
  dunder escapes), that is a frame, code or traceback attribute (`gi_frame.f_globals` reaches
  the builtins), or `format`/`format_map` (format fields read attributes);
- the modules and names of the standard library that compute: json, math, re, datetime,
  collections, itertools, statistics, base64, hashlib, … (`_MODULES`); `os` and `sys` only for
  what describes the process (`os.getcwd`, `os.path.join`, `sys.argv`, `sys.stdin`); never
  `os.environ` (secrets), `subprocess`, `socket`, `urllib.request`, `pickle`, `ctypes`,
  `importlib`, `shutil`, `pathlib`, `tempfile`.

A file may be opened for reading by a name written in the code (`with open('setup.cfg') as f:
print(f.read())`, `open(PATH, 'rb')`): what it reads is judged as `cat PATH` would be (a key,
a credentials file: a human's call; `opened`, effects.roles), and any other open (a mode that
writes, a name computed at run time, `open` handed on) stays opaque.

A module outside the standard library (a project's package, numpy, django) may be imported
to see that it imports, and asked only what it is: `import numpy; print(numpy.__version__)`,
`import astropy; print(f'{astropy.__version__} at {astropy.__file__}')`, `import sympy;
print('ok')` (`_PROBES`, read as a direct argument of `print` or a field of an f-string given
to it). Importing it runs its own code, as `python3 -m numpy` or a script would under the same
whitelisted interpreter; nothing of it may be called, stored or handed on (`numpy.loadtxt(KEY)`,
`map(print, …)`). A standard module outside the list is no such module (`import pty`, `import
antigravity` opens a browser): it stays opaque.

Anything else, a text longer than `MAX_TEXT` or deeper than Python's parser allows, a coding
declaration (a cookie could make Python read other text than this parser), or text that does
not parse is "opaque", as before. An import runs a module found first in the working
directory (`python -c` puts it first on sys.path), so a `json.py` there would run: that is
what a whitelisted interpreter does with a script file too (the line's own writes are judged by
the effect model), and why this only decides whether the `opaque-code` concern is raised: the
interpreter itself must still be allowed by a rule.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..grammar.scan import Word
    from .roles import Command as _Command

MAX_TEXT = 4096
MAX_NODES = 2000

_SAFE_BUILTINS = frozenset(
    {
        "print", "len", "range", "sorted", "sum", "min", "max", "abs", "round", "int", "float",
        "str", "bool", "list", "dict", "set", "frozenset", "tuple", "enumerate", "zip", "map",
        "filter", "any", "all", "repr", "ascii", "hex", "oct", "bin", "chr", "ord", "divmod",
        "pow", "reversed", "hash", "iter", "next", "slice", "complex", "bytes", "bytearray",
        "isinstance", "callable", "exit", "quit", "format", "True", "False", "None",
        "Exception", "ValueError", "KeyError", "IndexError", "TypeError", "ZeroDivisionError",
        "AttributeError", "StopIteration", "RuntimeError", "ArithmeticError", "LookupError",
        "UnicodeDecodeError", "UnicodeEncodeError", "OverflowError", "AssertionError",
        "NotImplementedError", "SystemExit", "BaseException", "ImportError",
        "ModuleNotFoundError", "OSError", "FileNotFoundError", "EOFError", "KeyboardInterrupt",
    }
)  # fmt: skip

# Module -> the names it may be asked for. A name that is itself a module maps to its entry.
_MODULES: dict[str, frozenset[str]] = {
    name: frozenset(names.split())
    for name, names in {
        "json": "loads load dumps dump JSONDecodeError JSONDecoder JSONEncoder",
        "math": "pi e tau inf nan sqrt isqrt floor ceil trunc log log2 log10 log1p exp expm1 pow "
        "sin cos tan asin acos atan atan2 sinh cosh tanh hypot dist degrees radians factorial "
        "gcd lcm comb perm prod fsum fabs fmod modf frexp ldexp copysign isclose isnan isinf "
        "isfinite remainder",
        "cmath": "sqrt exp log phase polar rect pi e",
        # Not sys.path: `sys.path.insert(0, "/tmp"); import json` would import /tmp/json.py.
        "sys": "argv stdin stdout stderr version version_info hexversion platform maxsize "
        "maxunicode byteorder executable prefix base_prefix exec_prefix flags "
        "float_info int_info implementation api_version exit getrecursionlimit "
        "getdefaultencoding getfilesystemencoding getsizeof",
        "os": "getcwd sep altsep linesep pathsep curdir pardir extsep name cpu_count getpid "
        "getppid getuid geteuid getgid getegid listdir path",
        "os.path": "join basename dirname exists lexists isfile isdir islink isabs abspath "
        "realpath normpath normcase splitext split expanduser relpath getsize getmtime "
        "commonpath commonprefix sep",
        "re": "compile match search fullmatch findall finditer sub subn split escape "
        "I IGNORECASE M MULTILINE S DOTALL X VERBOSE A ASCII error",
        "datetime": "datetime date time timedelta timezone MINYEAR MAXYEAR",
        "time": "time time_ns monotonic perf_counter strftime strptime gmtime localtime "
        "mktime ctime asctime sleep timezone tzname",
        "calendar": "month monthrange isleap leapdays weekday monthcalendar day_name month_name",
        "collections": "Counter defaultdict OrderedDict namedtuple deque ChainMap",
        "itertools": "chain islice count cycle repeat product permutations combinations "
        "combinations_with_replacement groupby accumulate zip_longest starmap takewhile "
        "dropwhile filterfalse tee compress pairwise",
        "functools": "reduce partial cmp_to_key",
        "operator": "itemgetter add sub mul truediv floordiv mod neg pos abs eq ne lt le gt ge "
        "and_ or_ xor not_ concat contains",
        "statistics": "mean fmean geometric_mean harmonic_mean median median_low median_high "
        "median_grouped mode multimode pstdev pvariance stdev variance quantiles",
        "random": "random randint randrange choice choices shuffle sample uniform gauss seed",
        "string": "ascii_letters ascii_lowercase ascii_uppercase digits hexdigits octdigits "
        "punctuation printable whitespace capwords",
        "textwrap": "dedent indent wrap fill shorten",
        "base64": "b64encode b64decode urlsafe_b64encode urlsafe_b64decode b32encode b32decode "
        "b16encode b16decode encodebytes decodebytes",
        "binascii": "hexlify unhexlify b2a_hex a2b_hex crc32",
        "hashlib": "md5 sha1 sha224 sha256 sha384 sha512 sha3_256 sha3_512 blake2b blake2s",
        "zlib": "compress decompress crc32 adler32",
        "struct": "pack unpack calcsize",
        "uuid": "uuid4 uuid3 uuid5 UUID NAMESPACE_DNS NAMESPACE_URL",
        "secrets": "token_hex token_urlsafe token_bytes choice randbelow",
        "decimal": "Decimal getcontext ROUND_HALF_UP ROUND_DOWN",
        "fractions": "Fraction",
        "heapq": "heappush heappop heapify nlargest nsmallest merge",
        "bisect": "bisect bisect_left bisect_right insort",
        "shlex": "quote split join",
        "html": "escape unescape",
        "urllib": "parse",
        "urllib.parse": "quote quote_plus unquote unquote_plus urlparse urlunparse urlsplit "
        "urlunsplit urljoin urlencode parse_qs parse_qsl",
        "ipaddress": "ip_address ip_network ip_interface IPv4Address IPv6Address IPv4Network "
        "IPv6Network",
        "unicodedata": "name lookup category normalize numeric",
        "pprint": "pprint pformat",
        "csv": "reader writer DictReader DictWriter",
        "io": "StringIO BytesIO",
        "platform": "system release machine node python_version python_implementation",
        "keyword": "iskeyword kwlist",
        "difflib": "unified_diff ndiff SequenceMatcher get_close_matches",
    }.items()
}

_STATEMENTS = (
    "Module Expr Assign AugAssign AnnAssign If For While Try TryStar ExceptHandler Assert "
    "Raise Pass Break Continue Import ImportFrom alias With withitem"
)
_EXPRESSIONS = (
    "Constant Name Load Store Attribute Subscript Slice Starred Call keyword BinOp UnaryOp "
    "BoolOp Compare IfExp NamedExpr List Tuple Set Dict ListComp SetComp DictComp "
    "GeneratorExp comprehension JoinedStr FormattedValue Lambda arguments arg "
    "Add Sub Mult Div FloorDiv Mod Pow LShift RShift BitOr BitXor BitAnd MatMult "
    "UAdd USub Not Invert And Or Eq NotEq Lt LtE Gt GtE Is IsNot In NotIn"
)
_ALLOWED = frozenset((_STATEMENTS + " " + _EXPRESSIONS).split())
# open()'s modes that only read, and the keywords it may be given (as constants).
_READ_MODES = frozenset({"r", "rt", "tr", "rb", "br", "U", "rU", "Ur"})
_OPEN_KEYWORDS = frozenset({"mode", "encoding", "errors", "newline"})
# What a module outside the standard library may be asked: what it is and where it lives.
_PROBES = frozenset({"__version__", "__file__", "__path__", "__name__", "VERSION", "version"})
# Attributes of any value that reach the interpreter's internals (frames hold the globals and
# builtins; format fields read attributes by name).
_FRAME_PREFIXES = ("gi_", "cr_", "ag_", "f_", "tb_", "co_", "func_", "im_")
_FORMATTERS = frozenset({"format", "format_map"})


def why_not(text: str) -> str | None:
    """None when running the Python program `text` can only compute, read standard input and
    the command line, and print; else what makes it opaque (see the module docstring)."""
    if any(_cookie(line) for line in text.splitlines()[:2]):
        return "a coding declaration"
    tree = _parse(text)
    if tree is None:
        return "longer than guard reads" if len(text) > MAX_TEXT else "not Python guard can read"
    return _Reader(tree).why_not()


def _cookie(line: str) -> bool:
    """A coding declaration as Python's tokenizer finds one (PEP 263; tokenizer.c
    get_coding_spec): a comment line (only blanks before `#`) with `coding:` or `coding=`.
    `open(p, encoding='utf-8')` is none."""
    comment = line.lstrip(" \t\f")
    return comment.startswith("#") and ("coding:" in comment or "coding=" in comment)


def _parse(text: str) -> Any:
    """The program's syntax tree, or None: longer than MAX_TEXT, or not Python."""
    if len(text) > MAX_TEXT:
        return None
    import ast

    try:
        return ast.parse(text, mode="exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


class _Reader:
    """One program's names (those it binds, those its imports bind to modules) and the walk."""

    __slots__ = ("attached", "bound", "foreign", "modules", "parents", "tree")

    def __init__(self, tree: Any) -> None:
        self.tree = tree
        self.modules: dict[str, str] = {}  # a name -> the module an import bound it to
        self.foreign: dict[str, str] = {}  # a name -> the module outside the stdlib it names
        self.bound: set[str] = set()  # names the program assigns
        self.attached: set[int] = set()  # module-valued nodes read as `module.name`
        self.parents: dict[int, Any] = {}

    def why_not(self) -> str | None:
        import ast

        nodes = list(ast.walk(self.tree))  # parents before children
        if len(nodes) > MAX_NODES:
            return "longer than guard reads"
        for node in nodes:
            kind = type(node).__name__
            if kind not in _ALLOWED:
                return f"uses {kind}"
            why = self._binds(node)
            if why:
                return why
        if self.foreign.keys() & self.bound:
            return f"rebinds the module {sorted(self.foreign.keys() & self.bound)[0]}"
        if self.foreign or any(getattr(n, "id", None) == "open" for n in nodes):
            for node in nodes:  # who holds a package's name or open(), to see what it is
                for child in ast.iter_child_nodes(node):
                    self.parents[id(child)] = node
        for node in nodes:
            why = self._uses(node)
            if why:
                return why
        return None

    def _binds(self, node: Any) -> str | None:
        """Record the names an import or an assignment binds."""
        kind = type(node).__name__
        if kind == "Import":
            for alias in node.names:
                top = alias.name.split(".")[0]
                if alias.name not in _MODULES and not _foreign(top):
                    return f"imports {alias.name}"
                into = self.modules if alias.name in _MODULES else self.foreign
                into[alias.asname or top] = alias.name if alias.asname else top
        elif kind == "ImportFrom":
            module = node.module or ""
            if not node.level and module not in _MODULES and _foreign(module.split(".")[0]):
                for alias in node.names:  # `from astropy.io import fits`: imported, never used
                    self.foreign[alias.asname or alias.name] = f"{module}.{alias.name}"
                return None
            if node.level or module not in _MODULES:
                return f"imports from {'.' * node.level}{module}"
            for alias in node.names:
                if alias.name not in _MODULES[module]:
                    return f"imports {alias.name} from {module}"
                full = f"{module}.{alias.name}"
                if full in _MODULES:
                    self.modules[alias.asname or alias.name] = full
                else:
                    self.bound.add(alias.asname or alias.name)
        elif kind == "Name" and type(node.ctx).__name__ == "Store":
            self.bound.add(node.id)
        elif kind == "arg":
            self.bound.add(node.arg)
        elif kind == "ExceptHandler" and node.name:
            self.bound.add(node.name)
        return None

    def _uses(self, node: Any) -> str | None:
        kind = type(node).__name__
        if kind == "Name" and node.id in self.foreign:
            return self._probed(node)
        if kind == "Name" and node.id == "open" and "open" not in self.bound:
            return None if _reads(node, self.parents.get(id(node))) else "opens a file"
        if kind == "Attribute" and self._probe(node):
            return None  # `numpy.__version__` given to print (checked with its Name)
        if kind in ("Name", "Attribute"):
            module = self._module_of(node)
            if module is not None and id(node) not in self.attached:
                return f"uses the module {module} as a value"  # `m = sys; m.modules`
        if kind == "Name":
            return self._name(node.id)
        if kind == "Attribute":
            return self._attribute(node)
        if kind == "Call":
            func = node.func
            if type(func).__name__ == "Attribute" and func.attr in _FORMATTERS:
                return f"calls {func.attr} (its fields read attributes)"
        return None

    def _probe(self, node: Any) -> bool:
        """`MODULE.__version__` (a `_PROBES` attribute) of a module outside the stdlib."""
        value = node.value
        return type(value).__name__ == "Name" and value.id in self.foreign and node.attr in _PROBES

    def _probed(self, name: Any) -> str | None:
        """A module outside the stdlib may only be asked what it is, for print to show."""
        what = f"uses the module {self.foreign[name.id]} beyond what it is"
        attribute = self.parents.get(id(name))
        if (
            attribute is None
            or type(attribute).__name__ != "Attribute"
            or not self._probe(attribute)
        ):
            return what
        given = self.parents.get(id(attribute))
        if type(given).__name__ == "FormattedValue":  # f"{numpy.__version__}"
            given = self.parents.get(id(self.parents.get(id(given))))
        func: Any = getattr(given, "func", None) if type(given).__name__ == "Call" else None
        is_print = type(func).__name__ == "Name" and func.id == "print"
        return None if is_print and "print" not in self.bound else what

    def _name(self, name: str) -> str | None:
        if name.startswith("_") and name != "_":
            return f"uses {name}"
        if name in self.modules or name in self.bound or name in _SAFE_BUILTINS:
            return None
        return f"uses {name}"

    def _attribute(self, node: Any) -> str | None:
        attr = node.attr
        if attr.startswith("_") or attr.startswith(_FRAME_PREFIXES):
            return f"reads the attribute {attr}"
        module = self._module_of(node.value)
        if module is None:
            return None
        self.attached.add(id(node.value))
        if attr not in _MODULES[module]:
            return f"uses {module}.{attr}"
        if type(node.ctx).__name__ != "Load":
            return f"changes {module}.{attr}"
        return None

    def _module_of(self, node: Any) -> str | None:
        """The module an expression names (`os`, `os.path`), or None for any other value."""
        kind = type(node).__name__
        if kind == "Name":
            return self.modules.get(node.id)
        if kind == "Attribute":
            outer = self._module_of(node.value)
            if outer is not None and f"{outer}.{node.attr}" in _MODULES:
                return f"{outer}.{node.attr}"
        return None


def _reads(name: Any, call: Any) -> str | None:
    """The file `open(...)` reads, when `name` is the called `open` given a constant name and
    only constant arguments that open it for reading; else None."""
    if type(call).__name__ != "Call" or call.func is not name or not 1 <= len(call.args) <= 2:
        return None
    constants = [*call.args, *(k.value for k in call.keywords)]
    if any(type(v).__name__ != "Constant" for v in constants):
        return None  # a name, mode or keyword known only at run time (or `**kwargs`)
    path, *mode = [a.value for a in call.args]
    mode += [k.value.value for k in call.keywords if k.arg == "mode"]
    if any(k.arg not in _OPEN_KEYWORDS for k in call.keywords):
        return None
    if not isinstance(path, str) or not path or not all(m in _READ_MODES for m in mode):
        return None
    return path


def opened(text: str) -> list[str]:
    """The files a Python program opens for reading by a constant name (`_reads`), in order."""
    import ast

    tree = _parse(text)
    if tree is None:
        return []
    found = (
        _reads(node.func, node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "open"
    )
    return list(dict.fromkeys(p for p in found if p))


def _foreign(top: str) -> bool:
    """A top-level module name outside the standard library (a project's or an installed
    package: what the import runs is that package's own code)."""
    import sys

    return bool(top) and top not in sys.stdlib_module_names and not top.startswith("_")


def imported(text: str) -> list[str]:
    """The top-level modules a Python program imports (`import a.b` -> `a`), in order; none
    for text that does not parse (it is opaque code anyway)."""
    import ast

    tree = _parse(text)
    if tree is None:
        return []
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.append(node.module.split(".")[0])
    return list(dict.fromkeys(names))


def code(c: _Command, w: Word) -> None:
    """Python program text (`python3 -c CODE`): a file it opens for reading is read, as `cat`
    reads it; a module it imports that the line wrote in the working directory
    (`echo … > json.py && python3 -c 'import json'`: `-c` puts the working
    directory first on the module path) is code of unknown safety, as `python3 -m json` is."""
    from ..grammar.scan import Word
    from .words import unquote

    if (c.view or {}).get("code_language") != "python":
        return  # another interpreter's code (perl -e, node -e, awk): not Python
    text = unquote(w.value)
    for path in opened(text):  # `with open('~/.aws/credentials') as f: print(f.read())`
        c.read(Word("read", path, w.index, w.option))
    if not c.ctx.line.made:
        return  # the line wrote no file: no module it imports can be one of the line's
    for name in imported(text):
        if c.module(Word("module", name, w.index, w.option)):
            return


def module_code(c: _Command, argv: list[str], view: dict[str, Any]) -> None:
    """The Python code a module run with `python3 -m` takes as words (`-m timeit -s SETUP
    STMT`, `-m pdb -c CMD`): the shell analysis reads the interpreter's own `-c` and stops at
    `-m`, so this code is read here, as one program (timeit runs its setup, then its statements
    joined by newlines, in one namespace). Code that only computes and prints is ordinary; any
    other is code of unknown safety, as `python3 -c` with it would be."""
    from ..grammar.scan import scan

    words = [w for w in scan(argv, view).words if w.role == "code"]
    if not words:
        return
    words.sort(key=lambda w: w.option is None)  # options' code (setup) first, in order
    text = "\n".join(w.value for w in words)
    # A word known only at run time keeps its source text (`"$CODE"`): an expansion is code
    # nobody can read here (Python itself has no `$` or backquote outside its strings).
    why = "known only at run time" if "$" in text or "`" in text else why_not(text)
    if why is not None:
        what = f"python -m {argv[0]} runs Python code guard cannot read ({why}): {text!r}"
        c.add("run", what[:300], "unknown-code", ())
