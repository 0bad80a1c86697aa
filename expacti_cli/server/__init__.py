"""`guard serve` and the client side of `GUARD_SERVER` (issue 12).

The decision point as its own Unix user: policy, audit chain, agent registry, reviewers and the
review queue live in its store (SQLite by default, PostgreSQL for a fleet) and nowhere else.

    protocol   one JSON object a line, encoded and decoded without `json` (the client's hot path)
    client     GUARD_SERVER=unix:PATH: send the request, receive the decision, exec as today
    service    the decision: peer identity -> gate.evaluate -> anomalies -> review -> audit
    store      SQLite storage; store_pg: PostgreSQL (advisory lock around chain appends)
    unixsock   the agents' socket: threads, SO_PEERCRED
    web        the reviewer console and its JSON API (Starlette, served by uvicorn)

Nothing here is imported on the allowed path unless GUARD_SERVER is set, and then only
`client` and `protocol`.
"""
