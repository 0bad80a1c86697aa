"""The built-in `contains` regexes of sed and vim, rewritten for RE2 (no look-around, no
back-references), lose no match of the Python regexes they replace (issue 9): on generated
inputs, whatever an old regex found, the new ones find too. Extra matches are allowed (a false
alarm, not a bypass).
"""

from __future__ import annotations

import functools
import re
import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expacti_cli import policy
from expacti_cli.match import contains_regex

# The regexes of commit 4a5a664, as they were (Python `re`, case-insensitive); sed's without its
# `w`/`W` forms since the effect model judges the file a sed script writes by its class.
OLD = {
    "sed-runs-or-writes": [
        "(?:^(?:--expression=|-[nsuzEr]*e(?=\\S))?|[;\\n])(?:\\s|\\{|!|,|[+~]\\d++|(?:\\d++(?:~\\d++)?|\\$|/(?:[^/\\\\\\n]|\\\\.)*+/[IM]*|\\\\(?P<a1>[^\\n\\\\])(?:(?!(?P=a1))[^\\\\\\n]|\\\\.)*+(?P=a1)[IM]*))*+e(?=[\\s;}]|$)",
        "(?:^(?:--expression=|-[nsuzEr]*e(?=\\S))?|[;\\n])(?:\\s|\\{|!|,|[+~]\\d++|(?:\\d++(?:~\\d++)?|\\$|/(?:[^/\\\\\\n]|\\\\.)*+/[IM]*|\\\\(?P<a2>[^\\n\\\\])(?:(?!(?P=a2))[^\\\\\\n]|\\\\.)*+(?P=a2)[IM]*))*+s(?P<d>[^\\\\\\n])(?:(?!(?P=d))[^\\\\\\n]|\\\\.)*+(?P=d)(?:(?!(?P=d))[^\\\\\\n]|\\\\.)*+(?P=d)[gpiImM0-9]*e[gpiImM0-9]*(?=[\\s;}]|$)",
    ],
    "vim-plus-command": [
        "^\\+(?![0-9]*$)(?!/)(?!\\?)",
    ],
}

ALPHABETS = {
    "sed-runs-or-writes": [
        *"sewWpgd/|#;\n{}!,$1+~\\%x I-nE",
        "--expression=",
        "-e",
        "-ne",
        "s/",
        "/e",
        "w ",
        "e ",
        "\t",
        "\u00e9",
        "s\x01",
    ],
    "vim-plus-command": list("+0123/?ab!:\n "),
}


@functools.cache
def _new(rule_id: str) -> list[str]:
    """The rule's `contains` as shipped now (read from the catalogue files themselves)."""
    for path in policy.builtin_files():
        with open(path, "rb") as f:
            layer = tomllib.load(f)
        for kind in policy.RULE_KINDS:
            for rule in layer.get(kind, []):
                if rule.get("id") == rule_id:
                    return rule["contains"]
    raise AssertionError(f"no built-in rule {rule_id}")


@pytest.mark.parametrize("rule_id", sorted(OLD))
def test_every_builtin_contains_compiles_on_re2(rule_id):
    assert all(contains_regex(expr) for expr in _new(rule_id))


@pytest.mark.parametrize("rule_id", sorted(OLD))
@settings(max_examples=1500, deadline=None)
@given(data=st.data())
def test_new_regexes_find_whatever_the_old_ones_found(rule_id, data):
    text = "".join(data.draw(st.lists(st.sampled_from(ALPHABETS[rule_id]), max_size=14)))
    old = any(re.search(expr, text, re.IGNORECASE) for expr in OLD[rule_id])
    new = any(contains_regex(expr).search(text) for expr in _new(rule_id))
    assert new or not old, text
