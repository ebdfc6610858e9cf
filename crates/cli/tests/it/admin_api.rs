//! The admin API under `/_admin`: the key, token issuing errors, and the virtual clock.

use crate::harness::world::*;
use crate::harness::{real_now, Server, ADMIN_KEY};
use serde_json::json;

fn issue_body() -> serde_json::Value {
    json!({"user": "alice", "app": "acme", "scopes": ["email"]})
}

#[test]
fn every_route_wants_the_key() {
    let s = Server::seeded();
    for key in [None, Some("wrong-key"), Some("")] {
        let calls = [
            s.admin("POST", "/_admin/tokens", Some(issue_body()), key),
            s.admin("GET", "/_admin/clock", None, key),
            s.admin(
                "POST",
                "/_admin/clock",
                Some(json!({"advance_seconds": 5})),
                key,
            ),
            s.admin(
                "POST",
                "/_admin/debug_token",
                Some(json!({"token": "x"})),
                key,
            ),
        ];
        for r in calls {
            assert_eq!(r.status, 401, "{key:?}: {}", r.text);
            assert!(r.body["error"]["message"].is_string(), "{}", r.text);
        }
    }
    // The right key in another scheme is not the right key.
    let r = crate::harness::send(
        ureq::get(&s.url("/_admin/clock")).set("Authorization", &format!("OAuth {ADMIN_KEY}")),
        crate::harness::Body::None,
    );
    assert_eq!(r.status, 401);
}

#[test]
fn issuing_checks_permissions_people_and_apps() {
    let s = Server::seeded();
    let post = |b| s.admin_post("/_admin/tokens", b);
    let r = post(json!({"user": "alice", "app": "acme", "scopes": ["email", "manage_pagez"]}));
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("manage_pagez"), "{}", r.text);
    let r = post(json!({"user": "nobody", "app": "acme"}));
    assert_eq!(r.status, 404, "{}", r.text);
    let r = post(json!({"user": "alice", "app": "noapp"}));
    assert_eq!(r.status, 404, "{}", r.text);
    let r = post(json!({"user": "999", "app": "acme"}));
    assert_eq!(r.status, 404, "{}", r.text);
    // By id works as well as by key; scopes may be a comma list.
    let r = post(json!({"user": ALICE, "app": ACME, "scopes": "email,pages_show_list"}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["expires_in"], SHORT, "short is the default");
}

#[test]
fn bad_bodies_are_400() {
    let s = Server::seeded();
    for path in ["/_admin/tokens", "/_admin/clock"] {
        for body in ["", "not json", "[1,2]", "42"] {
            assert_eq!(s.admin_raw(path, body).status, 400, "{path} {body:?}");
        }
    }
    for body in [
        json!({"app": "acme"}),
        json!({"user": "alice"}),
        json!({"user": "alice", "app": "acme", "scopes": [1, 2]}),
        json!({"user": "alice", "app": "acme", "scopes": {"a": 1}}),
        json!({"user": "alice", "app": "acme", "lifetime": "forever"}),
        json!({"user": ["alice"], "app": "acme"}),
    ] {
        let r = s.admin_post("/_admin/tokens", body.clone());
        assert_eq!(r.status, 400, "{body}: {}", r.text);
    }
    for body in [
        json!({}),
        json!({"advance_seconds": "1d"}),
        json!({"advance_seconds": 1.5}),
        json!({"set": "2030-01-01"}),
        json!({"advance_seconds": 1, "set": 2}),
    ] {
        let r = s.admin_post("/_admin/clock", body.clone());
        assert_eq!(r.status, 400, "{body}: {}", r.text);
    }
}

#[test]
fn the_clock_shows_advances_and_sets() {
    let s = Server::seeded();
    let now = s.clock();
    assert!((now - real_now()).abs() <= 5, "starts at real time");
    let r = s.admin("GET", "/_admin/clock", None, Some(ADMIN_KEY));
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=UTF-8")
    );
    assert_eq!(r.body.as_object().unwrap().len(), 1, "just now: {}", r.text);
    let advanced = s.advance(61 * DAY);
    assert!((advanced - (now + 61 * DAY)).abs() <= 5);
    assert!((s.clock() - advanced).abs() <= 5);
    let r = s.admin_post("/_admin/clock", json!({"set": 1_893_456_000}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert!((r.body["now"].as_i64().unwrap() - 1_893_456_000).abs() <= 2);
    assert!((s.clock() - 1_893_456_000).abs() <= 5);
    // Back to the past works too.
    let r = s.admin_post("/_admin/clock", json!({"advance_seconds": -DAY}));
    assert!((r.body["now"].as_i64().unwrap() - (1_893_456_000 - DAY)).abs() <= 5);
    // Graph answers carry the virtual now in their `Date`, where clients look for the server's.
    let date = s.get("/me").header("date").unwrap().to_string();
    assert!(date.ends_with(" GMT"), "{date}");
    assert!(
        date.starts_with("Mon, 31 Dec 2029") || date.starts_with("Sun, 30 Dec 2029"),
        "{date}"
    );
}

#[test]
fn admin_debug_token_sees_every_app() {
    let s = Server::seeded();
    let t = s.issue("alice", "rival", &[], false);
    let r = s.admin_post("/_admin/debug_token", json!({"token": t}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["app_id"], RIVAL);
    assert_eq!(r.body["data"]["is_valid"], true);
}

#[test]
fn unknown_admin_paths_are_404() {
    let s = Server::seeded();
    let r = s.admin("GET", "/_admin/nothing", None, Some(ADMIN_KEY));
    assert_eq!(r.status, 404);
}
