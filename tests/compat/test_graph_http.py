"""Wire-level checks with plain `requests`: status codes, headers and bodies that SDKs rely on."""

import json
import re

import pytest
import requests

from conftest import LONG_LIVED, SHORT_LIVED, World, appsecret_proof

JSON_CONTENT_TYPE = "application/json; charset=UTF-8"
V = "/v25.0"


def error_of(resp: requests.Response, code: int) -> dict:
    """Checks a Graph error response (HTTP 400, JSON envelope) and returns its `error` object."""
    assert resp.status_code == 400, f"{resp.status_code} {resp.text}"
    assert resp.headers["Content-Type"] == JSON_CONTENT_TYPE
    err = resp.json()["error"]
    assert err["code"] == code, err
    assert isinstance(err["message"], str) and err["message"]
    assert err["type"] in {"OAuthException", "GraphMethodException"}, err
    assert err["fbtrace_id"], err
    assert None not in err.values(), f"optional keys must be omitted, not null: {err}"
    return err


def debug_data(server, token: str) -> dict:
    resp = server.get(f"{V}/debug_token", input_token=token, access_token=f"{World.ACME_ID}|{World.ACME_SECRET}")
    assert resp.status_code == 200, resp.text
    return resp.json()["data"]


# ---- headers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, served",
    [("/me", "v25.0"), (f"{V}/me", V[1:]), ("/v26.0/me", "v26.0"), ("/v19.0/me", "v21.0"), ("/v2.3/me", "v21.0")],
)
def test_json_content_type_and_the_version_that_served_it(server, alice, path, served):
    # A retired version (v2.3 is the default of a popular Node client) is served by the
    # oldest available one, and the header says which.
    resp = server.get(path, access_token=alice)
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"] == JSON_CONTENT_TYPE
    assert resp.headers["facebook-api-version"] == served


def test_error_responses_have_json_content_type_and_version(server):
    resp = server.get(f"{V}/me", access_token="garbage")
    error_of(resp, 190)
    assert resp.headers["facebook-api-version"] == "v25.0"


def test_unversioned_path_serves_the_same_node(server, alice):
    assert server.get("/me", access_token=alice).json() == server.get(f"{V}/me", access_token=alice).json()


# ---- /me and nodes ----------------------------------------------------------------------------


def test_me_without_token(server):
    err = error_of(server.get(f"{V}/me"), 2500)
    assert err["message"] == "An active access token must be used to query information about the current user."
    assert err["type"] == "OAuthException"


def test_unknown_field(server, alice):
    err = error_of(server.get(f"{V}/me", access_token=alice, fields="id,address"), 100)
    assert err["message"] == "(#100) Tried accessing nonexisting field (address) on node type (User)"


def test_unknown_object(server, alice):
    err = error_of(server.get(f"{V}/999999999999", access_token=alice), 100)
    assert err["error_subcode"] == 33
    assert err["type"] == "GraphMethodException"
    assert err["message"] == (
        "Unsupported get request. Object with ID '999999999999' does not exist, cannot be loaded due to "
        "missing permissions, or does not support this operation. Please read the Graph API documentation "
        "at https://developers.facebook.com/docs/graph-api"
    )


def test_expired_token_message_format(clock):
    token = clock.mint("alice", "acme", World.ALICE_ACME_SCOPES)
    clock.advance(2 * SHORT_LIVED)
    err = error_of(clock.get(f"{V}/me", access_token=token), 190)
    assert err["error_subcode"] == 463
    date = r"(Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day, \d\d-[A-Z][a-z]{2}-\d\d \d\d:\d\d:\d\d P[DS]T"
    pattern = rf"Error validating access token: Session has expired on {date}\. The current time is {date}\."
    assert re.fullmatch(pattern, err["message"]), err["message"]


def test_permissions_edge_shows_declined(server, bob):
    resp = server.get(f"{V}/me/permissions", access_token=bob)
    assert resp.status_code == 200, resp.text
    statuses = {p["permission"]: p["status"] for p in resp.json()["data"]}
    assert statuses == {"public_profile": "granted", "email": "granted", "pages_show_list": "declined"}


# ---- /oauth/access_token ----------------------------------------------------------------------


def test_client_credentials_by_post_form(server):
    resp = server.post(
        f"{V}/oauth/access_token",
        grant_type="client_credentials",
        client_id=World.ACME_ID,
        client_secret=World.ACME_SECRET,
    )
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"] == JSON_CONTENT_TYPE
    body = resp.json()
    assert set(body) == {"access_token", "token_type"}
    assert body["token_type"] == "bearer"
    assert body["access_token"].startswith(World.ACME_ID + "|")


def test_fb_exchange_token_by_post_form(server, alice):
    resp = server.post(
        f"{V}/oauth/access_token",
        grant_type="fb_exchange_token",
        client_id=World.ACME_ID,
        client_secret=World.ACME_SECRET,
        fb_exchange_token=alice,
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == LONG_LIVED
    assert body["access_token"] != alice
    assert "|" not in body["access_token"]


def test_bad_client_secret(server):
    resp = server.get(
        f"{V}/oauth/access_token",
        grant_type="client_credentials",
        client_id=World.ACME_ID,
        client_secret="0" * 32,
    )
    err = error_of(resp, 1)
    assert err["message"] == "Error validating client secret."


# ---- /debug_token -------------------------------------------------------------------------------


def test_debug_token_of_garbage_is_200_and_invalid(server):
    data = debug_data(server, "garbage")
    assert data["is_valid"] is False
    assert data["error"]["code"] == 190
    assert data["error"]["message"] == "Invalid OAuth access token - Cannot parse access token"
    assert data["scopes"] == []


def test_debug_token_of_expired_token_keeps_identity(clock, alice_asid):
    token = clock.mint("alice", "acme", World.ALICE_ACME_SCOPES)
    expires_at = debug_data(clock, token)["expires_at"]
    clock.advance(2 * SHORT_LIVED)
    data = debug_data(clock, token)
    assert data["is_valid"] is False
    assert data["error"]["code"] == 190
    assert data["error"]["subcode"] == 463  # `subcode` here, not `error_subcode`
    assert "Session has expired on" in data["error"]["message"]
    assert data["type"] == "USER"
    assert data["app_id"] == World.ACME_ID
    assert data["user_id"] == alice_asid
    assert data["expires_at"] == expires_at


def test_debug_token_without_access_token(server, alice):
    err = error_of(server.get(f"{V}/debug_token", input_token=alice), 100)
    assert err["message"] == (
        "(#100) You must provide an app access token, or a user access token that is an owner or developer of the app"
    )


# ---- accounts and Page tokens -------------------------------------------------------------------


def test_accounts_default_fields_and_cursor_paging(server, alice):
    first = server.get(f"{V}/me/accounts", access_token=alice, limit=2)
    assert first.status_code == 200, first.text
    first = first.json()
    assert len(first["data"]) == 2
    for item in first["data"]:
        assert set(item) == {"access_token", "category", "category_list", "name", "id", "tasks"}
        assert all(set(c) == {"id", "name"} for c in item["category_list"])
    assert {"before", "after"} <= set(first["paging"]["cursors"])
    assert "previous" not in first["paging"]
    next_url = first["paging"]["next"]
    assert next_url.startswith(f"{server.base}{V}/"), next_url
    assert "access_token=" in next_url

    second = requests.get(next_url, timeout=10)
    assert second.status_code == 200, second.text
    second = second.json()
    assert "next" not in second["paging"]
    assert "previous" in second["paging"]
    ids = [p["id"] for p in first["data"] + second["data"]]
    assert sorted(ids) == sorted(World.PAGE_NAMES)


def test_accounts_without_pages_show_list_is_empty(server, bob):
    resp = server.get(f"{V}/me/accounts", access_token=bob)
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"data": []}


def test_page_access_token_field(server, alice):
    resp = server.get(f"{V}/{World.COFFEE}", access_token=alice, fields="access_token")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) == {"access_token", "id"}
    assert body["id"] == World.COFFEE
    assert "|" not in body["access_token"]


# ---- appsecret_proof ----------------------------------------------------------------------------


def test_proof_required_when_app_requires_it(server, alice_proofy):
    err = error_of(server.get(f"{V}/me", access_token=alice_proofy), 100)
    assert err["message"] == "API calls from the server require an appsecret_proof argument"
    assert err["type"] == "GraphMethodException"


def test_correct_proof_accepted(server, alice_proofy):
    proof = appsecret_proof(World.PROOFY_SECRET, alice_proofy)
    resp = server.get(f"{V}/me", access_token=alice_proofy, appsecret_proof=proof)
    assert resp.status_code == 200, resp.text
    assert resp.json()["name"] == World.ALICE_NAME


def test_the_app_id_and_secret_literal_needs_no_proof(server, alice_proofy):
    # "Require App Secret": the literal `{app-id}|{app-secret}` carries the secret itself.
    literal = f"{World.PROOFY_ID}|{World.PROOFY_SECRET}"
    resp = server.get(f"{V}/debug_token", input_token=alice_proofy, access_token=literal)
    assert resp.status_code == 200, resp.text
    assert resp.json()["data"]["is_valid"] is True
    resp = server.get(f"{V}/{World.PROOFY_ID}", access_token=literal)
    assert resp.status_code == 200, resp.text
    # A proof sent with it is still checked; the app's own derived app token needs one.
    err = error_of(server.get(f"{V}/{World.PROOFY_ID}", access_token=literal, appsecret_proof="0" * 64), 100)
    assert err["message"] == "Invalid appsecret_proof provided in the API argument"
    app_token = server.get(
        f"{V}/oauth/access_token",
        grant_type="client_credentials",
        client_id=World.PROOFY_ID,
        client_secret=World.PROOFY_SECRET,
    ).json()["access_token"]
    assert app_token != literal
    err = error_of(server.get(f"{V}/{World.PROOFY_ID}", access_token=app_token), 100)
    assert err["message"] == "API calls from the server require an appsecret_proof argument"
    proof = appsecret_proof(World.PROOFY_SECRET, app_token)
    assert server.get(f"{V}/{World.PROOFY_ID}", access_token=app_token, appsecret_proof=proof).status_code == 200


def test_the_app_secret_sent_as_client_secret_needs_no_proof(server, alice_proofy):
    # "require app secret or app secret proof for all API calls": the secret itself will do.
    resp = server.get(f"{V}/me", access_token=alice_proofy, client_secret=World.PROOFY_SECRET)
    assert resp.status_code == 200, resp.text
    assert resp.json()["name"] == World.ALICE_NAME
    # A wrong secret is no secret: the proof is still wanted.
    err = error_of(server.get(f"{V}/me", access_token=alice_proofy, client_secret="wrong"), 100)
    assert err["message"] == "API calls from the server require an appsecret_proof argument"
    # In a batch, the top-level secret goes with the top-level token, as the proof does.
    batch = json.dumps([{"method": "GET", "relative_url": "me"}])
    resp = server.post(f"{V}/", access_token=alice_proofy, client_secret=World.PROOFY_SECRET, batch=batch)
    assert resp.status_code == 200, resp.text
    assert resp.json()[0]["code"] == 200, resp.text
    resp = server.post(f"{V}/", access_token=alice_proofy, batch=batch)
    assert resp.json()[0]["code"] == 400, resp.text


def test_wrong_proof_rejected_even_when_optional(server, alice):
    err = error_of(server.get(f"{V}/me", access_token=alice, appsecret_proof="0" * 64), 100)
    assert err["message"] == "Invalid appsecret_proof provided in the API argument"
    assert err["type"] == "GraphMethodException"


# ---- admin API ----------------------------------------------------------------------------------


def test_admin_api_requires_the_key(server):
    body = {"user": "alice", "app": "acme", "scopes": ["email"], "lifetime": "short"}
    for headers in ({}, {"Authorization": "Bearer wrong-key"}):
        resp = requests.post(f"{server.base}/_admin/tokens", json=body, headers=headers, timeout=10)
        assert resp.status_code in (401, 403), f"{headers}: {resp.status_code} {resp.text}"


@pytest.mark.parametrize("lifetime,expires_in", [("short", SHORT_LIVED), ("long", LONG_LIVED)])
def test_admin_mint(server, lifetime, expires_in):
    body = server.mint_response("alice", World.ACME_ID, World.ALICE_ACME_SCOPES, lifetime)
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == expires_in
    assert server.get(f"{V}/me", access_token=body["access_token"]).status_code == 200


def test_admin_clock(clock):
    start = clock.now()
    assert 100 <= clock.advance(100) - start <= 105
    assert abs(clock.set_clock(start) - start) <= 5
