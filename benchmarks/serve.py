"""`guard serve` figures: client mode's cost at start-up, and one server's throughput.

    python benchmarks/serve.py [--rounds N] [--agents 16] [--decisions 200] [--no-pg]

Prints:
  1. `python -c pass`, `guard -- true` in local mode and in client mode (GUARD_SERVER=unix:),
     interleaved round by round, medians and the client/python ratio (issue 12 target: 1.2x).
     Client mode twice: against a server started for the benchmark, and against one that has
     already recorded IN_SERVICE decisions (a server in service: SQLite's write-ahead log has
     reached its working size and is rewritten in place, which syncs faster than a growing
     file);
  2. decisions per second through one server from N concurrent agents (each a process sending
     its requests one after another through the real client code), with p50/p99 latency,
     on SQLite and, when Debian's PostgreSQL is installed and this runs as root, on a
     throwaway PostgreSQL cluster.
Everything runs as the current user (the server's Unix user maps to the benchmark's agents).
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import pwd
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

from common import time_run

POLICY = """
[settings]
default = "review"
[[allow]]
id = "bench"
match = ["true", "echo **"]
"""
AGENT = """
import sys, time
from expacti_cli import client

server, agent, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
times = []
for n in range(count):
    t = time.perf_counter()
    answer = client.ask(server, {"op": "decide", "mode": "prefix", "argv": ["echo", str(n)],
                                 "line": None, "shell_argv": [], "cwd": "/", "agent": agent,
                                 "token": None, "session": "bench", "program": "/bin/echo"})
    times.append(time.perf_counter() - t)
    assert answer["decision"] == "allowed", answer
print(" ".join(f"{x:.6f}" for x in times))
"""
GUARD = os.path.join(os.path.dirname(sys.executable), "guard")
IN_SERVICE = 1500  # decisions a server "in service" has recorded (~4,500 WAL pages)


@contextlib.contextmanager
def server(tmp: str, db: str | None = None, name: str = "s") -> Iterator[str]:
    env = {
        **os.environ,
        "GUARD_STATE_DIR": f"{tmp}/{name}-state",
        "GUARD_CONFIG_DIR": f"{tmp}/{name}-config",
        "GUARD_CACHE_DIR": f"{tmp}/{name}-cache",
    }
    env.pop("GUARD_SERVER", None)
    if db:
        env["GUARD_SERVER_DB"] = db
    policy = os.path.join(tmp, "policy.toml")
    with open(policy, "w") as f:
        f.write(POLICY)
    user = pwd.getpwuid(os.getuid()).pw_name
    for i in range(16):
        subprocess.run(
            [GUARD, "serve", "agent", "add", f"bench-{i}", "--user", user],
            env=env,
            check=False,
            capture_output=True,
        )
    sock = os.path.join(tmp, f"{name}.sock")
    log = open(os.path.join(tmp, f"{name}.log"), "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [GUARD, "serve", "--socket", sock, "--policy", policy], env=env, stdout=log, stderr=log
    )
    try:
        while not os.path.exists(sock):
            if proc.poll() is not None:
                raise SystemExit("guard serve did not start")
            time.sleep(0.05)
        yield f"unix:{sock}"
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
        with open(log.name) as f:
            errors = [line for line in f if "Error" in line or "error" in line]
        if errors:
            print(f"  ({name}: {len(errors)} error lines in its log, e.g. {errors[-1].strip()})")


def fill(url: str, decisions: int) -> None:
    """Let the server record `decisions` allowed decisions (of agent bench-15)."""
    subprocess.run(
        [sys.executable, "-c", AGENT, url, "bench-15", str(decisions)],
        stdout=subprocess.DEVNULL,
        check=True,
    )


def startup(rounds: int, url: str, tmp: str, in_service: str) -> None:
    base = {
        **os.environ,
        "GUARD_STATE_DIR": f"{tmp}/agent-state",
        "GUARD_CONFIG_DIR": f"{tmp}/agent-config",
        "GUARD_CACHE_DIR": f"{tmp}/agent-cache",
        "GUARD_POLICY": os.path.join(tmp, "policy.toml"),
        "GUARD_AGENT": "bench-0",
    }
    base.pop("GUARD_SERVER", None)
    client = {**base, "GUARD_SERVER": url}
    cases = {
        "python -c pass": ([sys.executable, "-c", "pass"], base),
        "guard -- true (local)": ([GUARD, "--", "true"], base),
        "guard -- true (client mode)": ([GUARD, "--", "true"], client),
        "  ... server in service": ([GUARD, "--", "true"], {**base, "GUARD_SERVER": in_service}),
    }
    for cmd, env in cases.values():  # warm caches
        time_run(cmd, env)
    times: dict[str, list[float]] = {k: [] for k in cases}
    cpu: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(rounds):
        for name, (cmd, env) in cases.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            times[name].append(time_run(cmd, env))
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[name].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    py = statistics.median(times["python -c pass"])
    py_cpu = statistics.median(cpu["python -c pass"])
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"start-up, median of {rounds} rounds (load average {load}):")
    for name, values in times.items():
        med, med_cpu = statistics.median(values), statistics.median(cpu[name])
        print(
            f"  {name:30s} {med * 1000:7.1f} ms  {med / py:5.2f}x python -c pass   "
            f"cpu {med_cpu * 1000:6.1f} ms  {med_cpu / py_cpu:5.2f}x (the server's own time "
            "is not in the client's cpu)"
        )


def throughput(label: str, urls: list[str], agents: int, decisions: int) -> None:
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", AGENT, urls[i % len(urls)], f"bench-{i}", str(decisions)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(agents)
    ]
    latencies: list[float] = []
    for proc in procs:
        out, _ = proc.communicate(timeout=600)
        if proc.returncode != 0:
            raise SystemExit(f"an agent failed ({label})")
        latencies.extend(float(x) for x in out.split())
    elapsed = time.perf_counter() - start
    latencies.sort()
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    print(
        f"  {label:34s} {len(latencies) / elapsed:7.0f} decisions/s   "
        f"p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   ({len(latencies)} in {elapsed:.1f} s)"
    )


@contextlib.contextmanager
def postgres(tmp: str) -> Iterator[str | None]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found or os.geteuid() != 0:
        yield None
        return
    bindir = os.path.dirname(found[-1])
    pg = pwd.getpwnam("postgres")
    base = tempfile.mkdtemp(prefix="guard-bench-pg-")
    os.chmod(base, 0o755)  # noqa: S103 - the cluster socket lives here, for the bench user
    os.chown(base, pg.pw_uid, pg.pw_gid)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    def as_pg(*argv: str) -> None:
        subprocess.run(
            list(argv),
            user=pg.pw_uid,
            group=pg.pw_gid,
            extra_groups=[],
            cwd=base,
            check=True,
            capture_output=True,
        )

    data = os.path.join(base, "data")
    try:
        as_pg(f"{bindir}/initdb", "-D", data, "-U", "postgres", "--auth=trust")
        as_pg(
            f"{bindir}/pg_ctl",
            "-D",
            data,
            "-l",
            f"{base}/log",
            "-w",
            "-o",
            f"-p {port} -k {base} -c listen_addresses='' -c max_connections=200",
            "start",
        )
        as_pg(f"{bindir}/createdb", "-h", base, "-p", str(port), "guard")
        yield f"postgresql://postgres@/guard?host={base}&port={port}"
    finally:
        subprocess.run(
            [f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"],
            user=pg.pw_uid,
            group=pg.pw_gid,
            extra_groups=[],
            cwd=base,
            check=False,
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--agents", type=int, default=16)
    parser.add_argument("--decisions", type=int, default=200)
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--startup-only", action="store_true", help="only the start-up figures")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        with server(tmp) as url, server(tmp, name="w") as in_service:
            fill(in_service, IN_SERVICE)
            startup(opts.rounds, url, tmp, in_service)
            if opts.startup_only:
                return
            print(f"throughput, {opts.agents} concurrent agents x {opts.decisions} decisions:")
            throughput("one server, SQLite", [url], opts.agents, opts.decisions)
        if opts.no_pg:
            return
        with postgres(tmp) as db:
            if db is None:
                print("  PostgreSQL: not measured (needs root and Debian's postgresql)")
                return
            with server(tmp, db, "pg1") as url:
                throughput("one server, PostgreSQL", [url], opts.agents, opts.decisions)
                with server(tmp, db, "pg2") as url2:
                    throughput(
                        "two servers, one PostgreSQL", [url, url2], opts.agents, opts.decisions
                    )


if __name__ == "__main__":
    main()
