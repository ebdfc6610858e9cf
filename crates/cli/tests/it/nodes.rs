//! Nodes and edges (spec §2.5–2.8, §2.13): `/me` and `/{id}` for people, Pages and apps,
//! `/{user}/permissions` and `/{user}/accounts` with cursor paging.

use crate::harness::world::*;
use crate::harness::{app_literal, keys, Server};
use serde_json::{json, Value};

fn ids(page: &Value) -> Vec<String> {
    crate::harness::data_ids(page)
}

#[test]
fn me_defaults_to_name_and_id_and_id_is_the_same_node() {
    let s = Server::seeded();
    let t = s.alice();
    let me = s.get_as("/me", &t);
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(keys(&me.body), ["name", "id"]);
    assert_eq!(me.body["name"], "Alice Marie Admin");
    let asid = me.str("id");
    assert_ne!(asid, ALICE);
    let by_id = s.get_as(&format!("/{asid}"), &t);
    assert_eq!(by_id.body, me.body);
}

#[test]
fn the_login_profile_fields() {
    let s = Server::seeded();
    let t = s.alice();
    let r = s.get_as("/me?fields=id,name,email,first_name,last_name,picture", &t);
    assert_eq!(r.status, 200, "{}", r.text);
    let b = &r.body;
    assert_eq!(
        keys(b),
        ["id", "name", "email", "first_name", "last_name", "picture"]
    );
    assert_eq!(b["email"], "alice@example.com");
    assert_eq!(b["first_name"], "Alice");
    assert_eq!(b["last_name"], "Marie Admin");
    let pic = &b["picture"]["data"];
    assert_eq!(keys(pic), ["height", "is_silhouette", "url", "width"]);
    assert_eq!(
        (pic["height"].as_u64(), pic["width"].as_u64()),
        (Some(50), Some(50))
    );
    assert!(pic["is_silhouette"].is_boolean());
    let url = pic["url"].as_str().unwrap();
    assert!(url.starts_with(&s.base), "{url}");
    let img = ureq::get(url).call().unwrap();
    assert_eq!(img.status(), 200);
}

#[test]
fn email_needs_the_email_permission() {
    let s = Server::seeded();
    // bob has an email address but did not grant `email`.
    let bob = s.issue("bob", "acme", &[], false);
    let r = s.get_as("/me?fields=id,name,email", &bob);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(keys(&r.body), ["id", "name"]);
}

#[test]
fn pages_show_their_fields() {
    let s = Server::seeded();
    let t = s.alice();
    let r = s.get_as(&format!("/{COFFEE}"), &t);
    assert_eq!(r.body, json!({"name": "Acme Coffee", "id": COFFEE}));
    let r = s.get_as(
        &format!("/{COFFEE}?fields=id,name,category,category_list,access_token"),
        &t,
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        keys(&r.body),
        ["id", "name", "category", "category_list", "access_token"]
    );
    assert_eq!(r.body["category"], "Coffee Shop");
    let list = r.body["category_list"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["name"], "Coffee Shop");
    assert!(list[0]["id"].as_str().unwrap().parse::<u64>().is_ok());
    // A known Facebook category keeps Facebook's id (spec §2.7 sample).
    let news = s.get_as(&format!("/{NEWS}?fields=category_list"), &t);
    assert_eq!(
        news.body["category_list"],
        json!([{"id": "2256", "name": "Internet Company"}])
    );
}

#[test]
fn apps_default_to_link_name_id() {
    let s = Server::seeded();
    for viewer in [s.alice(), app_literal()] {
        let r = s.get_as(&format!("/{ACME}"), &viewer);
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(keys(&r.body), ["link", "name", "id"]);
        assert_eq!(r.body["name"], ACME_NAME);
        assert_eq!(r.body["id"], ACME);
    }
}

#[test]
fn permissions_list_granted_and_declined_with_filters() {
    let s = Server::seeded();
    let t = s.alice();
    let r = s.get_as("/me/permissions", &t);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(keys(&r.body), ["data"]);
    let mut data: Vec<(String, String)> = r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert_eq!(keys(p), ["permission", "status"]);
            (
                p["permission"].as_str().unwrap().into(),
                p["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    data.sort();
    let expected: Vec<(String, String)> = [
        ("email", "granted"),
        ("pages_show_list", "granted"),
        ("public_profile", "granted"),
        ("user_birthday", "declined"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(data, expected);

    let r = s.get_as("/me/permissions?status=declined", &t);
    assert_eq!(
        r.body,
        json!({"data": [{"permission": "user_birthday", "status": "declined"}]})
    );
    let r = s.get_as("/me/permissions?permission=email", &t);
    assert_eq!(
        r.body,
        json!({"data": [{"permission": "email", "status": "granted"}]})
    );
    // The app may read it too, by the person's app-scoped id.
    let asid = s.get_as("/me", &t).str("id");
    let by_app = s.get_as(
        &format!("/{asid}/permissions?status=declined"),
        &app_literal(),
    );
    assert_eq!(by_app.status, 200, "{}", by_app.text);
    assert_eq!(
        by_app.body,
        json!({"data": [{"permission": "user_birthday", "status": "declined"}]})
    );
}

#[test]
fn accounts_lists_pages_with_the_default_fields() {
    let s = Server::seeded();
    let t = s.alice();
    let r = s.get_as("/me/accounts", &t);
    assert_eq!(r.status, 200, "{}", r.text);
    let data = r.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 3);
    let mut got = ids(&r.body);
    got.sort();
    assert_eq!(got, [COFFEE, NEWS, BAKERY]);
    for p in data {
        assert_eq!(
            keys(p),
            [
                "access_token",
                "category",
                "category_list",
                "name",
                "id",
                "tasks"
            ]
        );
    }
    let coffee = data.iter().find(|p| p["id"] == COFFEE).unwrap();
    assert_eq!(coffee["category"], "Coffee Shop");
    assert_eq!(
        coffee["tasks"].as_array().unwrap().len(),
        6,
        "Admin holds all six tasks"
    );
    let news = data.iter().find(|p| p["id"] == NEWS).unwrap();
    let mut tasks: Vec<&str> = news["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    tasks.sort();
    assert_eq!(tasks, ["CREATE_CONTENT", "MODERATE"]);
    let cursors = &r.body["paging"]["cursors"];
    assert!(cursors["before"].is_string() && cursors["after"].is_string());
    assert!(r.body["paging"].get("next").is_none(), "one page only");
    assert!(r.body["paging"].get("previous").is_none());
    // /{asid}/accounts is the same thing.
    let asid = s.get_as("/me", &t).str("id");
    let by_id = s.get_as(&format!("/{asid}/accounts"), &t);
    assert_eq!(ids(&by_id.body), ids(&r.body));
}

#[test]
fn accounts_honours_fields() {
    let s = Server::seeded();
    let r = s.get_as("/me/accounts?fields=name", &s.alice());
    assert_eq!(r.status, 200, "{}", r.text);
    for p in r.body["data"].as_array().unwrap() {
        assert_eq!(keys(p), ["name", "id"]);
    }
    // A field asked for twice is written once, where it was first asked for.
    let r = s.get_as("/me/accounts?fields=name,id,name", &s.alice());
    assert_eq!(r.status, 200, "{}", r.text);
    let pages = r.body["data"].as_array().unwrap();
    assert_eq!(
        r.text.matches(r#""name":"#).count(),
        pages.len(),
        "{}",
        r.text
    );
    for p in pages {
        assert_eq!(keys(p), ["name", "id"]);
    }
}

#[test]
fn accounts_pages_with_cursors_and_followable_urls() {
    let s = Server::seeded();
    let t = s.alice();
    let all = ids(&s.get_as("/me/accounts", &t).body);

    let first = s.get_as("/v19.0/me/accounts?limit=2&fields=name", &t);
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(ids(&first.body), all[..2]);
    assert!(first.body["paging"].get("previous").is_none());
    let next = first.body["paging"]["next"]
        .as_str()
        .expect("next")
        .to_string();
    assert!(next.contains("access_token="), "{next}");
    assert!(next.starts_with(&s.base), "{next}");

    let second = crate::harness::send(ureq::get(&next), crate::harness::Body::None);
    assert_eq!(second.status, 200, "{}", second.text);
    assert_eq!(ids(&second.body), all[2..]);
    assert_eq!(
        keys(&second.body["data"][0]),
        ["name", "id"],
        "fields carried"
    );
    assert!(second.body["paging"].get("next").is_none());
    let prev = second.body["paging"]["previous"]
        .as_str()
        .expect("previous");
    assert!(prev.contains("access_token="), "{prev}");
    let back = crate::harness::send(ureq::get(prev), crate::harness::Body::None);
    assert_eq!(ids(&back.body), all[..2]);

    // after/before cursors work as parameters too.
    let after = first.body["paging"]["cursors"]["after"].as_str().unwrap();
    let r = s.get_as(&format!("/me/accounts?limit=2&after={after}"), &t);
    assert_eq!(ids(&r.body), all[2..]);
    let before = second.body["paging"]["cursors"]["before"].as_str().unwrap();
    let r = s.get_as(&format!("/me/accounts?limit=2&before={before}"), &t);
    assert_eq!(ids(&r.body), all[..2]);
}

#[test]
fn an_offset_skips_pages_and_its_links_page_by_cursor() {
    let s = Server::seeded();
    let t = s.alice();
    let all = ids(&s.get_as("/me/accounts", &t).body);
    assert!(all.len() >= 3, "{all:?}");

    let r = s.get_as("/me/accounts?limit=1&offset=1", &t);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(ids(&r.body), all[1..2]);
    // The links page from this page by cursor, as every edge's do.
    let next = r.body["paging"]["next"].as_str().expect("next");
    assert!(
        next.contains("after=") && !next.contains("offset"),
        "{next}"
    );
    let n = crate::harness::send(ureq::get(next), crate::harness::Body::None);
    assert_eq!(ids(&n.body), all[2..3]);
    let prev = r.body["paging"]["previous"].as_str().expect("previous");
    let p = crate::harness::send(ureq::get(prev), crate::harness::Body::None);
    assert_eq!(ids(&p.body), all[..1]);

    // As a field modifier too; past the end, an empty page.
    let me = s.get_as("/me?fields=accounts.offset(2).limit(1){name}", &t);
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(ids(&me.body["accounts"]), all[2..3]);
    let r = s.get_as("/me/accounts?offset=100", &t);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(ids(&r.body), Vec::<String>::new());

    let r = s.get_as("/me/accounts?offset=-1", &t);
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.body["error"]["message"],
        "(#100) The parameter offset must be a number"
    );
}

#[test]
fn accounts_without_pages_show_list_is_empty() {
    let s = Server::seeded();
    // alice granted rival only `email`.
    let t = s.issue("alice", "rival", &[], false);
    let r = s.get_as("/me/accounts", &t);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.text, r#"{"data":[]}"#);
}

#[test]
fn an_expanded_edge_pages_with_its_own_fields() {
    let s = Server::seeded();
    let t = s.alice();
    let me = s.get_as("/me?fields=accounts.limit(1){name}", &t);
    assert_eq!(me.status, 200, "{}", me.text);
    let edge = &me.body["accounts"];
    assert_eq!(keys(&edge["data"][0]), ["name", "id"], "{edge}");
    let next = edge["paging"]["next"].as_str().expect("next");
    assert!(next.contains("fields=name"), "{next}");
    let second = crate::harness::send(ureq::get(next), crate::harness::Body::None);
    assert_eq!(second.status, 200, "{}", second.text);
    assert_eq!(
        keys(&second.body["data"][0]),
        ["name", "id"],
        "{}",
        second.text
    );
}

/// `GET /{app-id}/roles` (spec §2.11): the people with a role on the app, each with the app,
/// their app-scoped id and the role, for the app's own token only.
#[test]
fn an_app_lists_its_roles_for_its_own_token() {
    let s = Server::seeded();
    let app = app_literal();
    let r = s.get_as(&format!("/v25.0/{ACME}/roles"), &app);
    assert_eq!(r.status, 200, "{}", r.text);
    let alice_asid = s.get_as("/me?fields=id", &s.alice()).str("id");
    let data = r.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 2, "{}", r.text);
    assert_eq!(
        data[0],
        json!({"app_id": ACME, "user": alice_asid, "role": "administrators"})
    );
    assert_eq!(data[1]["role"], "developers");
    assert_ne!(data[1]["user"], BOB, "an app-scoped id, not the global one");
    // Paging by position, and `fields` picks the keys.
    let first = s.get_as(&format!("/{ACME}/roles?limit=1&fields=role"), &app);
    assert_eq!(
        first.body["data"],
        json!([{"role": "administrators"}]),
        "{}",
        first.text
    );
    let next = first.body["paging"]["next"].as_str().unwrap().to_string();
    assert!(next.contains("/roles?"), "{next}");
    // Another app's token, a person's token: refused as for test users.
    let rival = format!("{RIVAL}|{RIVAL_SECRET}");
    s.get_as(&format!("/{ACME}/roles"), &rival).assert_error(
        200,
        None,
        "OAuthException",
        "(#200) Permissions error",
    );
    let person = s.get_as(&format!("/{ACME}/roles"), &s.alice());
    assert_eq!(person.body["error"]["code"], 15, "{}", person.text);
    // An app with no roles has an empty list; only GET is served.
    let none = s.get_as(&format!("/{RIVAL}/roles"), &rival);
    assert_eq!(none.body["data"], json!([]), "{}", none.text);
    let post = s.post_form(
        &format!("/{ACME}/roles"),
        &[("access_token", app.as_str()), ("user", ALICE)],
    );
    assert_eq!(post.status, 400, "{}", post.text);
}

/// Graph API Debug Mode: with `debug=all` (or `info`, `warning`), a field left out for a
/// permission the person did not grant is explained under `__debug__`, after the answer's
/// keys, in Facebook's words; without it, or with nothing to say, there is no `__debug__`.
#[test]
fn debug_mode_explains_a_field_left_out_for_a_permission() {
    let s = Server::seeded();
    let bob = s.issue("bob", "acme", &[], false);
    for level in ["all", "info", "warning"] {
        let r = s.get_as(&format!("/me?fields=id,email&debug={level}"), &bob);
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(keys(&r.body), ["id", "__debug__"], "{}", r.text);
        assert_eq!(
            r.body["__debug__"],
            json!({"messages": [{
                "message": "Field email is only accessible on User object, if email permission is granted by the user",
                "type": "warning"
            }]})
        );
    }
    // With `metadata=1`, `__debug__` still comes last.
    let r = s.get_as("/me?fields=id,email&debug=all&metadata=1", &bob);
    assert_eq!(keys(&r.body), ["id", "metadata", "__debug__"], "{}", r.text);
    for quiet in ["/me?fields=id,email", "/me?fields=id,email&debug=none"] {
        let r = s.get_as(quiet, &bob);
        assert_eq!(keys(&r.body), ["id"], "{quiet}: {}", r.text);
    }
    // Nothing left out: nothing to say.
    let r = s.get_as("/me?fields=id,email&debug=all", &s.alice());
    assert_eq!(keys(&r.body), ["id", "email"], "{}", r.text);
}
