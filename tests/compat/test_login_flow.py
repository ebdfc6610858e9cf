"""A hand-written server-side login flow, with the unmodified facebook-sdk 3.1.0 building the
dialog URL (``get_auth_url``) and trading the code (``get_access_token_from_code``).

The browser is played by ``requests``: it keeps graphtoken's session cookie, posts the sign-in
and consent forms, and stops at the redirect back to the app.
"""

import html
import re
from urllib.parse import parse_qs, urlsplit

import facebook
import pytest
import requests

from conftest import World

VERSION = "3.1"
REDIRECT = "http://localhost:3000/auth/facebook/callback"


@pytest.fixture(autouse=True)
def urls(server, monkeypatch):
    monkeypatch.setattr(facebook, "FACEBOOK_GRAPH_URL", server.base + "/")
    monkeypatch.setattr(facebook, "FACEBOOK_WWW_URL", server.base + "/")


def field(page: str, name: str) -> str:
    tag = re.search(r'<input[^>]*name="%s"[^>]*>' % re.escape(name), page)
    assert tag, f"no input {name} in {page[:2000]}"
    return html.unescape(re.search(r'value="([^"]*)"', tag.group(0)).group(1))


class Browser:
    def __init__(self, server):
        self.server = server
        self.http = requests.Session()

    def get(self, url: str) -> requests.Response:
        return self.http.get(url, allow_redirects=False, timeout=10)

    def post(self, path: str, data) -> requests.Response:
        return self.http.post(self.server.base + path, data=data, allow_redirects=False, timeout=10)

    def sign_in(self, page: requests.Response, email: str, password: str) -> requests.Response:
        assert 'action="/login"' in page.text, page.text[:2000]
        r = self.post(
            "/login",
            {"email": email, "pass": password, "next": field(page.text, "next"), "csrf": field(page.text, "csrf")},
        )
        assert r.status_code == 303, r.text[:2000]
        return self.get(self.server.base + r.headers["Location"])

    def consent(self, page: requests.Response, scopes: list[str], action: str = "continue") -> requests.Response:
        assert 'id="continue"' in page.text, page.text[:2000]
        data = [(name, field(page.text, name)) for name in ("csrf", "dialog", "consent")]
        data.append(("action", action))
        data += [("scope", s) for s in ["public_profile", *scopes]]
        return self.post("/dialog/oauth/confirm", data)


def back_to_app(r: requests.Response) -> dict:
    """The query of the redirect to the app's redirect URI."""
    assert r.status_code == 302, r.text[:2000]
    location = r.headers["Location"]
    assert location.startswith(REDIRECT + "?"), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def auth_url(perms: list[str], **kwargs) -> str:
    return facebook.GraphAPI(version=VERSION).get_auth_url(World.ACME_ID, REDIRECT, perms, **kwargs)


def test_manual_flow_with_facebook_sdk(server):
    b = Browser(server)
    # bob already granted email to acme: after signing in he goes straight back with a code.
    page = b.get(auth_url(["email"], state="s-1"))
    back = back_to_app(b.sign_in(page, "bob@compat.example", "bob-password"))
    assert back["state"] == "s-1"
    answer = facebook.GraphAPI(version=VERSION).get_access_token_from_code(
        back["code"], REDIRECT, World.ACME_ID, World.ACME_SECRET
    )
    assert answer["token_type"] == "bearer" and answer["expires_in"] == 3600
    me = facebook.GraphAPI(answer["access_token"], version=VERSION).get_object("me", fields="name,email")
    assert me["name"] == World.BOB_NAME and me["email"] == "bob@compat.example"

    # The same code again: facebook-sdk raises Facebook's error.
    with pytest.raises(facebook.GraphAPIError) as info:
        facebook.GraphAPI(version=VERSION).get_access_token_from_code(
            back["code"], REDIRECT, World.ACME_ID, World.ACME_SECRET
        )
    assert info.value.code == 100
    assert info.value.message == "This authorization code has been used."


def test_declining_a_permission_in_the_consent_page(server):
    b = Browser(server)
    page = b.get(auth_url(["user_birthday"], state="s-2"))
    page = b.sign_in(page, "bob@compat.example", "bob-password")
    back = back_to_app(b.consent(page, []))
    token = facebook.GraphAPI(version=VERSION).get_access_token_from_code(
        back["code"], REDIRECT, World.ACME_ID, World.ACME_SECRET
    )["access_token"]
    perms = requests.get(f"{server.base}/v{VERSION}/me/permissions", params={"access_token": token}, timeout=10)
    statuses = {p["permission"]: p["status"] for p in perms.json()["data"]}
    assert statuses["user_birthday"] == "declined"
    assert statuses["email"] == "granted"


def test_cancel_redirects_with_access_denied(server):
    b = Browser(server)
    page = b.get(auth_url(["user_location"], state="s-3"))
    page = b.sign_in(page, "bob@compat.example", "bob-password")
    back = back_to_app(b.consent(page, ["user_location"], action="cancel"))
    assert back == {
        "error": "access_denied",
        "error_code": "200",
        "error_description": "Permissions error.",
        "error_reason": "user_denied",
        "state": "s-3",
    }
