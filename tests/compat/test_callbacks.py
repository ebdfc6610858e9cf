"""The deauthorize callback: a real HTTP receiver on loopback gets a form with a
`signed_request`, which the unmodified facebook-sdk's `parse_signed_request` accepts."""

import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

import facebook
import requests

from conftest import ServerProcess, Server

SECRET = "callback-app-secret-0123456789ab"


class Receiver:
    """Records POSTs; answers 503 to the first `fail_first` of them, then 200."""

    def __init__(self, fail_first: int = 0, answer: bytes = b"{}"):
        self.posts: list[dict] = []
        self.fail_first = fail_first
        self.answer = answer
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length).decode()
                outer.posts.append(
                    {"path": self.path, "ctype": self.headers.get("Content-Type"), "form": urllib.parse.parse_qs(body)}
                )
                code = 503 if len(outer.posts) <= outer.fail_first else 200
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(outer.answer)

            def log_message(self, *args):
                pass

        self.httpd = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/deauthorize"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def wait(self, n: int, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.posts) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.posts) >= n, f"expected {n} callbacks, got {self.posts}"

    def close(self) -> None:
        self.httpd.shutdown()


def world(receiver_url: str) -> str:
    return f"""
[[apps]]
key = "hooked"
id = "1000000000000077"
name = "Hooked App"
secret = "{SECRET}"
deauthorize_callback_url = "{receiver_url}"
data_deletion_url = "{receiver_url}"

[[users]]
key = "dana"
name = "Dana Hook"

[[grants]]
user = "dana"
app = "hooked"
granted = ["email"]
"""


def newest_when(server, ready, timeout: float = 10.0) -> list:
    """The callbacks listing once `ready(newest entry)` holds (or when `timeout` runs out)."""
    deadline = time.monotonic() + timeout
    while True:
        listing = server._admin("GET", "callbacks")["data"]
        if (listing and ready(listing[0])) or time.monotonic() > deadline:
            return listing
        time.sleep(0.02)


def start(tmp_path, receiver):
    seed = tmp_path / "hooked.toml"
    seed.write_text(world(receiver.url))
    proc = ServerProcess(tmp_path / "hooked.db", tmp_path / "hooked.log", seed=seed)
    return proc, Server(proc.base)


def test_deauthorize_callback_carries_a_signed_request_facebook_sdk_accepts(tmp_path):
    receiver = Receiver()
    proc, server = start(tmp_path, receiver)
    try:
        token = server.mint("dana", "hooked", ["email"])
        asid = requests.get(f"{server.base}/me", params={"access_token": token}, timeout=10).json()["id"]
        removed = server._admin("POST", "users/dana/apps/hooked/remove", json={})
        assert removed["success"] is True and removed["callback"], removed

        receiver.wait(1)
        post = receiver.posts[0]
        assert post["path"] == "/deauthorize"
        assert post["ctype"].startswith("application/x-www-form-urlencoded")
        signed = post["form"]["signed_request"][0]
        data = facebook.parse_signed_request(signed, SECRET)
        assert data, f"facebook-sdk rejected {signed!r}"
        assert data["user_id"] == asid
        assert data["algorithm"] == "HMAC-SHA256"
        assert isinstance(data["issued_at"], int)
        assert facebook.parse_signed_request(signed, "another secret") is False

        # The app has its post; the server records the delivery once the app's answer is read.
        listing = newest_when(server, lambda c: c["status"] != "pending")
        assert listing[0]["status"] == "delivered" and listing[0]["attempts"] == 1, listing
        assert listing[0]["kind"] == "deauthorize" and listing[0]["user_id"] == asid
    finally:
        proc.stop()
        receiver.close()


def test_deauthorize_callback_is_retried_until_the_app_answers(tmp_path):
    receiver = Receiver(fail_first=2)
    proc, server = start(tmp_path, receiver)
    try:
        server.mint("dana", "hooked", [])
        server._admin("POST", "users/dana/apps/hooked/remove", json={})
        receiver.wait(3)
        listing = newest_when(server, lambda c: c["status"] == "delivered")
        assert listing[0]["status"] == "delivered", listing
        assert listing[0]["attempts"] == 3, listing
    finally:
        proc.stop()
        receiver.close()


def test_data_deletion_request_records_the_apps_confirmation(tmp_path):
    answer = b'{"url": "https://hooked.example/deletion?id=abc123", "confirmation_code": "abc123"}'
    receiver = Receiver(answer=answer)
    proc, server = start(tmp_path, receiver)
    try:
        token = server.mint("dana", "hooked", [])
        asid = requests.get(f"{server.base}/me", params={"access_token": token}, timeout=10).json()["id"]
        sent = server._admin("POST", "users/dana/apps/hooked/data_deletion", json={})
        assert sent["success"] is True and sent["callback"], sent

        receiver.wait(1)
        data = facebook.parse_signed_request(receiver.posts[0]["form"]["signed_request"][0], SECRET)
        assert data, "facebook-sdk rejected the signed_request"
        assert data["user_id"] == asid
        assert data["expires"] > data["issued_at"]

        entry = newest_when(server, lambda c: c["status"] == "delivered")[0]
        assert entry["kind"] == "data_deletion" and entry["status"] == "delivered", entry
        assert entry["answer"] == {"url": "https://hooked.example/deletion?id=abc123", "confirmation_code": "abc123"}
        assert entry["last_error"] is None
        # The person's token is untouched by a data-deletion request.
        assert requests.get(f"{server.base}/me", params={"access_token": token}, timeout=10).status_code == 200
    finally:
        proc.stop()
        receiver.close()


def test_a_callback_waiting_for_a_retry_survives_a_restart(tmp_path):
    # The app is down until the server stops while the callback waits for a retry; another
    # server on the same database delivers it from the outbox. The app stays down until then
    # (not for one try only), so a slow machine that sees a second failed try first still
    # tests the same thing.
    receiver = Receiver(fail_first=1000)
    proc, server = start(tmp_path, receiver)
    try:
        server.mint("dana", "hooked", [])
        server._admin("POST", "users/dana/apps/hooked/remove", json={})
        receiver.wait(1)
        listing = newest_when(server, lambda c: c["attempts"] >= 1, timeout=5)
        assert listing[0]["status"] == "retrying" and listing[0]["attempts"] >= 1, listing
        proc.stop()
        failed = len(receiver.posts)
        receiver.fail_first = failed

        proc, server = start(tmp_path, receiver)
        # A stop during a try in flight leaves that try's claim (a 30 s lease) in the outbox:
        # the next server waits it out, so the waits here outlast it.
        receiver.wait(failed + 1, timeout=45)
        listing = newest_when(server, lambda c: c["status"] == "delivered", timeout=45)
        assert listing[0]["status"] == "delivered" and listing[0]["attempts"] == failed + 1, listing
        assert len(listing) == 1, listing
        assert len(receiver.posts) == failed + 1
    finally:
        proc.stop()
        receiver.close()
