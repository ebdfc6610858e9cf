//! Request conventions (spec §6, §8): versioned and unversioned paths, response headers, where
//! the token may be, `method=` overrides, and the exact error envelopes.

use crate::harness::world::*;
use crate::harness::{app_literal, Resp, Server};
use serde_json::json;

const OAUTH: &str = "OAuthException";
const JSON: &str = "application/json; charset=UTF-8";
/// Path prefixes and the version each is served by: unversioned calls by the default, retired
/// versions by the oldest available one.
const VERSIONS: [(&str, &str); 6] = [
    ("", "v25.0"),
    ("/v2.8", "v21.0"),
    ("/v3.1", "v21.0"),
    ("/v19.0", "v21.0"),
    ("/v25.0", "v25.0"),
    ("/v26.0", "v26.0"),
];

fn unknown_object(id: &str, method: &str) -> String {
    format!(
        "Unsupported {method} request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"
    )
}

fn assert_headers(r: &Resp, expected: &str) {
    assert_eq!(r.header("content-type"), Some(JSON), "{}", r.text);
    assert_eq!(
        r.header("facebook-api-version"),
        Some(expected),
        "{}",
        r.text
    );
}

#[test]
fn every_version_prefix_answers_with_the_version_that_served_it() {
    let s = Server::seeded();
    let t = s.alice();
    let app = app_literal();
    for (v, served) in VERSIONS {
        for path in [
            format!("{v}/me"),
            format!("{v}/me/accounts"),
            format!("{v}/me/permissions"),
            format!("{v}/{COFFEE}"),
        ] {
            let ok = s.get_as(&path, &t);
            assert_eq!(ok.status, 200, "{path}: {}", ok.text);
            assert_headers(&ok, served);
        }
        let debug = s.debug_as(&t, &app);
        assert_eq!(debug.status, 200);
        let debug = s.get(&format!(
            "{v}/debug_token?input_token={t}&access_token={}",
            crate::harness::enc(&app)
        ));
        assert_eq!(debug.body["data"]["is_valid"], true, "{v}");
        assert_headers(&debug, served);
        let token = s.get(&format!(
            "{v}/oauth/access_token?grant_type=client_credentials&client_id={ACME}&client_secret={ACME_SECRET}"
        ));
        assert_eq!(token.status, 200, "{v}: {}", token.text);
        assert_headers(&token, served);
        // Errors carry the same headers.
        let err = s.get(&format!("{v}/me"));
        assert_eq!(err.status, 400);
        assert_headers(&err, served);
        let err = s.get_as(&format!("{v}/me?fields=nope"), &t);
        assert_eq!(err.status, 400);
        assert_headers(&err, served);
    }
}

#[test]
fn the_token_may_be_in_the_query_the_body_or_the_authorization_header() {
    let s = Server::seeded();
    let t = s.alice();
    let expected = s.get_as("/me", &t).body;
    assert_eq!(expected["name"], "Alice Marie Admin");
    let body = s.post_form("/me", &[("access_token", &t), ("method", "get")]);
    assert_eq!(body.status, 200, "{}", body.text);
    assert_eq!(body.body, expected);
    for scheme in ["Bearer", "OAuth"] {
        let r = s.get_with_header("/v25.0/me", "Authorization", &format!("{scheme} {t}"));
        assert_eq!(r.status, 200, "{scheme}: {}", r.text);
        assert_eq!(r.body, expected);
    }
    // Query and body merge: the token in the query, fields in the body.
    let merged = s.post_form(
        &crate::harness::with_token("/me", &t),
        &[("method", "get"), ("fields", "first_name")],
    );
    assert_eq!(merged.status, 200, "{}", merged.text);
    assert_eq!(merged.body["first_name"], "Alice");
}

#[test]
fn method_overrides_are_honoured() {
    let s = Server::seeded();
    let t = s.alice();
    let r = s.get_as("/me?method=post", &t);
    r.assert_error(
        100,
        Some(33),
        "GraphMethodException",
        &unknown_object("me", "post"),
    );
    let r = s.post_form("/me", &[("access_token", &t)]);
    r.assert_error(
        100,
        Some(33),
        "GraphMethodException",
        &unknown_object("me", "post"),
    );
    let r = s.post_form("/me", &[("access_token", &t), ("method", "get")]);
    assert_eq!(r.status, 200, "{}", r.text);
}

#[test]
fn unknown_fields_name_the_node_type() {
    let s = Server::seeded();
    let t = s.alice();
    for (path, node) in [
        ("/me?fields=id,x".to_string(), "User"),
        (format!("/{COFFEE}?fields=name,x"), "Page"),
        (format!("/{ACME}?fields=x"), "Application"),
    ] {
        s.get_as(&path, &t).assert_error(
            100,
            None,
            OAUTH,
            &format!("(#100) Tried accessing nonexisting field (x) on node type ({node})"),
        );
    }
}

#[test]
fn expired_tokens_are_190_463_in_pacific_time() {
    let s = Server::seeded();
    let t = s.alice();
    s.advance(SHORT);
    for r in [
        s.get_as("/me", &t),
        s.get_as("/v3.1/me/accounts", &t),
        s.get_with_header("/me", "Authorization", &format!("Bearer {t}")),
    ] {
        r.assert_expired();
        let www = r.header("www-authenticate").unwrap();
        assert!(www.contains("\"invalid_token\""), "{www}");
        assert!(r.body["error"]["fbtrace_id"].is_string());
    }
}

#[test]
fn unparseable_tokens_are_190() {
    let s = Server::seeded();
    for bad in ["garbage", "EAA", "EAA-not-ours", "abc|def"] {
        s.get_as("/me", bad).assert_error(
            190,
            None,
            OAUTH,
            "Invalid OAuth access token - Cannot parse access token",
        );
    }
}

#[test]
fn unknown_objects_are_100_33() {
    let s = Server::seeded();
    let t = s.alice();
    for id in ["999999999999", "nonsense"] {
        s.get_as(&format!("/{id}"), &t).assert_error(
            100,
            Some(33),
            "GraphMethodException",
            &unknown_object(id, "get"),
        );
    }
    let r = s.get_as("/999999999999", &t);
    assert!(r.header("www-authenticate").is_none(), "not an OAuth error");
}

#[test]
fn me_needs_an_active_token() {
    let s = Server::seeded();
    let msg = "An active access token must be used to query information about the current user.";
    s.get_as("/me", &app_literal())
        .assert_error(2500, None, OAUTH, msg);
    s.get("/me").assert_error(2500, None, OAUTH, msg);
    s.get("/v19.0/me/accounts")
        .assert_error(2500, None, OAUTH, msg);
}

#[test]
fn other_paths_need_a_token() {
    let s = Server::seeded();
    for path in [format!("/{COFFEE}"), format!("/v2.8/{ACME}")] {
        s.get(&path).assert_error(
            104,
            None,
            OAUTH,
            "An access token is required to request this resource.",
        );
    }
}

#[test]
fn unknown_path_components_are_2500() {
    let s = Server::seeded();
    let t = s.alice();
    s.get_as("/me/x", &t)
        .assert_error(2500, None, OAUTH, "Unknown path components: /x");
    s.get_as(&format!("/v25.0/{COFFEE}/x"), &t).assert_error(
        2500,
        None,
        OAUTH,
        "Unknown path components: /x",
    );
}

#[test]
fn errors_have_the_full_envelope() {
    let s = Server::seeded();
    let r = s.get("/me");
    let e = r.body["error"].as_object().unwrap();
    let keys: Vec<&str> = e.keys().map(String::as_str).collect();
    assert_eq!(keys, ["message", "type", "code", "fbtrace_id"]);
    assert_eq!(
        r.header("www-authenticate"),
        Some(
            r#"OAuth "Facebook Platform" "invalid_request" "An active access token must be used to query information about the current user.""#
        )
    );
    let trace = e["fbtrace_id"].as_str().unwrap();
    assert_eq!(r.header("x-fb-trace-id"), Some(trace));
    assert_ne!(s.get("/me").body["error"]["fbtrace_id"], json!(trace));
}

#[test]
fn a_client_token_counts_as_no_token() {
    let s = Server::seeded();
    let client = format!("{ACME}|acme-client-token-0123456789");
    s.get_as("/me", &client).assert_error(
        2500,
        None,
        "OAuthException",
        "An active access token must be used to query information about the current user.",
    );
    s.get_as(&format!("/{COFFEE}"), &client).assert_error(
        104,
        None,
        "OAuthException",
        "An access token is required to request this resource.",
    );
}

#[test]
fn deeply_nested_fields_are_refused_not_fatal() {
    let s = Server::seeded();
    let token = s.alice();
    let deep = "a{".repeat(5000);
    let r = s.get_as(&format!("/me?fields={deep}"), &token);
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["error"]["code"], 2500);
    assert_eq!(s.get("/healthz").status, 200, "the server is still up");
}

#[test]
fn the_timed_appsecret_proof_lasts_five_minutes_on_the_virtual_clock() {
    let s = Server::seeded();
    let t = s.alice();
    let now = s.clock();
    let timed = |at: i64| {
        let proof = crate::harness::proof(ACME_SECRET, &format!("{t}|{at}"));
        s.get_as(
            &format!("/me?appsecret_proof={proof}&appsecret_time={at}"),
            &t,
        )
    };
    assert_eq!(timed(now).status, 200);
    assert_eq!(timed(now - 290).status, 200);
    timed(now - 400).assert_error(
        100,
        None,
        "GraphMethodException",
        "Invalid appsecret_proof provided in the API argument",
    );
    // Moving the clock ages a proof like real time does.
    let at = now;
    s.advance(301);
    timed(at).assert_error(
        100,
        None,
        "GraphMethodException",
        "Invalid appsecret_proof provided in the API argument",
    );
}

#[test]
fn two_runs_hand_out_different_trace_ids() {
    // Two processes, each answering its first request: their trace ids are not one sequence.
    let first = || {
        let sb = crate::harness::Sandbox::new();
        let s = Server::try_on_with(&sb, None, None, &[]).unwrap_or_else(|e| panic!("{e}"));
        let r = s.get("/me");
        assert_eq!(r.status, 400, "{}", r.text);
        r.body["error"]["fbtrace_id"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let (a, b) = (first(), first());
    assert_eq!(a.len(), 11, "{a}");
    assert_ne!(a, b);
}

#[test]
fn suppress_http_code_answers_errors_with_a_200() {
    let s = Server::seeded();
    let plain = s.get("/me?access_token=nonsense");
    assert_eq!(plain.status, 400, "{}", plain.text);
    for flag in ["suppress_http_code=1", "suppress_response_codes=true"] {
        let r = s.get(&format!("/me?access_token=nonsense&{flag}"));
        assert_eq!(r.status, 200, "{flag}: {}", r.text);
        assert_eq!(
            r.text,
            plain.text.replace(
                plain.body["error"]["fbtrace_id"]
                    .as_str()
                    .unwrap_or_default(),
                r.body["error"]["fbtrace_id"].as_str().unwrap_or_default(),
            )
        );
    }
    // Anything else leaves the status alone.
    let r = s.get("/me?access_token=nonsense&suppress_http_code=0");
    assert_eq!(r.status, 400, "{}", r.text);
    let me = s.get_as("/me?suppress_http_code=1", &s.alice());
    assert_eq!(me.status, 200, "{}", me.text);
}
