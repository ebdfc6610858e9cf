//! Rate limits (spec §6): the `X-*-Usage` headers with honest percentages, errors 17, 4, 80001
//! and 32 under bounded bursts, and the sliding hour on the virtual clock.
//!
//! The fixture app `tight` allows 30 calls an hour, 10 per person and 5 per Page.

use crate::harness::{Resp, Server};
use serde_json::{json, Value};

const TIGHT: &str = "1000000000000031";
const TIGHT_SECRET: &str = "tight-secret-0123456789abcdef";
const SHOP: &str = "200000000000301";
const PAGE_LIMIT: &str = "(#80001) There have been too many calls to this Page account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting.";

/// A server on the rate-limit fixture.
struct World {
    s: Server,
}

fn world() -> World {
    World {
        s: Server::seeded_with("rate_limits.toml"),
    }
}

fn app_token() -> String {
    format!("{TIGHT}|{TIGHT_SECRET}")
}

/// A long-lived user token for `tight` (it outlives the clock moves below).
fn token(s: &Server, user: &str) -> String {
    s.issue(user, "tight", &[], true)
}

/// A usage header, parsed; `None` when absent.
fn header(r: &Resp, name: &str) -> Option<Value> {
    r.header(name)
        .map(|v| serde_json::from_str(v).unwrap_or_else(|e| panic!("{name}: {v:?}: {e}")))
}

fn shares(pct: u64) -> Value {
    json!({"call_count": pct, "total_time": pct, "total_cputime": pct})
}

/// Asserts a rate-limit error and returns its `estimated_time_to_regain_access`.
fn assert_limited(r: &Resp, code: u64, message: &str) -> u64 {
    r.assert_error(code, None, "OAuthException", message);
    assert_eq!(r.body["error"]["is_transient"], true, "{}", r.text);
    let minutes = r.body["error"]["error_data"]["estimated_time_to_regain_access"]
        .as_u64()
        .unwrap_or_else(|| panic!("no estimate in {}", r.text));
    assert!((1..=60).contains(&minutes), "{}", r.text);
    minutes
}

#[test]
fn usage_headers_carry_honest_percentages() {
    let w = world();
    let s = &w.s;
    let alice = token(s, "alice");

    // 3 calls of 30: 10%.
    for _ in 0..3 {
        let r = s.get_as("/v25.0/me", &alice);
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let r = s.get_as("/me", &alice);
    // 4 of 30, floored.
    assert_eq!(header(&r, "x-app-usage"), Some(shares(13)));
    assert_eq!(header(&r, "x-page-usage"), None);
    assert_eq!(header(&r, "x-business-use-case-usage"), None);

    // The token endpoint, calls without a token and with a bad token carry no usage and are
    // not counted.
    let r = s.get(&format!(
        "/oauth/access_token?grant_type=client_credentials&client_id={TIGHT}&client_secret={TIGHT_SECRET}"
    ));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("x-app-usage"), None);
    let r = s.get(&format!("/{TIGHT}"));
    assert_eq!(r.status, 400);
    assert_eq!(r.header("x-app-usage"), None);
    let r = s.get_as("/me", "EAAnotatoken");
    assert_eq!(r.status, 400);
    assert_eq!(r.header("x-app-usage"), None);

    // An app-token call and debug_token count against the app: 6 of 30.
    let r = s.get_as(&format!("/{TIGHT}"), &app_token());
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(header(&r, "x-app-usage"), Some(shares(16)));
    let r = s.debug_as(&alice, &app_token());
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(header(&r, "x-app-usage"), Some(shares(20)));

    // A user-token call on a Page counts against the Page too (1 of 5), without a business
    // use case; a Page-token call is a business use case of that Page (2 of 5).
    let r = s.get_as(&format!("/{SHOP}?fields=access_token"), &alice);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(header(&r, "x-app-usage"), Some(shares(23)));
    assert_eq!(header(&r, "x-page-usage"), Some(shares(20)));
    assert_eq!(header(&r, "x-business-use-case-usage"), None);
    let page = r.str("access_token");
    let r = s.get_as("/me", &page);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(header(&r, "x-app-usage"), Some(shares(26)));
    assert_eq!(header(&r, "x-page-usage"), Some(shares(40)));
    assert_eq!(
        header(&r, "x-business-use-case-usage"),
        Some(
            json!({ SHOP: [{"type": "pages", "call_count": 40, "total_cputime": 40,
                             "total_time": 40, "estimated_time_to_regain_access": 0}] })
        )
    );
}

#[test]
fn a_burst_hits_the_user_limit_then_the_app_limit() {
    let w = world();
    let s = &w.s;
    let users: Vec<String> = ["alice", "bob", "carol", "dave"]
        .iter()
        .map(|u| token(s, u))
        .collect();

    for _ in 0..10 {
        let r = s.get_as("/me", &users[0]);
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let r = s.get_as("/me", &users[0]);
    assert_limited(&r, 17, "(#17) User request limit reached");
    // The refused call is not counted: 10 of 30.
    assert_eq!(header(&r, "x-app-usage"), Some(shares(33)));

    for t in &users[1..3] {
        for _ in 0..10 {
            let r = s.get_as("/me", t);
            assert_eq!(r.status, 200, "{}", r.text);
        }
    }
    for t in [&users[3], &users[0]] {
        let r = s.get_as("/me", t);
        assert_limited(&r, 4, "(#4) Application request limit reached");
        assert_eq!(header(&r, "x-app-usage"), Some(shares(100)));
    }
    let r = s.get_as(&format!("/{TIGHT}"), &app_token());
    assert_limited(&r, 4, "(#4) Application request limit reached");
    // Other Graph calls fail the same way; the token endpoint is not limited.
    let r = s.get(&format!(
        "/oauth/access_token?grant_type=client_credentials&client_id={TIGHT}&client_secret={TIGHT_SECRET}"
    ));
    assert_eq!(r.status, 200, "{}", r.text);
}

#[test]
fn a_page_token_burst_hits_80001_and_user_tokens_get_32() {
    let w = world();
    let s = &w.s;
    let alice = token(s, "alice");
    // 1 of the Page's 5.
    let page = s.page_token(SHOP, &alice);
    for _ in 0..4 {
        let r = s.get_as("/me", &page);
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let r = s.get_as("/me", &page);
    let minutes = assert_limited(&r, 80001, PAGE_LIMIT);
    assert_eq!(header(&r, "x-page-usage"), Some(shares(100)));
    let buc = header(&r, "x-business-use-case-usage").expect("BUC header");
    let entry = &buc[SHOP][0];
    assert_eq!(entry["type"], "pages");
    assert_eq!(entry["call_count"], 100);
    assert_eq!(entry["estimated_time_to_regain_access"], minutes);

    // The same Page with alice's user token: 32. Alice herself still has room.
    let r = s.get_as(&format!("/{SHOP}"), &alice);
    assert_limited(&r, 32, "(#32) Page request limit reached");
    assert_eq!(header(&r, "x-business-use-case-usage"), None);
    let r = s.get_as("/me", &alice);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(header(&r, "x-page-usage"), None);
}

#[test]
fn the_window_slides_on_the_virtual_clock() {
    let w = world();
    let s = &w.s;
    let alice = token(s, "alice");
    let page = s.page_token(SHOP, &alice);
    for _ in 0..4 {
        assert_eq!(s.get_as("/me", &page).status, 200);
    }
    assert_limited(&s.get_as("/me", &page), 80001, PAGE_LIMIT);
    for _ in 0..9 {
        assert_eq!(s.get_as("/me", &alice).status, 200);
    }
    assert_limited(
        &s.get_as("/me", &alice),
        17,
        "(#17) User request limit reached",
    );

    // Half an hour later the oldest calls are at most 30 minutes from leaving.
    s.advance(1800);
    let r = s.get_as("/me", &alice);
    let minutes = assert_limited(&r, 17, "(#17) User request limit reached");
    assert!(minutes <= 30, "{}", r.text);

    // An hour after the burst, every call left the window.
    s.advance(1801);
    let r = s.get_as("/me", &alice);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(header(&r, "x-app-usage"), Some(shares(3)));
    let r = s.get_as("/me", &page);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(header(&r, "x-page-usage"), Some(shares(20)));
    assert_eq!(
        header(&r, "x-business-use-case-usage").unwrap()[SHOP][0]
            ["estimated_time_to_regain_access"],
        0
    );
}

/// The admin API changes an app's budgets at once, without a new seed: a lower one refuses the
/// next call (calls counted stay counted), `null` goes back to the default, a budget left out
/// stays, and bad budgets are refused with what is wrong.
#[test]
fn the_admin_api_changes_an_app_s_budgets() {
    let w = world();
    let s = &w.s;
    let alice = token(s, "alice");
    for _ in 0..3 {
        assert_eq!(s.get_as("/me", &alice).status, 200);
    }
    let r = s.admin_post("/_admin/apps/tight/rate_limits", json!({"user": 3}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"app_id": TIGHT, "rate_limits": {"app": 30, "user": 3, "page": 5}})
    );
    let r = s.get_as("/me", &alice);
    assert_limited(&r, 17, "(#17) User request limit reached");
    // Back to graphtoken's default for a person (here with the CLI); the app's 30 stays.
    let out = s.cli(&["app", "rate-limits", TIGHT, "--user-calls", "default"]);
    let said: Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{out}: {e}"));
    assert_eq!(
        said["rate_limits"],
        json!({"app": 30, "user": 2000, "page": 5})
    );
    let r = s.get_as("/me", &alice);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(header(&r, "x-app-usage"), Some(shares(13)));
    for (body, says) in [
        (
            json!({"app": 0}),
            "`app`: a budget is a positive number of calls",
        ),
        (json!({"user": -1}), "`user`: a budget is a positive number"),
        (
            json!({"page": "5"}),
            "`page`: a budget is a positive number",
        ),
        (json!({"app": 4_294_967_296u64}), "not 4294967296"),
        (json!({"apps": 1}), "unknown field `apps`"),
        (json!({}), "name at least one of the budgets"),
    ] {
        let r = s.admin_post("/_admin/apps/tight/rate_limits", body);
        assert_eq!(r.status, 400, "{}", r.text);
        let message = r.body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{message}");
    }
    let r = s.admin_post("/_admin/apps/nope/rate_limits", json!({"app": 1}));
    assert_eq!(r.status, 404, "{}", r.text);
}
