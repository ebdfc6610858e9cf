//! App-scoped user ids: each app sees a person under its own stable id (spec §2.4–2.6).

use crate::harness::world::*;
use crate::harness::Server;

const UNKNOWN: &str = "Unsupported get request. Object with ID '{}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api";

#[test]
fn two_apps_see_different_stable_ids() {
    let s = Server::seeded();
    let acme = s.get_as("/me", &s.alice()).str("id");
    let rival = s
        .get_as("/me", &s.issue("alice", "rival", &[], false))
        .str("id");
    assert_ne!(acme, rival);
    assert!(acme.parse::<u64>().is_ok() && rival.parse::<u64>().is_ok());
    assert_ne!(acme, ALICE);
    assert_ne!(rival, ALICE);
    // Stable: a new token of the same app, even a long-lived one, sees the same id.
    let again = s
        .get_as("/me", &s.issue("alice", "acme", &[], true))
        .str("id");
    assert_eq!(again, acme);
}

#[test]
fn me_permissions_and_debug_token_agree() {
    let s = Server::seeded();
    let t = s.alice();
    let me = s.get_as("/me", &t).str("id");
    let debug = s.debug(&t);
    assert_eq!(debug["user_id"], me.as_str());
    let perms = s.get_as(&format!("/{me}/permissions"), &t);
    assert_eq!(perms.status, 200, "{}", perms.text);
    assert!(!perms.body["data"].as_array().unwrap().is_empty());
    let page = s.page_token(COFFEE, &t);
    assert_eq!(s.debug(&page)["user_id"], me.as_str());
}

#[test]
fn another_apps_id_does_not_resolve() {
    let s = Server::seeded();
    let acme_token = s.alice();
    let rival_token = s.issue("alice", "rival", &[], false);
    let acme_id = s.get_as("/me", &acme_token).str("id");
    for (path, id) in [
        (format!("/{acme_id}"), acme_id.as_str()),
        (format!("/{acme_id}/permissions"), acme_id.as_str()),
        (format!("/{ALICE}"), ALICE),
    ] {
        s.get_as(&path, &rival_token).assert_error(
            100,
            Some(33),
            "GraphMethodException",
            &UNKNOWN.replace("{}", id),
        );
    }
}
