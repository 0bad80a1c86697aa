"""Decisions and their precedence (DESIGN.md, Decisions): deny > irreversible > review >
allow > default; and what the shipped catalogue guarantees about irreversible commands."""

from __future__ import annotations

import pytest
from conftest import compile_policy

from expacti_cli import policy as policy_mod
from expacti_cli.decide import decide_argv
from expacti_cli.tokenize import split_words

ENGINE_POLICY = """
[programs.rm]
equivalent = { "-r" = ["-R", "--recursive"], "-f" = ["--force"] }

[programs.git]
global_options = ["-C", "-c"]
equivalent = { "--force" = ["-f"] }

[[deny]]
id = "no-mkfs"
match = "mkfs* **"
reason = "formats a disk"

[[irreversible]]
id = "rm-recursive"
match = "rm **"
flags = ["-r", "-f"]
reason = "deletes files for good"

[[irreversible]]
id = "force-push"
match = ["git push **"]
flags = ["--force", "--force-with-lease", "--delete"]
reason = "rewrites remote history"

[[irreversible]]
id = "force-push-refspec"
match = "git push ** +*"
reason = "a +refspec force-pushes"

[[review]]
id = "deploys"
match = "make deploy **"
reason = "deploys something"

[[allow]]
id = "rm-anything"
match = ["rm **", "mkfs.ext4 **"]

[[allow]]
id = "git-anything"
match = "git **"

[[allow]]
id = "deploy-staging"
match = "make deploy staging"

[[allow]]
id = "make-glob"
match = "make **"

[[allow]]
id = "bob-ls"
match = "ls **"
agents = ["bob", "ci-*"]
"""


@pytest.fixture(scope="module")
def engine():
    return compile_policy(ENGINE_POLICY)


def decide(policy, command: str, agent: str = "anonymous"):
    return decide_argv(policy, split_words(command), agent)


def test_deny_beats_allow(engine):
    d = decide(engine, "mkfs.ext4 /dev/sda1")
    assert (d.verdict, d.rule, d.reason) == ("deny", "no-mkfs", "formats a disk")


@pytest.mark.parametrize(
    "command",
    [
        "rm -rf build",
        "rm -fr build",
        "rm -r -f build",
        "rm --recursive --force build",
        "rm -R build",
        "/usr/bin/../bin/rm -rf build",
    ],
)
def test_irreversible_beats_whitelist(engine, command):
    d = decide(engine, command)
    assert d.verdict == "review"
    assert d.irreversible is True
    assert d.rule == "rm-recursive"
    assert d.reason == "deletes files for good"


def test_whitelisted_reversible_is_allowed(engine):
    d = decide(engine, "rm build/a.o")
    assert (d.verdict, d.rule, d.irreversible) == ("allow", "rm-anything", False)
    assert d.pattern == "rm **"


@pytest.mark.parametrize(
    "command",
    [
        "git push --force",
        "git push -f origin main",
        "git -C /r push --force",
        "git -c push.default=current push --force=true",
        "git push origin +main",
        "git push --delete origin old",
    ],
)
def test_force_push_is_irreversible_however_spelled(engine, command):
    d = decide(engine, command)
    assert d.verdict == "review"
    assert d.irreversible
    assert d.rule in ("force-push", "force-push-refspec")


def test_plain_push_is_allowed(engine):
    assert decide(engine, "git -C /r push origin main").verdict == "allow"


def test_review_rule_beats_glob_allow_but_not_exact_allow(engine):
    d = decide(engine, "make deploy prod")
    assert (d.verdict, d.rule, d.irreversible) == ("review", "deploys", False)
    d = decide(engine, "make deploy staging")
    assert (d.verdict, d.rule) == ("allow", "deploy-staging")


def test_exact_allow_never_lifts_irreversible():
    policy = compile_policy(
        """
        [[irreversible]]
        id = "wipe"
        match = "rm **"
        flags = ["-r"]
        [[allow]]
        id = "exact"
        match = "rm -r build"
        """
    )
    d = decide(policy, "rm -r build")
    assert (d.verdict, d.irreversible) == ("review", True)


def test_default_review_and_deny():
    d = decide(compile_policy(""), "whoami")
    assert (d.verdict, d.rule) == ("review", None)
    assert "default" in d.reason
    d = decide(compile_policy("[settings]\ndefault = 'deny'\n"), "whoami")
    assert (d.verdict, d.rule) == ("deny", None)


def test_rules_scoped_to_agents(engine):
    assert decide(engine, "ls -la", agent="bob").verdict == "allow"
    assert decide(engine, "ls -la", agent="ci-42").verdict == "allow"
    assert decide(engine, "ls -la", agent="alice").verdict == "review"
    assert decide(engine, "ls -la").verdict == "review"


def test_later_layer_adds_rules_and_overrides_settings():
    import tomllib

    first = "[settings]\ndefault = 'deny'\n[[allow]]\nid = 'a'\nmatch = 'ls'\n"
    second = "[settings]\ndefault = 'review'\n[[deny]]\nid = 'b'\nmatch = 'ls'\n"
    data = policy_mod.compile_layers(
        [("one.toml", tomllib.loads(first), first), ("two.toml", tomllib.loads(second), second)]
    )
    policy = policy_mod.Policy(data)
    assert policy.settings["default"] == "review"
    assert decide(policy, "ls").verdict == "deny"  # a deny in any layer wins
    assert decide(policy, "pwd").verdict == "review"


def test_first_matching_rule_in_layer_order_is_reported():
    policy = compile_policy(
        """
        [[allow]]
        id = "wide"
        match = "git **"
        [[allow]]
        id = "narrow"
        match = "git status"
        """
    )
    assert decide(policy, "git status").rule == "wide"


def test_empty_program_is_not_allowed():
    policy = compile_policy("[[allow]]\nid = 'all'\nmatch = '* **'\n")
    assert decide_argv(policy, [""], "anonymous").verdict == "review"
    assert decide_argv(policy, [], "anonymous").verdict == "review"


# ------------------------------------------------------------------ the shipped catalogue


@pytest.fixture
def catalogue(write_policy):
    """The built-in catalogue under a user policy that whitelists everything involved."""
    write_policy(
        """
        [[allow]]
        id = "user-allows-all"
        match = ["rm **", "git **", "kubectl **"]
        """
    )
    return policy_mod.load()


@pytest.mark.parametrize(
    "command",
    [
        "rm -rf dir",
        "rm -fr dir",
        "rm -r -f dir",
        "rm --recursive --force dir",
        "rm -Rf dir",
        "/usr/bin/../bin/rm -rf dir",
        "/bin/rm -rf dir",
        "git push --force",
        "git push -f origin main",
        "git push --force-with-lease",
        "git -C /r push --force",
        "git push origin +main",
        "kubectl -n prod delete pod x",
        "kubectl delete pod x",
        "kubectl --context prod delete deployment web",
    ],
)
def test_catalogue_irreversible_even_when_whitelisted(catalogue, command):
    d = decide(catalogue, command)
    assert d.verdict == "review", d
    assert d.irreversible, d
    assert d.rule and d.rule != "user-allows-all"
    assert d.reason


@pytest.mark.parametrize("command", ["git status", "rm file.txt"])
def test_catalogue_leaves_reversible_commands_to_the_whitelist(catalogue, command):
    d = decide(catalogue, command)
    assert d.verdict == "allow", d
    assert not d.irreversible


@pytest.mark.parametrize("shell", ["bash", "sh", "dash", "zsh", "/bin/sh", "/usr/bin/../bin/bash"])
def test_prefix_mode_looks_inside_every_shell_name(write_policy, shell):
    """`sh -c LINE` is analysed like `bash -c LINE`: a whitelisted shell does not carry an
    irreversible command past review (DESIGN.md, Ways an agent reaches it)."""
    from expacti_cli.check import check

    write_policy('[[allow]]\nid = "shells"\nmatch = ["bash **", "sh **", "dash **", "zsh **"]\n')
    d = check(policy_mod.load(), argv=[shell, "-c", "rm -rf /srv/app"])
    assert d.verdict == "review"
    assert d.irreversible


# ---- words known only at run time ------------------------------------------------------------


def test_a_static_variable_is_known_to_later_words(tmp_path, monkeypatch):
    """x=-rf; rm $x DIR: the line's state knows x, so this IS rm -rf (issue 8, line state)."""
    from expacti_cli import check, policy

    path = tmp_path / "all.toml"
    path.write_text('[[allow]]\nid = "every-program"\nmatch = "* **"\n')
    monkeypatch.setenv("GUARD_CACHE_DIR", str(tmp_path / "cache"))
    decision = check.check(policy.load(str(path)), line="x=-rf; rm $x /tmp/project")
    assert decision.verdict == "review"
    assert decision.irreversible
    assert decision.rule == "rm-recursive-or-force"


@pytest.mark.parametrize(
    "line",
    [
        "x=$(cat flags); rm $x /tmp/project",
        'rm "$FLAGS" build',
        "git push origin $REF",
        "git $SUB --force",
        "kill -9 $(cat pids)",
    ],
)
def test_a_run_time_word_that_could_make_it_irreversible_is_reviewed(line, tmp_path, monkeypatch):
    from expacti_cli import check, policy

    path = tmp_path / "all.toml"
    path.write_text('[[allow]]\nid = "every-program"\nmatch = "* **"\n')
    monkeypatch.setenv("GUARD_CACHE_DIR", str(tmp_path / "cache"))
    decision = check.check(policy.load(str(path)), line=line)
    assert decision.verdict == "review", (line, decision)
    assert decision.irreversible
    assert "known only at run time" in decision.reason


@pytest.mark.parametrize(
    "line", ["ls $DIR", 'echo "$HOME"', "kubectl get pods -n $NS", "git diff $(git merge-base a b)"]
)
def test_run_time_words_that_cannot_make_it_irreversible_stay_allowed(line, tmp_path, monkeypatch):
    from expacti_cli import check, policy

    path = tmp_path / "all.toml"
    path.write_text('[[allow]]\nid = "every-program"\nmatch = "* **"\n')
    monkeypatch.setenv("GUARD_CACHE_DIR", str(tmp_path / "cache"))
    assert check.check(policy.load(str(path)), line=line).verdict == "allow", line
