"""The pattern grammar and the matcher (DESIGN.md, Patterns): words split like a shell splits
them, each a glob against one argument, `**` for any number of arguments, the program matched by
name however it was called, flags normalised as the `[programs.*]` tables declare."""

from __future__ import annotations

import fnmatch

import pytest
from conftest import compile_policy
from hypothesis import given, settings
from hypothesis import strategies as st

from expacti_cli import wildcard
from expacti_cli.match import args_match, matched_pattern
from expacti_cli.policy import compile_pattern
from expacti_cli.tokenize import Command, join, quote, split_words

PROGRAMS = """
[programs.rm]
equivalent = { "-r" = ["-R", "--recursive"], "-f" = ["--force"] }

[programs.git]
global_options = ["-C", "-c", "--git-dir", "--work-tree"]
global_flags = ["--no-pager", "-P", "--bare"]
equivalent = { "--force" = ["-f"] }

[programs.kubectl]
global_options = ["-n", "--namespace", "--context"]
targets = ["-n", "--context"]
equivalent = { "-n" = ["--namespace"] }

[programs.find]
clusters = false

[programs.tar]
value_options = ["-f", "--file"]
"""


def _rule(pattern: str, *, flags: list[str] | None = None, programs: str = PROGRAMS) -> dict:
    text = programs + f"\n[[allow]]\nid = 'r'\nmatch = {pattern!r}\n"
    if flags is not None:
        text += f"flags = {flags!r}\n"
    policy = compile_policy(text)
    return policy, policy.rules[0]


def matches(pattern: str, command: str | list[str], flags: list[str] | None = None) -> bool:
    policy, rule = _rule(pattern, flags=flags)
    argv = split_words(command) if isinstance(command, str) else command
    return matched_pattern(rule, Command(argv, policy.programs)) is not None


# ------------------------------------------------------------------ the grammar


@pytest.mark.parametrize(
    ("pattern", "command", "expected"),
    [
        # A pattern without `**` names exactly that many arguments.
        ("git status", "git status", True),
        ("git status", "git status -s", False),
        ("git status", "git status .", False),
        ("git status", "git", False),
        ("git status", "git stat", False),
        # `**` is zero or more arguments.
        ("git status **", "git status", True),
        ("git status **", "git status -s --porcelain", True),
        ("git status **", "git log", False),
        # `*` is exactly one argument (any text, even empty).
        ("kubectl get *", "kubectl get pods", True),
        ("kubectl get *", "kubectl get", False),
        ("kubectl get *", "kubectl get pods web", False),
        ("kubectl get * *", "kubectl get pods web", True),
        # A glob inside a word stays inside that argument: it never spans a space.
        ("ls *.txt", "ls a.txt", True),
        ("ls *.txt", ["ls", "a b.txt"], True),
        ("ls *.txt", "ls a.txt b.txt", False),
        ("cat file-?", "cat file-1", True),
        ("cat file-?", "cat file-10", False),
        ("cat [ab].log", "cat b.log", True),
        ("cat [!ab].log", "cat b.log", False),
        # `**` anywhere, several times.
        ("git ** push **", "git push", True),
        ("git ** push **", "git remote push origin", True),
        ("make ** install", "make -j4 install", True),
        ("make ** install", "make install clean", False),
        ("cp ** /etc/*", "cp -a x y /etc/passwd", True),
        ("cp ** /etc/*", "cp /etc/passwd here", False),
        # Quoting in patterns works like the shell: one word with a space in it.
        ("echo 'hello world'", ["echo", "hello world"], True),
        ("echo 'hello world'", ["echo", "hello", "world"], False),
        ('grep "a b" **', ["grep", "a b", "file"], True),
        # The program token: base name, whatever path it was called by.
        ("rm **", "/bin/rm -rf x", True),
        ("rm **", "/usr/bin/../bin/rm -rf x", True),
        ("rm **", "./rm x", True),
        ("rm **", "rmdir x", False),
        ("mkfs* **", "mkfs.ext4 /dev/sda1", True),
        ("mkfs* **", "/sbin/mkfs -t ext4 /dev/sda1", True),
        # ... or the normalised full path when the token holds a `/`.
        ("/usr/bin/rm **", "/usr/bin/../bin/rm -rf x", True),
        ("/usr/bin/rm **", "/usr/bin//rm x", True),
        ("/usr/bin/rm **", "rm x", False),
        ("/usr/bin/rm **", "/bin/rm x", False),
        # Globs are case-sensitive, as argv is.
        ("git status", "git STATUS", False),
    ],
)
def test_pattern_grammar(pattern, command, expected):
    assert matches(pattern, command) is expected


def test_global_options_are_removed_before_matching():
    assert matches("git push **", "git -C /repo push origin main")
    assert matches("git push **", "git -C/repo -c core.pager=cat --no-pager push")
    assert matches("git push **", "git --git-dir=/r/.git push")
    assert matches("git status", "git -C /repo status")
    # The value of a global option is not a subcommand.
    assert not matches("git push **", "git -C push status")
    assert matches("kubectl delete **", "kubectl -n prod delete pod x")
    assert matches("kubectl delete **", "kubectl --context=prod --namespace kube-system delete x")
    # Without a [programs] entry nothing is stripped: the option is an argument like any other.
    assert not matches("svn commit **", "svn -q commit")


# ------------------------------------------------------------------ flags


@pytest.mark.parametrize(
    "command",
    [
        "rm -rf x",
        "rm -fr x",
        "rm -r -f x",
        "rm -f -r x",
        "rm --recursive --force x",
        "rm -R --force x",
        "rm x -rf",
        "rm -rfv x",
        "/usr/bin/../bin/rm -rf x",
    ],
)
def test_flag_spellings_are_normalised(command):
    """`-rf` ≡ `-r -f` ≡ `--recursive --force` where the catalogue declares them equal."""
    assert matches("rm **", command, flags=["-r"])
    assert matches("rm **", command, flags=["-f"])
    assert matches("rm **", command, flags=["--recursive"])  # rule written with an alias


@pytest.mark.parametrize("command", ["rm x", "rm -i x", "rm -- -rf", "rm -v x"])
def test_flags_absent(command):
    assert not matches("rm **", command, flags=["-r", "-f"])


def test_flag_with_value_counts_as_the_flag():
    assert matches("rm **", "rm --force=yes x", flags=["-f"])
    assert matches("git push **", "git push --force=true", flags=["--force"])
    assert matches("git push **", "git push -f", flags=["--force"])  # alias
    assert not matches("git push **", "git push --force-with-lease", flags=["--force"])


def test_flag_value_glob():
    assert matches("git **", "git -c core.pager=less log", flags=["-c=core.pager=*"])
    assert matches("git **", "git -c CORE.PAGER=less log", flags=["-c=core.pager=*"])
    assert not matches("git **", "git -c user.name=x log", flags=["-c=core.pager=*"])
    assert matches("tar **", "tar -f /dev/sda -x", flags=["-f=/dev/*"])
    assert matches("tar **", "tar -xf /dev/sda", flags=["-f=/dev/*"])
    assert not matches("tar **", "tar -xf out.tar", flags=["-f=/dev/*"])


def test_no_clusters_for_programs_that_take_long_single_dash_options():
    # find's `-delete` is one option, not -d -e -l ...
    assert matches("find **", "find . -delete", flags=["-delete"])
    assert not matches("find **", "find . -delete", flags=["-d"])
    # rm clusters: -rf is -r and -f
    assert matches("rm **", "rm -rf x", flags=["-f"])


def test_global_options_count_as_flags():
    assert matches("kubectl **", "kubectl --namespace prod get pods", flags=["-n=prod"])
    assert not matches("kubectl **", "kubectl -n dev get pods", flags=["-n=prod"])


def test_contains_is_a_case_insensitive_regex_over_arguments():
    policy = compile_policy(
        """
        [[deny]]
        id = "drop"
        match = "psql **"
        contains = ["\\\\bdrop\\\\s+table\\\\b"]
        """
    )
    rule = policy.rules[0]
    hit = Command(["psql", "-c", "Drop  TABLE users"], policy.programs)
    miss = Command(["psql", "-c", "select 'droptable'"], policy.programs)
    assert matched_pattern(rule, hit) == "psql **"
    assert matched_pattern(rule, miss) is None


def test_targets_from_options_and_positionals():
    policy = compile_policy(
        PROGRAMS
        + """
        [programs.ssh]
        value_options = ["-p", "-i"]
        target_positional = 1
        """
    )
    kube = Command(["kubectl", "--context", "prod", "-n", "web", "get", "x"], policy.programs)
    assert kube.targets() == ["--context=prod", "-n=web"]
    ssh = Command(["ssh", "-p", "22", "-i", "key", "db1", "uptime"], policy.programs)
    assert ssh.targets() == ["db1"]


# ------------------------------------------------------------------ property tests

_GLOB_ALPHABET = "ab*?[]!^-\\é"


@settings(max_examples=1500, deadline=None)
@given(st.text(alphabet=_GLOB_ALPHABET, max_size=10), st.text(alphabet=_GLOB_ALPHABET, max_size=10))
def test_wildcard_equals_fnmatchcase(pattern, text):
    assert wildcard.match(pattern, text) == fnmatch.fnmatchcase(text, pattern)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=12), st.text(max_size=12))
def test_wildcard_equals_fnmatchcase_any_text(pattern, text):
    assert wildcard.match(pattern, text) == fnmatch.fnmatchcase(text, pattern)


def _reference(tokens: list[str], args: list[str]) -> bool:
    """Plain recursion: `**` takes any number of args, other tokens one (fnmatchcase)."""
    if not tokens:
        return not args
    head, rest = tokens[0], tokens[1:]
    if head == "**":
        return any(_reference(rest, args[i:]) for i in range(len(args) + 1))
    return bool(args) and fnmatch.fnmatchcase(args[0], head) and _reference(rest, args[1:])


_words = st.sampled_from(["a", "b", "ab", "", "-f", "x y"])
_pattern_words = st.sampled_from(["a", "b", "*", "?", "a*", "**", "-f", "[ab]", "x y"])


@settings(max_examples=600, deadline=None)
@given(st.lists(_pattern_words, max_size=6), st.lists(_words, max_size=7))
def test_args_match_equals_reference(words, args):
    compiled = compile_pattern(join(["prog", *words]))
    assert args_match(compiled[1:], args) == _reference(words, args)


_argv_words = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=8
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_argv_words, min_size=1, max_size=6))
def test_quote_round_trips_through_shell_splitting(argv):
    """`join` (the audit `command` field) splits back into the same argv, and a pattern
    written from it names exactly that command."""
    assert split_words(join(argv)) == argv
    for word in argv:
        assert split_words(quote(word)) == [word]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet="abc-", min_size=1, max_size=4), min_size=1, max_size=5))
def test_cluster_equals_separate_flags(letters):
    """`rm -abc` has the same options as `rm -a -b -c` (for a program that allows clusters)."""
    chars = "".join(ch for w in letters for ch in w if ch != "-")
    if not chars:
        return
    policy = compile_policy(PROGRAMS)
    cluster = Command(["rm", "-" + chars, "x"], policy.programs)
    separate = Command(["rm", *[f"-{c}" for c in chars], "x"], policy.programs)
    assert separate.flags <= cluster.flags
    assert cluster.flags - separate.flags <= {"-" + chars}
