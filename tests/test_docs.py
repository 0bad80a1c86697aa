"""The README shows real `--help` output; this fails when the two drift apart.

Regenerate the blocks with: GUARD_UPDATE_DOCS=1 python -m pytest tests/test_docs.py
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from click.testing import CliRunner

from expacti_cli.cli import main

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(r"(<!-- help: guard(?P<args>[^>]*?) -->\n```text\n)(?P<body>.*?)(```)", re.S)


def _help(args: str) -> str:
    result = CliRunner().invoke(
        main,
        [*args.split(), "--help"],
        prog_name="guard",
        catch_exceptions=False,
        terminal_width=100,
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_readme_help_blocks_match_the_cli() -> None:
    text = README.read_text()
    blocks = list(BLOCK.finditer(text))
    assert blocks, "README has no help blocks"
    if os.environ.get("GUARD_UPDATE_DOCS"):
        new = BLOCK.sub(lambda m: m.group(1) + _help(m.group("args")) + m.group(4), text)
        README.write_text(new)
        text = new
        blocks = list(BLOCK.finditer(text))
    for m in blocks:
        assert m.group("body") == _help(m.group("args")), (
            f"README block for guard{m.group('args')} is stale"
        )


def test_readme_quick_start_is_two_commands() -> None:
    text = README.read_text()
    quick = text.split("## Quick start", 1)[1].split("```console", 1)[1].split("```", 1)[0]
    commands = re.findall(r"^\$ (.+)$", quick, re.M)
    assert commands == [
        "pip install . && guard -- git status",
        "pip install '.[test]' && python -m pytest -q",
    ]
    ci = (README.parent / ".ci" / "run").read_text()
    assert "python -m pytest -q" in ci
