"""The server process itself: clean shutdown on signals, and state kept across restarts."""

import signal

import requests

from conftest import Server, ServerProcess, World


def test_restart_keeps_tokens_and_stops_cleanly(tmp_path):
    db = tmp_path / "restart.db"
    first = ServerProcess(db, tmp_path / "first.log")
    try:
        token = Server(first.base).mint("alice", "acme", World.ALICE_ACME_SCOPES, lifetime="long")
    finally:
        rc = first.stop(signal.SIGTERM)
    assert rc == 0, f"exit code {rc} after SIGTERM:\n{first.stderr_text()}"

    # Same database, same seed (applying it again changes nothing): the token still works.
    second = ServerProcess(db, tmp_path / "second.log")
    try:
        resp = requests.get(f"{second.base}/v25.0/me", params={"access_token": token}, timeout=10)
    finally:
        rc = second.stop(signal.SIGINT)
    assert resp.status_code == 200, resp.text
    assert resp.json()["name"] == World.ALICE_NAME
    assert rc == 0, f"exit code {rc} after SIGINT:\n{second.stderr_text()}"
