"""The decision service: one agent's request, decided by the same core as local mode.

peer (uid, pid from the kernel) -> agent (the server's mapping of Unix users to agents, and
the token, if given, must be that agent's) -> `gate.decide`, the one pipeline of every mode
(the policy's verdict on what the command does, under its budget, then anomalies against the
agent's own baseline, kept by the server) -> review (a session grant, else the server's queue,
answered from a console) -> one entry in the server's audit chain.

Identity is the server's: its registry, not the agents file, says who an agent is, so the
policy gate.decide sees has `require_identity` off; when the policy sets it, the server asks
for the agent's token on the socket too (over TLS the token is always required).

Fail closed: a request that cannot be parsed, an unknown or revoked agent, an invalid policy,
a store that cannot be written, or an internal error are all denials that say why.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time

from .. import agentstate, cache, gate, protocol
from .. import policy as policy_mod
from ..decide import ALLOW, DENY, Decision
from ..errors import GuardError
from . import store as store_mod

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

    from ..policy import Policy

POLL = 0.25  # seconds between looks at a review's answer, unless a change wakes us first
CONSOLE_GRACE = 10.0  # a reviewer console seen this recently is there to ask
RELOAD_CHECK = 1.0  # seconds between looks at the policy files' stamps
MODES = ("prefix", "shell", "shim")


class Peer:
    """Who is on the other end of the socket, as the kernel says."""

    __slots__ = ("pid", "remote", "uid", "user")

    def __init__(self, pid: int, uid: int, remote: str | None = None) -> None:
        """A local peer (pid, uid from SO_PEERCRED), or with `remote` a TLS client at that
        address, known only by its agent token."""
        self.pid, self.uid, self.remote = pid, uid, remote
        self.user = f"tls:{remote}" if remote is not None else _passwd(uid)[0]


# uid -> (name, home, /etc/passwd's stamp, when looked up): each request's peer is named
# without reading the password database again, unless the file changed or the name is older
# than USER_TTL (accounts that come from elsewhere than /etc/passwd: NSS, LDAP).
_USERS: dict[int, tuple[str, str | None, object, float]] = {}
USER_TTL = 5.0


def _passwd(uid: int) -> tuple[str, str | None]:
    """The user name (`uid-N` for an unknown uid) and home directory of `uid`."""
    try:
        st = os.stat("/etc/passwd")
        stamp: object = (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)
    except OSError:
        stamp = None
    now = time.monotonic()
    cached = _USERS.get(uid)
    if cached is not None and cached[2] == stamp and now - cached[3] < USER_TTL:
        return cached[0], cached[1]
    import pwd

    try:
        entry = pwd.getpwuid(uid)
        name, home = entry.pw_name, entry.pw_dir
    except KeyError:
        name, home = f"uid-{uid}", None
    _USERS[uid] = (name, home, stamp, now)
    return name, home


class Refused(Exception):
    """The request is refused before any policy is consulted (identity, bad request)."""


class Service:
    def __init__(self, store: store_mod.Store, policy_path: str | None) -> None:
        self.store = store
        self.policy_path = policy_path
        self.server_id = f"{os.uname().nodename}:{os.getpid()}"
        self._lock = threading.Lock()
        self._eval_lock = threading.Lock()  # the analysis reads HOME from os.environ
        self._state_locks: dict[str, threading.Lock] = {}  # agent -> its state's turn
        self._marks: dict[str, int] = {}  # agent -> its last entry's append count (_finish)
        self._in_flight = 0  # decide requests being handled
        self._policy: Policy | None = None
        self._error: str | None = None
        self._stamp: object = None
        self._checked = 0.0
        self.reload_requested = False
        self.require_token = False  # the policy's require_identity
        self.console_grace = CONSOLE_GRACE
        self.forward: Callable[[dict[str, Any]], None] | None = None  # --syslog
        self.reload()

    # --- the policy ------------------------------------------------------------------------

    def reload(self) -> None:
        """Load the policy now (SIGHUP, or a changed file). An invalid policy denies every
        request until it is fixed (fail closed), and says so on the server's stderr."""
        files, _ = policy_mod.source_files(self.policy_path)
        stamp = cache.stamp(files)
        try:
            loaded, error = policy_mod.load(self.policy_path), None
        except GuardError as exc:
            loaded, error = None, exc.message
            sys.stderr.write(f"guard serve: policy error: {exc.message}\n")
        if loaded is not None:  # identity is the server's (module docstring)
            self.require_token = bool(loaded.settings["require_identity"])
            loaded.settings = {**loaded.settings, "require_identity": False}
        with self._lock:
            self._policy, self._error, self._stamp = loaded, error, stamp
            self._checked = time.monotonic()
            self.reload_requested = False

    def policy(self) -> Policy:
        now = time.monotonic()
        if self.reload_requested or now - self._checked > RELOAD_CHECK:
            files, _ = policy_mod.source_files(self.policy_path)
            if self.reload_requested or cache.stamp(files) != self._stamp:
                self.reload()
            else:
                self._checked = now
        if self._policy is None:
            raise GuardError(f"the server's policy is invalid: {self._error}")
        return self._policy

    # --- approve and remember ----------------------------------------------------------------

    def suggestions(self, request: dict[str, Any]) -> list[tuple[list[str], str]]:
        """What "approve and remember" would whitelist for a queued request (as the terminal
        prompt offers it): nothing for irreversible commands or anomalies."""
        from ..cli.review import _as_objects
        from ..prompt import remember_suggestions

        try:
            _, decision = _as_objects(request)
            return [
                (list(a), str(p))
                for a, p in remember_suggestions(
                    self.policy(), decision, request["argv"], request.get("agent") or "anonymous"
                )
            ]
        except Exception:  # a policy that does not load: remembering is not offered
            return []

    def remember(self, request: dict[str, Any], reviewer: str) -> str:
        """Add the suggested allow rule, scoped to the asking agent, to the server's policy
        (atomically, comments kept); return what was done. Raises GuardError."""
        from .. import paths, remember
        from ..suggest import pattern_problem

        suggested = self.suggestions(request)
        if not suggested:
            raise GuardError("remember is not offered for this request")
        for argv, pattern in suggested:
            problem = pattern_problem(self.policy(), pattern, argv)
            if problem:
                raise GuardError(f"refused: {pattern}: {problem}")
        choice = remember.Choice(
            [p for _, p in suggested],
            [a for a, _ in suggested],
            [remember.escape_glob(request["agent"])],
            None,
        )
        target = self.policy_path or paths.user_policy()
        said = remember.save(target, choice, reviewer, request["command"])
        self.reload_requested = True
        return said

    # --- identity --------------------------------------------------------------------------

    def agent_for(self, peer: Peer, asked: object, token: object) -> str:
        """The agent this peer acts as; raises Refused saying why not."""
        if peer.remote is not None:
            return self._agent_by_token(asked, token)
        agents = self.store.agents()
        if isinstance(token, str) and token:
            owner = [a for a in agents if a[2] == store_mod.digest(token)]
            if not owner:
                raise Refused("an unknown agent token")
            name, users, _, status = owner[0]
            if peer.user not in users:
                raise Refused(
                    f"the token of agent '{name}' was presented from uid {peer.uid} "
                    f"({peer.user}), not from the Unix user it belongs to"
                )
            mine = [owner[0]]
        elif self.require_token:
            raise Refused("the server's policy requires identity: set GUARD_AGENT_TOKEN too")
        else:
            mine = [a for a in agents if peer.user in a[1]]
        if asked:
            mine = [a for a in mine if a[0] == asked]
        if not mine:
            who = f"agent '{asked}'" if asked else "any agent"
            raise Refused(f"Unix user {peer.user} (uid {peer.uid}) is not mapped to {who}")
        if len(mine) > 1:
            raise Refused(f"Unix user {peer.user} acts as several agents: name one (GUARD_AGENT)")
        name, _, _, status = mine[0]
        if status != "active":
            raise Refused(f"agent '{name}' has been revoked")
        return name

    def _agent_by_token(self, asked: object, token: object) -> str:
        """Over TLS the agent token alone says who asks (there is no uid to check)."""
        if not isinstance(token, str) or not token:
            raise Refused("over TLS an agent token is required (GUARD_AGENT_TOKEN)")
        owner = [a for a in self.store.agents() if a[2] == store_mod.digest(token)]
        if not owner:
            raise Refused("an unknown agent token")
        name, _, _, status = owner[0]
        if asked and asked != name:
            raise Refused(f"the token is agent '{name}'s, not agent '{asked}'s")
        if status != "active":
            raise Refused(f"agent '{name}' has been revoked")
        return str(name)

    # --- one request -----------------------------------------------------------------------

    def decide(
        self,
        peer: Peer,
        body: dict[str, Any],
        pending: Callable[[dict[str, Any]], bool],
        later: list[Callable[[], None]] | None = None,
        follow: Callable[[], bytes | None] | None = None,
    ) -> dict[str, Any]:
        """The final answer to one request. `pending(message)` tells the client a human is
        being asked and returns False once the client has gone away. With `later`, the
        agent's anomaly state is updated by the callables it receives, which the caller runs
        after sending the answer (the audit entry is committed before the answer either way);
        the agent's next request waits for them (`_state_turn`). `follow()` reads the
        request's next line: the program line of a request that says `program_follows`
        (protocol.py), read once the policy has decided."""
        with self._counted(1):
            return self._decide(peer, body, pending, later, follow)

    @contextlib.contextmanager
    def _counted(self, n: int) -> Iterator[None]:
        """`n` more requests in flight meanwhile (-1 while one waits for a human)."""
        with self._lock:
            self._in_flight += n
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= n

    def _decide(
        self,
        peer: Peer,
        body: dict[str, Any],
        pending: Callable[[dict[str, Any]], bool],
        later: list[Callable[[], None]] | None,
        follow: Callable[[], bytes | None] | None,
    ) -> dict[str, Any]:
        started = time.time()
        req = _request(body, peer, self.server_id)
        policy: Policy | None = None
        try:
            if body.get("_invalid"):
                raise Refused(body["_invalid"])
            policy = self.policy()  # first: a reload may change what identity needs
            req.agent = self.agent_for(peer, body.get("agent"), body.get("token"))
            with self._state_turn(req.agent):
                pass  # the agent's previous answer's state update has been written
            with self._eval_lock, _agent_env(_env(body, peer)):
                decision, targets = gate.decide(policy, req, started, identified=True)
            if body.get("program_follows") is True:
                body["program"] = _program_line(follow)
            if decision.verdict != DENY and req.line is None:
                decision = _pinned(policy, req, _program(body), decision)
            outcome = self._outcome(policy, req, decision, started, body, pending)
        except Refused as exc:
            decision = Decision(DENY, "identity", str(exc))
            outcome, targets = gate.Outcome(False, "policy"), []
        except GuardError as exc:
            decision = Decision(DENY, "server-error", exc.message)
            outcome, targets = gate.Outcome(False, "error"), []
        except Exception as exc:  # fail closed
            decision = Decision(DENY, "internal-error", f"internal error in the server: {exc!r}")
            outcome, targets = gate.Outcome(False, "error"), []
        return self._finish(policy, req, decision, outcome, started, body, targets, later)

    def _outcome(
        self,
        policy: Policy,
        req: gate.Request,
        decision: Decision,
        started: float,
        body: dict[str, Any],
        pending: Callable[[dict[str, Any]], bool],
    ) -> gate.Outcome:
        if decision.verdict == ALLOW:
            return gate.Outcome(True, "policy")
        if decision.verdict == DENY:
            return gate.Outcome(False, "policy")
        if not decision.irreversible:
            who = self.store.granted(req.agent, req.session, req.cwd, req.command)
            if who:
                return gate.Outcome(
                    True, "reviewer", reviewer=who, message="approved for this session"
                )
        if not self.store.reviewer_present(self.console_grace):
            from .. import reviewroute

            return reviewroute.no_reviewer(
                policy, decision, "no reviewer console is connected to the guard server"
            )
        return self._ask(policy, req, decision, started, body, pending)

    def _ask(
        self,
        policy: Policy,
        req: gate.Request,
        decision: Decision,
        started: float,
        body: dict[str, Any],
        pending: Callable[[dict[str, Any]], bool],
    ) -> gate.Outcome:
        from .. import reviewqueue

        timeout = float(policy.settings["review_timeout"])
        deadline = time.time() + timeout
        recent = agentstate.read(req.agent)["recent"]
        request = reviewqueue.request_for(req, decision, recent, deadline)
        request["user"], request["pid"] = body["_peer_user"], body["_peer_pid"]
        # The entry written if this server dies while it waits (a restart records it).
        draft = gate.audit_entry(
            req,
            decision,
            "denied",
            gate.Outcome(False, "error", message="the server stopped while the review waited"),
            started=started,
            program=_program(body),
        )
        _stamp_peer(draft, body)
        self.store.submit(request, draft, self.server_id)
        body["_entry_id"], body["_review_id"] = draft["id"], request["id"]
        scope = None
        try:
            if not pending({"status": "pending", "id": request["id"], "timeout": timeout}):
                return gate.Outcome(False, "reviewer", message="the agent went away")
            with self._counted(-1):  # waiting for a human is not keeping the server busy
                outcome, scope = self._wait(request["id"], deadline, timeout, pending)
        finally:
            self.store.close_review(request["id"])  # no longer waiting; the entry follows
        if outcome.approved and scope == "session" and not decision.irreversible:
            self.store.grant(req.agent, req.session, req.cwd, req.command, outcome.reviewer or "?")
        return outcome

    def _wait(
        self,
        review_id: str,
        deadline: float,
        timeout: float,
        pending: Callable[[dict[str, Any]], bool],
    ) -> tuple[gate.Outcome, str | None]:
        seen = -1
        while time.time() < deadline:
            status, answer = self.store.review_state(review_id)
            if answer is not None:
                scope = str(answer.get("scope") or "once")
                message = str(answer.get("message") or "")
                outcome = gate.Outcome(
                    bool(answer["approved"]),
                    "reviewer",
                    reviewer=str(answer["reviewer"]),
                    message=message,
                    remembered=answer.get("remembered") or None,
                )
                return outcome, scope
            if status != store_mod.PENDING:
                return gate.Outcome(False, "error", message="the review was withdrawn"), None
            if not pending({}):
                return gate.Outcome(False, "reviewer", message="the agent went away"), None
            seen = self.store.wait_change(seen, POLL)
        return gate.Outcome(False, "timeout", message=f"no answer within {timeout:g}s"), None

    def _finish(
        self,
        policy: Policy | None,
        req: gate.Request,
        decision: Decision,
        outcome: gate.Outcome,
        started: float,
        body: dict[str, Any],
        targets: list[str],
        later: list[Callable[[], None]] | None,
    ) -> dict[str, Any]:
        word = (
            ("allowed" if outcome.decided_by == "policy" else "approved")
            if outcome.approved
            else "denied"
        )
        entry = gate.audit_entry(
            req, decision, word, outcome, started=started, program=_program(body)
        )
        if body.get("_entry_id"):
            entry["id"] = body["_entry_id"]  # the review's draft id: recorded once, never twice
        _stamp_peer(entry, body)
        durable = policy is None or bool(policy.audit["fsync"])
        # On the socket of a server with nothing else in flight the entry reaches the disk
        # right after the answer (`_record_later`); otherwise the commit itself syncs (a busy
        # server's commits then share the disk's time instead of adding a sync each).
        deferred = durable and later is not None and self._in_flight <= 1
        try:
            mark = self._record(entry, synced=durable and not deferred)
            if deferred:  # the agent's previous entry is on disk before this answer leaves
                self.store.sync(self._marks.get(req.agent, 0))
        except GuardError as exc:
            sys.stderr.write(f"guard serve: {exc.message}\n")
            return {
                "status": "done",
                "decision": "denied",
                "message": f"guard: denied: {req.command} - the server cannot record it "
                f"({exc.message}); nothing was run",
            }
        if body.get("_review_id"):
            self.store.settle(body["_review_id"])
        hour = time.localtime(started).tm_hour
        state = (req.agent, started, hour, req.command, word, targets)
        if later is None:
            agentstate.record(*state)
        else:
            later.append(self._record_later(req.agent, state, mark if deferred else 0))
        answer: dict[str, Any] = {"status": "done", "decision": word}
        if not outcome.approved:
            answer["message"] = _deny_line(req, decision, outcome)
        return answer

    def _state_lock(self, agent: str) -> threading.Lock:
        with self._lock:
            return self._state_locks.setdefault(agent, threading.Lock())

    @contextlib.contextmanager
    def _state_turn(self, agent: str) -> Iterator[None]:
        """Wait until no state update of `agent` is outstanding."""
        with self._state_lock(agent):
            yield

    def _record_later(self, agent: str, state: tuple[Any, ...], mark: int) -> Callable[[], None]:
        """What follows the answer, as a callable: the agent-state update, then (`mark`, with
        `[audit] fsync`) the entry's sync to disk. On the Unix socket the agent shares this
        host's fate: the program it starts meanwhile dies with it in a power loss, so its wait
        for the answer does not include the disk's (~0.6 ms here); the agent's next answer
        waits for it instead (`_finish`), so an agent has at most one entry not yet on disk.
        The agent's state lock is taken now, before the answer leaves, so its next request
        reads the updated state."""
        lock = self._state_lock(agent)
        lock.acquire()
        if mark:
            self._marks[agent] = mark

        def update() -> None:
            try:
                agentstate.record(*state)
            finally:
                lock.release()
            if mark:
                try:
                    self.store.sync(mark)
                except GuardError as exc:  # the next append retries, and denies meanwhile
                    sys.stderr.write(f"guard serve: {exc.message}\n")

        return update

    def _record(self, entry: dict[str, Any], synced: bool = True) -> int:
        """Append to the chain (raises StoreError); then a copy to the log pipeline. Returns
        the store's append count once it is in (what a `sync` must reach to cover it)."""
        self.store.append(entry, synced=synced)
        mark = self.store.appended
        if self.forward is not None:
            self.forward(entry)
        return mark

    def recover(self, grace: float = 5.0) -> int:
        """Record, as denied, the reviews a dead server left waiting; return how many."""
        host = os.uname().nodename
        count = 0
        for review_id, entry in self.store.orphans(host, grace):
            try:
                self._record(entry)
                self.store.close_review(review_id, store_mod.DENIED)
                self.store.settle(review_id)
                count += 1
            except GuardError as exc:
                sys.stderr.write(f"guard serve: cannot record orphaned review: {exc.message}\n")
        return count


def _deny_line(req: gate.Request, decision: Decision, outcome: gate.Outcome) -> str:
    """The gate's denial line; the hint for a review nobody could answer names the server's
    consoles (the gate's speaks of the agent's terminal, which the server never uses)."""
    line = gate._deny_line(req, decision, outcome)
    if outcome.decided_by != "no_reviewer":
        return line
    head = line.rsplit(") - ", 1)[0]
    return (
        f"{head}) - {outcome.message}; a reviewer answers in the server's consoles "
        "(guard review --server, or its web console)"
    )


# The agent's variables the analysis reads (`~`, $HOME, paths under the home; cd's CDPATH).
ANALYSIS_ENV = ("HOME", "CDPATH")


def _env(body: dict[str, Any], peer: Peer) -> dict[str, str]:
    """The agent's values of ANALYSIS_ENV: as its guard sent them (the values its command will
    see), else HOME from the password entry of the local peer's uid."""
    sent = body.get("env")
    env = (
        {k: v for k, v in sent.items() if k in ANALYSIS_ENV and isinstance(v, str)}
        if (isinstance(sent, dict))
        else {}
    )
    if "HOME" not in env and peer.remote is None:
        home = _passwd(peer.uid)[1]
        if home is not None:
            env["HOME"] = home
    env.setdefault("HOME", "/nonexistent")
    return env


@contextlib.contextmanager
def _agent_env(env: dict[str, str]) -> Iterator[None]:
    """os.environ holds the agent's values while its request is analysed (under _eval_lock:
    the environment is the process's, shared by every thread)."""
    saved = {k: os.environ.get(k) for k in ANALYSIS_ENV}
    try:
        for name in ANALYSIS_ENV:
            if name in env:
                os.environ[name] = env[name]
            else:
                os.environ.pop(name, None)
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _program_line(follow: Callable[[], bytes | None] | None) -> str | None:
    """The program the client found, from the line it sends after its request (protocol.py);
    raises Refused when that line does not come or is not `{"program": PATH|null}`."""
    if follow is None:
        raise Refused("program_follows is for the Unix socket: send the program in the request")
    try:
        line = follow()
        if line is None:
            raise Refused("the client went away before it sent its program line")
        program = protocol.decode(line).get("program")
    except (OSError, protocol.ProtocolError) as exc:
        raise Refused(f"the request's program line did not come or is not JSON ({exc})") from None
    if program is not None and (not isinstance(program, str) or "\0" in program):
        raise Refused("the request's program line names no program")
    return program


def _pinned(policy: Policy, req: gate.Request, program: str | None, decision: Decision) -> Decision:
    """A program the policy pins (`[programs.NAME] path`, `sha256`) is the one the client
    found, or the request is denied, as in local mode (gate.run). The server hashes the file
    as its own user; one it cannot read is a denial."""
    name = os.path.basename(req.argv[0])
    if not policy.programs.pinned(name):
        return decision
    from .. import pinning

    try:
        if program is None:
            raise GuardError(f"{name}: the client found no program to check against its pin")
        pinning.check(policy, req.argv[0], program)
    except GuardError as exc:
        return Decision(DENY, "program", exc.message.removeprefix("guard: "), argv=req.argv)
    return decision


def _program(body: dict[str, Any]) -> str | None:
    program = body.get("program")
    return program if isinstance(program, str) else None


def _stamp_peer(entry: dict[str, Any], body: dict[str, Any]) -> None:
    entry["user"] = body["_peer_user"]
    entry["peer_pid"] = body["_peer_pid"]
    entry["peer_uid"] = body["_peer_uid"]
    entry["server"] = body["_server"]


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and "\0" not in v for v in value)


def _request(body: dict[str, Any], peer: Peer, server_id: str) -> gate.Request:
    """A gate Request from the client's fields (validated; raises Refused on nonsense).
    Fields named `_...` are the server's own notes: a client's are dropped, so a request
    cannot choose its audit entry's id (which would let an id already in the chain stand
    for it, unrecorded), settle another agent's review, or name the server."""
    for key in [k for k in body if k.startswith("_")]:
        del body[key]
    body["_peer_user"], body["_peer_pid"], body["_peer_uid"] = peer.user, peer.pid, peer.uid
    body["_server"] = server_id
    mode, line = body.get("mode"), body.get("line")
    argv, shell_argv = body.get("argv") or [], body.get("shell_argv") or []
    ok = (
        mode in MODES
        and _strings(argv)
        and _strings(shell_argv)
        and (line is None or isinstance(line, str))
        and ((line is None and bool(argv)) or (line is not None and bool(shell_argv)))
        and isinstance(body.get("cwd", ""), str)
    )
    session = body.get("session")
    if not isinstance(session, str) or not session or len(session) > 200:
        session = f"uid-{peer.uid}"
    req = gate.Request(
        str(mode) if ok else "prefix",
        argv=argv if ok else ["(bad request)"],
        line=line if ok else None,
        shell_argv=shell_argv if ok else [],
        session=session,
    )
    req.cwd = str(body.get("cwd") or "/")
    req.token = None
    if not ok:
        body["_invalid"] = "the request is not a valid decide request"
    if body.get("v", protocol.VERSION) != protocol.VERSION:
        body["_invalid"] = (
            f"the client speaks protocol version {body.get('v')!r}, "
            f"this server {protocol.VERSION}: update guard on one side"
        )
    return req
