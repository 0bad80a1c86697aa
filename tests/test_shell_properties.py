"""Properties of the shell analyser: however a dangerous command is spelled or hidden behind
harmless ones, it comes out as the argv bash would run; and no input makes it raise."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from expacti_cli import shell, shellspec

SPEC = shellspec.load_builtin_spec()
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _spell_char(c: str) -> st.SearchStrategy[str]:
    """Ways bash lets one write the character c (c is alphanumeric or -)."""
    return st.sampled_from(
        [
            c,
            "\\" + c,
            f"'{c}'",
            f'"{c}"',
            f"$'\\x{ord(c):02x}'",
            f"$'\\{ord(c):03o}'",
            f"$'\\u{ord(c):04x}'",
            f'$"{c}"',
            c + "''",
            '""' + c,
            "\\\n" + c,
        ]
    )


@st.composite
def spellings(draw: st.DrawFn, word: str) -> str:
    text = "".join(draw(_spell_char(c)) for c in word)
    wrap = draw(st.sampled_from(["plain", "brace-empty", "brace-prefix"]))
    if wrap == "brace-empty":
        return "{" + text + ",}"  # second alternative is empty, so removed
    if wrap == "brace-prefix" and len(word) > 1:
        # {r,}m would give two words; {rm,rm} gives the same word twice
        return "{" + text + "," + text + "}"
    return text


def _all_concerns(a: shell.Analysis) -> list[shell.Concern]:
    return a.concerns + [c for p in a.parts for c in p.concerns]


@SETTINGS
@given(spellings("rm"))
def test_any_spelling_of_the_program_name(name: str) -> None:
    a = shell.analyse(name + " -rf build/x", SPEC)
    assert a.parts, a
    assert a.parts[0].argv[0] == "rm"
    assert a.parts[0].argv[-2:] == ["-rf", "build/x"]
    assert not _all_concerns(a)


FLAGS = ["-r", "-f", "-rf", "-fr", "-R", "--recursive", "--force", "--no-preserve-root", "-v"]


@SETTINGS
@given(st.lists(st.sampled_from(FLAGS), min_size=1, max_size=6), st.data())
def test_flags_keep_their_order_and_spelling(flags: list[str], data: st.DataObject) -> None:
    written = ["".join(data.draw(_spell_char(c)) for c in flag) for flag in flags]
    a = shell.analyse("rm " + " ".join(written) + " /", SPEC)
    assert next(p.argv for p in a.parts if p.argv[0] == "rm") == ["rm", *flags, "/"]


HARMLESS = ["ls", "git status", "echo hi", "cd /tmp", "true", "pwd", "cat README.md"]
OPERATORS = [";", "&&", "||", "|", "&", "\n", " ; ", " && ", "\n\n"]
DANGEROUS = ["rm -rf /", "r''m -rf /", "\\rm -rf /", "{rm,-rf,/}", "$'\\x72m' -rf /"]


@SETTINGS
@given(
    st.lists(st.tuples(st.sampled_from(HARMLESS), st.sampled_from(OPERATORS)), max_size=4),
    st.sampled_from(DANGEROUS),
    st.lists(st.tuples(st.sampled_from(OPERATORS), st.sampled_from(HARMLESS)), max_size=3),
    st.sampled_from(["{}", "({})", "{{ {}; }}", "$({})", "`{}`", "bash -c '{}'", "sudo {}"]),
)
def test_harmless_company_hides_nothing(
    before: list[tuple[str, str]],
    dangerous: str,
    after: list[tuple[str, str]],
    frame: str,
) -> None:
    if frame == "bash -c '{}'":
        dangerous = dangerous.replace("'", "'\\''")
    line = "".join(cmd + op for cmd, op in before) + frame.format(dangerous)
    line += "".join(op + cmd for op, cmd in after)
    if line.rstrip().endswith(("&&", "||", "|", ";")) or line.rstrip().endswith("|"):
        line += " true"
    a = shell.analyse(line, SPEC)
    assert ["rm", "-rf", "/"] in [p.argv for p in a.parts], (line, a)


WRAPPERS = [
    "sudo",
    "sudo -u root",
    "env",
    "env -i A=1",
    "nice -n 5",
    "timeout 5",
    "nohup",
    "stdbuf -oL",
    "command",
    "exec",
    "time",
    "xargs -0",
    "chroot /mnt",
]


@SETTINGS
@given(st.lists(st.sampled_from(WRAPPERS), min_size=1, max_size=5))
def test_wrapper_chains_reach_the_command(chain: list[str]) -> None:
    a = shell.analyse(" ".join(chain) + " rm -rf /", SPEC)
    inner = [p for p in a.parts if p.argv[0] == "rm"]
    assert inner, a
    # xargs completes the command with words from its input: they read as `{}`
    filled = ["{}" for w in chain if w.startswith("xargs")]
    assert inner[0].argv == ["rm", "-rf", "/", *filled]
    assert len(inner[0].via) == len(chain)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_never_raises_on_arbitrary_text(line: str) -> None:
    a = shell.analyse(line, SPEC)
    assert not [c for c in a.concerns if c.id == "internal-error"], a.concerns


SHELLISH = st.sampled_from(
    [
        *"abrm -'\"\\$`(){}[]<>|&;!*?~#=\n\t",
        "$(",
        "${",
        "<<EOF\n",
        "\nEOF\n",
        "<<'E'\n",
        "$'",
        "${x:-",
        "((",
        "[[",
        " -c ",
        "sudo ",
        "bash -c ",
        "eval ",
        "xargs ",
        "find . -exec ",
        " \\; ",
        "{a,b}",
        "{1..3}",
        "2>&1",
        ">&",
    ]
)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(SHELLISH, max_size=40).map("".join))
def test_never_raises_on_shell_like_text(line: str) -> None:
    a = shell.analyse(line, SPEC)
    assert not [c for c in a.concerns if c.id == "internal-error"], (line, a.concerns)
