//! Who has which task on a Page: `/{page-id}/assigned_users`, the legacy `/{page-id}/roles`,
//! the legacy `perms` field, and the policy's errors (spec §2.9, §3).

use crate::harness::world::*;
use crate::harness::Server;
use crate::production::{page_list_reads, reads_are_exact};
use serde_json::json;

/// alice, as a manager of Coffee with pages_manage_metadata.
fn manager(s: &Server) -> String {
    s.issue(
        "alice",
        "acme",
        &["pages_show_list", "pages_manage_metadata"],
        false,
    )
}

fn asid(s: &Server, user: &str) -> String {
    let t = s.issue(user, "acme", &["pages_show_list"], false);
    s.get_as("/me", &t).str("id")
}

fn people(s: &Server, token: &str) -> Vec<(String, Vec<String>)> {
    let r = s.get_as(&format!("/{COFFEE}/assigned_users"), token);
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let tasks = p["tasks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap().to_string());
            (p["id"].as_str().unwrap().to_string(), tasks.collect())
        })
        .collect()
}

#[test]
fn managers_list_assign_and_remove_people() {
    let s = Server::seeded();
    let m = manager(&s);
    let (alice, bob, carol) = (asid(&s, "alice"), asid(&s, "bob"), asid(&s, "carol"));
    let listed = people(&s, &m);
    assert!(
        listed
            .iter()
            .any(|(id, t)| *id == alice && t.contains(&"MANAGE".to_string())),
        "{listed:?}"
    );
    assert!(
        listed
            .iter()
            .any(|(id, t)| *id == bob && t == &["ANALYZE".to_string()]),
        "{listed:?}"
    );
    assert!(!listed.iter().any(|(id, _)| *id == carol));

    // Every form clients send the task list in.
    for tasks in [
        r#"["MODERATE"]"#,
        "['MODERATE', 'ANALYZE']",
        "MESSAGING,ANALYZE",
    ] {
        let r = s.post_form(
            &format!("/{COFFEE}/assigned_users"),
            &[("access_token", &m), ("user", &carol), ("tasks", tasks)],
        );
        assert_eq!(r.body, json!({"success": true}), "{tasks}: {}", r.text);
    }
    let listed = people(&s, &m);
    let carols = &listed.iter().find(|(id, _)| *id == carol).unwrap().1;
    assert_eq!(
        carols,
        &["ANALYZE", "MESSAGING"],
        "the last assignment wins"
    );

    // Carol now gets a Page token, and it works.
    let ct = s.issue("carol", "acme", &["pages_show_list"], false);
    let page = s.page_token(COFFEE, &ct);
    assert_eq!(s.get_as("/me", &page).status, 200);

    // Removing her ends that Page token with 492, on its next use.
    let r = s.post_form(
        &format!("/{COFFEE}/assigned_users"),
        &[("access_token", &m), ("user", &carol), ("method", "delete")],
    );
    assert_eq!(r.body, json!({"success": true}), "{}", r.text);
    assert_eq!(s.get_as("/me", &page).body["error"]["error_subcode"], 492);
    assert!(!people(&s, &m).iter().any(|(id, _)| *id == carol));
}

#[test]
fn the_policy_refuses_with_facebooks_errors() {
    let s = Server::seeded();
    // bob is an Analyst: no MANAGE task.
    let bob = s.issue(
        "bob",
        "acme",
        &["pages_show_list", "pages_manage_metadata"],
        false,
    );
    let r = s.get_as(&format!("/{COFFEE}/assigned_users"), &bob);
    assert_eq!(r.body["error"]["code"], 10, "{}", r.text);
    // alice manages Coffee but has not granted pages_manage_metadata.
    let alice = s.issue("alice", "acme", &["pages_show_list"], false);
    s.get_as(&format!("/{COFFEE}/assigned_users"), &alice)
        .assert_error(
            200,
            None,
            "OAuthException",
            "(#200) Requires pages_manage_metadata permission to manage the object",
        );
    // A bad task name.
    let m = manager(&s);
    let carol = asid(&s, "carol");
    let r = s.post_form(
        &format!("/{COFFEE}/assigned_users"),
        &[("access_token", &m), ("user", &carol), ("tasks", "MANAGES")],
    );
    assert_eq!(r.body["error"]["code"], 100, "{}", r.text);
    // The message names the bad one's place in the list.
    let r = s.post_form(
        &format!("/{COFFEE}/assigned_users"),
        &[
            ("access_token", &m),
            ("user", &carol),
            ("tasks", r#"["ANALYZE", "MANAGE_LEADS"]"#),
        ],
    );
    let message = r.body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("(#100) Param tasks[1] must be one of {"),
        "{}",
        r.text
    );
    assert!(message.ends_with("}, not MANAGE_LEADS"), "{}", r.text);
    // assigned_users is a Page edge only.
    let r = s.get_as("/me/assigned_users", &m);
    assert_eq!(
        r.body["error"]["message"],
        "(#100) Tried accessing nonexisting field (assigned_users) on node type (User)"
    );
}

#[test]
fn changed_tasks_apply_on_the_next_call() {
    let s = Server::seeded();
    let m = manager(&s);
    let page = s.page_token(COFFEE, &m);
    let alice = asid(&s, "alice");
    let r = s.post_form(
        &format!("/{COFFEE}/assigned_users"),
        &[
            ("access_token", &page),
            ("user", &alice),
            ("tasks", r#"["ANALYZE"]"#),
        ],
    );
    assert_eq!(r.body, json!({"success": true}), "{}", r.text);
    // She no longer manages the Page: her next management call is refused.
    let r = s.get_as(&format!("/{COFFEE}/assigned_users"), &page);
    assert_eq!(r.body["error"]["code"], 10, "{}", r.text);
    assert_eq!(
        s.get_as("/me", &page).status,
        200,
        "the Page token itself still works"
    );
}

#[test]
fn retired_versions_get_tasks_not_the_legacy_perms() {
    // Versions before v3.1 had `perms` instead of `tasks`; they are retired, and a call to
    // one is served by the oldest available version.
    let s = Server::seeded();
    let m = manager(&s);
    let alice = asid(&s, "alice");
    for v in ["v25.0", "v2.12"] {
        let roles = s.get_as(&format!("/{v}/{COFFEE}/roles"), &m);
        let mine = roles.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == alice.as_str())
            .unwrap()
            .clone();
        assert_eq!(mine["role"], "Admin", "{v}: {mine}");
        assert!(mine["tasks"].as_array().unwrap().contains(&json!("MANAGE")));
        assert!(mine.get("perms").is_none(), "{v}: {mine}");
    }
    for v in ["v3.0", "v3.1"] {
        let accounts = s.get_as(&format!("/{v}/me/accounts"), &m);
        assert_eq!(accounts.header("facebook-api-version"), Some("v21.0"));
        let first = &accounts.body["data"][0];
        assert!(
            first.get("tasks").is_some() && first.get("perms").is_none(),
            "{v}: {first}"
        );
    }
    // Asked for by name, the legacy field is still there.
    let perms = s.get_as(&format!("/{COFFEE}?fields=perms"), &m);
    assert!(perms.body["perms"].is_array(), "{}", perms.text);
}

#[test]
fn assigned_users_pages_with_cursors() {
    let s = Server::seeded();
    let m = manager(&s);
    let all = people(&s, &m);
    assert!(all.len() >= 2, "{all:?}");
    let first = s.get_as(&format!("/{COFFEE}/assigned_users?limit=1"), &m);
    assert_eq!(
        first.body["data"].as_array().unwrap().len(),
        1,
        "{}",
        first.text
    );
    let next = first.body["paging"]["next"]
        .as_str()
        .expect("next")
        .to_string();
    assert!(next.contains("access_token="), "{next}");
    let second = crate::harness::send(ureq::get(&next), crate::harness::Body::None);
    assert_eq!(second.status, 200, "{}", second.text);
    assert_ne!(second.body["data"][0]["id"], first.body["data"][0]["id"]);
    assert!(
        second.body["paging"]["previous"].is_string(),
        "{}",
        second.text
    );
}

#[test]
fn roles_page_with_cursors_in_ascending_id_order() {
    let s = Server::seeded();
    let m = manager(&s);
    let all = s.get_as(&format!("/v25.0/{COFFEE}/roles"), &m);
    assert_eq!(all.status, 200, "{}", all.text);
    let all: Vec<String> = all.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect();
    assert!(all.len() >= 2, "{all:?}");
    let mut sorted = all.clone();
    sorted.sort_by_key(|id| id.parse::<u64>().unwrap());
    assert_eq!(all, sorted);

    let mut seen = Vec::new();
    let mut r = s.get_as(&format!("/v25.0/{COFFEE}/roles?limit=1"), &m);
    loop {
        assert_eq!(r.status, 200, "{}", r.text);
        let data = r.body["data"].as_array().unwrap();
        assert_eq!(data.len(), 1, "{}", r.text);
        assert!(data[0]["role"].is_string(), "{}", r.text);
        seen.push(data[0]["id"].as_str().unwrap().to_string());
        if seen.len() > 1 {
            assert!(r.body["paging"]["previous"].is_string(), "{}", r.text);
        }
        let Some(next) = r.body["paging"]["next"].as_str() else {
            break;
        };
        assert!(next.contains("access_token="), "{next}");
        assert!(next.contains("/roles?"), "{next}");
        r = crate::harness::send(ureq::get(next), crate::harness::Body::None);
    }
    assert_eq!(seen, all);
}

/// The tasks `/me/accounts` shows for `page`, or `None` when it does not list it.
fn tasks_shown(r: &crate::harness::Resp, page: &str) -> Option<Vec<String>> {
    assert_eq!(r.status, 200, "{}", r.text);
    let listed = r.body["data"].as_array().unwrap();
    let entry = listed.iter().find(|p| p["id"] == page)?;
    let tasks = entry["tasks"].as_array().unwrap();
    Some(
        tasks
            .iter()
            .map(|t| t.as_str().unwrap().to_string())
            .collect(),
    )
}

#[test]
fn a_kept_accounts_answer_is_given_again_until_what_it_shows_changes() {
    let s = Server::seeded();
    let m = manager(&s);
    let bob = s.issue("bob", "acme", &["pages_show_list"], false);
    let bob_id = asid(&s, "bob");
    let accounts = || s.get_as("/me/accounts", &bob);
    let first = accounts();
    assert_eq!(tasks_shown(&first, COFFEE).unwrap(), ["ANALYZE"]);

    // Asked again, and as a field of the person: the same, and no Page list read for them.
    let reads = page_list_reads(&s);
    assert_eq!(accounts().text, first.text);
    let me = s.get_as("/me?fields=accounts", &bob);
    assert_eq!(me.body["accounts"], first.body, "{}", me.text);
    if reads_are_exact() {
        assert_eq!(page_list_reads(&s), reads, "the kept answer was not used");
    }
    // Some of the default fields: another answer, kept in the first one's place.
    let named = s.get_as("/me/accounts?fields=name", &bob);
    assert!(
        named.body["data"][0].get("access_token").is_none(),
        "{}",
        named.text
    );
    assert_eq!(named.body["data"][0]["name"], first.body["data"][0]["name"]);
    assert_eq!(accounts().text, first.text);
    // A window, or a field with modifiers, is answered anew each time.
    let reads = page_list_reads(&s);
    for _ in 0..2 {
        let limited = s.get_as("/me/accounts?limit=1", &bob);
        assert_eq!(
            limited.body["data"].as_array().unwrap().len(),
            1,
            "{}",
            limited.text
        );
        let pictured = s.get_as("/me/accounts?fields=name,picture.type(large)", &bob);
        assert!(
            pictured.body["data"][0]["picture"].is_object(),
            "{}",
            pictured.text
        );
    }
    let made = page_list_reads(&s) - reads;
    assert!(made == 4.0 || !reads_are_exact() && made >= 4.0, "{made}");

    // His tasks change: the next answer shows them.
    let assign = |tasks: &str| {
        let form = [
            ("access_token", m.as_str()),
            ("user", &bob_id),
            ("tasks", tasks),
        ];
        let r = s.post_form(&format!("/{COFFEE}/assigned_users"), &form);
        assert_eq!(r.body, json!({"success": true}), "{}", r.text);
    };
    assign(r#"["ANALYZE","MODERATE"]"#);
    let changed = accounts();
    assert_eq!(
        tasks_shown(&changed, COFFEE).unwrap(),
        ["ANALYZE", "MODERATE"]
    );
    assert_eq!(accounts().text, changed.text);

    // The Page changes (its about, not shown): the answer is made again, the same.
    let reads = page_list_reads(&s);
    let page = s.page_token(COFFEE, &m);
    let form = [("access_token", page.as_str()), ("about", "Fresh coffee")];
    let r = s.post_form(&format!("/{COFFEE}"), &form);
    assert_eq!(r.body, json!({"success": true}), "{}", r.text);
    assert_eq!(accounts().text, changed.text);
    assert!(page_list_reads(&s) > reads, "the answer was not made again");

    // His last task on the Page goes: the Page leaves the answer at once.
    let form = [
        ("access_token", m.as_str()),
        ("user", &bob_id),
        ("method", "delete"),
    ];
    let r = s.post_form(&format!("/{COFFEE}/assigned_users"), &form);
    assert_eq!(r.body, json!({"success": true}), "{}", r.text);
    assert_eq!(tasks_shown(&accounts(), COFFEE), None);
}
