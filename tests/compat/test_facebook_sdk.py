"""The unmodified facebook-sdk 3.1.0 package (`import facebook`) against graphtoken.

facebook-sdk builds every URL from the module global FACEBOOK_GRAPH_URL at call time, so pointing
it at the emulator is one assignment. Its newest known version is "3.1" (its default is 2.8).
"""

import re

import facebook
import pytest

from conftest import LONG_LIVED, SHORT_LIVED, World

VERSION = "3.1"


@pytest.fixture(autouse=True)
def graph_url(server, monkeypatch):
    monkeypatch.setattr(facebook, "FACEBOOK_GRAPH_URL", server.base + "/")


def graph(token=None) -> facebook.GraphAPI:
    return facebook.GraphAPI(access_token=token, version=VERSION, timeout=10)


def graph_error(call, *args, **kwargs) -> facebook.GraphAPIError:
    """Runs an SDK call that must fail and returns the GraphAPIError it raised."""
    with pytest.raises(facebook.GraphAPIError) as info:
        call(*args, **kwargs)
    return info.value


def debug(token: str) -> dict:
    return graph().debug_access_token(token, World.ACME_ID, World.ACME_SECRET)["data"]


def page_token(user_token: str, page_id: str) -> str:
    page = graph(user_token).get_object(page_id, fields="access_token")
    assert page["id"] == page_id
    return page["access_token"]


# ---- the user node ------------------------------------------------------------------------------


def test_me_returns_asid_and_name(alice):
    me = graph(alice).get_object("me")
    assert set(me) == {"id", "name"}
    assert me["name"] == World.ALICE_NAME
    assert re.fullmatch(r"\d+", me["id"])
    # The ASID is the id the app knows the person by: /{asid} is the same person.
    assert graph(alice).get_object(me["id"]) == me


def test_me_with_fields(alice, alice_asid):
    me = graph(alice).get_object("me", fields="id,name,email")
    assert me == {"id": alice_asid, "name": World.ALICE_NAME, "email": World.ALICE_EMAIL}


def test_get_permissions(alice, alice_asid):
    assert graph(alice).get_permissions(alice_asid) == set(World.ALICE_ACME_SCOPES)


def test_get_version_reads_the_version_that_served_it(alice):
    # The client calls its default, v3.1, long retired: served by the oldest available version.
    assert graph(alice).get_version() == "21.0"


# ---- app tokens ---------------------------------------------------------------------------------


def test_get_app_access_token():
    token = graph().get_app_access_token(World.ACME_ID, World.ACME_SECRET)
    assert re.fullmatch(re.escape(World.ACME_ID) + r"\|[^|]{27}", token), token
    info = debug(token)
    assert info["is_valid"] is True
    assert info["type"] == "APP"
    assert info["app_id"] == World.ACME_ID
    assert info["application"] == World.ACME_NAME
    # The minted app token works as the debug_token caller too.
    assert graph(token).request(f"v{VERSION}/debug_token", {"input_token": token})["data"]["is_valid"]


def test_app_access_token_offline_form_is_accepted():
    token = graph().get_app_access_token(World.ACME_ID, World.ACME_SECRET, offline=True)
    assert token == f"{World.ACME_ID}|{World.ACME_SECRET}"
    app = graph(token).get_object(World.ACME_ID)
    assert app["id"] == World.ACME_ID
    assert app["name"] == World.ACME_NAME


def test_app_access_token_with_bad_secret():
    err = graph_error(graph().get_app_access_token, World.ACME_ID, "0" * 32)
    assert err.code == 1
    assert err.message == "Error validating client secret."


# ---- extending and debugging user tokens --------------------------------------------------------


def test_extend_access_token(server, alice, alice_asid):
    extended = graph(alice).extend_access_token(World.ACME_ID, World.ACME_SECRET)
    new = extended["access_token"]
    assert new != alice
    assert extended["token_type"] == "bearer"
    assert LONG_LIVED - 60 <= int(extended["expires_in"]) <= LONG_LIVED
    # Both the new token and the short-lived input work.
    assert graph(new).get_object("me")["id"] == alice_asid
    assert graph(alice).get_object("me")["id"] == alice_asid
    info = debug(new)
    assert info["is_valid"] is True
    assert abs(info["expires_at"] - (server.now() + LONG_LIVED)) <= 60
    assert "issued_at" in info


def test_debug_access_token(server, alice, alice_asid):
    info = debug(alice)
    assert info["is_valid"] is True
    assert info["type"] == "USER"
    assert info["app_id"] == World.ACME_ID
    assert info["application"] == World.ACME_NAME
    assert info["user_id"] == alice_asid
    assert set(info["scopes"]) == set(World.ALICE_ACME_SCOPES)
    assert abs(info["expires_at"] - (server.now() + SHORT_LIVED)) <= 60
    assert info["data_access_expires_at"] > server.now()
    granular = {g["scope"] for g in info["granular_scopes"]}
    assert "public_profile" not in granular
    assert granular <= set(info["scopes"])


# ---- Pages ----------------------------------------------------------------------------------------


def test_accounts_lists_pages_with_tokens(alice):
    accounts = graph(alice).get_connections("me", "accounts")
    pages = {p["id"]: p for p in accounts["data"]}
    assert set(pages) == set(World.PAGE_NAMES)
    for page_id, page in pages.items():
        assert page["name"] == World.PAGE_NAMES[page_id]
        assert page["category"] == World.PAGE_CATEGORIES[page_id]
        assert set(page["tasks"]) == World.ALICE_TASKS[page_id]
        assert page["access_token"]


def test_get_all_connections_pages_through_accounts(alice):
    # get_all_connections deletes access_token from each `next` URL: it must be there.
    pages = list(graph(alice).get_all_connections("me", "accounts", limit=1))
    assert sorted(p["id"] for p in pages) == sorted(World.PAGE_NAMES)


def test_page_token_acts_as_the_page(alice):
    token = page_token(alice, World.COFFEE)
    assert graph(token).get_object("me") == {"id": World.COFFEE, "name": World.PAGE_NAMES[World.COFFEE]}


def test_page_token_from_short_lived_user_token_expires_with_it(alice, alice_asid):
    info = debug(page_token(alice, World.COFFEE))
    assert info["is_valid"] is True
    assert info["type"] == "PAGE"
    assert info["profile_id"] == World.COFFEE
    assert info["user_id"] == alice_asid
    assert info["expires_at"] == debug(alice)["expires_at"]


def test_page_token_from_long_lived_user_token_never_expires(alice_long, server):
    info = debug(page_token(alice_long, World.COFFEE))
    assert info["is_valid"] is True
    assert info["type"] == "PAGE"
    assert info["profile_id"] == World.COFFEE
    assert info["expires_at"] == 0


# ---- errors ---------------------------------------------------------------------------------------


def test_garbage_token():
    err = graph_error(graph("not-a-token").get_object, "me")
    assert err.code == 190
    assert err.message == "Invalid OAuth access token - Cannot parse access token"
    assert err.type == "OAuthException"


def test_expired_token(clock):
    token = clock.mint("alice", "acme", World.ALICE_ACME_SCOPES)
    clock.advance(2 * SHORT_LIVED)
    err = graph_error(graph(token).get_object, "me")
    assert err.code == 190
    assert "Session has expired on" in err.message
    assert err.result["error"]["error_subcode"] == 463


def test_unknown_object(alice):
    err = graph_error(graph(alice).get_object, "999999999999")
    assert err.code == 100
    assert err.result["error"]["error_subcode"] == 33
    assert err.message.startswith("Unsupported get request. Object with ID '999999999999' does not exist")


def test_me_with_app_token(app_token):
    err = graph_error(graph(app_token).get_object, "me")
    assert err.code == 2500
    assert err.message == "An active access token must be used to query information about the current user."
