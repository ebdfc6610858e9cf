//! The token lifecycle (spec §1): short → long-lived user tokens, app tokens, Page tokens and
//! their expiry through the virtual clock, scopes that follow the grant, and hashed storage.

use crate::harness::world::*;
use crate::harness::{app_literal, scopes, Server};
use serde_json::json;

fn assert_opaque(t: &str) {
    assert!(t.starts_with("EAA"), "{t}");
    assert!(!t.contains('|'), "{t}");
    assert!(t.len() >= 40, "{t}");
    assert!(t.bytes().all(|b| b.is_ascii_alphanumeric()), "{t}");
}

#[test]
fn admin_issues_short_and_long_user_tokens() {
    let s = Server::seeded();
    for (lifetime, expires_in) in [("short", SHORT), ("long", LONG)] {
        let r = s.admin_post(
            "/_admin/tokens",
            json!({"user": "alice", "app": "acme", "scopes": ["email"], "lifetime": lifetime}),
        );
        assert_eq!(r.status, 200, "{}", r.text);
        let keys: Vec<&String> = r.body.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["access_token", "token_type", "expires_in"]);
        assert_eq!(r.body["token_type"], "bearer");
        assert_eq!(r.body["expires_in"], expires_in);
        let t = r.str("access_token");
        assert_opaque(&t);
        let now = s.clock();
        let d = s.debug(&t);
        assert_eq!(d["type"], "USER");
        assert_eq!(d["is_valid"], true);
        let exp = d["expires_at"].as_i64().unwrap();
        assert!((exp - (now + expires_in)).abs() <= 5, "{d}");
    }
}

#[test]
fn exchange_gives_a_new_long_lived_token_and_the_input_stays_valid() {
    let s = Server::seeded();
    let short = s.alice();
    let r = s.get(&format!(
        "/oauth/access_token?grant_type=fb_exchange_token&client_id={ACME}&client_secret={ACME_SECRET}&fb_exchange_token={short}"
    ));
    assert_eq!(r.status, 200, "{}", r.text);
    let keys: Vec<&String> = r.body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["access_token", "token_type", "expires_in"]);
    assert_eq!(r.body["token_type"], "bearer");
    assert_eq!(r.body["expires_in"], LONG);
    let long = r.str("access_token");
    assert_opaque(&long);
    assert_ne!(long, short);
    for t in [&short, &long] {
        let me = s.get_as("/me", t);
        assert_eq!(me.status, 200, "{}", me.text);
    }
    let d = s.debug(&long);
    assert_eq!(d["is_valid"], true);
    assert!(d["issued_at"].is_i64(), "{d}");
    assert_eq!(
        d["expires_at"].as_i64().unwrap() - d["issued_at"].as_i64().unwrap(),
        LONG
    );
}

#[test]
fn an_expired_token_cannot_be_exchanged_and_stays_expired() {
    let s = Server::seeded();
    let short = s.alice();
    s.advance(SHORT + 1);
    let form = [
        ("grant_type", "fb_exchange_token"),
        ("client_id", ACME),
        ("client_secret", ACME_SECRET),
        ("fb_exchange_token", short.as_str()),
    ];
    let r = s.post_form("/v25.0/oauth/access_token", &form);
    r.assert_expired();
    assert!(r.body.get("access_token").is_none());
    // Refusing it changed nothing: the input is still the same expired token.
    let d = s.debug(&short);
    assert_eq!(d["is_valid"], false);
    assert_eq!(d["error"]["subcode"], 463);
    s.get_as("/me", &short).assert_expired();
}

#[test]
fn client_credentials_yield_an_app_token_that_works_like_the_literal() {
    let s = Server::seeded();
    let r = s.post_form(
        "/oauth/access_token",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", ACME),
            ("client_secret", ACME_SECRET),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let keys: Vec<&String> = r.body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["access_token", "token_type"], "no expires_in");
    assert_eq!(r.body["token_type"], "bearer");
    let token = r.str("access_token");
    let (id, opaque) = token.split_once('|').unwrap();
    assert_eq!(id, ACME);
    assert_eq!(opaque.len(), 27, "{token}");
    for viewer in [token.clone(), app_literal()] {
        let app = s.get_as(&format!("/{ACME}"), &viewer);
        assert_eq!(app.status, 200, "{}", app.text);
        assert_eq!(app.body["id"], ACME);
        let d = s.debug_as(&viewer, &viewer);
        assert_eq!(
            d.body,
            json!({"data": {"app_id": ACME, "type": "APP", "application": ACME_NAME,
                            "is_valid": true, "scopes": []}})
        );
    }
}

#[test]
fn page_tokens_come_from_the_page_node_and_from_accounts() {
    let s = Server::seeded();
    let user = s.alice();
    let r = s.get_as(&format!("/{COFFEE}?fields=access_token"), &user);
    assert_eq!(r.status, 200, "{}", r.text);
    let keys: Vec<&String> = r.body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["access_token", "id"]);
    assert_eq!(r.body["id"], COFFEE);
    let page = r.str("access_token");
    assert_opaque(&page);
    assert_ne!(page, user);

    let accounts = s.get_as("/me/accounts", &user);
    assert_eq!(accounts.status, 200, "{}", accounts.text);
    let coffee = accounts.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == COFFEE)
        .expect("coffee in /me/accounts")
        .clone();
    let from_accounts = coffee["access_token"].as_str().unwrap();
    assert_opaque(from_accounts);
    let me = s.get_as("/me", from_accounts);
    assert_eq!(me.body, json!({"name": "Acme Coffee", "id": COFFEE}));
    assert_eq!(s.debug(&page)["type"], "PAGE");
}

#[test]
fn a_page_token_from_a_short_lived_token_expires_with_it() {
    let s = Server::seeded();
    let user = s.alice();
    let page = s.page_token(COFFEE, &user);
    let (du, dp) = (s.debug(&user), s.debug(&page));
    assert_eq!(dp["expires_at"], du["expires_at"]);
    assert!(dp["expires_at"].as_i64().unwrap() > 0);
    assert_eq!(s.get_as("/me", &page).status, 200);
    s.advance(SHORT + 1);
    s.get_as("/me", &page).assert_expired();
    s.get_as("/me", &user).assert_expired();
    assert_eq!(s.debug(&page)["error"]["subcode"], 463);
}

#[test]
fn a_page_token_from_a_long_lived_token_never_expires() {
    let s = Server::seeded();
    let long = s.exchange(&s.alice());
    let page = s.page_token(COFFEE, &long);
    let d = s.debug(&page);
    assert_eq!(d["expires_at"], 0, "{d}");
    assert_eq!(d["is_valid"], true);
    s.advance(61 * DAY);
    let me = s.get_as("/me", &page);
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body["id"], COFFEE);
    assert_eq!(s.debug(&page)["is_valid"], true);
    s.get_as("/me", &long).assert_expired();
    assert_eq!(s.debug(&long)["error"]["subcode"], 463);
}

#[test]
fn a_person_without_a_task_on_a_page_gets_no_token_for_it() {
    let s = Server::seeded();
    let carol = s.issue("carol", "acme", &[], false);
    let r = s.get_as(&format!("/{COFFEE}?fields=access_token,name"), &carol);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({"name": "Acme Coffee", "id": COFFEE}));
    assert_eq!(s.get_as("/me/accounts", &carol).body, json!({"data": []}));

    // bob is an Analyst on Coffee only.
    let bob = s.issue("bob", "acme", &[], false);
    let r = s.get_as(&format!("/{NEWS}?fields=access_token"), &bob);
    assert_eq!(r.body, json!({"id": NEWS}));
    let accounts = s.get_as("/me/accounts", &bob);
    assert_eq!(crate::harness::data_ids(&accounts.body), [COFFEE]);
    assert_eq!(accounts.body["data"][0]["tasks"], json!(["ANALYZE"]));
}

#[test]
fn scopes_follow_the_grant_at_the_moment_of_use() {
    let s = Server::seeded();
    let viewer = format!("{RIVAL}|{RIVAL_SECRET}");
    let first = s.issue("alice", "rival", &[], false);
    let before = s.debug_as(&first, &viewer).body["data"].clone();
    assert_eq!(scopes(&before), ["email", "public_profile"]);
    let _second = s.issue("alice", "rival", &["pages_show_list"], false);
    let after = s.debug_as(&first, &viewer).body["data"].clone();
    assert_eq!(
        scopes(&after),
        ["email", "pages_show_list", "public_profile"]
    );
    let accounts = s.get_as("/me/accounts", &first);
    assert_eq!(accounts.body["data"].as_array().unwrap().len(), 3);
}

#[test]
fn the_database_holds_no_token_string() {
    let s = Server::seeded_on_file();
    let short = s.alice();
    let long = s.exchange(&short);
    let page_short = s.page_token(COFFEE, &short);
    let page_long = s.page_token(NEWS, &long);
    let accounts = s.get_as("/me/accounts", &long);
    let mut minted = vec![short, long, page_short, page_long];
    for p in accounts.body["data"].as_array().unwrap() {
        minted.push(p["access_token"].as_str().unwrap().to_string());
    }
    minted.push(s.issue("bob", "acme", &[], true));
    let app = s.post_form(
        "/oauth/access_token",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", ACME),
            ("client_secret", ACME_SECRET),
        ],
    );
    minted.push(app.str("access_token"));
    for t in minted.iter().filter(|t| !t.contains('|')) {
        assert_eq!(s.get_as("/me", t).status, 200, "{t} works");
    }
    let bytes = s.sandbox().db_bytes();
    assert!(bytes.len() > 4096, "the database is there");
    for t in &minted {
        let found = bytes.windows(t.len()).any(|w| w == t.as_bytes());
        assert!(!found, "token {t} is stored in the database");
        let body = t.split_once('|').map_or(t.as_str(), |(_, b)| b);
        assert!(
            !bytes.windows(body.len()).any(|w| w == body.as_bytes()),
            "token body {body} is stored"
        );
    }
}

#[test]
fn page_tokens_work_after_the_clock_is_set_back() {
    let s = Server::seeded();
    let long = s.exchange(&s.alice());
    let before = s.page_token(COFFEE, &long);
    // 2022-11-16: long before the seed gave alice her tasks on the Page.
    let r = s.admin_post("/_admin/clock", json!({ "set": 1_668_613_551 }));
    assert_eq!(r.status, 200, "{}", r.text);
    let after = s.page_token(COFFEE, &long);
    assert_eq!(
        after, before,
        "the same user token yields the same Page token"
    );
    let me = s.get_as("/me", &after);
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(s.debug(&after)["is_valid"], true);
}

#[test]
fn concurrent_logins_keep_every_granted_scope() {
    let s = Server::seeded();
    let wanted = [
        "email",
        "pages_show_list",
        "pages_read_engagement",
        "pages_manage_posts",
        "read_insights",
        "pages_messaging",
        "user_posts",
        "ads_read",
    ];
    std::thread::scope(|t| {
        for scope in wanted {
            let s = &s;
            t.spawn(move || s.issue("carol", "rival", &[scope], false));
        }
    });
    let token = s.issue("carol", "rival", &[], false);
    let granted = s.get_as("/me/permissions?status=granted", &token);
    for scope in wanted {
        assert!(
            granted.text.contains(scope),
            "{scope} lost: {}",
            granted.text
        );
    }
}
