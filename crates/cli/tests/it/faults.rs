//! Fault injection (`/_admin/faults` and `graphtoken faults add|list|clear`) against the real
//! binary: catalogued errors on the next N matching calls, latency, transient 5xx, matching by
//! path, token, app and person, the listing, clearing, and the admin key.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::world::*;
use crate::harness::{run, Resp, Server, ADMIN_KEY};

const PASSWORD_CHANGED: &str = "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.";

fn arm(s: &Server, fault: Value) -> Value {
    let r = s.admin_post("/_admin/faults", fault);
    assert_eq!(r.status, 200, "arm: {}", r.text);
    assert!(
        r.body["id"].as_str().is_some_and(|i| !i.is_empty()),
        "{}",
        r.text
    );
    r.body
}

fn list(s: &Server) -> Vec<Value> {
    let r = s.admin("GET", "/_admin/faults", None, Some(ADMIN_KEY));
    assert_eq!(r.status, 200, "list: {}", r.text);
    r.body["data"].as_array().cloned().expect("data")
}

fn me(s: &Server, token: &str) -> Resp {
    s.get_as("/v25.0/me", token)
}

fn assert_ok(r: &Resp) {
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body.get("error").is_none(), "{}", r.text);
}

#[test]
fn the_next_two_calls_fail_with_the_catalogued_error_then_calls_succeed() {
    let s = Server::seeded();
    let t = s.alice();
    let f = arm(
        &s,
        json!({"error": "password_changed", "times": 2, "match": {"path": "/me"}}),
    );
    assert_eq!(f["times_left"], 2);
    assert_eq!(f["fired"], 0);
    assert_eq!(f["armed"], true);
    assert_eq!(
        (f["code"].as_u64(), f["subcode"].as_u64()),
        (Some(190), Some(460))
    );

    // A path the fault does not match is let through and does not count.
    assert_ok(&s.get_as(&format!("/v25.0/{COFFEE}"), &t));
    for _ in 0..2 {
        let r = me(&s, &t);
        r.assert_error(190, Some(460), "OAuthException", PASSWORD_CHANGED);
        // Injected answers carry the usage headers, like every Graph answer with a caller.
        let usage = r
            .header("x-app-usage")
            .expect("x-app-usage on an injected answer");
        assert!(usage.contains("\"call_count\""), "{usage}");
    }
    let r = me(&s, &t);
    assert_ok(&r);
    assert!(r.body["id"].is_string());

    let l = list(&s);
    assert_eq!(l.len(), 1);
    assert_eq!(l[0]["id"], f["id"]);
    assert_eq!(l[0]["fired"], 2);
    assert_eq!(l[0]["times_left"], 0);
    assert_eq!(l[0]["armed"], false);
    // The token itself was never touched.
    assert_eq!(s.debug(&t)["is_valid"], true);
}

#[test]
fn the_path_matches_a_prefix_whatever_the_version() {
    let s = Server::seeded();
    let t = s.alice();
    arm(
        &s,
        json!({"error": "session_invalidated", "times": 0, "match": {"path": "/v19.0/me", "method": "GET"}}),
    );
    let msg =
        "Error validating access token: The session was invalidated explicitly using an API call.";
    s.get_as("/me/accounts", &t)
        .assert_error(190, Some(466), "OAuthException", msg);
    s.get_as("/v21.0/me", &t)
        .assert_error(190, Some(466), "OAuthException", msg);
    // `method` matches: a POST to /me is let through (whatever the Graph answers).
    let r = s.post_form("/me", &[("access_token", &t)]);
    assert_ne!(r.body["error"]["error_subcode"], 466, "{}", r.text);
    assert_ok(&s.get_as(&format!("/{COFFEE}"), &t));
    assert_eq!(list(&s)[0]["times_left"], Value::Null);
}

#[test]
fn a_token_matcher_affects_only_that_token_until_cleared() {
    let s = Server::seeded();
    let alice = s.alice();
    let bob = s.issue("bob", "acme", &[], false);
    let f = arm(
        &s,
        json!({"error": "expired", "times": 0, "match": {"token": alice}}),
    );
    assert!(
        !f["match"]["token"].as_str().unwrap().contains(&alice),
        "the listing shows the whole token: {f}"
    );
    for _ in 0..3 {
        me(&s, &alice).assert_expired();
        assert_ok(&me(&s, &bob));
    }
    let id = f["id"].as_str().unwrap();
    let r = s.admin(
        "DELETE",
        &format!("/_admin/faults/{id}"),
        None,
        Some(ADMIN_KEY),
    );
    assert_eq!((r.status, &r.body), (200, &json!({"success": true})));
    assert_ok(&me(&s, &alice));
    assert!(list(&s).is_empty());
}

#[test]
fn app_and_user_matchers_resolve_the_caller() {
    let s = Server::seeded();
    let acme = s.alice();
    let rival = s.issue("alice", "rival", &[], false);
    arm(
        &s,
        json!({"error": "rate_limit_app", "times": 0, "match": {"app": "rival"}}),
    );
    assert_ok(&me(&s, &acme));
    let r = me(&s, &rival);
    r.assert_error(
        4,
        None,
        "OAuthException",
        "(#4) Application request limit reached",
    );
    assert_eq!(r.body["error"]["is_transient"], true);
    // The app's own app token is that app too.
    let r = s.get_as(&format!("/{RIVAL}"), &format!("{RIVAL}|{RIVAL_SECRET}"));
    assert_eq!(r.body["error"]["code"], 4, "{}", r.text);
    let r = s.admin("DELETE", "/_admin/faults", None, Some(ADMIN_KEY));
    assert_eq!((r.status, &r.body), (200, &json!({"success": true})));

    // A person by seed key, and by app-scoped id.
    let bob = s.issue("bob", "acme", &[], false);
    let bob_asid = me(&s, &bob).str("id");
    arm(
        &s,
        json!({"error": "rate_limit_user", "match": {"user": "bob"}}),
    );
    arm(
        &s,
        json!({"error": "checkpoint", "match": {"user": bob_asid}}),
    );
    assert_ok(&me(&s, &acme));
    me(&s, &bob).assert_error(
        17,
        None,
        "OAuthException",
        "(#17) User request limit reached",
    );
    me(&s, &bob).assert_error(
        190,
        Some(459),
        "OAuthException",
        "Error validating access token: The user is enrolled in a blocking, logged-in checkpoint",
    );
    assert_ok(&me(&s, &bob));
    assert_ok(&me(&s, &acme));
}

#[test]
fn latency_delays_the_call_and_lets_it_through() {
    let s = Server::seeded();
    let t = s.alice();
    let f = arm(&s, json!({"latency_ms": 300, "times": 2}));
    assert_eq!(f["status"], Value::Null);
    for _ in 0..2 {
        let start = Instant::now();
        let r = me(&s, &t);
        assert!(start.elapsed() >= Duration::from_millis(300));
        assert_ok(&r);
    }
    assert_ok(&me(&s, &t));
    assert_eq!(list(&s)[0]["fired"], 2);

    // Latency with an error: the error comes after the delay.
    arm(&s, json!({"error": "unknown", "latency_ms": 200}));
    let start = Instant::now();
    let r = me(&s, &t);
    assert!(start.elapsed() >= Duration::from_millis(200));
    assert_eq!(r.status, 500, "{}", r.text);
}

fn assert_transient(r: &Resp, status: u16, code: u64, message: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    let e = &r.body["error"];
    assert_eq!(e["code"], code, "{}", r.text);
    assert_eq!(e["message"], message, "{}", r.text);
    assert_eq!(e["type"], "OAuthException");
    assert_eq!(e["is_transient"], true);
    assert!(e["fbtrace_id"].as_str().is_some_and(|t| !t.is_empty()));
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=UTF-8")
    );
    assert_eq!(r.header("facebook-api-version"), Some("v25.0"));
}

#[test]
fn transient_5xx_and_custom_errors() {
    let s = Server::seeded();
    let t = s.alice();
    arm(&s, json!({"status": 503}));
    arm(&s, json!({"status": 500}));
    let service = "An unexpected error has occurred. Please retry your request later.";
    assert_transient(&me(&s, &t), 503, 2, service);
    assert_transient(&me(&s, &t), 500, 1, "An unknown error has occurred.");
    assert_ok(&me(&s, &t));
    // Faults answer calls without a token too, and the token endpoint.
    arm(
        &s,
        json!({"status": 502, "match": {"path": "/oauth/access_token"}}),
    );
    let r = s.get(&format!(
        "/oauth/access_token?grant_type=client_credentials&client_id={ACME}&client_secret={ACME_SECRET}"
    ));
    assert_transient(&r, 502, 2, service);

    arm(
        &s,
        json!({"error": {"code": 368, "subcode": 1390008, "message": "(#368) Temporarily blocked",
                         "type": "OAuthException", "status": 403, "is_transient": false,
                         "error_user_title": "Blocked", "error_user_msg": "Slow down"}}),
    );
    let r = me(&s, &t);
    assert_eq!(r.status, 403, "{}", r.text);
    let e = &r.body["error"];
    assert_eq!(
        (e["code"].as_u64(), e["error_subcode"].as_u64()),
        (Some(368), Some(1_390_008))
    );
    assert_eq!(e["message"], "(#368) Temporarily blocked");
    assert_eq!(e["is_transient"], false);
    assert_eq!(e["error_user_title"], "Blocked");
    assert_eq!(e["error_user_msg"], "Slow down");
    assert!(r.header("www-authenticate").is_some());
    // A catalogued error with a 5xx status.
    arm(&s, json!({"error": "rate_limit_app", "status": 503}));
    let r = me(&s, &t);
    assert_eq!((r.status, &r.body["error"]["code"]), (503, &json!(4)));
}

/// Every documented name answers its code and subcode.
#[test]
fn the_catalogue() {
    let s = Server::seeded();
    let t = s.alice();
    let asid = me(&s, &t).str("id");
    let cases: &[(&str, u64, Option<u64>, u16)] = &[
        ("expired", 190, Some(463), 400),
        ("invalid_token", 190, None, 400),
        ("not_decrypted", 190, None, 400),
        ("bad_signature", 190, None, 400),
        ("session_invalidated", 190, Some(466), 400),
        ("app_not_installed", 190, Some(458), 400),
        ("checkpoint", 190, Some(459), 400),
        ("password_changed", 190, Some(460), 400),
        ("unconfirmed", 190, Some(464), 400),
        ("logged_out", 190, Some(467), 400),
        ("page_role_lost", 190, Some(492), 400),
        ("data_access_expired", 190, Some(493), 400),
        ("token_required", 104, None, 400),
        ("active_token_required", 2500, None, 400),
        ("unknown_object", 100, Some(33), 400),
        ("proof_missing", 100, None, 400),
        ("proof_invalid", 100, None, 400),
        ("permission", 200, None, 400),
        ("permissions_error", 200, None, 400),
        ("rate_limit_app", 4, None, 400),
        ("rate_limit_user", 17, None, 400),
        ("rate_limit_page", 32, None, 400),
        ("page_rate_limit", 80001, None, 400),
        ("custom_rate_limit", 613, Some(1996), 400),
        ("unknown", 1, None, 500),
        ("service", 2, None, 500),
    ];
    for (name, code, subcode, status) in cases {
        arm(&s, json!({"error": name}));
        let r = me(&s, &t);
        assert_eq!(r.status, *status, "{name}: {}", r.text);
        let e = &r.body["error"];
        assert_eq!(e["code"].as_u64(), Some(*code), "{name}: {}", r.text);
        assert_eq!(e["error_subcode"].as_u64(), *subcode, "{name}: {}", r.text);
        let m = e["message"].as_str().unwrap();
        match *name {
            "app_not_installed" => assert_eq!(
                m,
                format!("Error validating access token: The user has not authorized application {ACME}.")
            ),
            "unconfirmed" => assert!(m.contains(&format!("for the user {asid} are")), "{m}"),
            "unknown_object" => assert!(m.starts_with("Unsupported get request. Object with ID 'me'"), "{m}"),
            "page_rate_limit" => assert!(m.starts_with("(#80001) There have been too many calls"), "{m}"),
            _ => {}
        }
        let transient = name.contains("rate_limit") || ["unknown", "service"].contains(name);
        assert_eq!(e["is_transient"] == true, transient, "{name}: {}", r.text);
    }
    assert_ok(&me(&s, &t));
    assert!(list(&s)
        .iter()
        .all(|f| f["fired"] == 1 && f["armed"] == false));
}

#[test]
fn faults_touch_graph_paths_only() {
    let s = Server::seeded();
    arm(&s, json!({"error": "service", "times": 0}));
    assert_eq!(s.get("/healthz").status, 200);
    assert_eq!(s.clock(), s.clock());
    s.issue("alice", "acme", &[], false);
    assert_eq!(me(&s, &s.alice()).status, 500);
    assert_eq!(list(&s)[0]["fired"], 1);
}

#[test]
fn bad_faults_are_refused_and_the_key_is_required() {
    let s = Server::seeded();
    let r = s.admin_post("/_admin/faults", json!({"error": "no_such_error"}));
    assert_eq!(r.status, 400, "{}", r.text);
    let m = r.body["error"]["message"].as_str().unwrap();
    assert!(
        m.contains("no_such_error") && m.contains("password_changed"),
        "{m}"
    );
    for bad in [
        json!({}),
        json!({"error": "expired", "tiems": 2}),
        json!({"error": "expired", "match": {"paht": "/me"}}),
        json!({"error": "expired", "times": -1}),
        json!({"status": 404}),
        json!({"latency_ms": 86_400_000}),
        json!({"error": {"message": "no code"}}),
        json!({"error": {"code": 1, "message": "x", "type": "Weird"}}),
        json!({"error": "expired", "match": {"method": "PUT"}}),
    ] {
        let r = s.admin_post("/_admin/faults", bad.clone());
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
    }
    let r = s.admin_raw("/_admin/faults", "not json");
    assert_eq!(r.status, 400);
    let r = s.admin_post(
        "/_admin/faults",
        json!({"error": "expired", "match": {"app": "nope"}}),
    );
    assert_eq!(r.status, 404, "{}", r.text);
    let r = s.admin_post(
        "/_admin/faults",
        json!({"error": "expired", "match": {"user": "nope"}}),
    );
    assert_eq!(r.status, 404, "{}", r.text);
    let r = s.admin("DELETE", "/_admin/faults/999", None, Some(ADMIN_KEY));
    assert_eq!(r.status, 404, "{}", r.text);

    for key in [None, Some("wrong-key")] {
        let r = s.admin(
            "POST",
            "/_admin/faults",
            Some(json!({"error": "expired"})),
            key,
        );
        assert_eq!(r.status, 401, "{}", r.text);
        assert_eq!(s.admin("GET", "/_admin/faults", None, key).status, 401);
        assert_eq!(s.admin("DELETE", "/_admin/faults", None, key).status, 401);
        assert_eq!(s.admin("DELETE", "/_admin/faults/1", None, key).status, 401);
    }
    assert!(list(&s).is_empty());
    assert_ok(&me(&s, &s.alice()));
}

#[test]
fn cli_add_list_clear() {
    let s = Server::seeded();
    let t = s.alice();
    let id = s.cli(&[
        "faults",
        "add",
        "--error",
        "password_changed",
        "--times",
        "2",
        "--path",
        "/me",
        "--app",
        "acme",
    ]);
    let id = id.trim().to_string();
    assert!(!id.is_empty());
    let latency = s.cli(&["faults", "add", "--latency-ms", "10", "--times", "0"]);
    let latency = latency.trim().to_string();
    assert_ne!(id, latency);

    me(&s, &t).assert_error(190, Some(460), "OAuthException", PASSWORD_CHANGED);
    let out = s.cli(&["faults", "list"]);
    let line = out
        .lines()
        .find(|l| l.starts_with(&format!("#{id} ")))
        .unwrap_or_else(|| panic!("no fault {id} in:\n{out}"));
    assert!(
        line.contains("password_changed (190/460, HTTP 400)"),
        "{line}"
    );
    assert!(line.contains("path=/me app=acme"), "{line}");
    assert!(line.ends_with("fired 1, 1 left"), "{line}");
    assert!(out.contains("+10 ms"), "{out}");
    assert!(out.contains("until cleared"), "{out}");

    assert!(s.cli(&["faults", "clear", &id]).contains("cleared fault"));
    assert_ok(&me(&s, &t));
    assert_eq!(list(&s).len(), 1);
    s.cli(&["faults", "clear"]);
    assert_eq!(s.cli(&["faults", "list"]).trim(), "no faults");

    // Errors from the server reach the user.
    let mut args = vec!["faults", "add", "--error", "bogus"];
    args.extend(["--server", &s.base, "--admin-key", ADMIN_KEY]);
    let (status, _, err) = run(&args, &[]);
    assert!(!status.success());
    assert!(
        err.contains("HTTP 400") && err.contains("unknown error `bogus`"),
        "{err}"
    );
}

/// A client that goes away mid-request does not stop the request's write: the work runs to
/// its end without it (here an app removing itself, held back by a latency fault while the
/// client hangs up), and the token is refused afterwards.
#[test]
fn a_write_whose_client_hangs_up_midway_still_happens() {
    use std::io::Write;
    let s = Server::seeded();
    let t = s.alice();
    assert_ok(&me(&s, &t));
    arm(&s, json!({"latency_ms": 600, "times": 1}));
    let addr = s.base.trim_start_matches("http://").to_string();
    let mut c = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        c,
        "DELETE /v25.0/me/permissions?access_token={t} HTTP/1.1\r\nHost: {addr}\r\n\r\n"
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(150));
    // The client hangs up while the fault holds the request back; once the delay ends, the
    // removal goes on without it.
    drop(c);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let r = me(&s, &t);
        if r.status != 200 {
            assert_eq!(r.body["error"]["code"], 190, "{}", r.text);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the removal never happened: {}",
            r.text
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(list(&s)[0]["fired"], 1);
}
