"""The README shows real `--help` output and a quick start that works; this fails when they drift.

Each `<!-- help: guard ARGS -->` block must equal what the installed `guard ARGS --help`
prints, at 80 columns and at 200 (help is capped at 80 columns, so it is the same at every
width people use). Regenerate the blocks with:
GUARD_UPDATE_DOCS=1 python -m pytest tests/test_docs.py
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from conftest import run_guard

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BLOCK = re.compile(r"(<!-- help: guard(?P<args>[^>]*?) -->\n```text\n)(?P<body>.*?)(```)", re.S)


def _help(args: str, columns: int) -> str:
    result = run_guard(*args.split(), "--help", env={"COLUMNS": str(columns), "LINES": "50"})
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_readme_help_blocks_match_the_real_help_at_every_width() -> None:
    text = README.read_text()
    blocks = list(BLOCK.finditer(text))
    assert len(blocks) >= 6, "README lost its help blocks"
    if os.environ.get("GUARD_UPDATE_DOCS"):
        new = BLOCK.sub(lambda m: m.group(1) + _help(m.group("args"), 80) + m.group(4), text)
        README.write_text(new)
        text = new
        blocks = list(BLOCK.finditer(text))
    for m in blocks:
        for columns in (80, 200):
            assert m.group("body") == _help(m.group("args"), columns), (
                f"README block for guard{m.group('args')} differs from --help at {columns} columns"
            )


def test_readme_quick_start_is_a_venv_then_the_test_command() -> None:
    text = README.read_text()
    quick = text.split("## Quick start", 1)[1].split("```console", 1)[1].split("```", 1)[0]
    commands = re.findall(r"^\$ (.+)$", quick, re.M)
    assert commands == [
        "python3 -m venv .venv && . .venv/bin/activate && pip install . && guard -- git status",
        "tests/run",
    ]
    # .ci/run runs exactly the second command, in a fresh environment.
    ci = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert ci[-1] == "tests/run"
    assert "python3 -m venv .ci/venv" in ci
    script = (ROOT / "tests" / "run").read_text()
    assert "apt-get install -y -qq chromium" in script
    assert script.rstrip().endswith('exec python -m pytest -q "$@"')
    assert os.access(ROOT / "tests" / "run", os.X_OK)
