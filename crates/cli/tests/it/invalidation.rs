//! One test per event of spec §7: what must die (with which subcode) and what must live.

use crate::harness::world::*;
use crate::harness::{Resp, Server};
use serde_json::json;

/// The token fails on `/me` with 190/`subcode`, and `debug_token` says so.
fn dead(s: &Server, token: &str, subcode: u64) {
    let r = s.get_as("/me", token);
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["error"]["code"], 190, "{}", r.text);
    assert_eq!(r.body["error"]["error_subcode"], subcode, "{}", r.text);
    // The admin view of debug_token: tokens of any app.
    let d = s
        .admin_post("/_admin/debug_token", json!({ "token": token }))
        .body["data"]
        .clone();
    assert_eq!(d["is_valid"], false, "{d}");
    assert_eq!(d["error"]["subcode"], subcode, "{d}");
}

fn alive(s: &Server, token: &str) {
    let r = s.get_as("/me", token);
    assert_eq!(r.status, 200, "{}", r.text);
}

/// `DELETE` through `method=delete`, as Koala sends it.
fn delete(s: &Server, path: &str, token: &str) -> Resp {
    s.post_form(path, &[("access_token", token), ("method", "delete")])
}

/// Alice's tokens for acme: short, long, and a Page token from each.
struct Family {
    short: String,
    long: String,
    page_short: String,
    page_long: String,
}

fn family(s: &Server) -> Family {
    let short = s.issue("alice", "acme", &["pages_show_list"], false);
    let long = s.exchange(&short);
    Family {
        page_short: s.page_token(COFFEE, &short),
        page_long: s.page_token(COFFEE, &long),
        short,
        long,
    }
}

impl Family {
    fn all(&self) -> [&str; 4] {
        [&self.short, &self.long, &self.page_short, &self.page_long]
    }
}

#[test]
fn the_app_removing_itself_ends_every_token_of_that_person_and_app_466() {
    let s = Server::seeded();
    let f = family(&s);
    let other_app = s.issue("alice", "rival", &[], false);
    let other_person = s.issue("bob", "acme", &[], false);

    let r = delete(&s, "/me/permissions", &f.short);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({"success": true}));

    for t in f.all() {
        dead(&s, t, 466);
    }
    let m = s.get_as("/me", &f.long);
    assert_eq!(
        m.body["error"]["message"],
        "Error validating access token: The session was invalidated explicitly using an API call."
    );
    alive(&s, &other_app);
    alive(&s, &other_person);
    // The grant is gone: the app sees no permissions, and the next login starts afresh.
    let alice = s.get_as("/me", &other_person).body["id"].clone();
    assert!(alice.is_string());
    let fresh = s.issue("alice", "acme", &[], false);
    alive(&s, &fresh);
    let perms = s.get_as("/me/permissions", &fresh);
    assert_eq!(
        perms.body,
        json!({"data": [{"permission": "public_profile", "status": "granted"}]})
    );
}

#[test]
fn the_app_token_can_remove_the_app_for_a_person() {
    let s = Server::seeded();
    let t = s.alice();
    let asid = s.get_as("/me", &t).str("id");
    let r = delete(
        &s,
        &format!("/{asid}/permissions"),
        &crate::harness::app_literal(),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    dead(&s, &t, 466);
}

#[test]
fn revoking_one_permission_keeps_tokens_and_narrows_their_scopes() {
    let s = Server::seeded();
    let t = s.issue("alice", "acme", &["email", "pages_show_list"], false);
    let r = delete(&s, "/me/permissions/email", &t);
    assert_eq!(r.body, json!({"success": true}), "{}", r.text);
    alive(&s, &t);
    let d = s.debug(&t);
    assert!(
        !crate::harness::scopes(&d).contains(&"email".to_string()),
        "{d}"
    );
    assert!(s.get_as("/me?fields=email", &t).body.get("email").is_none());
    let p = s.get_as("/me/permissions?permission=email", &t);
    assert_eq!(
        p.body,
        json!({"data": [{"permission": "email", "status": "declined"}]})
    );
    // The `?permission=` form, with the app's token.
    let asid = s.get_as("/me", &t).str("id");
    let r = delete(
        &s,
        &format!("/{asid}/permissions?permission=pages_show_list"),
        &crate::harness::app_literal(),
    );
    assert_eq!(r.body, json!({"success": true}), "{}", r.text);
    assert_eq!(s.get_as("/me/accounts", &t).body, json!({"data": []}));
    alive(&s, &t);
}

#[test]
fn the_person_removing_the_app_in_settings_is_458() {
    let s = Server::seeded();
    let f = family(&s);
    let other = s.issue("alice", "rival", &[], false);
    let r = s.admin_post("/_admin/users/alice/apps/acme/remove", json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["was_installed"], true);
    for t in f.all() {
        dead(&s, t, 458);
    }
    assert_eq!(
        s.get_as("/me", &f.short).body["error"]["message"],
        format!("Error validating access token: The user has not authorized application {ACME}.")
    );
    alive(&s, &other);
}

#[test]
fn a_password_change_ends_every_session_in_every_app_460() {
    let s = Server::seeded();
    let f = family(&s);
    let other_app = s.issue("alice", "rival", &[], true);
    let bob = s.issue("bob", "acme", &[], false);
    let r = s.admin_post(
        "/_admin/users/alice/password",
        json!({"password": "n3w-pass"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    for t in f.all() {
        dead(&s, t, 460);
    }
    dead(&s, &other_app, 460);
    alive(&s, &bob);
    let again = s.issue("alice", "acme", &[], false);
    alive(&s, &again);
}

#[test]
fn a_security_reset_is_460_too() {
    let s = Server::seeded();
    let f = family(&s);
    let r = s.admin_post("/_admin/users/alice/invalidate", json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    for t in f.all() {
        dead(&s, t, 460);
    }
}

#[test]
fn logging_out_ends_short_lived_tokens_only_467() {
    let s = Server::seeded();
    let f = family(&s);
    let r = s.admin_post("/_admin/users/alice/logout", json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    dead(&s, &f.short, 467);
    dead(&s, &f.page_short, 467);
    alive(&s, &f.long);
    alive(&s, &f.page_long);
}

#[test]
fn losing_every_task_on_a_page_ends_those_page_tokens_only_492() {
    let s = Server::seeded();
    let long = s.exchange(&s.issue("alice", "acme", &["pages_show_list"], false));
    let coffee = s.page_token(COFFEE, &long);
    let news = s.page_token(NEWS, &long);
    let r = s.admin_post(
        "/_admin/pages/coffee/tasks",
        json!({"user": "alice", "tasks": []}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    dead(&s, &coffee, 492);
    alive(&s, &news);
    alive(&s, &long);
    // Given a task again, she gets a new Page token; the old one stays dead.
    let r = s.admin_post(
        "/_admin/pages/coffee/tasks",
        json!({"user": "alice", "role": "Editor"}),
    );
    assert_eq!(
        r.body["tasks"],
        json!([
            "ANALYZE",
            "ADVERTISE",
            "MESSAGING",
            "MODERATE",
            "CREATE_CONTENT"
        ]),
        "{}",
        r.text
    );
    let fresh = s.page_token(COFFEE, &long);
    assert_ne!(fresh, coffee);
    alive(&s, &fresh);
    dead(&s, &coffee, 492);
    // Asked for again (the user token's cached entry knows it is stored): the same token.
    assert_eq!(s.page_token(COFFEE, &long), fresh);
    alive(&s, &fresh);
}

#[test]
fn changed_tasks_take_effect_on_the_next_call() {
    let s = Server::seeded();
    let t = s.issue("alice", "acme", &["pages_show_list"], false);
    let page = s.page_token(COFFEE, &t);
    let r = s.admin_post(
        "/_admin/pages/coffee/tasks",
        json!({"user": "alice", "tasks": ["ANALYZE"]}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    alive(&s, &page);
    let tasks = s.get_as(&format!("/{COFFEE}?fields=tasks"), &t);
    assert_eq!(tasks.body["tasks"], json!(["ANALYZE"]), "{}", tasks.text);
}

#[test]
fn a_checkpoint_or_unconfirmed_account_blocks_until_cleared_459_464() {
    let s = Server::seeded();
    let f = family(&s);
    for (status, subcode) in [("checkpointed", 459), ("unconfirmed", 464)] {
        let r = s.admin_post("/_admin/users/alice/status", json!({ "status": status }));
        assert_eq!(r.status, 200, "{}", r.text);
        for t in f.all() {
            dead(&s, t, subcode);
        }
        let r = s.admin_post("/_admin/users/alice/status", json!({"status": "active"}));
        assert_eq!(r.status, 200, "{}", r.text);
        for t in f.all() {
            alive(&s, t);
        }
    }
}

#[test]
fn ninety_days_unused_lapses_data_access_but_not_the_token_493() {
    let s = Server::seeded();
    let long = s.exchange(&s.issue("alice", "acme", &["pages_show_list"], false));
    let page = s.page_token(COFFEE, &long);
    s.advance(91 * DAY);
    let r = s.get_as("/me", &page);
    assert_eq!(r.body["error"]["error_subcode"], 493, "{}", r.text);
    assert_eq!(
        r.body["error"]["message"],
        "The access token is invalid since the user hasn't engaged the app in longer than 90 days."
    );
    let d = s.debug(&page);
    assert_eq!(d["is_valid"], true, "the token still authenticates: {d}");
    let now = s.clock();
    assert!(d["data_access_expires_at"].as_i64().unwrap() < now, "{d}");
    // The app still sees what was granted, now `expired`; what was declined stays declined.
    let asid = d["user_id"].as_str().unwrap().to_string();
    let app = crate::harness::app_literal();
    let statuses = |s: &Server| {
        crate::harness::permission_statuses(&s.get_as(&format!("/{asid}/permissions"), &app))
    };
    let lapsed = statuses(&s);
    assert!(
        lapsed.contains(&("pages_show_list".into(), "expired".into())),
        "{lapsed:?}"
    );
    assert!(
        lapsed.contains(&("user_birthday".into(), "declined".into())),
        "{lapsed:?}"
    );
    assert!(!lapsed.iter().any(|(_, st)| st == "granted"), "{lapsed:?}");
    let r = s.get_as(&format!("/{asid}/permissions?status=expired"), &app);
    assert!(!r.body["data"].as_array().unwrap().is_empty(), "{}", r.text);
    // And the app's token reads no more than that says: no email.
    let read = s.get_as(&format!("/{asid}?fields=id,email"), &app);
    assert_eq!(crate::harness::keys(&read.body), ["id"], "{}", read.text);
    // A new login renews data access for the app.
    s.issue("alice", "acme", &[], false);
    alive(&s, &page);
    assert!(statuses(&s).contains(&("pages_show_list".into(), "granted".into())));
    let read = s.get_as(&format!("/{asid}?fields=id,email"), &app);
    assert_eq!(
        crate::harness::keys(&read.body),
        ["id", "email"],
        "{}",
        read.text
    );
}

#[test]
fn a_secret_reset_retires_app_tokens_of_the_old_secret() {
    let s = Server::seeded();
    let old_literal = crate::harness::app_literal();
    let r = s.get(&format!(
        "/oauth/access_token?grant_type=client_credentials&client_id={ACME}&client_secret={ACME_SECRET}"
    ));
    let old_token = r.str("access_token");
    let user = s.alice();
    let r = s.admin_post("/_admin/apps/acme/reset_secret", json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    let secret = r.str("secret");
    assert_ne!(secret, ACME_SECRET);
    for t in [&old_literal, &old_token] {
        let r = s.get_as(&format!("/{ACME}"), t);
        assert_eq!(r.body["error"]["code"], 190, "{}", r.text);
        assert_eq!(
            r.body["error"]["message"],
            "Invalid OAuth access token signature."
        );
    }
    let new_literal = format!("{ACME}|{secret}");
    assert_eq!(s.get_as(&format!("/{ACME}"), &new_literal).status, 200);
    alive(&s, &user);
}

#[test]
fn revoking_what_was_never_granted_changes_nothing() {
    let s = Server::seeded();
    let t = s.issue("alice", "acme", &["email"], false);
    let r = delete(&s, "/me/permissions/read_insights", &t);
    assert_eq!(r.body, json!({"success": true}), "{}", r.text);
    let p = s.get_as("/me/permissions?status=declined", &t);
    assert!(!p.text.contains("read_insights"), "{}", p.text);
    alive(&s, &t);
}
