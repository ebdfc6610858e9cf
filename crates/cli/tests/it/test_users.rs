//! Test users over HTTP (spec §2.10): creating, listing, the per-app cap, deleting, updating,
//! and signing in through the login dialog of a development-mode app.

use crate::harness::browser::{is_consent, is_sign_in, param, params_of, Browser};
use crate::harness::{enc, Resp, Server};
use serde_json::Value;

const DEV: &str = "1000000000000021";
const DEV_SECRET: &str = "tu-dev-secret-0123456789abcdef";
const OTHER: &str = "1000000000000022";
const OTHER_SECRET: &str = "tu-other-secret-0123456789abcdef";

fn server() -> Server {
    Server::seeded_with("test_users.toml")
}

fn dev_token() -> String {
    format!("{DEV}|{DEV_SECRET}")
}

fn other_token() -> String {
    format!("{OTHER}|{OTHER_SECRET}")
}

fn create(s: &Server, token: &str, form: &[(&str, &str)]) -> Resp {
    let mut all = vec![("access_token", token)];
    all.extend_from_slice(form);
    s.post_form(&format!("/v25.0/{DEV}/accounts/test-users"), &all)
}

fn created(s: &Server, form: &[(&str, &str)]) -> Value {
    let r = create(s, &dev_token(), form);
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

fn delete(s: &Server, id: &str, token: &str) -> Resp {
    s.admin(
        "DELETE",
        &format!("/v25.0/{id}?access_token={}", enc(token)),
        None,
        None,
    )
}

fn list(s: &Server, path: &str) -> Vec<Value> {
    let r = s.get_as(path, &dev_token());
    assert_eq!(r.status, 200, "{}", r.text);
    let data = r.body["data"].as_array().unwrap().clone();
    // Like every list edge here: `paging` when there is something to page.
    assert_eq!(
        r.body.get("paging").is_some(),
        !data.is_empty(),
        "{}",
        r.text
    );
    data
}

fn granted(s: &Server, token: &str) -> Vec<String> {
    let r = s.get_as("/v25.0/me/permissions?status=granted", token);
    assert_eq!(r.status, 200, "{}", r.text);
    let mut v: Vec<String> = r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["permission"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn an_installed_test_user_comes_with_a_working_token() {
    let s = server();
    let u = created(
        &s,
        &[
            ("installed", "true"),
            ("permissions", "email,user_birthday"),
            ("name", "Open Graph Test User"),
        ],
    );
    let id = u["id"].as_str().unwrap();
    assert_eq!(id.len(), 15, "{u}");
    let email = u["email"].as_str().unwrap();
    assert_eq!(email, format!("open_graph_test_user_{id}@tfbnw.net"));
    assert!(u["password"].as_str().unwrap().len() >= 12, "{u}");
    assert!(u["login_url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/checkpoint/test-user-login/{id}/")));

    let token = u["access_token"].as_str().unwrap();
    let me = s.get_as("/v25.0/me?fields=id,name,email", token);
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body["id"], id);
    assert_eq!(me.body["name"], "Open Graph Test User");
    assert_eq!(me.body["email"], email);
    assert_eq!(
        granted(&s, token),
        ["email", "public_profile", "user_birthday"]
    );
    // Long-lived, as documented.
    let d = s.debug_as(token, &dev_token());
    assert_eq!(d.body["data"]["is_valid"], true, "{}", d.text);
    assert_eq!(d.body["data"]["user_id"], id);
    let left = d.body["data"]["expires_at"].as_i64().unwrap() - s.clock();
    assert!(left > 86_400 * 50, "expires in {left}s");

    // Koala-style: installed defaults to true, and `1` is true too.
    let plain = created(&s, &[]);
    assert!(plain["access_token"].is_string(), "{plain}");
    assert!(plain["email"].as_str().unwrap().ends_with("@tfbnw.net"));
    assert_eq!(
        granted(&s, plain["access_token"].as_str().unwrap()),
        ["public_profile"]
    );
}

#[test]
fn an_uninstalled_test_user_has_no_token_nor_grant() {
    let s = server();
    let u = created(&s, &[("installed", "false"), ("permissions", "email")]);
    assert!(u.get("access_token").is_none(), "{u}");
    let id = u["id"].as_str().unwrap();
    let r = s.get_as(&format!("/v25.0/{id}/permissions"), &dev_token());
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"], serde_json::json!([]));
    let r = s.get_as(&format!("/v25.0/{id}?fields=installed"), &dev_token());
    assert_eq!(r.body["installed"], false, "{}", r.text);
}

#[test]
fn bad_parameters_and_tokens_are_refused() {
    let s = server();
    let r = create(
        &s,
        &dev_token(),
        &[("permissions", "email,not_a_permission")],
    );
    r.assert_error(
        100,
        None,
        "OAuthException",
        "(#100) Invalid scope: not_a_permission",
    );
    let r = create(&s, &dev_token(), &[("installed", "maybe")]);
    assert_eq!(r.body["error"]["code"], 100, "{}", r.text);

    // Nothing was created by the refused calls.
    assert!(list(&s, &format!("/v25.0/{DEV}/accounts/test-users")).is_empty());

    // No token; a user token; another app's token.
    let r = s.post_form(&format!("/v25.0/{DEV}/accounts/test-users"), &[]);
    r.assert_error(
        104,
        None,
        "OAuthException",
        "An access token is required to request this resource.",
    );
    let u = created(&s, &[]);
    let user_token = u["access_token"].as_str().unwrap();
    for r in [
        create(&s, user_token, &[]),
        s.get_as(&format!("/v25.0/{DEV}/accounts/test-users"), user_token),
    ] {
        r.assert_error(
            15,
            None,
            "OAuthException",
            "(#15) This method must be called with an app access_token.",
        );
    }
    for r in [
        create(&s, &other_token(), &[]),
        s.get_as(&format!("/v25.0/{DEV}/accounts"), &other_token()),
    ] {
        r.assert_error(200, None, "OAuthException", "(#200) Permissions error");
    }
}

#[test]
fn the_list_shows_every_test_user_oldest_first_with_tokens_for_the_installed() {
    let s = server();
    let a = created(&s, &[]);
    let b = created(&s, &[("installed", "0")]);
    for path in [
        format!("/v25.0/{DEV}/accounts/test-users"),
        format!("/v25.0/{DEV}/accounts"),
        format!("/{DEV}/accounts?type=test-users"),
    ] {
        let data = list(&s, &path);
        assert_eq!(data.len(), 2, "{data:?}");
        assert_eq!(data[0]["id"], a["id"]);
        assert_eq!(data[1]["id"], b["id"]);
        assert_eq!(data[0]["login_url"], a["login_url"]);
        assert!(data[1]["login_url"].is_string());
        assert!(data[1].get("access_token").is_none(), "{:?}", data[1]);
        assert!(data[0].get("password").is_none() && data[0].get("email").is_none());
        // The listed token works and speaks for that test user.
        let t = data[0]["access_token"].as_str().unwrap();
        let me = s.get_as("/v25.0/me", t);
        assert_eq!(me.body["id"], a["id"], "{}", me.text);
    }
    // Paging: one at a time, following `next`.
    let r = s.get_as(
        &format!("/v25.0/{DEV}/accounts/test-users?limit=1"),
        &dev_token(),
    );
    assert_eq!(r.body["data"][0]["id"], a["id"], "{}", r.text);
    let next = r.body["paging"]["next"].as_str().unwrap();
    let r2 = s.get(next.strip_prefix(&s.base).unwrap());
    assert_eq!(r2.body["data"][0]["id"], b["id"], "{}", r2.text);
    assert!(r2.body["paging"].get("next").is_none(), "{}", r2.text);

    // Another app sees none of them.
    let r = s.get_as(
        &format!("/v25.0/{OTHER}/accounts/test-users"),
        &other_token(),
    );
    assert_eq!(r.body["data"], serde_json::json!([]), "{}", r.text);
}

#[test]
fn an_app_has_at_most_its_test_user_limit() {
    let s = server();
    for _ in 0..3 {
        created(&s, &[("installed", "false")]);
    }
    let r = create(&s, &dev_token(), &[]);
    r.assert_error(
        2900,
        None,
        "OAuthException",
        "(#2900) Too many test accounts",
    );
    assert_eq!(list(&s, &format!("/v25.0/{DEV}/accounts")).len(), 3);
    // Deleting one makes room again.
    let first = list(&s, &format!("/v25.0/{DEV}/accounts"))[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(delete(&s, &first, &dev_token()).status, 200);
    created(&s, &[]);
}

#[test]
fn creating_test_users_all_at_once_stops_at_the_limit() {
    let s = server();
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| scope.spawn(|| create(&s, &dev_token(), &[("installed", "false")]).status))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|c| **c == 200).count(),
        3,
        "{statuses:?}"
    );
    assert_eq!(list(&s, &format!("/v25.0/{DEV}/accounts")).len(), 3);
}

#[test]
fn deleting_a_test_user_ends_their_tokens_and_their_id() {
    let s = server();
    let a = created(&s, &[("permissions", "email")]);
    let b = created(&s, &[]);
    let (a_id, a_token) = (
        a["id"].as_str().unwrap(),
        a["access_token"].as_str().unwrap(),
    );

    // Another app's token may not, nor may another test user.
    let r = delete(&s, a_id, &other_token());
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.body["error"].is_object(), "{}", r.text);
    let r = delete(&s, a_id, b["access_token"].as_str().unwrap());
    r.assert_error(200, None, "OAuthException", "(#200) Permissions error");
    assert_eq!(s.get_as("/v25.0/me", a_token).status, 200);

    let r = delete(&s, a_id, &dev_token());
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, serde_json::json!({"success": true}));
    let me = s.get_as("/v25.0/me", a_token);
    assert_eq!(me.status, 400, "{}", me.text);
    assert_eq!(me.body["error"]["code"], 190, "{}", me.text);
    let gone = s.get_as(&format!("/v25.0/{a_id}"), &dev_token());
    gone.assert_error(
        100,
        Some(33),
        "GraphMethodException",
        &format!("Unsupported get request. Object with ID '{a_id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"),
    );
    let data = list(&s, &format!("/v25.0/{DEV}/accounts/test-users"));
    assert_eq!(data.len(), 1);
    assert_eq!(data[0]["id"], b["id"]);

    // A test user may delete themselves with their own token (`method=delete` works too).
    let b_token = b["access_token"].as_str().unwrap();
    let r = s.post_form(
        &format!("/v25.0/{}", b["id"].as_str().unwrap()),
        &[("method", "delete"), ("access_token", b_token)],
    );
    assert_eq!(r.body, serde_json::json!({"success": true}), "{}", r.text);
    assert!(list(&s, &format!("/v25.0/{DEV}/accounts")).is_empty());
}

#[test]
fn people_who_are_not_test_users_cannot_be_deleted() {
    let s = server();
    let dave = s.issue("dave", "other", &[], false);
    let me = s.get_as("/v25.0/me", &dave);
    let dave_id = me.str("id");
    let r = delete(&s, &dave_id, &other_token());
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["error"]["code"], 100, "{}", r.text);
    assert_eq!(s.get_as("/v25.0/me", &dave).status, 200);
}

#[test]
fn test_users_can_be_renamed_and_given_a_new_password() {
    let s = server();
    let u = created(&s, &[]);
    let (id, token) = (
        u["id"].as_str().unwrap(),
        u["access_token"].as_str().unwrap(),
    );
    let path = format!("/v25.0/{id}");

    // Only the owning app's token.
    let r = s.post_form(&path, &[("name", "X Y"), ("access_token", token)]);
    r.assert_error(200, None, "OAuthException", "(#200) Permissions error");

    let r = s.post_form(
        &path,
        &[("name", "Renamed Person"), ("access_token", &dev_token())],
    );
    assert_eq!(r.body, serde_json::json!({"success": true}), "{}", r.text);
    let me = s.get_as("/v25.0/me", token);
    assert_eq!(me.body["name"], "Renamed Person", "{}", me.text);

    let r = s.post_form(
        &path,
        &[
            ("password", "brand-new-pass"),
            ("access_token", &dev_token()),
        ],
    );
    assert_eq!(r.body, serde_json::json!({"success": true}), "{}", r.text);
    // A password change ends the person's sessions (190/460)...
    let me = s.get_as("/v25.0/me", token);
    assert_eq!(me.body["error"]["error_subcode"], 460, "{}", me.text);
    // ...and the new password signs in.
    let mut b = Browser::new(&s);
    let page = b.get(&dialog(DEV, "https://dev.test/cb"));
    let page = b.sign_in(&page, u["email"].as_str().unwrap(), "brand-new-pass");
    assert!(is_consent(&page) || page.status == 302, "{}", page.text);
}

fn dialog(app: &str, redirect: &str) -> String {
    format!(
        "/v25.0/dialog/oauth?client_id={app}&redirect_uri={}&state=st8&scope=email",
        enc(redirect)
    )
}

#[test]
fn test_users_sign_in_to_their_development_mode_app_and_others_are_refused() {
    let s = server();
    let u = created(&s, &[("installed", "false")]);
    let mut b = Browser::new(&s);
    let page = b.get(&dialog(DEV, "https://dev.test/cb"));
    assert!(is_sign_in(&page), "{}", page.text);
    let page = b.sign_in(
        &page,
        u["email"].as_str().unwrap(),
        u["password"].as_str().unwrap(),
    );
    assert!(is_consent(&page), "{}", page.text);
    let r = b.answer(&page, &["email"], true);
    assert_eq!(r.status, 302, "{}", r.text);
    let location = r.header("location").unwrap();
    assert!(location.starts_with("https://dev.test/cb?"), "{location}");
    let code = param(&params_of(location, false), "code").unwrap();

    // The code redeems for a token of the test user.
    let t = s.get(&format!(
        "/v25.0/oauth/access_token?client_id={DEV}&client_secret={DEV_SECRET}&redirect_uri={}&code={}",
        enc("https://dev.test/cb"),
        enc(&code)
    ));
    assert_eq!(t.status, 200, "{}", t.text);
    let me = s.get_as("/v25.0/me", &t.str("access_token"));
    assert_eq!(me.body["id"], u["id"], "{}", me.text);

    // dave, with no role and not a test user, is refused by the development-mode app.
    let mut d = Browser::new(&s);
    let page = d.get(&dialog(DEV, "https://dev.test/cb"));
    let page = d.sign_in(&page, "dave@testusers.test", "dave-password");
    assert_eq!(page.status, 403, "{}", page.text);
    assert!(page.text.contains("App not active"), "{}", page.text);
}
