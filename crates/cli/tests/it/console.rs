//! The console (issue #11): the home page a browser gets at the base URL, and the Access Token
//! Debugger (`/tools/debug/accesstoken/`).

use serde_json::json;

use crate::harness::browser::{field, Browser};
use crate::harness::world::*;
use crate::harness::{fixture, Resp, Sandbox, Server};

const HTML: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
const DEBUGGER: &str = "/tools/debug/accesstoken/";

/// What the debugger answers for `token`, asked through its form.
fn debug(b: &mut Browser, token: &str) -> Resp {
    let page = b.get(DEBUGGER);
    assert_eq!(page.status, 200, "{}", page.text);
    let csrf = field(&page.text, "csrf").expect("a CSRF token");
    b.post(DEBUGGER, &[("csrf", &csrf), ("token", token)])
}

/// The token in the debugger's text area.
fn shown_token(r: &Resp) -> String {
    let after = r.text.split("name=\"token\"").nth(1).unwrap_or_default();
    let inner = after.split_once('>').map_or("", |(_, rest)| rest);
    inner
        .split("</textarea>")
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}

#[test]
fn a_browser_opening_the_base_url_gets_the_console_and_graph_clients_still_get_graph() {
    let s = Server::seeded();
    let home = s.get_with_header("/", "Accept", HTML);
    assert_eq!(home.status, 200, "{}", home.text);
    assert!(home
        .header("content-type")
        .unwrap_or_default()
        .starts_with("text/html"));
    for shown in [
        ACME_NAME,
        "Alice Marie Admin",
        "Acme Coffee",
        ACME,
        DEBUGGER,
        "3 people",
    ] {
        assert!(home.text.contains(shown), "{shown} not on the home page");
    }
    // A Graph client at `/`: JSON, as before.
    let graph = s.get("/");
    assert_eq!(graph.status, 400, "{}", graph.text);
    assert!(graph.body["error"].is_object(), "{}", graph.text);
    let t = s.alice();
    let ids = s.get_with_header(&format!("/?ids=me&access_token={t}"), "Accept", HTML);
    assert_eq!(ids.status, 200, "{}", ids.text);
    assert!(ids.body["me"]["name"].is_string(), "{}", ids.text);
}

#[test]
fn production_mode_has_no_console() {
    let sb = Sandbox::new();
    let mut args = Server::args(&sb.db_url(), Some(&fixture("world.toml")));
    args.production = true;
    let s = Server::in_process_with(args, &sb).unwrap_or_else(|e| panic!("{e}"));
    let home = s.get_with_header("/", "Accept", HTML);
    assert!(home.body["error"].is_object(), "{}", home.text);
    assert_eq!(s.get(DEBUGGER).status, 400);
}

#[test]
fn the_debugger_explains_a_token_and_extends_a_short_lived_one() {
    let s = Server::seeded();
    let mut b = Browser::new(&s);
    let short = s.issue("alice", "acme", &["pages_show_list"], false);
    let r = debug(&mut b, &short);
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.text.contains("(in 60 minutes)") || r.text.contains("(in 59 minutes)"),
        "{}",
        r.text
    );
    for shown in [
        &format!("{ACME} : {ACME_NAME}"),
        "USER",
        "minutes)",
        "Data access expires",
        "True",
        "pages_show_list: Acme Coffee (",
        "Extend Access Token",
    ] {
        assert!(r.text.contains(shown), "{shown}: {}", r.text);
    }
    // Extend: the real long-lived exchange; the new token is shown, and works.
    let csrf = field(&r.text, "csrf").expect("csrf");
    let extended = b.post(
        "/tools/debug/accesstoken/extend",
        &[("csrf", &csrf), ("token", &short)],
    );
    assert_eq!(extended.status, 200, "{}", extended.text);
    assert!(extended.text.contains("The new long-lived token"));
    assert!(extended.text.contains("(in 59 days)") || extended.text.contains("(in 60 days)"));
    assert!(
        !extended.text.contains("Extend Access Token"),
        "a long-lived token is not extended"
    );
    let long = shown_token(&extended);
    assert_ne!(long, short);
    assert_eq!(s.get_as("/me", &long).status, 200);
    // A Page token from the long-lived token never expires.
    let page = s.page_token(COFFEE, &long);
    let r = debug(&mut b, &page);
    assert!(r.text.contains("Never"), "{}", r.text);
    assert!(
        r.text.contains(&format!("{COFFEE} : Acme Coffee")),
        "{}",
        r.text
    );
}

#[test]
fn the_debugger_says_why_a_token_no_longer_works() {
    let s = Server::seeded();
    let mut b = Browser::new(&s);
    let t = s.alice();
    let r = s.admin_post("/_admin/users/alice/logout", json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    let r = debug(&mut b, &t);
    assert!(r.text.contains("False: "), "{}", r.text);
    assert!(
        r.text.contains("subcode 467: the person logged out"),
        "{}",
        r.text
    );
    assert!(!r.text.contains("Extend Access Token"));
    let garbage = debug(&mut b, "EAAnot-a-token");
    assert!(
        garbage.text.contains("Cannot parse access token"),
        "{}",
        garbage.text
    );
}

#[test]
fn debugger_forms_need_their_csrf_token() {
    let s = Server::seeded();
    let mut b = Browser::new(&s);
    b.get(DEBUGGER);
    let t = s.alice();
    for path in [DEBUGGER, "/tools/debug/accesstoken/extend"] {
        let r = b.post(path, &[("token", &t)]);
        assert_eq!(r.status, 403, "{path}: {}", r.text);
        assert!(r.text.contains("This form has expired"), "{}", r.text);
    }
    let in_url = path_with_csrf(&mut b);
    let r = b.post(&in_url, &[("token", &t)]);
    assert_eq!(r.status, 403, "{}", r.text);
}

fn path_with_csrf(b: &mut Browser) -> String {
    // A token sent in the URL is not read: only the form's fields count.
    let page = b.get(DEBUGGER);
    let csrf = field(&page.text, "csrf").unwrap_or_default();
    format!("{DEBUGGER}?csrf={csrf}")
}
