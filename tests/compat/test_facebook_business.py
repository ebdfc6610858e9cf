"""The unmodified facebook-business package (Meta's official Python SDK) against graphtoken.

The SDK joins FacebookSession.GRAPH (read from the session at call time, no trailing slash) with
the API version and path, and sends access_token and appsecret_proof as default query parameters
on every call, so each call here also checks appsecret_proof verification.
"""

import json

import pytest
from facebook_business.adobjects.page import Page
from facebook_business.adobjects.user import User
from facebook_business.api import FacebookAdsApi
from facebook_business.exceptions import FacebookRequestError
from facebook_business.session import FacebookSession

from conftest import SHORT_LIVED, World, appsecret_proof

API_VERSION = "v25.0"


@pytest.fixture(autouse=True)
def graph_url(server, monkeypatch):
    monkeypatch.setattr(FacebookSession, "GRAPH", server.base)


def ads_api(token: str, app_id: str = World.ACME_ID, secret: str = World.ACME_SECRET) -> FacebookAdsApi:
    return FacebookAdsApi.init(
        app_id=app_id,
        app_secret=secret,
        access_token=token,
        api_version=API_VERSION,
        timeout=10,
        crash_log=False,
    )


def me(api: FacebookAdsApi) -> User:
    return User(fbid="me", api=api).api_get(fields=["id", "name"])


def request_error(call, *args, **kwargs) -> FacebookRequestError:
    """Runs an SDK call that must fail and returns the FacebookRequestError it raised."""
    with pytest.raises(FacebookRequestError) as info:
        call(*args, **kwargs)
    return info.value


def test_user_me(alice, alice_asid):
    user = me(ads_api(alice))
    assert user["id"] == alice_asid
    assert user["name"] == World.ALICE_NAME


# The SDK warns that Page lacks a `tasks` field; the accounts edge has it.
@pytest.mark.filterwarnings("ignore:accounts does not allow field tasks")
def test_user_accounts(alice):
    accounts = User(fbid="me", api=ads_api(alice)).get_accounts(fields=["name", "access_token", "tasks"])
    pages = {p["id"]: p for p in accounts}
    assert set(pages) == set(World.PAGE_NAMES)
    for page_id, page in pages.items():
        assert page["name"] == World.PAGE_NAMES[page_id]
        assert set(page["tasks"]) == World.ALICE_TASKS[page_id]
        assert page["access_token"]


def test_user_accounts_cursor_follows_after(alice):
    # The SDK's Cursor pages with paging.cursors.after while paging.next is present.
    accounts = User(fbid="me", api=ads_api(alice)).get_accounts(fields=["name"], params={"limit": 1})
    assert sorted(p["id"] for p in accounts) == sorted(World.PAGE_NAMES)


def test_page_node(alice):
    page = Page(World.COFFEE, api=ads_api(alice)).api_get(fields=["name", "category"])
    assert page["id"] == World.COFFEE
    assert page["name"] == World.PAGE_NAMES[World.COFFEE]
    assert page["category"] == World.PAGE_CATEGORIES[World.COFFEE]


def test_page_token_through_sdk(alice):
    page = Page(World.NEWS, api=ads_api(alice)).api_get(fields=["access_token"])
    page_api = ads_api(page["access_token"])
    assert Page(World.NEWS, api=page_api).api_get(fields=["name"])["name"] == World.PAGE_NAMES[World.NEWS]


def test_page_feed_publish_and_read_through_sdk(alice):
    # Alice is Admin of Coffee and granted acme pages_manage_posts + pages_read_engagement.
    token = Page(World.COFFEE, api=ads_api(alice)).api_get(fields=["access_token"])["access_token"]
    page = Page(World.COFFEE, api=ads_api(token))
    created = page.create_feed(params={"message": "Fresh from the SDK"})
    post_id = created["id"]
    assert post_id.startswith(World.COFFEE + "_")
    page.create_feed(params={"message": "And a second one"})
    # Newest first; the SDK's Cursor follows paging.cursors.after through every page.
    feed = list(page.get_feed(fields=["message"], params={"limit": 1}))
    messages = [p["message"] for p in feed]
    assert messages[:2] == ["And a second one", "Fresh from the SDK"]
    assert feed[1]["id"] == post_id


def test_page_feed_refuses_a_user_token_through_sdk(alice):
    err = request_error(Page(World.COFFEE, api=ads_api(alice)).create_feed, params={"message": "no"})
    assert err.api_error_code() == 210
    assert err.api_error_message() == "(#210) A page access token is required to request this resource."


def test_app_requiring_proof_works_through_sdk(server, alice_proofy):
    user = me(ads_api(alice_proofy, World.PROOFY_ID, World.PROOFY_SECRET))
    assert user["name"] == World.ALICE_NAME
    # The id is the ASID proofy knows alice by, as a plain request with a proof shows.
    proof = appsecret_proof(World.PROOFY_SECRET, alice_proofy)
    plain = server.get("/v25.0/me", access_token=alice_proofy, appsecret_proof=proof)
    assert user["id"] == plain.json()["id"]


def test_wrong_app_secret_gives_invalid_proof(alice):
    err = request_error(me, ads_api(alice, secret="0" * 32))
    assert err.api_error_code() == 100
    assert err.api_error_message() == "Invalid appsecret_proof provided in the API argument"
    assert err.http_status() == 400


def test_proof_from_another_app_is_invalid(alice_proofy):
    # A proofy token signed with acme's secret: the proof does not match the token's app.
    err = request_error(me, ads_api(alice_proofy, World.PROOFY_ID, World.ACME_SECRET))
    assert err.api_error_code() == 100
    assert err.api_error_message() == "Invalid appsecret_proof provided in the API argument"


# The SDK checks `metric` against its own type table (list<Object>) and warns; it still sends it.
@pytest.mark.filterwarnings("ignore:value of metric might not be compatible")
def test_page_insights_through_sdk(alice):
    # Alice is Admin of Coffee (ANALYZE) and granted acme read_insights + pages_read_engagement;
    # the SDK sends the metric list as JSON and its Cursor stops without paging cursors.
    token = Page(World.COFFEE, api=ads_api(alice)).api_get(fields=["access_token"])["access_token"]
    params = {"metric": ["page_impressions"], "period": "day", "since": "2026-11-01", "until": "2026-11-08"}
    insights = list(Page(World.COFFEE, api=ads_api(token)).get_insights(params=params))
    assert [i["name"] for i in insights] == ["page_impressions"]
    item = insights[0]
    assert item["period"] == "day"
    assert item["title"] == "Daily Total Impressions"
    assert item["id"] == f"{World.COFFEE}/insights/page_impressions/day"
    assert len(item["values"]) == 7
    assert item["values"][-1]["end_time"] == "2026-11-08T08:00:00+0000"
    # The same request answers the same numbers; the user token works as well.
    again = list(Page(World.COFFEE, api=ads_api(alice)).get_insights(params=params))
    assert again[0]["values"] == item["values"]


# The SDK checks `metric` against its own type table (list<Object>) and warns; it still sends it.
@pytest.mark.filterwarnings("ignore:value of metric might not be compatible")
def test_page_insights_unknown_metric_through_sdk(alice):
    page = Page(World.COFFEE, api=ads_api(alice))
    err = request_error(lambda: list(page.get_insights(params={"metric": ["page_nonsense"]})))
    assert err.api_error_code() == 100
    assert err.api_error_message() == "(#100) The value must be a valid insights metric"


def test_expired_token(clock):
    api = ads_api(clock.mint("alice", "acme", World.ALICE_ACME_SCOPES))
    clock.advance(2 * SHORT_LIVED)
    err = request_error(me, api)
    assert err.api_error_code() == 190
    assert err.api_error_subcode() == 463
    assert err.api_error_type() == "OAuthException"



def _batch_callbacks(results: dict, name: str):
    """success/failure callbacks that record an operation's outcome under `name`."""

    def success(resp):
        results[name] = ("ok", resp.json())

    def failure(resp):
        results[name] = ("error", resp.error())

    return {"success": success, "failure": failure}


@pytest.mark.filterwarnings("ignore:accounts does not allow field tasks")
def test_batch_through_sdk(alice, alice_asid):
    api = ads_api(alice)
    batch = api.new_batch()
    results: dict = {}
    User(fbid="me", api=api).api_get(fields=["id", "name"], batch=batch, **_batch_callbacks(results, "me"))
    Page(World.COFFEE, api=api).api_get(fields=["name"], batch=batch, **_batch_callbacks(results, "coffee"))
    Page("999999999", api=api).api_get(fields=["name"], batch=batch, **_batch_callbacks(results, "missing"))
    assert batch.execute() is None  # no operation left unfinished
    assert results["me"] == ("ok", {"id": alice_asid, "name": World.ALICE_NAME})
    assert results["coffee"][0] == "ok"
    assert results["coffee"][1]["name"] == World.PAGE_NAMES[World.COFFEE]
    kind, error = results["missing"]
    assert kind == "error"
    assert (error.api_error_code(), error.api_error_subcode()) == (100, 33)


def test_batch_with_required_proof_through_sdk(alice_proofy):
    # The SDK sends the top-level appsecret_proof once; it covers every operation using the
    # top-level token.
    api = ads_api(alice_proofy, World.PROOFY_ID, World.PROOFY_SECRET)
    batch = api.new_batch()
    results: dict = {}
    User(fbid="me", api=api).api_get(fields=["name"], batch=batch, **_batch_callbacks(results, "me"))
    assert batch.execute() is None
    assert results["me"][0] == "ok", results
    assert results["me"][1]["name"] == World.ALICE_NAME


def test_batch_operation_token_needs_its_own_proof(server, alice, alice_proofy):
    # The top-level proof covers the top-level token only: an operation carrying a token of an
    # app that requires appsecret_proof must carry that token's own proof.
    proof = appsecret_proof(World.PROOFY_SECRET, alice_proofy)
    ops = [
        {"method": "GET", "relative_url": f"me?access_token={alice_proofy}"},
        {"method": "GET", "relative_url": "me", "body": f"access_token={alice_proofy}&appsecret_proof={proof}"},
    ]
    resp = server.post(
        "/v25.0/",
        batch=json.dumps(ops),
        access_token=alice,
        appsecret_proof=appsecret_proof(World.ACME_SECRET, alice),
    )
    assert resp.status_code == 200, resp.text
    first, second = resp.json()
    assert first["code"] == 400
    assert json.loads(first["body"])["error"]["code"] == 100
    assert second["code"] == 200, second
    assert json.loads(second["body"])["name"] == World.ALICE_NAME


EDITOR_TASKS = ["ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MESSAGING", "MODERATE"]


def test_assigned_users_through_sdk(server):
    """Page.get_assigned_users and create_assigned_user through the unmodified SDK (alice
    manages Compat Coffee; the proofy app makes the SDK's proof part of the check)."""
    token = server.mint("alice", "proofy", ["pages_show_list", "pages_manage_metadata"])
    api = ads_api(token, World.PROOFY_ID, World.PROOFY_SECRET)
    bob_token = server.mint("bob", "proofy", [])
    proof = appsecret_proof(World.PROOFY_SECRET, bob_token)
    bob = server.get("/v25.0/me", access_token=bob_token, appsecret_proof=proof).json()["id"]

    page = Page(World.COFFEE, api=api)

    def tasks_of(person: str) -> list[str]:
        people = page.get_assigned_users(fields=["id", "name", "tasks"])
        found = [p for p in people if p["id"] == person]
        assert found, f"{person} not in {[dict(p) for p in people]}"
        return sorted(found[0]["tasks"])

    assert tasks_of(bob) == EDITOR_TASKS
    # The SDK sends `tasks` as a JSON array.
    page.create_assigned_user(params={"user": bob, "tasks": ["ANALYZE"]})
    assert tasks_of(bob) == ["ANALYZE"]
    page.create_assigned_user(params={"user": bob, "tasks": EDITOR_TASKS})
    assert tasks_of(bob) == EDITOR_TASKS


def test_assigned_users_refused_without_the_manage_task_through_sdk(server):
    bob = server.mint("bob", "proofy", ["pages_show_list", "pages_manage_metadata"])
    api = ads_api(bob, World.PROOFY_ID, World.PROOFY_SECRET)
    # bob is an Editor on Coffee: no MANAGE task, so the policy refuses with (#10).
    err = request_error(Page(World.COFFEE, api=api).get_assigned_users, fields=["id"])
    assert err.api_error_code() == 10
