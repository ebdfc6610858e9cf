//! `GET|POST /oauth/access_token` (spec §2.2): parameters from the query and the form body,
//! and the token endpoint's exact errors.

use crate::harness::world::*;
use crate::harness::{Resp, Server};

const OAUTH: &str = "OAuthException";

fn exchange_form(s: &Server, extra: &[(&str, &str)]) -> Resp {
    let mut form = vec![("grant_type", "fb_exchange_token")];
    form.extend_from_slice(extra);
    s.post_form("/oauth/access_token", &form)
}

#[test]
fn get_and_post_both_work_and_query_and_body_merge() {
    let s = Server::seeded();
    let get = s.get(&format!(
        "/v19.0/oauth/access_token?grant_type=client_credentials&client_id={ACME}&client_secret={ACME_SECRET}"
    ));
    assert_eq!(get.status, 200, "{}", get.text);
    let post = s.post_form(
        &format!("/oauth/access_token?client_id={ACME}"),
        &[
            ("grant_type", "client_credentials"),
            ("client_secret", ACME_SECRET),
        ],
    );
    assert_eq!(post.status, 200, "{}", post.text);
    assert_eq!(get.body, post.body, "the app token is stable");
}

#[test]
fn a_wrong_secret_is_code_1() {
    let s = Server::seeded();
    let short = s.alice();
    for grant in ["client_credentials", "fb_exchange_token"] {
        let r = s.post_form(
            "/oauth/access_token",
            &[
                ("grant_type", grant),
                ("client_id", ACME),
                ("client_secret", RIVAL_SECRET),
                ("fb_exchange_token", &short),
            ],
        );
        r.assert_error(1, None, OAUTH, "Error validating client secret.");
    }
}

#[test]
fn a_missing_or_unknown_client_id_is_code_101() {
    let s = Server::seeded();
    exchange_form(&s, &[("client_secret", ACME_SECRET)]).assert_error(
        101,
        None,
        OAUTH,
        "Missing client_id parameter.",
    );
    for unknown in ["999999999", "not-a-number"] {
        exchange_form(
            &s,
            &[("client_id", unknown), ("client_secret", ACME_SECRET)],
        )
        .assert_error(101, None, OAUTH, "Invalid Client ID");
    }
}

#[test]
fn a_missing_exchange_token_is_named() {
    let s = Server::seeded();
    let r = exchange_form(&s, &[("client_id", ACME), ("client_secret", ACME_SECRET)]);
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.body["error"]["message"],
        "fb_exchange_token parameter not specified"
    );
    assert_eq!(r.body["error"]["type"], OAUTH);
}

#[test]
fn an_invalid_exchange_token_is_190() {
    let s = Server::seeded();
    for bad in ["garbage", "EAAshort"] {
        exchange_form(
            &s,
            &[
                ("client_id", ACME),
                ("client_secret", ACME_SECRET),
                ("fb_exchange_token", bad),
            ],
        )
        .assert_error(
            190,
            None,
            OAUTH,
            "Invalid OAuth access token - Cannot parse access token",
        );
    }
    let unknown = format!("EAA{}", "x".repeat(64));
    let r = exchange_form(
        &s,
        &[
            ("client_id", ACME),
            ("client_secret", ACME_SECRET),
            ("fb_exchange_token", &unknown),
        ],
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"]["code"], 190, "{}", r.text);
}

#[test]
fn authorization_code_is_ignored_and_a_code_is_refused() {
    let s = Server::seeded();
    // passport-facebook always adds grant_type=authorization_code: it must not get in the way.
    let r = s.post_form(
        "/v25.0/oauth/access_token",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", ACME),
            ("client_secret", ACME_SECRET),
            ("redirect_uri", "http://localhost:3000/cb"),
            ("code", "AQBcode"),
        ],
    );
    r.assert_error(100, None, OAUTH, "Invalid verification code format.");
    assert!(
        r.header("www-authenticate")
            .unwrap()
            .contains("\"invalid_code\""),
        "{:?}",
        r.header("www-authenticate")
    );
    // Without a grant_type at all, a code is refused the same way.
    let r = s.get(&format!(
        "/oauth/access_token?client_id={ACME}&client_secret={ACME_SECRET}&redirect_uri=x&code=AQB"
    ));
    r.assert_error(100, None, OAUTH, "Invalid verification code format.");
}
