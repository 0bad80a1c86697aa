"""`guard serve` (issue 12).

The decision point as its own Unix user: policy, audit chain, agent registry, reviewers and the
review queue live in its store (SQLite by default, PostgreSQL for a fleet) and nowhere else.

    service    the decision: identity -> gate.evaluate -> anomalies -> review -> audit chain
    store      SQLite storage; store_pg: PostgreSQL (advisory lock around chain appends, NOTIFY)
    unixsock   the agents' socket: pre-started workers accept and answer, identity from
               SO_PEERCRED
    reviewapi  what a reviewer may do (queue, answer), for the socket and the web console
    web        the web reviewer console, its JSON API and the agents' TLS endpoint (Starlette)
    forward    copies of audit entries to syslog
    runner     start, reload (SIGHUP), stop

The agents' side is outside this package, so that client mode never loads it: `client`
(GUARD_SERVER=unix:PATH or https://HOST:PORT: send the request, receive the decision, exec as
in local mode; fail closed) and `protocol` (one JSON object a line, encoded and decoded
without `json`), both at the top of `expacti_cli`.
"""
