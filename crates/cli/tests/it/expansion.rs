//! Nested field expansion of Page edges (spec §8): `fields=feed.limit(2){message,comments...}`
//! renders each edge as its endpoint answers, with `next`/`previous` URLs that work, and under
//! the endpoint's own policy check.

use crate::harness::world::*;
use crate::harness::{enc, send, Body, Resp, Server};
use serde_json::{json, Value};

const ALL_PERMS: &[&str] = &[
    "pages_show_list",
    "pages_manage_posts",
    "pages_read_engagement",
    "pages_manage_engagement",
    "pages_read_user_content",
];

fn post(s: &Server, token: &str, message: &str) -> String {
    let r = s.post_form(
        &format!("/v25.0/{COFFEE}/feed"),
        &[("access_token", token), ("message", message)],
    );
    assert_eq!(r.status, 200, "publish: {}", r.text);
    r.str("id")
}

fn comment(s: &Server, post: &str, message: &str) -> String {
    let r = s.admin_post(
        &format!("/_admin/pages/{COFFEE}/posts/{post}/comments"),
        json!({"user": "bob", "message": message}),
    );
    assert_eq!(r.status, 200, "comment: {}", r.text);
    r.str("id")
}

fn follow(url: &Value) -> Resp {
    let r = send(ureq::get(url.as_str().expect("a URL")), Body::None);
    assert_eq!(r.status, 200, "{}", r.text);
    r
}

fn messages(edge: &Value) -> Vec<&str> {
    edge["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|i| i["message"].as_str().unwrap())
        .collect()
}

#[test]
fn feed_expands_with_nested_comments_and_working_paging() {
    let s = Server::seeded();
    let user = s.issue("alice", "rival", ALL_PERMS, false);
    let page = s.page_token(COFFEE, &user);
    let _one = post(&s, &page, "one");
    let two = post(&s, &page, "two");
    let three = post(&s, &page, "three");
    let c1 = comment(&s, &three, "c1");
    let c2 = comment(&s, &three, "c2");

    let sel = "name,feed.limit(2){message,comments.limit(1){message}}";
    let r = s.get_as(&format!("/v25.0/{COFFEE}?fields={}", enc(sel)), &page);
    assert_eq!(r.status, 200, "{}", r.text);
    let b = &r.body;
    assert_eq!(b["name"], "Acme Coffee");
    assert_eq!(b["id"], COFFEE);
    let feed = &b["feed"];
    assert_eq!(messages(feed), ["three", "two"]);
    // Exactly the asked-for fields, `id` last.
    let newest = feed["data"][0].as_object().unwrap();
    let keys: Vec<&str> = newest.keys().map(String::as_str).collect();
    assert_eq!(keys, ["message", "comments", "id"], "{}", r.text);
    assert_eq!(newest["id"], three.as_str());
    let comments = &newest["comments"];
    assert_eq!(
        comments["data"],
        json!([{"message": "c1", "id": c1}]),
        "{}",
        r.text
    );
    assert!(comments["paging"]["previous"].is_null());
    // A post without comments: an empty edge.
    assert_eq!(feed["data"][1]["comments"], json!({"data": []}));
    assert_eq!(feed["data"][1]["id"], two.as_str());
    assert!(feed["paging"]["previous"].is_null());

    // The nested `next` URLs carry the token, the limit and the nested fields, and work.
    let next = feed["paging"]["next"].as_str().unwrap();
    assert!(next.contains(&format!("/v25.0/{COFFEE}/feed?")), "{next}");
    assert!(next.contains("access_token="), "{next}");
    assert!(next.contains("limit=2"), "{next}");
    assert!(
        next.contains(&format!(
            "fields={}",
            enc("message,comments.limit(1){message}")
        )),
        "{next}"
    );
    let more = follow(&feed["paging"]["next"]);
    assert_eq!(messages(&more.body), ["one"]);
    assert_eq!(more.body["data"][0]["comments"], json!({"data": []}));
    assert!(more.body["paging"]["next"].is_null());
    let back = follow(&more.body["paging"]["previous"]);
    assert_eq!(messages(&back.body), ["three", "two"]);

    let later = follow(&comments["paging"]["next"]);
    assert_eq!(later.body["data"], json!([{"message": "c2", "id": c2}]));
    assert!(later.body["paging"]["next"].is_null());
    assert!(later.body["paging"]["previous"].is_string());

    // The same expansion on the endpoint's aliases, and the expansion equals the endpoint.
    let sel = "posts.limit(2){message},published_posts.limit(2){message}";
    let r = s.get_as(&format!("/v25.0/{COFFEE}?fields={}", enc(sel)), &page);
    assert_eq!(r.status, 200, "{}", r.text);
    let edge = s.get_as(
        &format!("/v25.0/{COFFEE}/posts?fields=message&limit=2"),
        &page,
    );
    assert_eq!(r.body["posts"], edge.body);
    assert_eq!(messages(&r.body["published_posts"]), ["three", "two"]);
}

#[test]
fn pages_of_accounts_expand_their_feed() {
    let s = Server::seeded();
    let user = s.issue("alice", "rival", ALL_PERMS, false);
    let page = s.page_token(COFFEE, &user);
    post(&s, &page, "hello");
    let sel = "accounts{id,feed.limit(1){message}}";
    let r = s.get_as(&format!("/v25.0/me?fields={}", enc(sel)), &user);
    assert_eq!(r.status, 200, "{}", r.text);
    let coffee = r.body["accounts"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == COFFEE)
        .expect("Coffee among the accounts");
    assert_eq!(messages(&coffee["feed"]), ["hello"]);
}

#[test]
fn a_refused_edge_fails_the_whole_request_as_its_endpoint_does() {
    let s = Server::seeded();
    // Without pages_read_engagement: the feed is refused (#283), here as on the endpoint.
    let user = s.issue("alice", "rival", &["pages_show_list"], false);
    let page = s.page_token(COFFEE, &user);
    let r = s.get_as(&format!("/v25.0/{COFFEE}?fields=name,feed"), &page);
    let edge = s.get_as(&format!("/v25.0/{COFFEE}/feed"), &page);
    assert_eq!(edge.status, 400, "{}", edge.text);
    assert_eq!(r.status, edge.status, "{}", r.text);
    assert_eq!(r.body["error"]["code"], 283, "{}", r.text);
    assert_eq!(r.body["error"]["message"], edge.body["error"]["message"]);

    // Reading posts but not comments: nested comments are refused, posts alone are not.
    let user = s.issue(
        "alice",
        "rival",
        &[
            "pages_show_list",
            "pages_manage_posts",
            "pages_read_engagement",
        ],
        false,
    );
    let page = s.page_token(COFFEE, &user);
    let p = post(&s, &page, "hi");
    let r = s.get_as(&format!("/v25.0/{COFFEE}?fields=feed{{message}}"), &page);
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s.get_as(
        &format!("/v25.0/{COFFEE}?fields={}", enc("feed{comments}")),
        &page,
    );
    let edge = s.get_as(&format!("/v25.0/{p}/comments"), &page);
    assert_eq!(edge.status, 400, "{}", edge.text);
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["error"]["code"], edge.body["error"]["code"]);
    assert_eq!(r.body["error"]["message"], edge.body["error"]["message"]);

    // Conversations need pages_messaging: the expansion fails as the endpoint does.
    let r = s.get_as(&format!("/v25.0/{COFFEE}?fields=name,conversations"), &page);
    let edge = s.get_as(&format!("/v25.0/{COFFEE}/conversations"), &page);
    assert_ne!(edge.status, 200, "{}", edge.text);
    assert_eq!(r.status, edge.status, "{}", r.text);
    assert_eq!(r.body["error"]["code"], edge.body["error"]["code"]);
    assert_eq!(r.body["error"]["message"], edge.body["error"]["message"]);
}

#[test]
fn metadata_lists_the_page_edges() {
    let s = Server::seeded();
    let user = s.issue("alice", "rival", ALL_PERMS, false);
    let page = s.page_token(COFFEE, &user);
    let r = s.get_as(&format!("/v25.0/{COFFEE}?metadata=1"), &page);
    assert_eq!(r.status, 200, "{}", r.text);
    let c = &r.body["metadata"]["connections"];
    for edge in ["feed", "posts", "published_posts", "conversations"] {
        let url = c[edge]
            .as_str()
            .unwrap_or_else(|| panic!("{edge}: {}", r.text));
        assert!(url.contains(&format!("/{COFFEE}/{edge}?")), "{url}");
    }
}

#[test]
fn assigned_users_buttons_and_articles_expand_exactly_as_their_endpoints_answer() {
    let s = Server::seeded();
    let scopes = [
        "pages_show_list",
        "pages_manage_metadata",
        "pages_manage_cta",
        "pages_manage_instant_articles",
    ];
    let user = s.issue("alice", "rival", &scopes, false);
    let page = s.page_token(COFFEE, &user);
    let r = s.post_form(
        &format!("/v25.0/{COFFEE}/call_to_actions"),
        &[
            ("access_token", &page),
            ("type", "BOOK_NOW"),
            ("web_url", "https://example.com/book"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let sel = "name,assigned_users,call_to_actions,instant_articles";
    let r = s.get_as(&format!("/v25.0/{COFFEE}?fields={}", enc(sel)), &page);
    assert_eq!(r.status, 200, "{}", r.text);
    for edge in ["assigned_users", "call_to_actions", "instant_articles"] {
        let e = s.get_as(&format!("/v25.0/{COFFEE}/{edge}"), &page);
        assert_eq!(e.status, 200, "{edge}: {}", e.text);
        assert_eq!(r.body[edge], e.body, "{edge}");
    }
    assert_eq!(r.body["call_to_actions"]["data"][0]["type"], "BOOK_NOW");
    assert!(!r.body["assigned_users"]["data"]
        .as_array()
        .unwrap()
        .is_empty());

    // Without pages_manage_cta, the buttons are refused within the Page as on their edge.
    let user = s.issue("bob", "acme", &["pages_show_list"], false);
    let r = s.get_as(
        &format!("/v25.0/{COFFEE}?fields=name,call_to_actions"),
        &user,
    );
    let e = s.get_as(&format!("/v25.0/{COFFEE}/call_to_actions"), &user);
    assert_ne!(e.status, 200, "{}", e.text);
    assert_eq!(r.status, e.status, "{}", r.text);
    assert_eq!(r.body["error"]["code"], e.body["error"]["code"]);
    assert_eq!(r.body["error"]["message"], e.body["error"]["message"]);
}

#[test]
fn conversations_expand_with_nested_messages() {
    let s = Server::seeded();
    let user = s.issue(
        "alice",
        "acme",
        &["pages_show_list", "pages_messaging"],
        false,
    );
    let page = s.page_token(COFFEE, &user);
    for (who, text) in [("bob", "first"), ("alice", "second")] {
        let r = s.admin_post(
            &format!("/_admin/pages/{COFFEE}/messages"),
            json!({"user": who, "message": text}),
        );
        assert_eq!(r.status, 200, "{}", r.text);
        s.advance(60);
    }
    let sel = "conversations.limit(1){snippet,messages.limit(1){message}}";
    let r = s.get_as(&format!("/v25.0/{COFFEE}?fields={}", enc(sel)), &page);
    assert_eq!(r.status, 200, "{}", r.text);
    let convs = &r.body["conversations"];
    assert_eq!(convs["data"].as_array().unwrap().len(), 1, "{}", r.text);
    assert_eq!(convs["data"][0]["snippet"], "second");
    assert_eq!(messages(&convs["data"][0]["messages"]), ["second"]);
    // The expansion is the endpoint's answer, and its `next` goes on.
    let e = s.get_as(
        &format!(
            "/v25.0/{COFFEE}/conversations?fields={}&limit=1",
            enc("snippet,messages.limit(1){message}")
        ),
        &page,
    );
    assert_eq!(convs, &e.body);
    let more = follow(&convs["paging"]["next"]);
    assert_eq!(more.body["data"][0]["snippet"], "first");
}
