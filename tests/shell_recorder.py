"""Run a line with the real /bin/bash where every program is a stub that records its argv.

PATH holds only a temporary directory of stubs; each stub appends
`json.dumps([basename(argv0), *argv[1:]])` to the file named by $REC_LOG and exits 0 without
output. Builtins (echo, cd, test, ...) never reach a stub, which is why differential lines use
ordinary program names.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

STUB = """#!{python} -S
import json, os, sys
with open(os.environ["REC_LOG"], "a", encoding="utf-8", errors="surrogateescape") as f:
    f.write(json.dumps([os.path.basename(sys.argv[0]), *sys.argv[1:]]) + "\\n")
"""

PROGRAMS = [
    "a",
    "b",
    "c",
    "d",
    "x",
    "y",
    "z",
    "rm",
    "git",
    "ls",
    "cat",
    "grep",
    "head",
    "tail",
    "sed",
    "nl",
    "wc",
    "sort",
    "tee",
    "mkdir",
    "touch",
    "cp",
    "mv",
    "chmod",
    "curl",
    "sudo",
    "env",
    "nice",
    "timeout",
    "nohup",
    "xargs",
    "find",
    "ssh",
    "python3",
    "bash",
    "sh",
    "make",
    "pytest",
    "npm",
    "go",
    "docker",
    "kubectl",
    "redis-cli",
    "psql",
    "watch",
]


class Recorder:
    def __init__(self, root: str) -> None:
        self.root = root
        self.runs = 0
        self.bin = os.path.join(root, "bin")
        self.work = os.path.join(root, "work")
        os.makedirs(self.bin)
        os.makedirs(self.work)
        stub = STUB.format(python=sys.executable)
        for name in PROGRAMS:
            path = os.path.join(self.bin, name)
            with open(path, "w", encoding="utf-8") as f:
                f.write(stub)
            os.chmod(path, 0o700)  # executable stub, private to the test

    def run(self, line: str) -> list[list[str]]:
        # A fresh log per line: a process substitution bash did not wait for may still write.
        self.runs += 1
        log = os.path.join(self.root, f"rec{self.runs}.jsonl")
        env = {"PATH": self.bin, "REC_LOG": log, "HOME": self.work, "LC_ALL": "C.UTF-8"}
        subprocess.run(
            ["/bin/bash", "-c", line],
            env=env,
            cwd=self.work,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=30,
            check=False,
        )
        if not os.path.exists(log):
            return []
        with open(log, encoding="utf-8", errors="surrogateescape") as f:
            return [json.loads(row) for row in f if row.strip()]
