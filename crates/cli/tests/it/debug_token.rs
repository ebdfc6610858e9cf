//! `GET /debug_token` (spec §2.4): every field for USER, PAGE and APP tokens, and the HTTP 200
//! answers for tokens that do not work.

use crate::harness::world::*;
use crate::harness::{app_literal, assert_expired_message, keys, Server};
use crate::production::{page_list_reads, reads_are_exact};
use serde_json::{json, Value};

fn asid(s: &Server, user_token: &str) -> String {
    s.get_as("/me?fields=id", user_token).str("id")
}

fn sorted(v: &Value) -> Vec<String> {
    let mut ids: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

#[test]
fn a_short_lived_user_token_has_every_field_but_issued_at() {
    let s = Server::seeded();
    let t = s.alice();
    let d = s.debug(&t);
    assert_eq!(
        keys(&d),
        [
            "app_id",
            "type",
            "application",
            "data_access_expires_at",
            "expires_at",
            "is_valid",
            "scopes",
            "granular_scopes",
            "user_id"
        ]
    );
    assert_eq!(d["app_id"], ACME);
    assert_eq!(d["type"], "USER");
    assert_eq!(d["application"], ACME_NAME);
    assert_eq!(d["is_valid"], true);
    let now = s.clock();
    assert!((d["expires_at"].as_i64().unwrap() - (now + SHORT)).abs() <= 5);
    assert!(d["data_access_expires_at"].as_i64().unwrap() > now + 80 * DAY);
    assert_eq!(
        d["scopes"],
        json!(["email", "pages_show_list", "public_profile"])
    );
    let granular = d["granular_scopes"].as_array().unwrap();
    assert_eq!(granular.len(), 2, "public_profile is omitted: {d}");
    assert_eq!(granular[0], json!({"scope": "email"}));
    assert_eq!(granular[1]["scope"], "pages_show_list");
    assert_eq!(sorted(&granular[1]["target_ids"]), [COFFEE, NEWS, BAKERY]);
    assert_eq!(d["user_id"], asid(&s, &t));
    assert_ne!(d["user_id"], ALICE, "an app-scoped id, not the global one");
}

#[test]
fn a_long_lived_user_token_has_issued_at() {
    let s = Server::seeded();
    let long = s.exchange(&s.alice());
    let d = s.debug(&long);
    assert!(keys(&d).contains(&"issued_at"), "{d}");
    let issued = d["issued_at"].as_i64().unwrap();
    assert!((issued - s.clock()).abs() <= 5);
    assert_eq!(d["expires_at"].as_i64().unwrap(), issued + LONG);
}

#[test]
fn a_page_token_names_its_page_and_never_expires_when_long_derived() {
    let s = Server::seeded();
    let long = s.exchange(&s.alice());
    let page = s.page_token(COFFEE, &long);
    let d = s.debug(&page);
    assert_eq!(d["type"], "PAGE");
    assert_eq!(d["app_id"], ACME);
    assert_eq!(d["application"], ACME_NAME);
    assert_eq!(d["profile_id"], COFFEE);
    assert_eq!(d["expires_at"], 0);
    assert_eq!(d["is_valid"], true);
    assert!(d["data_access_expires_at"].is_i64());
    assert_eq!(d["user_id"], asid(&s, &long));
    let granular = d["granular_scopes"].as_array().unwrap();
    let psl = granular
        .iter()
        .find(|g| g["scope"] == "pages_show_list")
        .expect("pages_show_list in granular_scopes");
    assert!(sorted(&psl["target_ids"]).contains(&COFFEE.to_string()));
}

#[test]
fn an_app_token_is_described_briefly() {
    let s = Server::seeded();
    let user = s.alice();
    let r = s.debug_as(&app_literal(), &user);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.text,
        format!(
            r#"{{"data":{{"app_id":"{ACME}","type":"APP","application":"{ACME_NAME}","is_valid":true,"scopes":[]}}}}"#
        )
    );
}

#[test]
fn garbage_input_is_http_200_and_invalid() {
    let s = Server::seeded();
    let r = s.debug_as("this-is-not-a-token", &app_literal());
    assert_eq!(r.status, 200);
    assert_eq!(
        r.text,
        r#"{"data":{"error":{"code":190,"message":"Invalid OAuth access token - Cannot parse access token"},"is_valid":false,"scopes":[]}}"#
    );
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=UTF-8")
    );
}

#[test]
fn expired_input_is_http_200_with_subcode_463_and_keeps_its_identity() {
    let s = Server::seeded();
    let t = s.alice();
    let user_id = asid(&s, &t);
    s.advance(SHORT + 60);
    let r = s.debug_as(&t, &app_literal());
    assert_eq!(r.status, 200, "{}", r.text);
    let d = &r.body["data"];
    assert_eq!(d["is_valid"], false);
    assert_eq!(d["error"]["code"], 190);
    assert_eq!(d["error"]["subcode"], 463);
    assert!(d["error"].get("error_subcode").is_none());
    assert_expired_message(d["error"]["message"].as_str().unwrap());
    assert_eq!(d["type"], "USER");
    assert_eq!(d["app_id"], ACME);
    assert_eq!(d["user_id"], user_id);
    assert!(d["expires_at"].as_i64().unwrap() < s.clock());
}

#[test]
fn a_missing_viewer_token_is_code_100() {
    let s = Server::seeded();
    let t = s.alice();
    let r = s.get(&format!("/debug_token?input_token={t}"));
    r.assert_error(
        100,
        None,
        "OAuthException",
        "(#100) You must provide an app access token, or a user access token that is an owner or developer of the app",
    );
}

#[test]
fn a_viewer_of_another_app_is_refused() {
    let s = Server::seeded();
    let t = s.alice();
    let r = s.debug_as(&t, &format!("{RIVAL}|{RIVAL_SECRET}"));
    r.assert_error(
        100,
        None,
        "OAuthException",
        "(#100) The App_id in the input_token did not match the Viewing App",
    );
}

#[test]
fn a_user_token_of_an_administrator_or_developer_may_view() {
    let s = Server::seeded();
    let alice = s.alice();
    let bob = s.issue("bob", "acme", &[], false);
    // alice administers acme, bob develops it: each may inspect the other's token.
    for (input, viewer, whose) in [(&bob, &alice, &alice), (&alice, &bob, &bob)] {
        let r = s.debug_as(input, viewer);
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["data"]["is_valid"], true);
        assert_eq!(r.body["data"]["user_id"], asid(&s, input));
        assert_ne!(r.body["data"]["user_id"], asid(&s, whose));
    }
}

#[test]
fn other_people_s_user_tokens_and_page_tokens_may_not_view() {
    let s = Server::seeded();
    let alice = s.alice();
    // carol has no role on acme; a Page token is not a user token, even an administrator's.
    let carol = s.issue("carol", "acme", &[], false);
    let long = s.exchange(&s.issue("alice", "acme", &["pages_show_list"], false));
    let page = s.page_token(COFFEE, &long);
    for viewer in [&carol, &page] {
        s.debug_as(&alice, viewer).assert_error(
            100,
            None,
            "OAuthException",
            "(#100) You must provide an app access token, or a user access token that is an owner or developer of the app",
        );
    }
    // Not even their own token.
    assert_eq!(s.debug_as(&carol, &carol).status, 400);
}

#[test]
fn a_kept_answer_is_given_again_until_what_it_shows_changes() {
    let s = Server::seeded();
    let manager = s.issue(
        "alice",
        "acme",
        &["pages_show_list", "pages_manage_metadata"],
        false,
    );
    let bob = s.issue("bob", "acme", &["email", "pages_show_list"], false);
    let bob_id = asid(&s, &bob);
    let viewer = app_literal();
    let debug = |viewer: &str| {
        let r = s.debug_as(&bob, viewer);
        assert_eq!(r.status, 200, "{}", r.text);
        r
    };
    let targets = |r: &crate::harness::Resp| {
        let granular = r.body["data"]["granular_scopes"].as_array().unwrap();
        let listed = granular.iter().find(|g| g["scope"] == "pages_show_list");
        sorted(&listed.unwrap()["target_ids"])
    };
    let first = debug(&viewer);
    assert_eq!(targets(&first), [COFFEE]);
    assert_eq!(first.body["data"]["is_valid"], true);

    // Asked again: the same bytes, and no Page list read for them.
    let reads = page_list_reads(&s);
    assert_eq!(debug(&viewer).text, first.text);
    if reads_are_exact() {
        assert_eq!(page_list_reads(&s), reads, "the kept answer was not used");
    }

    // Bob's tasks on the Page go: it leaves the answer at once, which is kept in turn.
    let form = [
        ("access_token", manager.as_str()),
        ("user", bob_id.as_str()),
        ("method", "delete"),
    ];
    let r = s.post_form(&format!("/{COFFEE}/assigned_users"), &form);
    assert_eq!(r.body, json!({"success": true}), "{}", r.text);
    let fewer_pages = debug(&viewer);
    let granular = &fewer_pages.body["data"]["granular_scopes"];
    assert_eq!(
        granular,
        &json!([{"scope": "email"}, {"scope": "pages_show_list"}]),
        "{}",
        fewer_pages.text
    );
    assert_eq!(debug(&viewer).text, fewer_pages.text);

    // He takes a permission back: his grant changes, and so does the answer.
    let r = s.post_form(
        "/me/permissions/email",
        &[("access_token", bob.as_str()), ("method", "delete")],
    );
    assert_eq!(r.body, json!({"success": true}), "{}", r.text);
    let fewer = debug(&viewer);
    assert_eq!(
        fewer.body["data"]["scopes"],
        json!(["pages_show_list", "public_profile"]),
        "{}",
        fewer.text
    );
    assert_eq!(
        fewer.body["data"]["granular_scopes"],
        json!([{"scope": "pages_show_list"}])
    );

    // The app changes (a new secret, not shown): the answer is made again, the same.
    let r = s.admin_post("/_admin/apps/acme/reset_secret", json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    let viewer = format!("{ACME}|{}", r.str("secret"));
    let reads = page_list_reads(&s);
    assert_eq!(debug(&viewer).text, fewer.text);
    assert!(page_list_reads(&s) > reads, "the answer was not made again");

    // The token expires: it is described as expired, whatever was kept.
    s.advance(SHORT + 60);
    let expired = debug(&viewer);
    assert_eq!(expired.body["data"]["is_valid"], false, "{}", expired.text);
    assert_eq!(
        expired.body["data"]["error"]["subcode"], 463,
        "{}",
        expired.text
    );
}

#[test]
fn a_page_token_s_kept_answer_follows_the_person_s_pages() {
    let s = Server::seeded();
    let long = s.exchange(&s.issue("alice", "acme", &["pages_show_list"], false));
    let page = s.page_token(COFFEE, &long);
    let viewer = app_literal();
    let debug = || {
        let r = s.debug_as(&page, &viewer);
        assert_eq!(r.status, 200, "{}", r.text);
        r
    };
    let targets = |r: &crate::harness::Resp| {
        let granular = r.body["data"]["granular_scopes"].as_array().unwrap();
        let listed = granular.iter().find(|g| g["scope"] == "pages_show_list");
        sorted(&listed.unwrap()["target_ids"])
    };
    let first = debug();
    assert_eq!(first.body["data"]["type"], "PAGE", "{}", first.text);
    assert_eq!(targets(&first), [COFFEE, NEWS, BAKERY]);

    // Asked again: the same bytes, and no Page list read for them.
    let reads = page_list_reads(&s);
    assert_eq!(debug().text, first.text);
    if reads_are_exact() {
        assert_eq!(page_list_reads(&s), reads, "the kept answer was not used");
    }

    // Alice loses the Bakery: the Coffee token still works, and its answer no longer names it.
    let r = s.admin_post(
        "/_admin/pages/bakery/tasks",
        json!({"user": "alice", "tasks": []}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let fewer = debug();
    assert_eq!(fewer.body["data"]["is_valid"], true, "{}", fewer.text);
    assert_eq!(targets(&fewer), [COFFEE, NEWS], "{}", fewer.text);
    assert_eq!(debug().text, fewer.text);

    // She loses the Coffee Page itself: its token no longer works, whatever was kept.
    let r = s.admin_post(
        "/_admin/pages/coffee/tasks",
        json!({"user": "alice", "tasks": []}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let ended = debug();
    assert_eq!(ended.body["data"]["is_valid"], false, "{}", ended.text);
    assert_eq!(
        ended.body["data"]["error"]["subcode"], 492,
        "{}",
        ended.text
    );
}

/// A session info token (`grant_type=fb_attenuate_token`, no secret needed): `debug_token`
/// describes it as its session's user token without scopes, it opens no data anywhere (190,
/// "Debug only access token"), and it ends with its session.
#[test]
fn a_session_info_token_tells_whether_its_session_works_and_reads_nothing() {
    let s = Server::seeded();
    let long = s.exchange(&s.alice());
    let r = s.get(&format!(
        "/v19.0/oauth/access_token?grant_type=fb_attenuate_token&client_id={ACME}&fb_exchange_token={long}"
    ));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(keys(&r.body), ["access_token", "token_type", "expires_in"]);
    assert!(r.str("access_token").starts_with("XAA"), "{}", r.text);
    let info = r.str("access_token");
    assert_ne!(info, long);
    let long_d = s.debug(&long);
    let expires_in = r.body["expires_in"].as_i64().unwrap();
    let expires_at = long_d["expires_at"].as_i64().unwrap();
    assert!(
        (s.clock() + expires_in - expires_at).abs() <= 5,
        "{}",
        r.text
    );

    let d = s.debug(&info);
    assert_eq!(
        keys(&d),
        [
            "app_id",
            "type",
            "application",
            "expires_at",
            "is_valid",
            "issued_at",
            "scopes",
            "user_id"
        ]
    );
    assert_eq!(d["type"], "USER");
    assert_eq!(d["app_id"], ACME);
    assert_eq!(d["is_valid"], true);
    assert_eq!(d["expires_at"], long_d["expires_at"]);
    assert_eq!(d["scopes"], json!([]));
    assert_eq!(d["user_id"], long_d["user_id"]);
    // The person's own long-lived token may inspect it, as Facebook's guide does.
    let by_user = s.debug_as(&info, &long);
    assert_eq!(by_user.status, 200, "{}", by_user.text);
    assert_eq!(by_user.body["data"]["is_valid"], true);

    // As the caller's token: refused, on debug_token itself and everywhere else.
    let debug_only = "Invalid OAuth access token - Debug only access token";
    s.debug_as(&info, &info)
        .assert_error(190, None, "OAuthException", debug_only);
    s.get_as("/me", &info)
        .assert_error(190, None, "OAuthException", debug_only);
    s.get_as("/me/accounts", &info)
        .assert_error(190, None, "OAuthException", debug_only);
    // Nor does it buy a long-lived token, a Page token or another session info token.
    for grant in ["fb_exchange_token", "fb_attenuate_token"] {
        s.post_form(
            "/oauth/access_token",
            &[
                ("grant_type", grant),
                ("client_id", ACME),
                ("client_secret", ACME_SECRET),
                ("fb_exchange_token", &info),
            ],
        )
        .assert_error(190, None, "OAuthException", debug_only);
    }

    // Another app's client_id, a wrong secret, no input token: refused as the exchange is.
    let other = s.get(&format!(
        "/oauth/access_token?grant_type=fb_attenuate_token&client_id={RIVAL}&fb_exchange_token={long}"
    ));
    assert_eq!(other.status, 400, "{}", other.text);
    s.post_form(
        "/oauth/access_token",
        &[
            ("grant_type", "fb_attenuate_token"),
            ("client_id", ACME),
            ("client_secret", RIVAL_SECRET),
            ("fb_exchange_token", &long),
        ],
    )
    .assert_error(1, None, "OAuthException", "Error validating client secret.");
    s.get(&format!(
        "/oauth/access_token?grant_type=fb_attenuate_token&client_id={ACME}"
    ))
    .assert_error(
        1,
        None,
        "OAuthException",
        "fb_exchange_token parameter not specified",
    );

    // The app removed by the person: the session ends, and the session info token with it.
    let r = s.post_form(
        "/me/permissions",
        &[("access_token", long.as_str()), ("method", "delete")],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let d = s.debug(&info);
    assert_eq!(d["is_valid"], false, "{d}");
    assert_eq!(d["error"]["subcode"], 466, "{d}");
    assert_eq!(d["scopes"], json!([]));
}

/// A session info token goes with the token it came from: one from a short-lived token expires
/// with it and ends at a logout (467), one from a long-lived token outlives both.
#[test]
fn a_session_info_token_goes_with_the_token_it_came_from() {
    let s = Server::seeded();
    let short = s.alice();
    let long = s.exchange(&short);
    let info_of = |input: &str| {
        let r = s.post_form(
            "/oauth/access_token",
            &[
                ("grant_type", "fb_attenuate_token"),
                ("client_id", ACME),
                ("fb_exchange_token", input),
            ],
        );
        assert_eq!(r.status, 200, "{}", r.text);
        r.str("access_token")
    };
    let (from_short, from_long) = (info_of(&short), info_of(&long));
    let d = s.debug(&from_short);
    assert_eq!(d["expires_at"], s.debug(&short)["expires_at"], "{d}");
    assert!(
        !keys(&d).contains(&"issued_at"),
        "as its short-lived token: {d}"
    );

    let r = s.admin_post("/_admin/users/alice/logout", json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    let d = s.debug(&from_short);
    assert_eq!(
        (&d["is_valid"], &d["error"]["subcode"]),
        (&json!(false), &json!(467)),
        "{d}"
    );
    assert_eq!(s.debug(&from_long)["is_valid"], true);

    s.advance(SHORT + 60);
    assert_eq!(s.debug(&from_long)["is_valid"], true);
    s.advance(LONG);
    let d = s.debug(&from_long);
    assert_eq!(
        (&d["is_valid"], &d["error"]["subcode"]),
        (&json!(false), &json!(463)),
        "{d}"
    );
}

/// From a Page token, a session info token is the Page's: `type: "PAGE"` with its
/// `profile_id`, no `expires_in` when the Page token never expires, and it ends when the person
/// loses their tasks on the Page (492). An app token gives none.
#[test]
fn a_session_info_token_of_a_page_token_is_the_page_s() {
    let s = Server::seeded();
    let long = s.exchange(&s.issue("alice", "acme", &["pages_show_list"], false));
    let page = s.page_token(COFFEE, &long);
    let attenuate = |input: &str| {
        s.post_form(
            "/oauth/access_token",
            &[
                ("grant_type", "fb_attenuate_token"),
                ("client_id", ACME),
                ("fb_exchange_token", input),
            ],
        )
    };
    let r = attenuate(&page);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        keys(&r.body),
        ["access_token", "token_type"],
        "it never expires: {}",
        r.text
    );
    let info = r.str("access_token");
    let d = s.debug(&info);
    assert_eq!(d["type"], "PAGE", "{d}");
    assert_eq!(d["profile_id"], COFFEE, "{d}");
    assert_eq!(d["expires_at"], 0, "{d}");
    assert_eq!(
        (&d["is_valid"], &d["scopes"]),
        (&json!(true), &json!([])),
        "{d}"
    );
    s.get_as(&format!("/{COFFEE}/feed"), &info).assert_error(
        190,
        None,
        "OAuthException",
        "Invalid OAuth access token - Debug only access token",
    );

    let r = s.admin_post(
        "/_admin/pages/coffee/tasks",
        json!({"user": "alice", "tasks": []}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let d = s.debug(&info);
    assert_eq!(
        (&d["is_valid"], &d["error"]["subcode"]),
        (&json!(false), &json!(492)),
        "{d}"
    );

    attenuate(&app_literal()).assert_error(
        100,
        None,
        "OAuthException",
        "(#100) fb_exchange_token must be a user or Page access token",
    );
}

/// A session info token is refused in a batch operation and in `?ids=` as anywhere else, and
/// each one made counts against its input token's rate limit (no secret is needed to ask).
#[test]
fn a_session_info_token_is_refused_in_batches_and_counts_against_its_source_s_limit() {
    let s = Server::seeded();
    let long = s.exchange(&s.alice());
    let attenuate = || {
        s.get(&format!(
            "/oauth/access_token?grant_type=fb_attenuate_token&client_id={ACME}&fb_exchange_token={long}"
        ))
    };
    let info = attenuate().str("access_token");
    let debug_only = "Invalid OAuth access token - Debug only access token";
    s.get(&format!("/?ids=me&access_token={info}"))
        .assert_error(190, None, "OAuthException", debug_only);
    let batch = json!([{"method": "GET", "relative_url": "me"}]).to_string();
    let r = s.post_form("/", &[("access_token", info.as_str()), ("batch", &batch)]);
    assert_eq!(r.status, 200, "{}", r.text);
    let op: Value = serde_json::from_str(r.body[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(op["error"]["code"], 190, "{op}");
    assert_eq!(op["error"]["message"], debug_only, "{op}");

    let r = s.admin_post("/_admin/apps/acme/rate_limits", json!({"user": 3}));
    assert_eq!(r.status, 200, "{}", r.text);
    let refused = (0..6).map(|_| attenuate()).find(|r| r.status != 200);
    let refused = refused.expect("the fourth call of the hour is refused");
    assert_eq!(refused.body["error"]["code"], 17, "{}", refused.text);
}

/// A kept answer, sent as it was written, reads back the same inside a batch operation's body
/// (where it is JSON inside a string), and `/me/accounts` kept in turn.
#[test]
fn kept_answers_read_the_same_inside_a_batch() {
    let s = Server::seeded();
    let bob = s.issue("bob", "acme", &["email", "pages_show_list"], false);
    let viewer = app_literal();
    let direct = s.debug_as(&bob, &viewer);
    assert_eq!(direct.status, 200, "{}", direct.text);
    assert_eq!(
        s.debug_as(&bob, &viewer).text,
        direct.text,
        "kept: the same bytes"
    );
    let op = json!([{"method": "GET", "relative_url": format!("debug_token?input_token={bob}")}]);
    let r = s.post_form(
        "/",
        &[
            ("access_token", viewer.as_str()),
            ("batch", &op.to_string()),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body[0]["code"], 200, "{}", r.text);
    let body: Value = serde_json::from_str(r.body[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body, direct.body);

    let accounts = s.get(&format!("/me/accounts?access_token={bob}"));
    assert_eq!(accounts.status, 200, "{}", accounts.text);
    let again = s.get(&format!("/me/accounts?access_token={bob}"));
    assert_eq!(again.text, accounts.text, "kept: the same bytes");
    let op = json!([{"method": "GET", "relative_url": "me/accounts"}]);
    let r = s.post_form(
        "/",
        &[("access_token", bob.as_str()), ("batch", &op.to_string())],
    );
    let body: Value = serde_json::from_str(r.body[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body, accounts.body, "{}", r.text);
}
