//! Page-scoped ids (spec §2.12): ids_for_pages, ids_for_apps and the ASID → PSID migration API.

use crate::harness::Server;
use serde_json::json;

const CHAT: &str = "1000000000000031";
const CHAT_SECRET: &str = "chat-secret-0123456789abcdef";
const OTHER: &str = "1000000000000032";
const OTHER_SECRET: &str = "other-secret-0123456789abcdef";
const SHOP: &str = "200000000000031";
/// 2026-07-01, a month after the app passed App Review.
const IN_WINDOW: i64 = 1_782_864_000;

fn proof(token: &str) -> String {
    crate::harness::proof(CHAT_SECRET, token)
}

fn start() -> Server {
    Server::seeded_with("psids.toml")
}

/// The Shop's Page token (from the owner's long-lived token) and the fan's app-scoped id.
fn setup(s: &Server) -> (String, String) {
    let r = s.admin_post("/_admin/clock", json!({ "set": IN_WINDOW }));
    assert_eq!(r.status, 200, "{}", r.text);
    let owner = s.issue("owner", "chat", &["pages_show_list"], true);
    let page = s.page_token(SHOP, &owner);
    let fan = s.issue("fan", "chat", &[], false);
    let asid = s.get_as("/me", &fan).str("id");
    (page, asid)
}

fn map(s: &Server, page: &str, form: &[(&str, &str)]) -> crate::harness::Resp {
    let p = proof(page);
    let mut all = vec![("access_token", page), ("appsecret_proof", p.as_str())];
    all.extend_from_slice(form);
    s.post_form("/pages_id_mapping", &all)
}

#[test]
fn the_migration_api_maps_app_scoped_ids_to_stable_page_scoped_ids() {
    let s = start();
    let (page, asid) = setup(&s);
    let r = map(&s, &page, &[("user_ids", &asid)]);
    assert_eq!(r.status, 200, "{}", r.text);
    let psid = r.body[&asid]["id"].as_str().unwrap().to_string();
    assert_ne!(psid, asid);
    // Stable: asked again, the same id.
    assert_eq!(
        map(&s, &page, &[("user_ids", &asid)]).body[&asid]["id"],
        psid.as_str()
    );

    // Bad ids: refused with error_data, or skipped when asked to.
    let r = map(&s, &page, &[("user_ids", &format!("{asid},42"))]);
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.body["error"]["error_data"],
        json!({"invalid_ids": ["42"]})
    );
    let r = map(
        &s,
        &page,
        &[
            ("user_ids", &format!("{asid},42")),
            ("ignore_invalid_ids", "true"),
        ],
    );
    assert_eq!(r.body, json!({ asid.clone(): {"id": psid} }), "{}", r.text);

    // More than 200 ids.
    let many = vec!["1"; 201].join(",");
    assert_eq!(
        map(&s, &page, &[("user_ids", &many)]).body["error"]["code"],
        100
    );

    // Without a proof.
    let r = s.post_form(
        "/pages_id_mapping",
        &[("access_token", &page), ("user_ids", &asid)],
    );
    assert_eq!(
        r.body["error"]["message"],
        "API calls from the server require an appsecret_proof argument"
    );
}

#[test]
fn the_migration_api_closes_180_days_after_app_review() {
    let s = start();
    let (page, asid) = setup(&s);
    s.advance(200 * 86_400);
    let r = map(&s, &page, &[("user_ids", &asid)]);
    assert_eq!(r.body["error"]["code"], 200, "{}", r.text);
}

#[test]
fn ids_for_pages_and_ids_for_apps_cross_between_the_two_kinds_of_id() {
    let s = start();
    let (page, asid) = setup(&s);
    let app = format!("{CHAT}|{CHAT_SECRET}");
    let r = s.get_as(
        &format!(
            "/{asid}/ids_for_pages?page={SHOP}&appsecret_proof={}",
            proof(&app)
        ),
        &app,
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let psid = r.body["data"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        r.body["data"][0]["page"],
        json!({"id": SHOP, "name": "Chat Shop"})
    );

    // The Page sees the person under the PSID, and finds their app-scoped ids.
    let r = s.get_as(
        &format!("/{psid}/ids_for_apps?appsecret_proof={}", proof(&page)),
        &page,
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let apps: Vec<&str> = r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["app"]["id"].as_str().unwrap())
        .collect();
    assert!(apps.contains(&CHAT), "{}", r.text);
    let chat = r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["app"]["id"] == CHAT)
        .unwrap();
    assert_eq!(chat["id"], asid.as_str());
    let only = s.get_as(
        &format!(
            "/{psid}/ids_for_apps?app={OTHER}&appsecret_proof={}",
            proof(&page)
        ),
        &page,
    );
    assert!(only.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["app"]["id"] == OTHER));

    // The same mapping as the migration API gives.
    assert_eq!(
        map(&s, &page, &[("user_ids", &asid)]).body[&asid]["id"],
        psid.as_str()
    );
    // A PSID means nothing to a user token.
    let owner = s.issue("owner", "chat", &[], false);
    assert_eq!(
        s.get_as(&format!("/{psid}"), &owner).body["error"]["error_subcode"],
        33
    );
    // ids_for_pages wants an app token.
    let r = s.get_as(
        &format!("/{asid}/ids_for_pages?appsecret_proof={}", proof(&owner)),
        &owner,
    );
    assert_eq!(r.body["error"]["code"], 100, "{}", r.text);
}

#[test]
fn ids_for_apps_pages_with_cursors() {
    let s = start();
    let (page, asid) = setup(&s);
    // The fan also uses the other app, so has two app-scoped ids.
    let fan_other = s.issue("fan", "other", &[], false);
    let other_asid = s.get_as("/me", &fan_other).str("id");
    let mut expected = [asid.clone(), other_asid];
    expected.sort_by_key(|id| id.parse::<u64>().unwrap());
    let psid = map(&s, &page, &[("user_ids", &asid)]).body[&asid]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let p = proof(&page);
    let first = s.get_as(
        &format!("/{psid}/ids_for_apps?limit=1&appsecret_proof={p}"),
        &page,
    );
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(first.body["data"][0]["id"], expected[0].as_str());
    let next = first.body["paging"]["next"]
        .as_str()
        .expect("next")
        .to_string();
    assert!(next.contains("access_token="), "{next}");
    // The proof is not carried in `next`; the follower adds it, as the SDKs do.
    let second = crate::harness::send(
        ureq::get(&format!("{next}&appsecret_proof={p}")),
        crate::harness::Body::None,
    );
    assert_eq!(second.status, 200, "{}", second.text);
    assert_eq!(second.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(second.body["data"][0]["id"], expected[1].as_str());
    assert!(second.body["paging"]["next"].is_null(), "{}", second.text);
    assert!(second.body["paging"]["previous"].is_string());
}

const NOT_IN_WINDOW: &str = "(#200) The Page-Scoped ID API is only available to apps that passed App Review in the last 180 days";

#[test]
fn the_migration_api_is_refused_to_an_app_never_approved() {
    let s = start();
    setup(&s);
    // The other app has no review_approved_at.
    let owner = s.issue("owner", "other", &["pages_show_list"], true);
    let page = s.page_token(SHOP, &owner);
    let fan = s.issue("fan", "other", &[], false);
    let asid = s.get_as("/me", &fan).str("id");
    let p = crate::harness::proof(OTHER_SECRET, &page);
    let r = s.post_form(
        "/pages_id_mapping",
        &[
            ("access_token", &page),
            ("appsecret_proof", &p),
            ("user_ids", &asid),
        ],
    );
    assert_eq!(r.body["error"]["code"], 200, "{}", r.text);
    assert_eq!(r.body["error"]["message"], NOT_IN_WINDOW);
}

#[test]
fn the_migration_api_is_closed_before_app_review() {
    let s = start();
    // 2026-05-01, a month before the approval on 2026-06-01.
    let r = s.admin_post("/_admin/clock", json!({ "set": 1_777_593_600 }));
    assert_eq!(r.status, 200, "{}", r.text);
    let owner = s.issue("owner", "chat", &["pages_show_list"], true);
    let page = s.page_token(SHOP, &owner);
    let fan = s.issue("fan", "chat", &[], false);
    let asid = s.get_as("/me", &fan).str("id");
    let r = map(&s, &page, &[("user_ids", &asid)]);
    assert_eq!(r.body["error"]["code"], 200, "{}", r.text);
    assert_eq!(r.body["error"]["message"], NOT_IN_WINDOW);
}

#[test]
fn the_id_lists_want_a_proof_and_the_right_kind_of_token() {
    let s = start();
    let (page, asid) = setup(&s);
    let app = format!("{CHAT}|{CHAT_SECRET}");
    // ids_for_pages without appsecret_proof.
    let r = s.get_as(&format!("/{asid}/ids_for_pages?page={SHOP}"), &app);
    assert_eq!(
        r.body["error"]["message"], "API calls from the server require an appsecret_proof argument",
        "{}",
        r.text
    );
    // ids_for_apps wants the Page's token: on a person a user token can see, (#210).
    let fan = s.issue("fan", "chat", &[], false);
    let r = s.get_as(
        &format!("/{asid}/ids_for_apps?appsecret_proof={}", proof(&fan)),
        &fan,
    );
    assert_eq!(
        r.body["error"]["message"],
        "(#210) A page access token is required to request this resource.",
        "{}",
        r.text
    );
    assert_eq!(r.body["error"]["code"], 210, "{}", r.text);
    // Under a PSID, the person does not exist for a user token at all (as `GET /{psid}`).
    let psid = map(&s, &page, &[("user_ids", &asid)]).body[&asid]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = s.get_as(
        &format!("/{psid}/ids_for_apps?appsecret_proof={}", proof(&fan)),
        &fan,
    );
    assert_eq!(r.body["error"]["error_subcode"], 33, "{}", r.text);
}
