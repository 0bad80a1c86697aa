"""The web reviewer console of `guard serve`, driven in headless Chromium (Debian's package)
over the DevTools protocol: a pending review appears live, is approved and the command runs;
a denial with a reason reaches the agent; an agent token cannot log in."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request

import pytest
from serve_support import (
    GUARD,
    Server,
    base_dir,
    ensure_user,
    env_for,
    popen_as,
    traversable,
    user_dir,
)
from websockets.sync.client import connect

pytestmark = pytest.mark.slow

POLICY = """
[settings]
review_timeout = "60s"

[[allow]]
id = "echo"
match = ["echo **"]
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("Debian's chromium is not installed (tests/run installs it)")
    return found


class Page:
    """One browser tab, driven over the Chrome DevTools Protocol."""

    def __init__(self, ws_url: str) -> None:
        self.ws = connect(ws_url, max_size=None, open_timeout=10).__enter__()
        self.next_id = 0

    def call(self, method: str, **params: object) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=20))
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                return message["result"]

    def js(self, expression: str) -> object:
        result = self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait(self, expression: str, timeout: float = 15) -> object:
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = self.js(expression)
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(
            f"never true in the page: {expression}\n{self.js('document.body.innerText')}"
        )

    def goto(self, url: str) -> None:
        self.call("Page.navigate", url=url)
        self.wait("document.readyState === 'complete'")


@pytest.fixture(scope="module")
def console():
    if os.geteuid() != 0:
        pytest.fail("the guard serve tests run as root (they create Unix users), as CI does")
    chromium = _chromium()
    users = {role: ensure_user(f"gsv-{role}") for role in ("server", "agent")}
    base = base_dir()
    port, debug_port = _free_port(), _free_port()
    with traversable():
        server = Server(
            users["server"],
            user_dir(base, "srv", users["server"]),
            user_dir(base, "run", users["server"], 0o755),
            POLICY,
        )
        token = server.guard(
            "serve", "agent", "add", "builder", "--user", users["agent"].pw_name
        ).stdout.splitlines()[-1]
        secret = server.guard("reviewer", "add", "alice").stdout.splitlines()[-1]
        server.start("--listen", f"127.0.0.1:{port}", "--console-grace", "3")
        url = f"http://127.0.0.1:{port}/"
        deadline = time.time() + 15
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).read()
                break
            except OSError:
                if time.time() > deadline:
                    raise AssertionError(server.log.read_text()) from None
                time.sleep(0.1)
        profile = base / "chromium"
        browser = subprocess.Popen(
            [
                chromium,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                f"--user-data-dir={profile}",
                f"--remote-debugging-port={debug_port}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            tab = _first_tab(debug_port)
            page = Page(tab)
            page.goto(url)
            yield {
                "page": page,
                "server": server,
                "url": url,
                "secret": secret,
                "token": token,
                "agent": users["agent"],
                "home": user_dir(base, "agent", users["agent"]),
            }
        finally:
            browser.kill()
            browser.wait(10)
            server.stop()
            shutil.rmtree(base, ignore_errors=True)


def _first_tab(debug_port: int) -> str:
    deadline = time.time() + 20
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{debug_port}/json/list", timeout=2) as r:
                tabs = [t for t in json.load(r) if t.get("type") == "page"]
            if tabs:
                return str(tabs[0]["webSocketDebuggerUrl"])
        except OSError:
            pass
        if time.time() > deadline:
            raise AssertionError("chromium's DevTools endpoint did not come up")
        time.sleep(0.2)


def _log_in(page: Page, secret: str) -> None:
    page.wait(
        "!document.getElementById('login').hidden || !document.getElementById('console').hidden"
    )
    page.js(
        f"document.getElementById('secret').value = {json.dumps(secret)};"
        "document.getElementById('login-button').click()"
    )
    time.sleep(0.3)
    page.wait("document.readyState === 'complete'")


def _agent(console, *argv: str):
    env = env_for(console["home"], GUARD_SERVER=f"unix:{console['server'].socket}")
    return popen_as(
        console["agent"],
        [GUARD, *argv],
        env,
        console["home"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_an_agent_token_cannot_log_in(console):
    page = console["page"]
    _log_in(page, console["token"])
    page.wait("!document.getElementById('refused').hidden")
    assert page.js("document.getElementById('console').hidden") is True
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(console["url"] + "api/queue", timeout=5)  # noqa: S310 - http://127.0.0.1
    assert refused.value.code == 401


def test_a_review_appears_live_is_approved_and_the_command_runs(console):
    page = console["page"]
    page.goto(console["url"])
    _log_in(page, console["secret"])
    page.wait("document.getElementById('status').textContent === 'reviewing as alice'")
    proc = _agent(console, "-c", "sync && echo approved-and-ran")
    try:
        # Live: the page is not reloaded; its queue fills in by itself.
        page.wait("!!document.querySelector('.review .command')")
        shown = page.js("document.querySelector('.review').innerText")
        assert "sync && echo approved-and-ran" in shown
        assert "builder" in shown and str(console["home"]) in shown
        assert "gsv-agent" in shown
        page.js("document.querySelector('.review button[data-answer=once]').click()")
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert (proc.returncode, out) == (0, "approved-and-ran\n"), err
    page.wait("!document.querySelector('.review')")
    chain = [
        json.loads(x) for x in console["server"].guard("serve", "export").stdout.split("\n") if x
    ]
    assert (chain[-1]["decision"], chain[-1]["reviewer"]) == ("approved", "alice")


def test_a_denial_with_a_reason_reaches_the_agent(console):
    page = console["page"]
    page.wait("document.getElementById('status').textContent === 'reviewing as alice'")
    proc = _agent(console, "--", "sync", "-f", ".")
    try:
        page.wait("!!document.querySelector('.review .command')")
        page.js(
            "document.querySelector('.review input.reason').value = 'use the staging box';"
            "document.querySelector('.review button[data-answer=deny]').click()"
        )
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 77 and out == ""
    assert "a human reviewer denied it: use the staging box" in err
    assert err.count("\n") == 2  # "waiting for a reviewer", then the one-line denial


def test_plain_http_is_refused_off_loopback(console):
    out = console["server"].guard(
        "serve", "--socket", "/nonexistent/s.sock", "--listen", "0.0.0.0:8377"
    )
    assert out.returncode == 64
    assert out.stderr == (
        "guard: --listen 0.0.0.0:8377: plain HTTP is allowed only on "
        "loopback; give --cert and --key\n"
    )


@pytest.fixture(scope="module")
def tls(console):
    """A second server on the same store, its console and agent API over TLS only."""
    server = console["server"]
    cert, key = server.home / "tls.crt", server.home / "tls.key"
    made = subprocess.run(
        [  # noqa: S607 - Debian's openssl, found on PATH as a user would
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        capture_output=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    for path in (cert, key):
        os.chown(path, server.user.pw_uid, server.user.pw_gid)
        path.chmod(0o600)
    ca = console["home"] / "server-ca.pem"  # what the agent's side trusts
    shutil.copy(cert, ca)
    ca.chmod(0o644)
    tls = Server(server.user, server.home, server.run_dir, POLICY)
    tls.socket = str(server.run_dir / "tls.sock")
    tls.log = server.home / "tls.log"
    port = _free_port()
    tls.start("--listen", f"127.0.0.1:{port}", "--cert", str(cert), "--key", str(key))
    try:
        yield {"url": f"https://127.0.0.1:{port}/", "cert": cert, "ca": ca}
    finally:
        tls.stop()


def test_the_console_over_tls_sets_a_secure_cookie(console, tls):
    import ssl
    import urllib.parse

    context = ssl.create_default_context(cafile=str(tls["cert"]))
    url = tls["url"]
    deadline = time.time() + 15
    while True:
        try:
            page = urllib.request.urlopen(url, context=context, timeout=3)  # noqa: S310
            page = page.read().decode()
            break
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.1)
    assert "guard: reviewer console" in page
    form = urllib.parse.urlencode({"secret": console["secret"]}).encode()
    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=context), _NoRedirect()
    )
    with pytest.raises(urllib.error.HTTPError) as login:
        opener.open(url + "login", data=form, timeout=5)
    assert login.value.code == 303
    cookie = login.value.headers["set-cookie"]
    assert "guard_console=" in cookie
    assert {"httponly", "secure", "samesite=strict"} <= {
        p.strip().lower() for p in cookie.split(";")
    }


def _tls_agent(console, tls, *argv: str, **env: str):
    from serve_support import run_as

    base = {"GUARD_SERVER": tls["url"].rstrip("/"), "GUARD_SERVER_CA": str(tls["ca"]), **env}
    return run_as(
        console["agent"], [GUARD, *argv], env_for(console["home"], **base), console["home"]
    )


def test_an_agent_over_tls_is_known_by_its_token(console, tls):
    ok = _tls_agent(console, tls, "--", "echo", "over tls", GUARD_AGENT_TOKEN=console["token"])
    assert (ok.returncode, ok.stdout) == (0, "over tls\n"), ok.stderr
    last = json.loads(console["server"].guard("serve", "export").stdout.splitlines()[-1])
    assert (last["agent"], last["user"], last["decision"]) == (
        "builder",
        "tls:127.0.0.1",
        "allowed",
    )
    refusals = {
        "no token": ({}, "needs the agent's GUARD_AGENT_TOKEN"),
        "unknown token": ({"GUARD_AGENT_TOKEN": "gat_forged"}, "an unknown agent token"),
        "a reviewer's secret": ({"GUARD_AGENT_TOKEN": console["secret"]}, "an unknown agent token"),
        "untrusted certificate": (
            {"GUARD_AGENT_TOKEN": console["token"], "GUARD_SERVER_CA": ""},
            "CERTIFICATE_VERIFY_FAILED",
        ),
    }
    for what, (env, says) in refusals.items():
        out = _tls_agent(console, tls, "--", "echo", "no", **env)
        assert (out.returncode, out.stdout) == (77, ""), what
        assert says in out.stderr, (what, out.stderr)
        assert out.stderr.count("\n") == 1, what
    server = console["server"]
    assert server.guard("serve", "agent", "revoke", "builder").returncode == 0
    try:
        out = _tls_agent(console, tls, "--", "echo", "no", GUARD_AGENT_TOKEN=console["token"])
        assert out.returncode == 77 and "agent 'builder' has been revoked" in out.stderr
    finally:
        server.guard("serve", "agent", "enable", "builder")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_the_compliance_report_is_reachable_from_the_console(console):
    page = console["page"]
    page.goto(console["url"])
    page.wait("document.getElementById('status').textContent === 'reviewing as alice'")
    assert page.js("!document.getElementById('report').hidden") is True
    text = page.js("fetch('/report').then((r) => r.text())")
    assert "guard audit report" in text and "the server's chain" in text
    assert "chain intact" in text or "intact" in text


def test_approve_and_remember_adds_a_rule_scoped_to_the_agent(console):
    page = console["page"]
    page.goto(console["url"])
    page.wait("document.getElementById('status').textContent === 'reviewing as alice'")
    proc = _agent(console, "--", "sync", "-f", "/")
    try:
        page.wait("!!document.querySelector('.review button[data-answer=remember]:not([hidden])')")
        offered = page.js("document.querySelector('.review .suggestion').textContent")
        assert offered.startswith("Remember would allow, for agent builder: sync")
        page.js("document.querySelector('.review button[data-answer=remember]').click()")
        _, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    policy = console["server"].policy.read_text()
    assert "remembered by alice" in policy and '"builder"' in policy
    # The same command now passes on the policy alone, for this agent.
    again = _agent(console, "--", "sync", "-f", "/")
    _, err = again.communicate(timeout=20)
    assert again.returncode == 0, err
    entries = console["server"].guard("serve", "export").stdout.splitlines()
    first, second = (json.loads(x) for x in entries[-2:])
    assert (first["decision"], first["reviewer"]) == ("approved", "alice")
    assert first["remembered"] == offered.split(": ", 1)[1]
    assert (second["decision"], second["decided_by"]) == ("allowed", "policy")
