"""Shared fixtures for the compatibility tests.

One graphtoken server is started per test session, on a free port, with a fresh SQLite database
and the seed world in ``world.toml`` next to this file. Tests mint the tokens they need through
the admin API (``Server.mint``), so no test depends on tokens another test made. Tests that move
the virtual clock use the ``clock`` fixture, which puts the clock back afterwards.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import queue
import re
import signal
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
SEED = Path(__file__).with_name("world.toml")
ADMIN_KEY = "compat-admin-key"
START_TIMEOUT = 30.0
LISTENING = re.compile(r"^graphtoken listening on (http://127\.0\.0\.1:\d+)$")

SHORT_LIVED = 3600
LONG_LIVED = 5_184_000


class World:
    """The values of world.toml that tests check against."""

    ACME_ID = "1000000000000001"
    ACME_NAME = "Acme Social"
    ACME_SECRET = "9f2b6c1d4e8a7b3c5d0e1f2a3b4c5d6e"
    PROOFY_ID = "1000000000000003"
    PROOFY_SECRET = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"

    ALICE_NAME = "Alice Compat"
    ALICE_EMAIL = "alice@compat.example"
    # Minting adds the scopes to the grant, so tokens for alice on acme always use exactly this.
    ALICE_ACME_SCOPES = [
        "public_profile",
        "email",
        "pages_show_list",
        "pages_read_engagement",
        "pages_manage_posts",
        "read_insights",
    ]
    ALICE_PROOFY_SCOPES = ["public_profile", "email", "pages_show_list"]
    BOB_NAME = "Bob Compat"

    COFFEE = "200000000000101"  # alice: Admin
    NEWS = "200000000000102"  # alice: Analyst
    BAKERY = "200000000000103"  # alice: CREATE_CONTENT, MODERATE, ANALYZE
    PAGE_NAMES = {COFFEE: "Compat Coffee", NEWS: "Compat News", BAKERY: "Compat Bakery"}
    PAGE_CATEGORIES = {COFFEE: "Coffee Shop", NEWS: "Media/News Company", BAKERY: "Bakery"}
    ALICE_TASKS = {
        COFFEE: {"MANAGE", "CREATE_CONTENT", "MODERATE", "MESSAGING", "ADVERTISE", "ANALYZE"},
        NEWS: {"ANALYZE"},
        BAKERY: {"CREATE_CONTENT", "MODERATE", "ANALYZE"},
    }


def appsecret_proof(secret: str, token: str) -> str:
    """hex(HMAC-SHA256(key=app secret, msg=access token)), as every SDK computes it."""
    return hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()


@dataclass
class Server:
    """A running graphtoken server and small helpers around its admin API."""

    base: str  # e.g. http://127.0.0.1:41234 (no trailing slash)
    admin_key: str = ADMIN_KEY

    # ---- admin API ----------------------------------------------------------------------------

    def _admin(self, method: str, path: str, **kwargs) -> dict:
        resp = requests.request(
            method,
            f"{self.base}/_admin/{path}",
            headers={"Authorization": f"Bearer {self.admin_key}"},
            timeout=10,
            **kwargs,
        )
        assert resp.status_code == 200, f"admin {method} {path}: {resp.status_code} {resp.text}"
        return resp.json()

    def mint_response(self, user: str, app: str, scopes: list[str], lifetime: str = "short") -> dict:
        """POST /_admin/tokens; returns the whole JSON body."""
        body = {"user": user, "app": app, "scopes": scopes, "lifetime": lifetime}
        return self._admin("POST", "tokens", json=body)

    def mint(self, user: str, app: str, scopes: list[str], lifetime: str = "short") -> str:
        return self.mint_response(user, app, scopes, lifetime)["access_token"]

    def now(self) -> int:
        return self._admin("GET", "clock")["now"]

    def advance(self, seconds: int) -> int:
        return self._admin("POST", "clock", json={"advance_seconds": seconds})["now"]

    def set_clock(self, unix: int) -> int:
        return self._admin("POST", "clock", json={"set": unix})["now"]

    # ---- Graph API ----------------------------------------------------------------------------

    def get(self, path: str, **params) -> requests.Response:
        """GET a Graph path (e.g. "/v25.0/me") with query parameters."""
        return requests.get(f"{self.base}{path}", params=params, timeout=10)

    def post(self, path: str, **form) -> requests.Response:
        return requests.post(f"{self.base}{path}", data=form, timeout=10)


# ---- the server process -----------------------------------------------------------------------


def graphtoken_bin() -> Path:
    path = Path(os.environ.get("GRAPHTOKEN_BIN", "target/debug/graphtoken"))
    return path if path.is_absolute() else REPO_ROOT / path


class ServerProcess:
    """Starts `graphtoken serve` and waits for its `listening on` line."""

    def __init__(self, db: Path, stderr_path: Path, seed: Path = SEED):
        exe = graphtoken_bin()
        if not exe.is_file():
            pytest.fail(f"graphtoken binary not found at {exe} (build it, or set GRAPHTOKEN_BIN)")
        self.stderr_path = stderr_path
        self._stderr = open(stderr_path, "wb")
        self.proc = subprocess.Popen(
            [
                str(exe), "serve",
                "--listen", "127.0.0.1:0",
                "--db", f"sqlite://{db}",
                "--seed", str(seed),
                "--admin-key", ADMIN_KEY,
            ],
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._drain_stdout, daemon=True).start()
        self.base = self._wait_listening()

    def _drain_stdout(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:  # keeps reading so the pipe never fills up
            self._lines.put(raw.decode("utf-8", "replace").rstrip("\r\n"))
        self._lines.put(None)

    def stderr_text(self) -> str:
        if not self._stderr.closed:
            self._stderr.flush()
        return self.stderr_path.read_text("utf-8", "replace")

    def _wait_listening(self) -> str:
        seen = []
        try:
            while True:
                line = self._lines.get(timeout=START_TIMEOUT)
                if line is None:
                    rc = self.proc.wait(timeout=5)
                    pytest.fail(
                        f"graphtoken exited (code {rc}) before listening.\n"
                        f"stdout: {seen}\nstderr:\n{self.stderr_text()}"
                    )
                seen.append(line)
                match = LISTENING.match(line)
                if match:
                    return match.group(1)
        except queue.Empty:
            self.stop()
            pytest.fail(
                f"no 'graphtoken listening on' line within {START_TIMEOUT:.0f} s.\n"
                f"stdout: {seen}\nstderr:\n{self.stderr_text()}"
            )

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        """Signals the server and returns its exit code (killing it if it does not stop)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._stderr.close()
        return self.proc.returncode


def serve_world(tmp_path_factory, name: str):
    """A graphtoken process on a database of its own with world.toml, as a `Server`; stopped
    when the generator is closed (a fixture's teardown)."""
    tmp = tmp_path_factory.mktemp(name)
    proc = ServerProcess(tmp / f"{name}.db", tmp / "stderr.log")
    try:
        yield Server(proc.base)
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Server:
    yield from serve_world(tmp_path_factory, "graphtoken")


@pytest.fixture
def clock(server):
    """The server, for tests that move its virtual clock; the clock is put back afterwards."""
    start = server.now()
    yield server
    server.set_clock(start)


@pytest.fixture
def alice(server) -> str:
    """A short-lived user token for alice on acme."""
    return server.mint("alice", "acme", World.ALICE_ACME_SCOPES)


@pytest.fixture
def alice_long(server) -> str:
    """A long-lived user token for alice on acme."""
    return server.mint("alice", "acme", World.ALICE_ACME_SCOPES, lifetime="long")


@pytest.fixture
def alice_proofy(server) -> str:
    """A short-lived user token for alice on proofy (which requires appsecret_proof)."""
    return server.mint("alice", "proofy", World.ALICE_PROOFY_SCOPES)


@pytest.fixture
def bob(server) -> str:
    """A short-lived user token for bob on acme (he declined pages_show_list)."""
    return server.mint("bob", "acme", ["email"])


@pytest.fixture
def app_token() -> str:
    """acme's app token in the literal `{app-id}|{app-secret}` form."""
    return f"{World.ACME_ID}|{World.ACME_SECRET}"


@pytest.fixture
def alice_asid(server, alice) -> str:
    """alice's app-scoped id for acme, as /me reports it."""
    resp = server.get("/v25.0/me", access_token=alice)
    assert resp.status_code == 200, resp.text
    return resp.json()["id"]
