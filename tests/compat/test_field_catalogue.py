"""Every field the installed facebook-business SDK lists (the `Field` classes of its adobjects) is
a field graphtoken knows, on every node type the SDK's helpers read: asked for alone, no name is
refused as `(#100) Tried accessing nonexisting field`. A name on no list still is. So
graphtoken's catalogue (core's `graph::catalogue`) and the SDK cannot drift apart."""

import pytest
from facebook_business.adobjects import application, comment, page, pagepost, post, unifiedthread, user

from conftest import World, serve_world


def sdk_fields(*classes) -> list[str]:
    names = set()
    for cls in classes:
        names |= {v for k, v in vars(cls.Field).items() if not k.startswith("_") and isinstance(v, str)}
    return sorted(names)


NODES = {
    "User": sdk_fields(user.User),
    "Page": sdk_fields(page.Page),
    "Application": sdk_fields(application.Application),
    "Post": sdk_fields(post.Post, pagepost.PagePost),
    "Comment": sdk_fields(comment.Comment),
    "UnifiedThread": sdk_fields(unifiedthread.UnifiedThread),
}


@pytest.fixture(scope="module")
def own(tmp_path_factory):
    """A server of this module's own: the grants made here do not reach the other modules'."""
    yield from serve_world(tmp_path_factory, "catalogue")


@pytest.fixture(scope="module")
def nodes(own):
    """Each node type's path and a token that may read it."""
    server = own
    alice = server.mint(
        "alice", "acme", World.ALICE_ACME_SCOPES
        + ["pages_messaging", "pages_manage_engagement", "pages_read_user_content"],
    )
    page_token = server.get(f"/{World.COFFEE}", access_token=alice, fields="access_token").json()["access_token"]
    made = server.post(f"/{World.COFFEE}/feed", access_token=page_token, message="For the field catalogue")
    assert made.status_code == 200, made.text
    post_id = made.json()["id"]
    said = server.post(f"/{post_id}/comments", access_token=page_token, message="A comment")
    assert said.status_code == 200, said.text
    incoming = server._admin("POST", f"pages/{World.COFFEE}/messages", json={"user": "bob", "message": "Hi"})
    app = f"{World.ACME_ID}|{World.ACME_SECRET}"
    return {
        "User": ("/me", alice),
        "Page": (f"/{World.COFFEE}", page_token),
        "Application": (f"/{World.ACME_ID}", app),
        "Post": (f"/{post_id}", page_token),
        "Comment": (f"/{said.json()['id']}", page_token),
        "UnifiedThread": (f"/{incoming['conversation_id']}", page_token),
    }


def nonexisting(resp) -> bool:
    if resp.status_code != 400:
        return False
    err = resp.json().get("error", {})
    return err.get("code") == 100 and "nonexisting field" in err.get("message", "")


@pytest.mark.parametrize("node", sorted(NODES))
def test_every_sdk_field_is_known(own, nodes, node):
    server = own
    path, token = nodes[node]
    assert len(NODES[node]) > 10, "the SDK lists fields"
    refused = [f for f in NODES[node] if nonexisting(server.get(path, access_token=token, fields=f))]
    assert refused == [], f"{node}: graphtoken does not know {refused}"


@pytest.mark.parametrize("node", sorted(NODES))
def test_a_name_on_no_list_is_refused(own, nodes, node):
    server = own
    path, token = nodes[node]
    resp = server.get(path, access_token=token, fields="id,no_such_field_anywhere")
    assert nonexisting(resp), resp.text


def test_the_default_fields_of_a_popular_python_client_read_a_page(own, nodes):
    server = own
    path, token = nodes["Page"]
    fields = (
        "id,about,category,category_list,cover,description,description_html,display_subtext,emails,"
        "engagement,fan_count,global_brand_page_name,global_brand_root_id,link,name,phone,picture,"
        "username,verification_status,website"
    )
    resp = server.get(f"/v24.0{path}", access_token=token, fields=fields)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["id"] == World.COFFEE
    # What the seed says of the Page is served; what it does not say is left out.
    assert body["about"] == "Coffee for compatibility tests"
    assert body["website"] == "https://coffee.compat.example"
    assert body["emails"] == ["hello@coffee.compat.example"]
    assert body["username"] == "compatcoffee"
    assert body["fan_count"] == 4321
    assert body["link"] == "https://www.facebook.com/compatcoffee"
    assert body["cover"]["source"] == "https://cdn.compat.example/coffee-cover.jpg"
    for absent in ("description_html", "display_subtext", "global_brand_root_id", "phone"):
        assert absent not in body, absent
    app = server.get(f"/{World.ACME_ID}", access_token=f"{World.ACME_ID}|{World.ACME_SECRET}",
                     fields="id,category,description,link,name,namespace")
    assert app.status_code == 200, app.text
