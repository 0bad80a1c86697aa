"""The argv the analyser extracts equals what bash itself passes to each program.

Every line runs under the real /bin/bash with PATH holding only recording stubs
(tests/shell_recorder.py). The analyser's top-level parts (via == [], the ones bash itself
executes; parts inside wrappers are run by the wrapper, which here is a stub) must be exactly
the recorded argvs, compared as multisets because pipelines run concurrently. A dynamic word
(placeholder) matches whatever bash made of it.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from shell_recorder import PROGRAMS, Recorder

from expacti_cli import shell, shellspec

pytestmark = pytest.mark.skipif(not os.path.exists("/bin/bash"), reason="needs /bin/bash")

LINES = [
    # quoting and escapes
    "rm -rf build",
    "r''m -rf x",
    '"rm" -r "a b" c',
    "\\r\\m -f \\*",
    '\'r\'"m" \'it\'\\\'\'s\' "q\\"uote" "back\\\\slash" "keep\\x"',
    "rm a\\ b 'c d'e\"f g\"",
    "a $'\\x72\\155\\u00e9\\t|\\n|\\'|\\\\|\\cA|\\e|\\z'",
    "a $'\\101\\0102' $'oct\\1x' $'\\U0001F600'",
    'a $"translated" x',
    "a 'single $HOME `x`' \"\" ''",
    "a \"\" x '' \"\"''",
    "a x\\\ny",
    "a -- --flag=value -x=1 --k=v=w",
    "a '*' \\? \"[ab]\"",
    "a #comment after\nb again",
    "a x#y '#z'",
    # brace expansion
    "{rm,-rf,/tmp/nothing}",
    "rm -{r,f} x{a,b}y",
    "a {a,b}{c,d} {1..3} {01..03} {a..e..2} {3..1} {-1..1} {1..2..0}",
    "a {a}{b,c} {a,b{1..2}} {,x} x{,} {{a,b}} '{a,b}' \\{a,b} {a,\\,} {a\\,b}",
    "a {a..} {1..3a} {x,y}{} {} ab{}",
    'a ""{,} {,}"" {a,\'b c\'} {"a,b"}',
    # lists, pipelines, groups
    "a; b && c || d & x; wait",
    "a | b |& c",
    "! a && b",
    "a\nb\n\nc",
    "(a; b) && { c; d; }",
    "if a; then b; elif c; then d; else x; fi",
    'for i in 1 2; do a "$i"; done',
    "while false; do a; done; until true; do b; done; c",
    "case xyz in x*) a one;; *) b two;; esac",
    "case q in x) a;; q|r) b;& s) c;; esac",
    # substitutions
    'a "$(b x)" "`c y`"',
    'a "pre$(b)post" x',
    'X="$(b 1)" c',
    "a <(b) >(c) z",
    'a "$(( 1 + 2 ))" "$((3*4))"',
    'a "${HOME:+set}" "${NOPE:-$(b dflt)}"',
    'export V="$(b exported)"; c',
    '[[ -n "$(a in-test)" ]] && b',
    "(( $(a 2>/dev/null; echo 1) )) ; b",
    "a > out.txt 2>&1; b < out.txt; c >> out.txt",
    "a > out -r x; b 2>/dev/null y z",
    "cat <<EOF > file.py\nprint('$(b heredoc)')\n`c tick`\nEOF\nd",
    "cat <<'EOF'\n$(b never) `c never`\nEOF",
    "cat <<-EOF | head -n 1\n\thello\n\tEOF",
    'a <<< "$(b herestring)"',
    # here-documents end at the line bash ends them (lookalikes of the delimiter stay text)
    "cat <<'EOF' > x.txt\nEOF = 1\n EOF\nEOFX\nEOF\nb after",
    "cat <<EOF >> x.txt\n\n\n  EOF;\nEOF\nb after",
    "cat <<-EOF\n\tx\n\tEOF\nb after",
    'cat <<"END"\n$x `y`\nEND\nb after',
    "cat <<EOF\nx\\\\\nEOF\nb after",
    "cat <<EOF\nx\\\ny\nEOF\nb after",
    # functions
    'f() { a in-f "$1"; }; f one; f two',
    "function g { b in-g; }; g",
    "h() { a h; }; x",
    # wrappers (their parents only run here)
    "sudo -u root rm -rf /tmp/x",
    "env -i FOO=1 rm x",
    "timeout 5 nice -n 3 a",
    "xargs -I{} rm {} < /dev/null",
    "find . -name '*.py' -exec rm -f {} \\;",
    "bash -c 'a; b'",
    "ssh host 'rm -rf /tmp/x'",
    "X=1 Y=2 a z",
    "a 'multi\nline' \"two\nlines\"",
    "a café 'naïve' é=1 $'\\xc3\\xa9'",
    "a x\n\\rm -f y",
    "a|b|c\nd x&&c",
    # line state: values the line sets are the values bash passes
    'd=val; a $d "$d" ${d}y "pre${d}"',
    'd="p q"; a "$d" x',
    "export e=1; a $e; e=2 b $e",
    "x=1; if a; then x=2; fi; b $x",
    "x=1; for i in 1 2; do a $x; x=2; done",
    "x=1; (x=2); a $x; echo $(x=3) > /dev/null; b $x",
    "x=a; a ${x:=z} $x",
    "cd / && a $PWD; cd /tmp; b $PWD $OLDPWD",
]


# Lines where the analyser also reports commands bash does not reach this time (other
# branches, functions never called): there, only "everything bash ran was reported" holds.
CONDITIONAL = {
    "if a; then b; elif c; then d; else x; fi",
    "while false; do a; done; until true; do b; done; c",
    "case xyz in x*) a one;; *) b two;; esac",
    "case q in x) a;; q|r) b;& s) c;; esac",
    "h() { a h; }; x",
    "a; b && c || d & x; wait",
    "! a && b",
    '[[ -n "$(a in-test)" ]] && b',
    "a <(b) >(c) z",  # process substitutions run asynchronously: bash may exit first
    "x=1; if a; then x=2; fi; b $x",
}


# tree-sitter-bash misparses these (reads past a newline); the analyser says so with a concern
# but still reports the commands bash runs.
PARSER_BUGS = {"a|b|c\nd x&&c"}


@pytest.fixture(scope="module")
def recorder(tmp_path_factory: pytest.TempPathFactory) -> Recorder:
    root = tmp_path_factory.mktemp("rec")
    rec = Recorder(str(root / "r"))
    yield rec
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def spec() -> dict:
    return shellspec.load_builtin_spec()


def _matches(expected: list[str], dynamic: tuple[int, ...], actual: list[str]) -> bool:
    if len(expected) != len(actual):
        return False
    return all(
        k in dynamic or e == a or (k == 0 and e.rsplit("/", 1)[-1] == a)
        for k, (e, a) in enumerate(zip(expected, actual, strict=True))
    )


@pytest.mark.parametrize("line", LINES)
def test_analyser_agrees_with_bash(
    line: str, recorder: Recorder, spec: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(recorder.work)
    analysis = shell.analyse(line, spec)
    if line in PARSER_BUGS:
        assert [c.id for c in analysis.concerns] == ["cannot-analyse"]
    else:
        assert analysis.concerns == [], analysis.concerns
    ours = [(p.argv, p.dynamic) for p in analysis.parts if not p.via]
    recorded = recorder.run(line)
    # Everything bash ran, the analyser reported (loops may run one part several times).
    unreported = [r for r in recorded if not any(_matches(a, d, r) for a, d in ours)]
    assert not unreported, f"bash ran what the analyser missed: {unreported}; ours: {ours}"
    if line not in CONDITIONAL:
        # ... and on straight-line code, nothing more.
        # (builtins such as echo never reach a recording stub)
        extra = [
            a for a, d in ours if a[0] in PROGRAMS and not any(_matches(a, d, r) for r in recorded)
        ]
        assert not extra, f"analyser reported what bash did not run: {extra}; bash: {recorded}"


def test_there_are_enough_lines() -> None:
    assert len(LINES) >= 40


# Here-documents whose end tree-sitter's scanner finds elsewhere than bash (bash(1) "Here
# Documents": the delimiter is the word after quote removal; an unquoted body joins a line
# ending in a backslash to the next; `<<-` drops leading tabs). Whatever tree-sitter makes of
# them, every command bash runs is reported, or the analysis says it cannot follow the line.
HEREDOC_DISAGREEMENTS = [
    'cat <<E"O"F\nx\nEOF\nrm -rf y\nE"O"F\n',
    "cat <<$'EOF'\nx\nEOF\nrm -rf y\n$'EOF'\n",
    "cat <<$'E\\x4fF'\nx\nEOF\nrm -rf y\nEOF\n",
    'cat <<$"EOF"\nx\nEOF\nrm -rf y\n',
    "cat <<E''OF\nx\nEOF\nrm -rf y\n",
    "cat <<'E'OF\nx\nEOF\nrm -rf y\n'E'OF\n",
    "cat <<EOF\nx\nEO\\\nF\nrm -rf y\nEOF\n",
    "cat <<EOF\nx\n\\\nEOF\nrm -rf y\nEOF\n",
    "cat <<-EOF\nx\n\tEO\\\nF\nrm -rf y\nEOF\n",
    "cat <<EOF\nx\nEOF\\\n\nrm -rf y\nEOF\n",
    "cat <<EOF\nx\nEOF \nrm -rf y\nEOF\n",
    "cat <<EOF\nx\n\tEOF\nrm -rf y\nEOF\n",
    "cat <<A <<B\nB\nA\nrm -rf y\nB\n",
    "cat <<EOF;\nx\nEOF\nrm -rf y\n",
    "(cat <<EOF)\nx\nEOF\nrm -rf y\n",
    "if true; then cat <<EOF; fi\nx\nEOF\nrm -rf y\n",
    # found by fuzzing: a body line tree-sitter reads as a line continuation of the command,
    # and an end node spanning the lines after bash's end
    "cat <<-EO\\F\n\\\nEOF\n EOF\ntrue && rm -rf y\nEOF\n",
    'cat >/dev/null << E"O"F\n\'\nEOF\\\n$(echo)\nEOF\nrm -rf y;\nEOF\n',
]


@pytest.mark.parametrize("line", HEREDOC_DISAGREEMENTS)
def test_a_heredoc_bash_ends_elsewhere_hides_nothing(
    line: str, recorder: Recorder, spec: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(recorder.work)
    _hides_nothing(line, recorder.run(line), shell.analyse(line, spec))


def _hides_nothing(line: str, recorded: list[list[str]], analysis: shell.Analysis) -> None:
    """Every command of `recorded` (that bash ran) is one the analysis reports, or the
    analysis says it cannot follow the line (the human reviews it)."""
    ours = [(p.argv, p.dynamic) for p in analysis.parts if not p.via]
    unreported = [r for r in recorded if not any(_matches(a, d, r) for a, d in ours)]
    concerns = {c.id for c in analysis.concerns}
    concerns |= {c.id for p in analysis.parts for c in p.concerns}
    assert not unreported or concerns & {"cannot-analyse", "parse-error", "eval-sink"}, (
        line,
        unreported,
        concerns,
    )


DELIMITER_WORDS = [
    'E"O"F', "E\\OF", "'E'OF", "$X", '"$X"', "E''OF", "$'EOF'", "$'E\\x4fF'", '$"EOF"',
    "`x`", "E{O,}F", '"E F"', "\\EOF", "E\\\\OF", '"E\\"F"', "'E\\F'", '"E\\F"',
    '"E\\$F"', "$'E\\'F'", "E$'O'F", "$", "E$", "~", "*", "E#F", "a\\ b",
]  # fmt: skip


@pytest.mark.parametrize("word", DELIMITER_WORDS)
def test_the_delimiter_is_the_line_bash_ends_at(word: str) -> None:
    from expacti_cli.shell.redirects import delimiter

    ours = delimiter(word)
    # bash ends the document at the first candidate line equal to its delimiter; each candidate
    # is followed by a command that prints its index.
    candidates = sorted({ours, word, word.replace('"', ""), word.replace("'", ""), "EOF"})
    script = f"cat <<{word} >/dev/null\n" + "".join(
        f"{c}\necho {i}\n" for i, c in enumerate(candidates)
    )
    out = subprocess.run(
        ["/bin/bash", "-c", script], capture_output=True, text=True, env={"X": "Q"}, check=False
    ).stdout.split()
    assert out and candidates[int(out[0])] == ours, (candidates, out)


# Lines tree-sitter-bash reads differently from bash, which guard now reads as bash does: a
# backslash-newline bash removes before it reads words (it split `> ~/.ba\<newline>shrc`, made
# a command name of `PYTHON\<newline>PATH=.`), a backquoted body parsed after bash removes its
# escapes (`\`` nests a substitution, `\"` inside double quotes is a quote), and a `#` comment
# that ends with the backquoted body.
READ_AS_BASH = [
    "a x > ou\\\nt.txt 2\\\n>&1; b < out.tx\\\nt",
    "PYTHON\\\nPATH=. a",
    'a y$\\\n(b inner) "$\\\n(c quoted)"',
    "a 'x\\\ny' $'z\\\nw' # c\\\nb after",
    'v=`b "\\`c inner\\`"`; a "$v"',
    'a "`b \\"q r\\"`"',
    # \r, \v and \f are word characters to bash (tree-sitter-bash skips them as blanks)
    "a x\ry\x0bz w\x0c; b\r",
    "a x\r#y; b z",
    # a backquote or `$` after a backslash is a character (tree-sitter-bash, or guard's mask of
    # `\\rm` at the start of a line, started substitutions there)
    'a "x\n\\`\\`\\`\nb phantom\n\\`\\`\\`" z',
    'a "x\n\\$(b phantom)" z',
    # an escaped space or tab is a character of the word (tree-sitter-bash dropped or split it)
    "a \\ x y\\\tz \\ #c; b",
    # a `#` that does not start a word is a character of it
    'a "q"#b {#c; b',
    # a comment in a backquoted body ends with the body (tree-sitter-bash ran it to the end of
    # the line: a parse error)
    'x="\n main\n ppa:x/y `#needed for cubic`\n"; b',
    'a x "`#c`" \\\n  --o y; b',
    'git commit -m "fix `#8888FF` x `b y`"',
    # a here-document without its end line runs to the end (bash warns, and runs the command)
    "cat <<'EOF' > x.md\n# T\n$(b not run)\n",
    "a && cat > b.py <<EOF\nimport x\n`b run`\n",
    "cat <<'EOF' > x.md\n# T\n\nRun:\n```bash\n./b.sh",
]


@pytest.mark.parametrize("line", READ_AS_BASH)
def test_guard_reads_it_as_bash_does(
    line: str, recorder: Recorder, spec: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    test_analyser_agrees_with_bash(line, recorder, spec, monkeypatch)


def test_a_redirection_target_joined_by_a_continuation_is_the_file_written(spec: dict) -> None:
    analysis = shell.analyse("echo x > ~/.ba\\\nshrc", spec)
    assert [p.argv for p in analysis.parts] == [["echo", "x"]]
    assert [c.id for c in analysis.parts[0].concerns] == ["sensitive-write"]


# Lines where bash runs a command tree-sitter-bash reads as something else (text of a comment
# that bash ends earlier, an argument, a nested substitution bash does not nest): every command
# bash runs is reported, or the analysis says it cannot follow the line.
PARSER_DISAGREEMENTS = [
    "a x\\\n#y; touch P",
    "a `#c`;touch P\n b x`",
    "a `b`\na ` touch P`",
    "a `b`;a ` touch P`",
    "a `a \\`touch P\\``",
    'a "`a \\`touch P\\``"',
    "a x\r#y; touch P",
    "a\x0b#y; touch P",
    "a x\x0c#y;touch P",
    "a \\ #; touch P",
    "a x\\\t#y; touch P",
    "[[ x =~ ]]# ]]; touch P; #]]",
    # tree-sitter-bash's here-document word runs past an operator (`EOF;`): bash's is `EOF`
    "cat <<EOF; touch P\nx\nEOF\n",
    "cat <<EOF|touch P\nx\nEOF\n",
    "cat <<EOF; touch P\nx\n",
    # a declaration builtin re-reads an array's quoted `(...)` value as a compound assignment
    "declare -a x='($(touch P))'",
    "typeset -A x='([k]=$(touch P))'",
    'a=(1); declare a="(\\$(touch P))"',
    "f() { local -a x='($(touch P))'; }; f",
    "declare -ga 'x=($(touch P))'",
    "x='($(touch P))'; declare -a y=$x",
    # single quotes in the word of ${x:-…} (=, +, ?) are characters inside double quotes
    "a \"${x:-'$(touch P)'}\"",
    "x=1; a \"${x+a'`touch P`'b}\"",
    "a \"${x:-${y:='$(touch P)'}}\"",
    "cat <<EOF\n${x:-'$(touch P)'}\nEOF\n",
    "a \"${x:-$'$(touch P)'}\"",
    # an operand tree-sitter-bash leaves as a plain word or pattern is expanded by bash
    'a "${x-`touch P`}"',
    'x=1; a "${x#$(touch P)}"',
    "x=1; a ${x%%`touch P`}",
    'a=(); a "${a[@]:-`touch P`}"',
    'x=1; a "${x#\\"$(touch P)\\"}"',
    # an array element's subscript is expanded by bash whatever its quotes
    "a=( ['$(touch P)']=1 ); a",
    "a=( [$'$(touch P)']=1 ); a",
    "a=( [\\`touch P\\`]=1 ); a",
]


@pytest.mark.parametrize("line", PARSER_DISAGREEMENTS)
def test_what_tree_sitter_misreads_hides_nothing(
    line: str, recorder: Recorder, spec: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(recorder.work)
    assert ["touch", "P"] in recorder.run(line), "bash did not run the marker: it proves nothing"
    _hides_nothing(line, [["touch", "P"]], shell.analyse(line, spec))


@pytest.mark.parametrize("line", HEREDOC_DISAGREEMENTS)
def test_a_heredoc_bash_ends_elsewhere_hides_nothing_without_a_final_newline(
    line: str, recorder: Recorder, spec: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    # (a line that does not end in a newline is parsed with one: bash reads it the same)
    test_a_heredoc_bash_ends_elsewhere_hides_nothing(line.rstrip("\n"), recorder, spec, monkeypatch)
