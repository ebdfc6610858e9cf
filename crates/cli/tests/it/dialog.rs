//! The login dialog over HTTP (spec §2.1, §2.2, §4): checks before any redirect, sign-in,
//! consent, app mode and review, codes and their errors, PKCE, and `response_type=token`.

use crate::harness::browser::{
    field, is_consent, is_sign_in, page_choices, param, params_of, toggles, Browser,
};
use crate::harness::{enc, Resp, Server};
use serde_json::json;

const WEB: &str = "1000000000000011";
const WEB_SECRET: &str = "web-secret-0123456789abcdef";
const DEV: &str = "1000000000000012";
const CB: &str = "https://app.test/cb";

fn server() -> Server {
    Server::seeded_with("login.toml")
}

fn dialog(app: &str, redirect: &str, extra: &str) -> String {
    format!(
        "/v25.0/dialog/oauth?client_id={app}&redirect_uri={}&state=st8{extra}",
        enc(redirect)
    )
}

/// Signs in as `email` on `page` (a sign-in page) and returns what follows.
fn signed_in(b: &mut Browser, page: &Resp, email: &str) -> Resp {
    let password = format!("{}-password", email.split('@').next().unwrap());
    b.sign_in(page, email, &password)
}

fn location(r: &Resp) -> String {
    assert_eq!(r.status, 302, "{}", r.text);
    r.header("location").unwrap().to_string()
}

/// Runs a dialog to its end for alice, ticking `tick`, and returns the redirect.
fn consent_as_alice(b: &mut Browser, url: &str, tick: &[&str]) -> String {
    let mut page = b.get(url);
    if is_sign_in(&page) {
        page = signed_in(b, &page, "alice@login.test");
    }
    if is_consent(&page) {
        page = b.answer(&page, tick, true);
    }
    location(&page)
}

fn code_of(location: &str) -> String {
    param(&params_of(location, false), "code").unwrap()
}

fn redeem(s: &Server, code: &str, redirect: &str, extra: &[(&str, &str)]) -> Resp {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("client_id", WEB),
        ("redirect_uri", redirect),
        ("code", code),
    ];
    form.extend_from_slice(extra);
    s.post_form("/v25.0/oauth/access_token", &form)
}

fn permissions(s: &Server, token: &str) -> Vec<(String, String)> {
    crate::harness::permission_statuses(&s.get_as("/me/permissions", token))
}

fn status_of(perms: &[(String, String)], name: &str) -> Option<String> {
    perms
        .iter()
        .find(|(p, _)| p == name)
        .map(|(_, s)| s.clone())
}

#[test]
fn sign_in_consent_and_code_exchange() {
    let s = server();
    let mut b = Browser::new(&s);
    let page = b.get(&dialog(WEB, CB, "&scope=email,pages_show_list"));
    assert_eq!(page.status, 200);
    assert!(is_sign_in(&page), "{}", page.text);
    assert!(page.text.contains("Web Sample"));
    let page = signed_in(&mut b, &page, "alice@login.test");
    assert_eq!(toggles(&page), ["email", "pages_show_list"]);
    let loc = location(&b.answer(&page, &["email", "pages_show_list"], true));
    assert!(loc.starts_with("https://app.test/cb?code=AQ"), "{loc}");
    assert!(loc.ends_with("&state=st8#_=_"), "{loc}");
    let r = redeem(&s, &code_of(&loc), CB, &[("client_secret", WEB_SECRET)]);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["token_type"], "bearer");
    assert_eq!(r.body["expires_in"], 3600);
    let token = r.str("access_token");
    assert!(token.starts_with("EAA"));
    assert_eq!(s.get_as("/me", &token).str("name"), "Alice Login");
    let perms = permissions(&s, &token);
    assert_eq!(status_of(&perms, "email").as_deref(), Some("granted"));
    assert_eq!(
        status_of(&perms, "pages_show_list").as_deref(),
        Some("granted")
    );

    // Everything asked for is granted: straight back, no page.
    let again = b.get(&dialog(WEB, CB, "&scope=email"));
    assert!(location(&again).contains("code=AQ"));
}

#[test]
fn declined_permissions_are_asked_again_only_on_rerequest() {
    let s = server();
    let mut b = Browser::new(&s);
    let loc = consent_as_alice(&mut b, &dialog(WEB, CB, "&scope=email"), &[]);
    let r = redeem(&s, &code_of(&loc), CB, &[("client_secret", WEB_SECRET)]);
    let token = r.str("access_token");
    assert_eq!(
        status_of(&permissions(&s, &token), "email").as_deref(),
        Some("declined")
    );
    assert!(s
        .get_as("/me?fields=email", &token)
        .body
        .get("email")
        .is_none());

    // Not asked again without rerequest...
    let plain = b.get(&dialog(WEB, CB, "&scope=email"));
    assert_eq!(plain.status, 302, "{}", plain.text);
    // ...asked again with it, and granted this time.
    let page = b.get(&dialog(WEB, CB, "&scope=email&auth_type=rerequest"));
    assert_eq!(toggles(&page), ["email"]);
    assert!(page.text.contains("again"), "rerequest wording");
    let loc = location(&b.answer(&page, &["email"], true));
    let token =
        redeem(&s, &code_of(&loc), CB, &[("client_secret", WEB_SECRET)]).str("access_token");
    assert_eq!(
        status_of(&permissions(&s, &token), "email").as_deref(),
        Some("granted")
    );
}

#[test]
fn cancel_goes_back_with_access_denied() {
    let s = server();
    let mut b = Browser::new(&s);
    let page = b.get(&dialog(WEB, CB, "&scope=email"));
    let page = signed_in(&mut b, &page, "alice@login.test");
    let loc = location(&b.answer(&page, &["email"], false));
    assert_eq!(
        loc,
        "https://app.test/cb?error=access_denied&error_code=200&error_description=Permissions+error.&error_reason=user_denied&state=st8#_=_"
    );
}

#[test]
fn live_apps_offer_people_without_a_role_only_advanced_access() {
    let s = server();
    let mut b = Browser::new(&s);
    let page = b.get(&dialog(WEB, CB, "&scope=email,user_birthday"));
    let page = signed_in(&mut b, &page, "dave@login.test");
    assert_eq!(toggles(&page), ["email"]);
    let loc = location(&b.answer(&page, &["email"], true));
    let token =
        redeem(&s, &code_of(&loc), CB, &[("client_secret", WEB_SECRET)]).str("access_token");
    let perms = permissions(&s, &token);
    assert_eq!(status_of(&perms, "email").as_deref(), Some("granted"));
    assert_eq!(
        status_of(&perms, "user_birthday").as_deref(),
        Some("declined")
    );

    // alice has a role: she is offered both.
    let mut a = Browser::new(&s);
    let page = a.get(&dialog(WEB, CB, "&scope=email,user_birthday"));
    let page = signed_in(&mut a, &page, "alice@login.test");
    assert_eq!(toggles(&page), ["email", "user_birthday"]);
}

#[test]
fn development_mode_apps_refuse_people_without_a_role() {
    let s = server();
    let mut b = Browser::new(&s);
    let page = b.get(&dialog(DEV, "https://dev.test/cb", "&scope=email"));
    let page = signed_in(&mut b, &page, "dave@login.test");
    assert_eq!(page.status, 403, "{}", page.text);
    assert!(page.text.contains("App not active"));
    assert!(page.header("location").is_none());

    let mut a = Browser::new(&s);
    let page = a.get(&dialog(DEV, "https://dev.test/cb", "&scope=email"));
    let page = signed_in(&mut a, &page, "alice@login.test");
    assert!(is_consent(&page), "{}", page.text);
}

#[test]
fn app_redirect_and_scopes_are_checked_before_anything_else() {
    let s = server();
    let mut b = Browser::new(&s);
    let cases = [
        (dialog("999", CB, ""), "Invalid App ID"),
        (
            format!("/dialog/oauth?redirect_uri={}", enc(CB)),
            "Invalid App ID",
        ),
        (dialog(WEB, "https://evil.test/cb", ""), "URL blocked"),
        (dialog(WEB, "https://app.test/cb/", ""), "URL blocked"),
        (
            dialog(WEB, CB, "&scope=email,emale"),
            "Invalid Scopes: emale.",
        ),
        (
            dialog(WEB, CB, "&response_type=id_token"),
            "Invalid response_type",
        ),
    ];
    for (url, text) in cases {
        let r = b.get(&url);
        assert_eq!(r.status, 400, "{url}: {}", r.text);
        assert!(r.header("location").is_none(), "{url}");
        assert!(r.text.contains(text), "{url}: {}", r.text);
        assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    }
    // A redirect_uri with a query of its own keeps it.
    let loc = consent_as_alice(&mut b, &dialog(WEB, "https://app.test/cb?x=1", ""), &[]);
    assert!(loc.starts_with("https://app.test/cb?x=1&code=AQ"), "{loc}");
}

#[test]
fn response_type_token_answers_in_the_fragment() {
    let s = server();
    let mut b = Browser::new(&s);
    let loc = consent_as_alice(
        &mut b,
        &dialog(
            WEB,
            CB,
            "&scope=email,user_birthday&response_type=token%20granted_scopes",
        ),
        &["email"],
    );
    assert!(
        loc.starts_with("https://app.test/cb#access_token=EAA"),
        "{loc}"
    );
    let f = params_of(&loc, true);
    let keys: Vec<&str> = f.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "access_token",
            "data_access_expiration_time",
            "expires_in",
            "granted_scopes",
            "denied_scopes",
            "state"
        ]
    );
    assert_eq!(param(&f, "expires_in").as_deref(), Some("3600"));
    assert_eq!(
        param(&f, "granted_scopes").as_deref(),
        Some("public_profile,email")
    );
    assert_eq!(param(&f, "denied_scopes").as_deref(), Some("user_birthday"));
    let token = param(&f, "access_token").unwrap();
    assert_eq!(s.get_as("/me", &token).status, 200);

    let loc = consent_as_alice(&mut b, &dialog(WEB, CB, "&response_type=code%20token"), &[]);
    let f = params_of(&loc, true);
    assert!(
        param(&f, "code").is_some() && param(&f, "access_token").is_some(),
        "{loc}"
    );
}

#[test]
fn wrong_passwords_are_refused_then_slowed_down() {
    let s = server();
    let mut b = Browser::new(&s);
    let page = b.get(&dialog(WEB, CB, ""));
    let r = b.submit_sign_in(&page, "alice@login.test", "nope");
    assert_eq!(r.status, 401);
    assert!(r.text.contains(r#"role="alert""#), "{}", r.text);
    assert!(r.text.contains("incorrect"));
    assert_eq!(field(&r.text, "email").as_deref(), Some("alice@login.test"));
    let r = b.submit_sign_in(&page, "nobody@login.test", "nope");
    assert!(
        r.text.contains("isn't connected to an account"),
        "{}",
        r.text
    );
    for _ in 0..4 {
        b.submit_sign_in(&page, "alice@login.test", "nope");
    }
    // Now even the right password must wait.
    let r = b.submit_sign_in(&page, "alice@login.test", "alice-password");
    assert_eq!(r.status, 429, "{}", r.text);
    assert!(r.text.contains("Too many failed attempts"), "{}", r.text);
    s.advance(3600);
    let r = b.submit_sign_in(&page, "alice@login.test", "alice-password");
    assert_eq!(r.status, 303, "{}", r.text);
}

#[test]
fn forms_need_their_csrf_token_and_cookie() {
    let s = server();
    let mut b = Browser::new(&s);
    let page = b.get(&dialog(WEB, CB, ""));
    let next = field(&page.text, "next").unwrap();
    let r = b.post(
        "/login",
        &[
            ("email", "alice@login.test"),
            ("pass", "alice-password"),
            ("next", &next),
            ("csrf", "forged"),
        ],
    );
    assert_eq!(r.status, 403, "{}", r.text);
    // Another browser (no cookie) with a real token from this one.
    let csrf = field(&page.text, "csrf").unwrap();
    let mut other = Browser::new(&s);
    let r = other.post(
        "/login",
        &[
            ("email", "alice@login.test"),
            ("pass", "alice-password"),
            ("next", &next),
            ("csrf", &csrf),
        ],
    );
    assert_eq!(r.status, 403, "{}", r.text);
    // `next` never leaves the site.
    let r = b.post(
        "/login",
        &[
            ("email", "alice@login.test"),
            ("pass", "alice-password"),
            ("next", "//evil.test/"),
            ("csrf", &csrf),
        ],
    );
    assert_eq!(r.status, 303);
    assert!(r.header("location").unwrap().starts_with('/'));
    assert!(!r.header("location").unwrap().starts_with("//"));
}

#[test]
fn reauthenticate_asks_for_the_password_again() {
    let s = server();
    let mut b = Browser::new(&s);
    consent_as_alice(&mut b, &dialog(WEB, CB, ""), &[]);
    let plain = b.get(&dialog(WEB, CB, ""));
    assert_eq!(plain.status, 302, "signed in: straight back");
    let page = b.get(&dialog(WEB, CB, "&auth_type=reauthenticate"));
    assert!(is_sign_in(&page), "{}", page.text);
    assert_eq!(
        field(&page.text, "email").as_deref(),
        Some("alice@login.test")
    );
    let back = signed_in(&mut b, &page, "alice@login.test");
    assert!(location(&back).contains("code=AQ"));
    // The fresh sign-in was used up by that dialog.
    let page = b.get(&dialog(WEB, CB, "&auth_type=reauthenticate"));
    assert!(is_sign_in(&page));

    // Posting Continue straight away, with the re-enter page's CSRF token, gets nothing.
    let csrf = field(&page.text, "csrf").unwrap();
    let next = field(&page.text, "next").unwrap();
    let query = next.split_once('?').unwrap().1;
    let r = b.post(
        "/dialog/oauth/confirm",
        &[
            ("csrf", &csrf),
            ("dialog", query),
            ("action", "continue"),
            ("scope", "public_profile"),
        ],
    );
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(r.header("location").is_none());
}

#[test]
fn an_old_sign_in_does_not_count_as_reauthentication() {
    let s = server();
    let mut b = Browser::new(&s);
    // Signed in through the device page: the sign-in is fresh, but no dialog used it.
    let page = b.get("/device");
    signed_in(&mut b, &page, "alice@login.test");
    s.advance(3600);
    let page = b.get(&dialog(WEB, CB, "&auth_type=reauthenticate"));
    assert!(is_sign_in(&page), "{}", page.text);
}

#[test]
fn a_consent_page_answers_only_its_own_dialog() {
    let s = server();
    let mut b = Browser::new(&s);
    let page = b.get(&dialog(WEB, CB, "&scope=email"));
    let page = signed_in(&mut b, &page, "alice@login.test");
    let csrf = field(&page.text, "csrf").unwrap();
    let consent = field(&page.text, "consent").unwrap();
    let other = format!(
        "client_id={WEB}&redirect_uri={}&scope=user_birthday",
        enc(CB)
    );
    let r = b.post(
        "/dialog/oauth/confirm",
        &[
            ("csrf", &csrf),
            ("consent", &consent),
            ("dialog", &other),
            ("action", "continue"),
            ("scope", "user_birthday"),
        ],
    );
    assert_eq!(r.status, 403, "{}", r.text);
}

#[test]
fn guesses_sent_all_at_once_are_throttled() {
    let s = server();
    let mut b = Browser::new(&s);
    let page = b.get(&dialog(WEB, CB, ""));
    let next = field(&page.text, "next").unwrap();
    let csrf = field(&page.text, "csrf").unwrap();
    let cookie = b.cookie().unwrap();
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..12)
            .map(|_| {
                scope.spawn(|| {
                    let req = ureq::post(&s.url("/login")).set("Cookie", &cookie);
                    let form = [
                        ("email", "dave@login.test"),
                        ("pass", "guess"),
                        ("next", next.as_str()),
                        ("csrf", csrf.as_str()),
                    ];
                    crate::harness::send(req, crate::harness::Body::Form(&form)).status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|c| **c == 401).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|c| **c == 429).count(),
        7,
        "{statuses:?}"
    );
}

#[test]
fn locked_accounts_cannot_sign_in() {
    let s = server();
    let r = s.admin_post(
        "/_admin/users/dave/status",
        serde_json::json!({"status": "checkpointed"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let mut b = Browser::new(&s);
    let page = b.get(&dialog(WEB, CB, ""));
    let r = b.submit_sign_in(&page, "dave@login.test", "dave-password");
    assert_eq!(r.status, 401);
    assert!(r.text.contains("temporarily locked"), "{}", r.text);
}

// ---- code exchange errors (spec §2.2) --------------------------------------------------------

fn fresh_code(b: &mut Browser) -> String {
    code_of(&consent_as_alice(b, &dialog(WEB, CB, ""), &[]))
}

#[test]
fn a_reused_code_is_refused_and_revokes_its_token() {
    let s = server();
    let mut b = Browser::new(&s);
    let code = fresh_code(&mut b);
    let token = redeem(&s, &code, CB, &[("client_secret", WEB_SECRET)]).str("access_token");
    assert_eq!(s.get_as("/me", &token).status, 200);
    let r = redeem(&s, &code, CB, &[("client_secret", WEB_SECRET)]);
    r.assert_error(
        100,
        Some(36009),
        "OAuthException",
        "This authorization code has been used.",
    );
    assert_eq!(
        r.header("www-authenticate"),
        Some(
            r#"OAuth "Facebook Platform" "invalid_code" "This authorization code has been used.""#
        )
    );
    let me = s.get_as("/me", &token);
    assert_eq!(me.body["error"]["code"], 190, "{}", me.text);
    assert_eq!(me.body["error"]["error_subcode"], 466, "{}", me.text);
}

#[test]
fn expired_mismatched_malformed_and_unauthenticated_codes() {
    let s = server();
    let mut b = Browser::new(&s);
    let code = fresh_code(&mut b);
    s.advance(601);
    redeem(&s, &code, CB, &[("client_secret", WEB_SECRET)]).assert_error(
        100,
        Some(36007),
        "OAuthException",
        "This authorization code has expired.",
    );

    let code = fresh_code(&mut b);
    let r = redeem(
        &s,
        &code,
        "https://app.test/cb?x=1",
        &[("client_secret", WEB_SECRET)],
    );
    r.assert_error(
        100,
        Some(36008),
        "OAuthException",
        "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request",
    );
    assert!(r
        .header("www-authenticate")
        .unwrap()
        .contains("\"invalid_code\""));

    redeem(&s, "not-a-code", CB, &[("client_secret", WEB_SECRET)]).assert_error(
        100,
        None,
        "OAuthException",
        "Invalid verification code format.",
    );
    let code = fresh_code(&mut b);
    redeem(&s, &code, CB, &[("client_secret", "wrong")]).assert_error(
        1,
        None,
        "OAuthException",
        "Error validating client secret.",
    );
    // The wrong secret did not spend the code.
    let r = redeem(&s, &code, CB, &[("client_secret", WEB_SECRET)]);
    assert_eq!(r.status, 200, "{}", r.text);
    let code = fresh_code(&mut b);
    redeem(&s, &code, CB, &[]).assert_error(
        1,
        None,
        "OAuthException",
        "Missing client_secret parameter.",
    );
    // Another app's credentials: the code is not theirs, and stays unspent.
    let other = s.post_form(
        "/v25.0/oauth/access_token",
        &[
            ("client_id", DEV),
            ("client_secret", "dev-secret-0123456789abcdef"),
            ("redirect_uri", CB),
            ("code", &code),
        ],
    );
    assert_eq!(
        other.body["error"]["message"],
        "Invalid verification code format."
    );
    // Neither the missing secret nor the other app spent it.
    let r = redeem(&s, &code, CB, &[("client_secret", WEB_SECRET)]);
    assert_eq!(r.status, 200, "{}", r.text);
    // A replay without the secret is refused without ending the token's session.
    let token = r.str("access_token");
    redeem(&s, &code, CB, &[]).assert_error(
        1,
        None,
        "OAuthException",
        "Missing client_secret parameter.",
    );
    assert_eq!(s.get_as("/me", &token).status, 200);
}

#[test]
fn pkce_codes_need_their_verifier_and_no_secret() {
    let s = server();
    let mut b = Browser::new(&s);
    // RFC 7636 appendix B.
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let url = dialog(
        WEB,
        CB,
        &format!("&code_challenge={challenge}&code_challenge_method=S256"),
    );
    let code = code_of(&consent_as_alice(&mut b, &url, &[]));
    let r = redeem(&s, &code, CB, &[("code_verifier", verifier)]);
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.str("access_token").starts_with("EAA"));

    let code = code_of(&consent_as_alice(&mut b, &url, &[]));
    redeem(
        &s,
        &code,
        CB,
        &[(
            "code_verifier",
            "wrong-verifier-wrong-verifier-wrong-verifier",
        )],
    )
    .assert_error(100, None, "OAuthException", "Invalid code verifier.");
    let code = code_of(&consent_as_alice(&mut b, &url, &[]));
    redeem(&s, &code, CB, &[("client_secret", WEB_SECRET)]).assert_error(
        100,
        None,
        "OAuthException",
        "Invalid code verifier.",
    );

    let plain = "a-plain-verifier-that-is-long-enough-0123456789";
    let url = dialog(WEB, CB, &format!("&code_challenge={plain}"));
    let code = code_of(&consent_as_alice(&mut b, &url, &[]));
    // A plain challenge is in the dialog URL for anyone to see: the secret is still needed.
    redeem(&s, &code, CB, &[("code_verifier", plain)]).assert_error(
        1,
        None,
        "OAuthException",
        "Missing client_secret parameter.",
    );
    let r = redeem(
        &s,
        &code,
        CB,
        &[("code_verifier", plain), ("client_secret", WEB_SECRET)],
    );
    assert_eq!(r.status, 200, "{}", r.text);

    let bad = b.get(&dialog(
        WEB,
        CB,
        "&code_challenge=short&code_challenge_method=S256",
    ));
    assert_eq!(bad.status, 400);
    assert!(bad.text.contains("code_challenge"));
}

#[test]
fn client_codes_hand_a_long_lived_session_to_a_device() {
    let s = server();
    let mut b = Browser::new(&s);
    let short = redeem(
        &s,
        &fresh_code(&mut b),
        CB,
        &[("client_secret", WEB_SECRET)],
    )
    .str("access_token");
    let q = |token: &str| {
        format!(
            "/v25.0/oauth/client_code?client_id={WEB}&client_secret={WEB_SECRET}&redirect_uri={}&access_token={token}",
            enc(CB)
        )
    };
    let r = s.get(&q(&short));
    assert_eq!(r.status, 400, "short-lived tokens are refused: {}", r.text);
    let long = s
        .get(&format!(
            "/v25.0/oauth/access_token?grant_type=fb_exchange_token&client_id={WEB}&client_secret={WEB_SECRET}&fb_exchange_token={short}"
        ))
        .str("access_token");
    let code = s.get(&q(&long)).str("code");
    let r = s.post_form(
        "/v25.0/oauth/access_token",
        &[
            ("client_id", WEB),
            ("redirect_uri", CB),
            ("code", &code),
            ("machine_id", "m-1"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["machine_id"], "m-1");
    let device = r.str("access_token");
    assert_ne!(device, long);
    let data = s.debug_as(&device, &format!("{WEB}|{WEB_SECRET}")).body["data"].clone();
    // Sixty days from the exchange; the clock runs on while the next requests are answered.
    let left = data["expires_at"].as_i64().unwrap() - s.clock();
    assert!((5_184_000 - 5..=5_184_000).contains(&left), "{left}");
    let again = s.post_form(
        "/v25.0/oauth/access_token",
        &[("client_id", WEB), ("redirect_uri", CB), ("code", &code)],
    );
    assert_eq!(
        again.body["error"]["error_subcode"], 36009,
        "{}",
        again.text
    );
}

// ---- device login (spec §2.14) ----------------------------------------------------------------

const CLIENT: &str = "1000000000000011|web-client-token-0123456789";

#[test]
fn device_login_polls_until_the_person_approves() {
    let s = server();
    let start = s.post_form(
        "/v25.0/device/login",
        &[("access_token", CLIENT), ("scope", "email")],
    );
    assert_eq!(start.status, 200, "{}", start.text);
    assert_eq!(start.body["expires_in"], 420);
    assert_eq!(start.body["interval"], 5);
    assert_eq!(start.str("verification_uri"), s.url("/device"));
    let (code, user_code) = (start.str("code"), start.str("user_code"));
    assert_eq!(user_code.len(), 8);

    let poll = || {
        s.post_form(
            "/v25.0/device/login_status",
            &[("access_token", CLIENT), ("code", &code)],
        )
    };
    let r = poll();
    assert_eq!(r.body["error"]["code"], 31, "{}", r.text);
    assert_eq!(r.body["error"]["error_subcode"], 1349174);
    assert_eq!(
        r.body["error"]["message"],
        "This request requires the user to take a pending action"
    );
    assert_eq!(
        r.body["error"]["error_user_title"],
        "Device Login Authorization Pending"
    );
    assert_eq!(poll().body["error"]["error_subcode"], 1349172, "too fast");
    s.advance(5);

    let mut b = Browser::new(&s);
    let page = b.get("/device");
    let page = signed_in(&mut b, &page, "alice@login.test");
    let csrf = field(&page.text, "csrf").unwrap();
    let typed = format!("{}-{}", &user_code[..4], user_code[4..].to_lowercase());
    let wrong = b.post("/device", &[("csrf", &csrf), ("user_code", "ZZZZZZZZ")]);
    assert_eq!(wrong.status, 400);
    let consent = b.post("/device", &[("csrf", &csrf), ("user_code", &typed)]);
    assert_eq!(toggles(&consent), ["email"], "{}", consent.text);
    let done = b.answer(&consent, &["email"], true);
    assert_eq!(done.status, 200);
    assert!(done.text.contains("Success"), "{}", done.text);

    // Another app's client token learns nothing and spends nothing.
    let other = s.post_form(
        "/v25.0/device/login_status",
        &[
            (
                "access_token",
                "1000000000000012|dev-client-token-0123456789",
            ),
            ("code", &code),
        ],
    );
    assert_eq!(
        other.body["error"]["error_subcode"], 1349152,
        "{}",
        other.text
    );
    let r = poll();
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["expires_in"], 5_184_000);
    assert!(r.body["data_access_expiration_time"].as_i64().unwrap() > s.clock());
    let token = r.str("access_token");
    assert_eq!(s.get_as("/me", &token).str("name"), "Alice Login");
    s.advance(5);
    assert_eq!(poll().body["error"]["error_subcode"], 1349152, "spent");
}

#[test]
fn device_login_wants_the_client_token_and_expires() {
    let s = server();
    let app_token = format!("{WEB}|{WEB_SECRET}");
    s.post_form("/v25.0/device/login", &[("access_token", &app_token)])
        .assert_error(
            190,
            None,
            "OAuthException",
            "(#190) This method must be called with a client access token",
        );
    let start = s.post_form("/v25.0/device/login", &[("access_token", CLIENT)]);
    let code = start.str("code");
    s.advance(421);
    let r = s.post_form(
        "/v25.0/device/login_status",
        &[("access_token", CLIENT), ("code", &code)],
    );
    assert_eq!(r.body["error"]["error_subcode"], 1349152, "{}", r.text);

    // A person who cancels: declined.
    let start = s.post_form("/v25.0/device/login", &[("access_token", CLIENT)]);
    let mut b = Browser::new(&s);
    let page = b.get(&format!("/device?user_code={}", start.str("user_code")));
    let page = signed_in(&mut b, &page, "alice@login.test");
    assert_eq!(field(&page.text, "user_code"), Some(start.str("user_code")));
    let csrf = field(&page.text, "csrf").unwrap();
    let consent = b.post(
        "/device",
        &[("csrf", &csrf), ("user_code", &start.str("user_code"))],
    );
    let done = b.answer(&consent, &[], false);
    assert!(done.text.contains("cancelled"), "{}", done.text);
    let r = s.post_form(
        "/v25.0/device/login_status",
        &[("access_token", CLIENT), ("code", &start.str("code"))],
    );
    assert_eq!(r.body["error"]["error_subcode"], 1349173, "{}", r.text);
}

#[test]
fn a_new_password_signs_every_browser_out() {
    let s = server();
    let mut b = Browser::new(&s);
    consent_as_alice(&mut b, &dialog(WEB, CB, ""), &[]);
    assert_eq!(b.get(&dialog(WEB, CB, "")).status, 302, "signed in");
    let r = s.admin_post(
        "/_admin/users/alice/password",
        serde_json::json!({"password": "new-password"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let page = b.get(&dialog(WEB, CB, ""));
    assert!(is_sign_in(&page), "{}", page.text);
    let back = b.sign_in(&page, "alice@login.test", "new-password");
    assert!(location(&back).contains("code=AQ"));
}

#[test]
fn clients_may_authenticate_with_http_basic() {
    use base64::Engine;
    let s = server();
    let mut b = Browser::new(&s);
    let code = fresh_code(&mut b);
    let creds = base64::engine::general_purpose::STANDARD.encode(format!("{WEB}:{WEB_SECRET}"));
    let req = ureq::post(&s.url("/v25.0/oauth/access_token"))
        .set("Authorization", &format!("Basic {creds}"));
    let form = [
        ("grant_type", "authorization_code"),
        ("redirect_uri", CB),
        ("code", code.as_str()),
    ];
    let r = crate::harness::send(req, crate::harness::Body::Form(&form));
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.str("access_token").starts_with("EAA"));
}

#[test]
fn the_pages_chosen_at_login_are_the_ones_the_app_may_use() {
    const DELI: &str = "200000000000201";
    const DINER: &str = "200000000000202";
    let s = server();
    let mut b = Browser::new(&s);
    let url = dialog(WEB, CB, "&scope=pages_show_list");
    let mut page = b.get(&url);
    if is_sign_in(&page) {
        page = signed_in(&mut b, &page, "alice@login.test");
    }
    // Asked for a Page permission the first time: every Page is offered, all ticked.
    assert_eq!(
        page_choices(&page),
        [(DELI.to_string(), true), (DINER.to_string(), true)]
    );
    assert!(page.text.contains("Choose the Pages Web Sample can use"));
    let loc = location(&b.answer_with_pages(&page, &["pages_show_list"], &[DINER]));
    let token =
        redeem(&s, &code_of(&loc), CB, &[("client_secret", WEB_SECRET)]).str("access_token");

    // The app sees only the Diner: in /me/accounts, in Page tokens, in debug_token.
    let accounts = s.get_as("/me/accounts", &token);
    let ids = crate::harness::data_ids(&accounts.body);
    assert_eq!(ids, [DINER], "{}", accounts.text);
    assert!(accounts.body["data"][0]["access_token"].is_string());
    let reads = crate::production::page_list_reads(&s);
    assert_eq!(s.get_as("/me/accounts", &token).text, accounts.text);
    if crate::production::reads_are_exact() {
        assert_eq!(crate::production::page_list_reads(&s), reads, "kept");
    }
    let deli = s.get_as(&format!("/{DELI}?fields=access_token,name"), &token);
    assert_eq!(deli.status, 200, "{}", deli.text);
    assert!(deli.body.get("access_token").is_none(), "{}", deli.text);
    let viewer = format!("{WEB}|{WEB_SECRET}");
    let shown = |token: &str| {
        let d = s.debug_as(token, &viewer);
        let granular = d.body["data"]["granular_scopes"].as_array().unwrap();
        let shows = granular.iter().find(|g| g["scope"] == "pages_show_list");
        (shows.unwrap()["target_ids"].clone(), d.text)
    };
    let (targets, debugged) = shown(&token);
    assert_eq!(targets, serde_json::json!([DINER]), "{debugged}");
    assert_eq!(shown(&token).1, debugged, "kept");

    // A later login asks nothing new: no Page step, the choice stands.
    let again = b.get(&url);
    assert_eq!(again.status, 302, "{}", again.text);
    // Re-requesting shows the Page step again, with the current choice ticked. Moving to the
    // Deli ends the Diner's Page token; ticking both widens the choice again.
    let diner_token = accounts.body["data"][0]["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(s.get_as("/me", &diner_token).status, 200);
    let rerequest = dialog(WEB, CB, "&scope=pages_show_list&auth_type=rerequest");
    let page = b.get(&rerequest);
    assert_eq!(
        page_choices(&page),
        [(DELI.to_string(), false), (DINER.to_string(), true)]
    );
    location(&b.answer_with_pages(&page, &["pages_show_list"], &[DELI]));
    // The first token's answer (kept since it was first given) follows the new choice.
    let now = s.get_as("/me/accounts", &token);
    assert_eq!(crate::harness::data_ids(&now.body), [DELI], "{}", now.text);
    let (targets, debugged) = shown(&token);
    assert_eq!(targets, serde_json::json!([DELI]), "{debugged}");
    let refused = s.get_as("/me", &diner_token);
    assert_eq!(refused.status, 400, "{}", refused.text);
    assert_eq!(
        refused.body["error"]["error_subcode"], 458,
        "{}",
        refused.text
    );
    let page = b.get(&rerequest);
    assert_eq!(
        page_choices(&page),
        [(DELI.to_string(), true), (DINER.to_string(), false)]
    );
    let loc = location(&b.answer_with_pages(&page, &["pages_show_list"], &[DELI, DINER]));
    let token =
        redeem(&s, &code_of(&loc), CB, &[("client_secret", WEB_SECRET)]).str("access_token");
    let accounts = s.get_as("/me/accounts", &token);
    assert_eq!(
        accounts.body["data"].as_array().unwrap().len(),
        2,
        "{}",
        accounts.text
    );
}

#[test]
fn a_stranger_s_wrong_passwords_slow_the_stranger_not_the_owner() {
    // Behind a proxy graphtoken trusts, so each browser has an address of its own.
    let sb = crate::harness::Sandbox::new();
    let mut args = Server::args(&sb.db_url(), Some(&crate::harness::fixture("login.toml")));
    args.trusted_proxies = vec![std::net::Ipv4Addr::LOCALHOST.into()];
    let s = Server::in_process_with(args, &sb).unwrap_or_else(|e| panic!("{e}"));
    let url = dialog(WEB, CB, "");
    let mut stranger = Browser::at(&s, "203.0.113.9");
    let page = stranger.get(&url);
    for _ in 0..5 {
        let r = stranger.submit_sign_in(&page, "alice@login.test", "guess");
        assert_eq!(r.status, 401, "{}", r.text);
    }
    let r = stranger.submit_sign_in(&page, "alice@login.test", "guess");
    assert_eq!(r.status, 429, "the stranger waits: {}", r.text);
    // The owner, from another address, signs in at once.
    let mut owner = Browser::at(&s, "198.51.100.7");
    let page = owner.get(&url);
    let r = owner.submit_sign_in(&page, "alice@login.test", "alice-password");
    assert_eq!(r.status, 303, "{}", r.text);
}

/// What ends a browser's sign-in, done through that browser or around it.
type Ending<'a> = dyn Fn(&mut Browser) + 'a;

#[test]
fn a_browser_sign_in_ends_at_once_with_sign_out_logout_reset_new_password_or_a_block() {
    let s = server();
    let url = dialog(WEB, CB, "&scope=email");
    let ends: [(&str, &Ending); 5] = [
        ("Not you?", &|b: &mut Browser| {
            let page = b.get(&url);
            let csrf = field(&page.text, "csrf").unwrap_or_default();
            let r = b.post("/logout", &[("csrf", &csrf), ("next", "/device")]);
            assert_eq!(r.status, 303, "{}", r.text);
        }),
        ("logout", &|_: &mut Browser| {
            assert_eq!(
                s.admin_post("/_admin/users/alice/logout", json!({})).status,
                200
            );
        }),
        ("security reset", &|_: &mut Browser| {
            assert_eq!(
                s.admin_post("/_admin/users/alice/invalidate", json!({}))
                    .status,
                200
            );
        }),
        ("new password", &|_: &mut Browser| {
            let r = s.admin_post(
                "/_admin/users/alice/password",
                json!({"password": "alice-password"}),
            );
            assert_eq!(r.status, 200, "{}", r.text);
        }),
        ("checkpoint", &|_: &mut Browser| {
            let at = |status| json!({ "status": status });
            assert_eq!(
                s.admin_post("/_admin/users/alice/status", at("checkpointed"))
                    .status,
                200
            );
            assert_eq!(
                s.admin_post("/_admin/users/alice/status", at("active"))
                    .status,
                200
            );
        }),
    ];
    for (what, end) in ends {
        let mut b = Browser::new(&s);
        let page = b.get(&url);
        let after = signed_in(&mut b, &page, "alice@login.test");
        assert!(!is_sign_in(&after), "{what}: not signed in: {}", after.text);
        let cookie = b.cookie().unwrap_or_default();
        assert!(
            !is_sign_in(&b.get(&url)),
            "{what}: the sign-in did not last"
        );
        end(&mut b);
        // The cookie as it was before: its sign-in is over, on the server.
        let mut copy = Browser::with_cookie(&s, &cookie);
        let again = copy.get(&url);
        assert!(
            is_sign_in(&again),
            "{what}: the old cookie still signs in: {}",
            again.text
        );
    }
}
