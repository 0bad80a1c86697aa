"""Line state (expacti_cli/shell/state.py): a line is evaluated in order, and what earlier
commands change (working directory, variables, aliases, the command hash) is what later ones
see. Unknown is never guessed: it stays None or a run-time placeholder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import run_guard

from expacti_cli import shell, shellspec
from expacti_cli.shell import Redirect

SPEC = shellspec.load_builtin_spec()
HOME = os.path.expanduser("~")
START = "/srv/start"


def parts(line: str, cwd: str = START) -> list[shell.Part]:
    return shell.analyse(line, SPEC, cwd=cwd).parts


def part(line: str, argv0: str, cwd: str = START) -> shell.Part:
    (found,) = [p for p in parts(line, cwd) if p.argv[0] == argv0]
    return found


def ids(line: str, cwd: str = START) -> set[str]:
    a = shell.analyse(line, SPEC, cwd=cwd)
    return {c.id for c in a.concerns} | {c.id for p in a.parts for c in p.concerns}


# -- working directory -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "cwd"),
    [
        ("ls", START),
        ("cd /opt && ls", "/opt"),
        ("cd /opt; cd sub/../x; ls", "/opt/x"),
        ("cd rel && ls", START + "/rel"),
        ("cd /a; cd /b; cd -; ls", "/a"),
        ("cd; ls", HOME),
        ("cd ~/src; ls", HOME + "/src"),
        ("cd -P /opt && ls", "/opt"),
        ("cd -- /opt && ls", "/opt"),
        ("pushd /a; pushd /b; popd; ls", "/a"),
        ("pushd /a; pushd /b; pushd; ls", "/a"),
        ("(cd /opt); ls", START),
        ("cd /opt | cat; ls", START),
        ("echo $(cd /opt); ls", START),
        ("cd /opt & ls", START),
        ("{ cd /opt; }; ls", "/opt"),
        ("f() { cd /etc; }; f; ls", "/etc"),
        ("eval cd /opt; ls", "/opt"),
        ("HOME=/srv/h; cd; ls", "/srv/h"),
        ("HOME=/srv/h; cd ~/x; ls", "/srv/h/x"),
        ("cd /a; pushd -n /b; ls", "/a"),
        ("cd /a; pushd /b; popd -n; ls", "/b"),
        ("OLDPWD=/etc; cd -; ls", "/etc"),
        ("builtin cd /opt; ls", "/opt"),
        ("command cd /opt; ls", "/opt"),
    ],
)
def test_working_directory_is_tracked(line: str, cwd: str) -> None:
    assert part(line, "ls").cwd == cwd


@pytest.mark.parametrize(
    "line",
    [
        "cd $X; ls",
        'cd "$(pwd)/x"; ls',
        "cd a b; ls",
        "cd ~nosuchuser123; ls",
        "true && cd /opt; ls",
        "if x; then cd /opt; fi; ls",
        "for d in a b; do cd /$d; done; ls",
        "while x; do cd /opt; done; ls",
        "case $x in a) cd /opt;; esac; ls",
        "source ./env.sh; ls",
        "pushd +1; ls",
        "CDPATH=/opt; cd rel; ls",
    ],
)
def test_unknown_working_directory_is_none(line: str) -> None:
    assert part(line, "ls").cwd is None


def test_inside_the_branch_the_directory_is_known() -> None:
    assert part("true && cd /opt && ls", "ls").cwd == "/opt"
    assert part("if x; then cd /opt; ls; fi", "ls").cwd == "/opt"


def test_start_directory_defaults_to_the_process_cwd(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert shell.analyse("ls", SPEC).parts[0].cwd == str(tmp_path)
    assert shell.analyse("ls > x", SPEC).parts[0].cwd == str(tmp_path)


def test_plain_and_full_paths_agree_on_state() -> None:
    for line in ("cd /opt && ls", "cd /a || cd /b; ls", "cd /opt | ls; ls", "x && cd /t && ls"):
        fast = [(p.argv, p.cwd, p.order) for p in shell.analyse(line, SPEC, cwd=START).parts]
        full = shell.analyse(line, SPEC, cwd=START, fast=False).parts
        assert fast == [(p.argv, p.cwd, p.order) for p in full], line


# -- writes resolve against the tracked directory ----------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "cd ~ && printf x >> .bashrc",
        "cd && echo x > .profile",
        "cd ~/.ssh; echo key >> authorized_keys",
        "cd ~ && echo x | tee -a .bashrc",
        "cd /etc && printf x > sudoers",
        "cd $X && printf x >> .bashrc",  # unknown directory: could be home
        "cd ~; ls 2>/dev/null; echo x >> .bashrc",
    ],
)
def test_relative_write_after_cd_is_sensitive(line: str) -> None:
    assert "sensitive-write" in ids(line, cwd="/opt")


@pytest.mark.parametrize(
    "line",
    [
        "cd /opt && printf x >> .bashrc",
        "(cd ~); printf x >> .bashrc",
        "cd ~ | cat; printf x >> .bashrc",
        "cd $X && printf x >> build.log",
    ],
)
def test_relative_write_elsewhere_is_not(line: str) -> None:
    assert "sensitive-write" not in ids(line, cwd="/opt")


# -- variables ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "argv"),
    [
        ("d=~/.ssh; cat $d/id_rsa", ["cat", HOME + "/.ssh/id_rsa"]),
        ("d=/etc; cat ${d}/shadow", ["cat", "/etc/shadow"]),
        ('d="a b"; cat "$d"', ["cat", "a b"]),
        ("export X=rm; $X -rf /", ["rm", "-rf", "/"]),
        ("X=1; X=2; cat $X", ["cat", "2"]),
        ("x=y; true && cat $x", ["cat", "y"]),
        ('d=/; bash -c "rm -rf $d"', ["rm", "-rf", "/"]),
        ("export d=/; bash -c 'rm -rf $d'", ["rm", "-rf", "/"]),
        # bash(1) Arrays: "${a[@]}" is each element as a word, "${a[N]}" element N
        ('a=(ls -la); "${a[@]}"', ["ls", "-la"]),
        ('a=(rm -rf ~); "${a[@]}"', ["rm", "-rf", "~"]),
        ('args=(-la /srv); ls "${args[@]}" x', ["ls", "-la", "/srv", "x"]),
        ('a=(git status); "${a[0]}" "${a[1]}"', ["git", "status"]),
        ("a=(ls -la); ${a[@]}", ["ls", "-la"]),
        # a name reference (declare -n): an assignment to it sets the variable it names
        ("a=ls; declare -n r=a; r=rm; $a -rf /", ["rm", "-rf", "/"]),
        ("a=ls; typeset -n r; r=a; r=rm; $a -rf /", ["rm", "-rf", "/"]),
        ("d=/opt; : ${d:=/}; cat $d", ["cat", "/opt"]),  # set: := leaves it
    ],
)
def test_known_values_are_substituted(line: str, argv: list[str]) -> None:
    assert argv in [p.argv for p in parts(line)]


@pytest.mark.parametrize(
    ("line", "word"),
    [
        ("if x; then d=/; fi; cat $d", "$d"),
        ("d=/opt; for i in a; do cat $d; d=/; done", "$d"),
        ("d=/opt; read d; cat $d", "$d"),
        ('d=/opt; printf -v d %s "$X"; cat $d', "$d"),  # a run-time argument
        ("d=/opt; unset d; cat $d", "$d"),
        ("d=/opt; (( d = 3 )); cat $d", "$d"),
        ("read d; : ${d:=/}; cat $d", "${d:-/}"),  # d, or / when d is empty
        ("d=/opt; (d=/); cat $d", "/opt"),
        ('d="a b"; cat $d', "$d"),  # bash splits it: two words
        ("d='*'; cat $d", "$d"),  # bash globs it
        ("d=/; bash -c 'cat $d'", "$d"),  # not exported: the new shell does not have it
        ("d=/opt; source x; cat $d", "$d"),
        ("d=~user/x; cat $d", "$d"),
        ("d=/opt; f() { local d=/; }; f; cat $d", "$d"),
        ("d=/opt; declare -i d=1+1; cat $d", "$d"),
        ("d=/opt; d=/ :; cat $d", "$d"),  # sh -c keeps an assignment before a special builtin
        ("d=/opt; f() { :; }; d=/ f; cat $d", "$d"),
        ("d=/opt; declare -n r=d; read r; cat $d", "$d"),
        ("d=/opt; declare -n r=d; unset r; cat $d", "$d"),
        ("d=/opt; if x; then declare -n r=d; fi; r=/; cat $d", "$d"),
        ("d=(/opt); d+=(/); cat ${d[@]}", "${d[@]}"),
        ("d=(/opt); d[0]=/; cat ${d[@]}", "${d[@]}"),
        ("d=(/opt); mapfile -t d < f; cat ${d[@]}", "${d[@]}"),
        ("d=(/opt); if x; then d=(/); fi; cat ${d[@]}", "${d[@]}"),
        ("d=(/opt); declare -n r=d; r=(/); cat ${d[@]}", "${d[@]}"),
        ("d=('a b'); cat ${d[@]}", "${d[@]}"),  # unquoted: bash splits it
        ("d=(*.txt); cat ${d[@]}", "${d[@]}"),  # bash globs it when assigned
    ],
)
def test_uncertain_values_stay_placeholders(line: str, word: str) -> None:
    cats = [p for p in parts(line) if p.argv[0] == "cat"]
    assert cats and all(p.argv[1] == word for p in cats), [p.argv for p in cats]


def test_env_holds_exported_and_prefixed_values() -> None:
    p = part("export A=1; B=2; C=3 env", "env")
    assert p.env == {"A": "1", "C": "3"}
    p = part("export A; A=x; D=$(date) env", "env")
    assert p.env == {"A": "x"}
    assert part("X=1 sudo env", "env").env == {}  # sudoers env_reset
    assert part("sudo Y=2 env", "env").env == {"Y": "2"}


@pytest.mark.parametrize(
    ("line", "env"),
    [
        # a wrapper's command inherits the variables set for the wrapper
        ("X=1 timeout 5 env", {"X": "1"}),
        ("X=1 nice -n 5 nohup env", {"X": "1"}),
        ("RAILS_ENV=production bundle exec env", {"RAILS_ENV": "production"}),
        ("X=1 sudo -E env", {"X": "1"}),
        ("X=1 sudo --preserve-env env", {"X": "1"}),
        ("X=1 env Y=2 env", {"X": "1", "Y": "2"}),
        # ... unless the wrapper starts it with an environment of its own
        ("X=1 sudo -u app env", {}),
        ("X=1 env -i Y=2 env", {"Y": "2"}),
        ("X=1 doas env", {}),
    ],
)
def test_a_wrapped_command_inherits_the_wrappers_variables(line: str, env: dict) -> None:
    inner = [p for p in shell.analyse(line, SPEC).parts if p.argv == ["env"]]
    assert inner and inner[-1].env == env, [(p.argv, p.env) for p in inner]


# -- aliases, hash, enable ---------------------------------------------------------------


def test_alias_is_expanded_where_it_is_used() -> None:
    a = shell.analyse("alias x='rm -rf'; x /", SPEC, cwd=START)
    assert ["rm", "-rf", "/"] in [p.argv for p in a.parts if p.via == ["alias"]]


def test_hash_makes_a_name_run_another_program() -> None:
    assert ["/bin/rm", "-rf", "/"] in [p.argv for p in parts("hash -p /bin/rm ls; ls -rf /")]
    assert "dynamic-command" in ids("hash -p $P ls; ls -rf /")
    assert ["ls", "-l"] in [p.argv for p in parts("hash -p /bin/rm ls; hash -r; ls -l")]


def test_enable_f_loads_code() -> None:
    assert "opaque-code" in ids("enable -f ./evil.so cat; cat x")
    assert "opaque-code" not in ids("enable -n echo; echo x")


# -- redirections and order ------------------------------------------------------------


def test_redirect_records() -> None:
    p = part("cd /opt && sort < in.txt > out.txt 2>&1 2>>~/err", "sort")
    assert p.redirects == [
        Redirect("<", 0, "/opt/in.txt"),
        Redirect(">", 1, "/opt/out.txt"),
        Redirect(">&", 2, None),
        Redirect(">>", 2, HOME + "/err"),
    ]
    assert part("cat <<EOF\nx\nEOF", "cat").redirects == [Redirect("<<", 0, None)]
    assert part("cat <<< hi", "cat").redirects == [Redirect("<<<", 0, None)]
    assert part("echo x > $f", "echo").redirects == [Redirect(">", 1, None)]
    assert part("cd $d; echo x > rel", "echo").redirects == [Redirect(">", 1, None)]


def test_redirect_of_a_group_applies_to_each_command() -> None:
    p = part("{ cd /x; echo hi; } > out", "echo")
    assert p.redirects == [Redirect(">", 1, START + "/out")]
    assert p.cwd == "/x"


def test_trailing_redirect_belongs_to_the_last_command() -> None:
    """tree-sitter hangs `>> f` on the whole list; bash gives it to the last command."""
    found = parts("cd /opt && printf x >> log")
    assert [p.redirects for p in found] == [[], [Redirect(">>", 1, "/opt/log")]]


def test_parts_are_in_order() -> None:
    found = parts("a; b | c && e $(d); f")
    assert [p.order for p in found] == list(range(len(found)))
    assert [p.argv[0] for p in found] == ["a", "b", "c", "d", "e", "f"]  # $(d) runs before e


# -- end to end through the installed guard ----------------------------------------------

ALLOW_ALL = """
[[allow]]
id = "everything"
match = "* **"
"""


def test_cd_relative_write_is_not_run_without_review(tmp_path: Path, write_policy) -> None:
    write_policy(ALLOW_ALL)
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    env = {"HOME": str(home)}
    ok = run_guard("-c", "cd ~ && printf x >> notes.txt", env=env, cwd=work)
    assert ok.returncode == 0, ok.stderr
    assert (home / "notes.txt").read_text() == "x"
    denied = run_guard("-c", "cd ~ && printf x >> .bashrc", env=env, cwd=work)
    assert denied.returncode == 77, denied.stderr
    assert "bashrc" in denied.stderr
    assert not (home / ".bashrc").exists()
