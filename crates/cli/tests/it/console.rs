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
    let after = r
        .text
        .split("<textarea id=\"token\"")
        .nth(1)
        .unwrap_or_default();
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
fn the_home_page_links_to_the_docs_which_are_served() {
    let s = Server::seeded();
    let home = s.get_with_header("/", "Accept", HTML);
    assert!(home.text.contains(r#"href="/docs/""#), "{}", home.text);
    let list = s.get_with_header("/docs/", "Accept", HTML);
    assert_eq!(list.status, 200);
    for doc in [
        "README.md",
        "console.md",
        "seed.md",
        "keeper.md",
        "compatibility.md",
    ] {
        assert!(
            list.text.contains(&format!(r#"href="/docs/{doc}""#)),
            "{doc}"
        );
    }
    let readme = s.get_with_header("/docs/README.md", "Accept", HTML);
    assert_eq!(readme.status, 200);
    assert!(readme.text.contains("scripts/test"), "{}", readme.text);
    // Markdown is shown as text: its markup is escaped, never run.
    assert!(
        readme.text.contains("&lt;http://127.0.0.1:8080/&gt;"),
        "{}",
        readme.text
    );
    let missing = s.get_with_header("/docs/Cargo.toml", "Accept", HTML);
    assert_eq!(missing.status, 404, "{}", missing.text);
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
fn the_debugger_names_a_session_info_token_and_does_not_offer_to_extend_it() {
    let s = Server::seeded();
    let mut b = Browser::new(&s);
    let short = s.alice();
    let r = s.post_form(
        "/oauth/access_token",
        &[
            ("grant_type", "fb_attenuate_token"),
            ("client_id", ACME),
            ("fb_exchange_token", &short),
        ],
    );
    let info = r.str("access_token");
    let page = debug(&mut b, &info);
    assert_eq!(page.status, 200, "{}", page.text);
    for shown in ["session info: for debugging only", "True", "(none)"] {
        assert!(page.text.contains(shown), "{shown}: {}", page.text);
    }
    assert!(!page.text.contains("Extend Access Token"), "{}", page.text);
    // The short-lived token it came from is still offered the exchange.
    assert!(debug(&mut b, &short).text.contains("Extend Access Token"));
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

// ---- the Graph API Explorer -------------------------------------------------------------------

const EXPLORER: &str = "/tools/explorer/";

/// Runs a request from the Explorer's request bar with `token`.
fn run(b: &mut Browser, token: &str, method: &str, path: &str, fields: &str) -> Resp {
    let page = b.get(EXPLORER);
    let csrf = field(&page.text, "csrf").expect("a CSRF token");
    b.post(
        EXPLORER,
        &[
            ("csrf", &csrf),
            ("token", token),
            ("method", method),
            ("path", path),
            ("fields", fields),
        ],
    )
}

#[test]
fn the_explorer_names_a_session_info_token_and_asks_no_pages_with_it() {
    let s = Server::seeded();
    let mut b = Browser::new(&s);
    let user = s.alice();
    let info = s
        .post_form(
            "/oauth/access_token",
            &[
                ("grant_type", "fb_attenuate_token"),
                ("client_id", ACME),
                ("fb_exchange_token", &user),
            ],
        )
        .str("access_token");
    let r = run(&mut b, &info, "GET", "me", "id");
    assert!(r.text.contains("Debug only access token"), "{}", r.text);
    let page = b.get(EXPLORER);
    assert!(
        page.text
            .contains("A session info token of a person, valid: it is for debug_token only"),
        "{}",
        page.text
    );
    assert!(
        !page.text.contains(COFFEE),
        "no Pages offered: {}",
        page.text
    );
    // The user token it came from is offered its Pages.
    run(&mut b, &user, "GET", "me", "id");
    let page = b.get(EXPLORER);
    assert!(page.text.contains("A user token, valid"), "{}", page.text);
    assert!(page.text.contains(COFFEE), "{}", page.text);
}

#[test]
fn copy_as_curl_says_https_when_the_browser_came_over_tls() {
    let sb = Sandbox::new();
    let mut args = Server::args(&sb.db_url(), Some(&fixture("world.toml")));
    args.trusted_proxies = vec![std::net::Ipv4Addr::LOCALHOST.into()];
    let s = Server::in_process_with(args, &sb).unwrap_or_else(|e| panic!("{e}"));
    let token = s.alice();
    let host = s.base.trim_start_matches("http://");
    let curl = |r: &Resp| {
        let at = r.text.find("curl -s -X GET").unwrap_or(0);
        r.text[at..].chars().take(400).collect::<String>()
    };
    let plain = run(&mut Browser::new(&s), &token, "GET", "me", "");
    assert!(
        curl(&plain).contains(&format!("http://{host}")),
        "{}",
        curl(&plain)
    );
    let tls = run(&mut Browser::new(&s).over_https(), &token, "GET", "me", "");
    assert!(
        curl(&tls).contains(&format!("https://{host}")),
        "{}",
        curl(&tls)
    );
}

#[test]
fn the_explorer_generates_a_token_through_the_login_dialog_and_takes_a_page_token() {
    let s = Server::seeded();
    let mut b = Browser::new(&s);
    let page = b.get(EXPLORER);
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("No token yet"), "{}", page.text);
    let csrf = field(&page.text, "csrf").unwrap();
    // Generate Access Token: the real dialog (sign-in, consent), back to the Explorer.
    let to_dialog = b.post(
        "/tools/explorer/generate",
        &[
            ("csrf", &csrf),
            ("app", ACME),
            ("scope", "pages_show_list"),
            ("scope", "email"),
        ],
    );
    assert_eq!(to_dialog.status, 303, "{}", to_dialog.text);
    let dialog = to_dialog.header("location").unwrap().to_string();
    assert!(
        dialog.starts_with(
            "/dialog/oauth?client_id=1000000000000001&redirect_uri=%2Ftools%2Fexplorer%2Fcallback"
        ),
        "{dialog}"
    );
    let sign_in = b.get(&dialog);
    let mut next = b.sign_in(&sign_in, "alice@example.com", "alice-password");
    if crate::harness::browser::is_consent(&next) {
        next = b.answer_with_pages(
            &next,
            &["pages_show_list", "email"],
            &[COFFEE, NEWS, BAKERY],
        );
    }
    assert_eq!(next.status, 302, "{}", next.text);
    let back = next.header("location").unwrap().to_string();
    assert!(back.starts_with("/tools/explorer/callback?code="), "{back}");
    let landed = b.get(&back);
    assert_eq!(landed.status, 303);
    assert_eq!(landed.header("location"), Some(EXPLORER));
    let page = b.get(EXPLORER);
    assert!(
        page.text.contains("A new user access token"),
        "{}",
        page.text
    );
    assert!(page.text.contains("A user token, valid"), "{}", page.text);
    let token = shown_token(&page);
    assert!(token.starts_with("EAA"), "{token}");
    assert_eq!(s.get_as("/me", &token).str("name"), "Alice Marie Admin");
    // A reload of the callback redeems nothing (and ends nothing).
    let again = b.get(&back);
    assert_eq!(again.status, 303);
    assert!(b.get(EXPLORER).text.contains("was not started here"));
    assert_eq!(s.get_as("/me", &token).status, 200, "the token still works");

    // The request bar: the Graph API's own answer, pretty-printed.
    let r = run(&mut b, &token, "GET", "me", "id,name,email");
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("HTTP 200"), "{}", r.text);
    assert!(
        r.text
            .contains("&quot;email&quot;: &quot;alice@example.com&quot;"),
        "{}",
        r.text
    );
    assert!(
        r.text
            .contains("curl -s -X GET -H &#x27;Authorization: OAuth")
            || r.text.contains("curl -s -X GET -H 'Authorization: OAuth"),
        "{}",
        r.text
    );
    assert!(
        r.text.contains(r#"<option value="first_name">"#),
        "the User node's fields are offered"
    );
    // An error, explained.
    let r = run(&mut b, &token, "GET", "me", "colour");
    assert!(r.text.contains("HTTP 400"), "{}", r.text);
    assert!(
        r.text
            .contains("Error 100: a parameter is wrong or missing"),
        "{}",
        r.text
    );
    // The history lists both, newest first.
    let page = b.get(EXPLORER);
    let history = page.text.split("History").nth(1).unwrap_or_default();
    let first = history.find("me?fields=colour").unwrap();
    let second = history.find("me?fields=id%2Cname%2Cemail").unwrap();
    assert!(first < second, "{history}");

    // Get Page Access Token: the person's Pages, from /me/accounts.
    assert!(page.text.contains("Get Page Access Token"));
    assert!(
        page.text
            .contains(&format!(r#"<option value="{COFFEE}">Acme Coffee"#)),
        "{}",
        page.text
    );
    let csrf = field(&page.text, "csrf").unwrap();
    let chosen = b.post("/tools/explorer/page", &[("csrf", &csrf), ("page", COFFEE)]);
    assert_eq!(chosen.status, 303);
    let page = b.get(EXPLORER);
    assert!(
        page.text.contains("The Page access token of Acme Coffee"),
        "{}",
        page.text
    );
    assert!(page.text.contains("A Page token, valid"), "{}", page.text);
    let page_token = shown_token(&page);
    assert_eq!(s.get_as("/me", &page_token).str("id"), COFFEE);
    // And back to the user token.
    let csrf = field(&page.text, "csrf").unwrap();
    b.post("/tools/explorer/page", &[("csrf", &csrf), ("page", "")]);
    assert_eq!(shown_token(&b.get(EXPLORER)), token);
}

#[test]
fn the_explorer_refuses_bad_input_with_words_and_forms_without_csrf() {
    let s = Server::seeded();
    let mut b = Browser::new(&s);
    let t = s.alice();
    for (path, words) in [
        ("", "Type a path to request"),
        ("https://graph.facebook.com/me", "not a full URL"),
        ("me bad", "is not a path this Graph API can take"),
    ] {
        let r = run(&mut b, &t, "GET", path, "");
        assert_eq!(r.status, 400, "{path}: {}", r.text);
        assert!(r.text.contains(words), "{path}: {}", r.text);
    }
    for path in [EXPLORER, "/tools/explorer/generate", "/tools/explorer/page"] {
        let r = b.post(path, &[("token", &t), ("path", "me")]);
        assert_eq!(r.status, 403, "{path}");
        assert!(r.text.contains("This form has expired"), "{path}");
    }
    // A callback nobody started changes nothing.
    let r = b.get("/tools/explorer/callback?code=AQxyz&state=forged");
    assert_eq!(r.status, 303);
    assert!(b.get(EXPLORER).text.contains("was not started here"));
    // The Explorer's redirect is the console's: not taken in production.
    let sb = Sandbox::new();
    let mut args = Server::args(&sb.db_url(), Some(&fixture("world.toml")));
    args.production = true;
    let p = Server::in_process_with(args, &sb).unwrap_or_else(|e| panic!("{e}"));
    let r = p.get(&format!(
        "/dialog/oauth?client_id={ACME}&redirect_uri=%2Ftools%2Fexplorer%2Fcallback"
    ));
    assert!(r.text.contains("URL blocked"), "{}", r.text);
    assert_eq!(p.get(EXPLORER).status, 400);
    // In emulator mode the Explorer's redirect takes a code with an S256 challenge only: no
    // token in a fragment, no code without the desk's verifier.
    for extra in [
        "&response_type=token",
        "&response_type=code",
        "&response_type=code&code_challenge=abcdefghijabcdefghijabcdefghijabcdefghij123&code_challenge_method=plain",
    ] {
        let r = s.get(&format!(
            "/dialog/oauth?client_id={ACME}&redirect_uri=%2Ftools%2Fexplorer%2Fcallback{extra}"
        ));
        assert!(
            r.text.contains("takes response_type=code with an S256"),
            "{extra}: {}",
            r.text
        );
    }
    // A page typed without its final slash is one redirect away.
    let r = b.get("/tools/explorer");
    assert_eq!(r.status, 302);
    assert_eq!(r.header("location"), Some(EXPLORER));
}

// ---- the emulator controls --------------------------------------------------------------------

const EMULATOR: &str = "/tools/emulator/";

/// Posts a controls form with the page's CSRF token.
fn control(b: &mut Browser, path: &str, form: &[(&str, &str)]) -> Resp {
    let page = b.get(EMULATOR);
    let csrf = field(&page.text, "csrf").expect("a CSRF token");
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(form);
    b.post(path, &all)
}

#[test]
fn the_emulator_controls_want_the_admin_key_once_and_move_the_clock_and_faults() {
    let s = Server::seeded();
    let mut b = Browser::new(&s);
    let page = b.get(EMULATOR);
    assert_eq!(page.status, 200);
    assert!(
        page.text.contains(r#"name="key" type="password""#),
        "{}",
        page.text
    );
    // Nothing moves before the key is entered.
    let r = control(&mut b, "/tools/emulator/clock", &[("advance", "86400")]);
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(r.text.contains("Enter the admin key first"));
    let r = control(&mut b, "/tools/emulator/unlock", &[("key", "wrong")]);
    assert_eq!(r.status, 403);
    assert!(
        r.text.contains("not this server&#x27;s admin key")
            || r.text.contains("not this server's admin key"),
        "{}",
        r.text
    );
    let r = control(
        &mut b,
        "/tools/emulator/unlock",
        &[("key", crate::harness::ADMIN_KEY)],
    );
    assert_eq!(r.status, 303, "{}", r.text);
    assert!(!r
        .headers
        .iter()
        .any(|(_, v)| v.contains(crate::harness::ADMIN_KEY)));
    let page = b.get(EMULATOR);
    assert!(page.text.contains("Virtual clock"), "{}", page.text);
    assert!(
        !page.text.contains(crate::harness::ADMIN_KEY),
        "the key is not in the page"
    );

    // The clock: +61 days, then a date; bad dates are refused with words.
    let before = s.clock();
    let r = control(&mut b, "/tools/emulator/clock", &[("advance", "5270400")]);
    assert_eq!(r.status, 303);
    assert!((s.clock() - (before + 61 * DAY)).abs() <= 5);
    let r = control(&mut b, "/tools/emulator/clock", &[("set", "2031-02-03")]);
    assert_eq!(r.status, 303);
    assert!((s.clock() - 1_927_843_200).abs() <= 5, "{}", s.clock());
    let r = control(&mut b, "/tools/emulator/clock", &[("set", "someday")]);
    assert_eq!(r.status, 400);
    assert!(r.text.contains("is not a date"), "{}", r.text);
    let page = b.get(EMULATOR);
    assert!(
        page.text.contains("2031-02-03"),
        "the clock and the events show it"
    );
    assert!(
        page.text.contains("the clock moved to 2031-02-03"),
        "{}",
        page.text
    );

    // A fault, armed from the page, answers the Graph API; disarmed, it stops.
    let t = s.alice();
    let r = control(
        &mut b,
        "/tools/emulator/faults",
        &[("error", "rate_limit_app"), ("path", "me"), ("times", "0")],
    );
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(s.get_as("/me", &t).body["error"]["code"], 4);
    let page = b.get(EMULATOR);
    assert!(page.text.contains("rate_limit_app"), "{}", page.text);
    let r = control(
        &mut b,
        "/tools/emulator/faults",
        &[("error", "no_such_error")],
    );
    assert_eq!(r.status, 400);
    let r = control(&mut b, "/tools/emulator/faults/clear", &[("id", "")]);
    assert_eq!(r.status, 303);
    assert_eq!(s.get_as("/me", &t).status, 200);

    // Closed again: the next move needs the key.
    control(&mut b, "/tools/emulator/lock", &[]);
    let r = control(&mut b, "/tools/emulator/clock", &[("advance", "3600")]);
    assert_eq!(r.status, 403);
    // Another browser never had the key.
    let mut other = Browser::new(&s);
    let r = control(&mut other, "/tools/emulator/clock", &[("advance", "3600")]);
    assert_eq!(r.status, 403);
}

// ---- the App Dashboard and a person's settings -------------------------------------------------

const BASIC: &str = "/apps/1000000000000001/settings/basic/";

/// The id of the test user `name` in the Test Users table.
fn test_user_id(page: &Resp, name: &str) -> String {
    let cell = format!("{name}</td><td><code>");
    let after = page.text.split(&cell).nth(1).unwrap_or_default();
    after.split('<').next().unwrap_or_default().to_string()
}

/// A browser signed in as `email` through the sign-in page the dashboard shows first.
fn signed_in_at<'s>(s: &'s Server, path: &str, email: &str, password: &str) -> (Browser<'s>, Resp) {
    let mut b = Browser::new(s);
    let page = b.get(path);
    assert!(page.text.contains(r#"action="/login""#), "{}", page.text);
    let landed = b.sign_in(&page, email, password);
    (b, landed)
}

#[test]
fn the_dashboard_shows_an_app_to_its_people_and_resets_its_secret() {
    let s = Server::seeded();
    let old_app_token = s
        .get(&format!(
            "/oauth/access_token?grant_type=client_credentials&client_id={ACME}&client_secret={ACME_SECRET}"
        ))
        .str("access_token");
    assert_eq!(s.get_as(&format!("/{ACME}"), &old_app_token).status, 200);
    let (mut b, page) = signed_in_at(&s, BASIC, "alice@example.com", "alice-password");
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains(ACME) && page.text.contains("acme-client-token-0123456789"));
    assert!(
        !page.text.contains(ACME_SECRET),
        "the secret only on request"
    );
    let csrf = field(&page.text, "csrf").unwrap();
    let shown = b.post(&format!("{BASIC}secret"), &[("csrf", &csrf)]);
    assert!(shown.text.contains(ACME_SECRET), "{}", shown.text);
    // Reset: asked first, then done; the old app token stops working.
    let ask = b.post(&format!("{BASIC}reset"), &[("csrf", &csrf)]);
    assert!(ask.text.contains("Reset the secret?"), "{}", ask.text);
    assert_eq!(
        s.get_as(&format!("/{ACME}"), &old_app_token).status,
        200,
        "nothing yet"
    );
    let reset = b.post(
        &format!("{BASIC}reset"),
        &[("csrf", &csrf), ("confirm", "yes")],
    );
    assert_eq!(reset.status, 303, "a reload resets nothing again");
    let after = b.get(BASIC);
    assert!(
        after.text.contains("The app secret was reset"),
        "{}",
        after.text
    );
    assert!(after.text.contains(r#"<code id="secret">"#), "shown once");
    assert!(!after.text.contains(ACME_SECRET));
    assert!(
        !b.get(BASIC).text.contains(r#"<code id="secret">"#),
        "only once"
    );
    let refused = s.get_as(&format!("/{ACME}"), &old_app_token);
    assert_eq!(refused.body["error"]["code"], 190, "{}", refused.text);

    // The other sections.
    for (path, shown) in [
        ("settings/advanced/", "Pages API Migration window"),
        ("roles/", "Alice Marie Admin"),
        ("app-review/", "Standard Access"),
        ("test-users/", "Create a test user"),
        ("callbacks/", "No callback has been sent"),
        ("rate-limits/", "Call count"),
    ] {
        let r = b.get(&format!("/apps/{ACME}/{path}"));
        assert_eq!(r.status, 200, "{path}");
        assert!(r.text.contains(shown), "{path}: {}", r.text);
    }
    // Test users: made through the Graph API, logged in as, deleted.
    let r = b.post(
        &format!("/apps/{ACME}/test-users/create"),
        &[("csrf", &csrf), ("name", "Tess Tester")],
    );
    assert_eq!(r.status, 303, "{}", r.text);
    let page = b.get(&format!("/apps/{ACME}/test-users/"));
    assert!(page.text.contains("(shown this once)"), "{}", page.text);
    assert!(page.text.contains("Tess Tester"), "{}", page.text);
    let tess = test_user_id(&page, "Tess Tester");
    // Only a test user of the app can be deleted from here: not a path, not a person.
    for other in [format!("{ALICE}/permissions"), ALICE.to_string()] {
        let r = b.post(
            &format!("/apps/{ACME}/test-users/delete"),
            &[("csrf", &csrf), ("user", &other)],
        );
        assert_eq!(r.status, 400, "{other}: {}", r.text);
    }
    assert_eq!(s.get_as("/me", &s.alice()).status, 200);
    let r = b.post(
        &format!("/apps/{ACME}/test-users/delete"),
        &[("csrf", &csrf), ("user", &tess)],
    );
    assert_eq!(r.status, 303);
    assert!(!b
        .get(&format!("/apps/{ACME}/test-users/"))
        .text
        .contains("Tess Tester"));
    b.post(
        &format!("/apps/{ACME}/test-users/create"),
        &[("csrf", &csrf), ("name", "Tom Tester")],
    );
    let page = b.get(&format!("/apps/{ACME}/test-users/"));
    let tom = test_user_id(&page, "Tom Tester");
    let r = b.post(
        &format!("/apps/{ACME}/test-users/login"),
        &[("csrf", &csrf), ("user", &tom)],
    );
    assert_eq!(r.status, 303);
    assert!(b
        .get("/settings/apps/")
        .text
        .contains("Signed in as <strong>Tom Tester</strong>"));

    // A developer sees the app but not its secret; a person without a role sees nothing.
    let r = s.admin_post(
        "/_admin/users/bob/password",
        json!({"password": "bob-password"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let (_, page) = signed_in_at(&s, BASIC, "bob@example.com", "bob-password");
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(
        page.text.contains("Only the app&#x27;s administrators")
            || page.text.contains("Only the app's administrators")
    );
    assert!(!page.text.contains("show-secret"));
}

#[test]
fn people_without_a_role_are_refused_and_forms_need_csrf() {
    let s = Server::seeded();
    let (mut b, _) = signed_in_at(&s, BASIC, "alice@example.com", "alice-password");
    let r = b.post(&format!("{BASIC}secret"), &[]);
    assert_eq!(r.status, 403);
    assert!(r.text.contains("This form has expired"));
    assert!(!r.text.contains(ACME_SECRET));
    // alice has no role on rival.
    let page = b.get(&format!("/apps/{RIVAL}/settings/basic/"));
    assert_eq!(page.status, 403, "{}", page.text);
    assert!(
        page.text.contains("has no role on Rival Scheduler"),
        "{}",
        page.text
    );
    assert!(!page.text.contains(RIVAL_SECRET));
    let missing = b.get("/apps/999/settings/basic/");
    assert_eq!(missing.status, 404);
    let nowhere = b.get(&format!("/apps/{ACME}/nothing-here/"));
    assert_eq!(nowhere.status, 404);
}

#[test]
fn removing_an_app_in_settings_sends_its_deauthorize_callback() {
    let sb = Sandbox::new();
    // A port nobody listens on: the delivery fails, and the outbox says so.
    let seed = sb.write(
        "hooked.toml",
        "[[apps]]\nkey = \"hooked\"\nid = \"1000000000000077\"\nname = \"Hooked\"\n\
         deauthorize_callback_url = \"http://127.0.0.1:9/deauthorize\"\n\
         [[users]]\nkey = \"dana\"\nname = \"Dana\"\nemail = \"dana@example.com\"\n\
         password = \"dana-password\"\n\
         [[grants]]\nuser = \"dana\"\napp = \"hooked\"\ngranted = [\"email\"]\n",
    );
    let s = Server::in_process_with(Server::args(&sb.db_url(), Some(&seed)), &sb)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(s.callbacks().is_empty());
    let (mut b, page) = signed_in_at(&s, "/settings/apps/", "dana@example.com", "dana-password");
    assert!(page.text.contains("Hooked"), "{}", page.text);
    let csrf = field(&page.text, "csrf").unwrap_or_default();
    let r = b.post(
        "/settings/apps/remove",
        &[("csrf", &csrf), ("app", "1000000000000077")],
    );
    assert_eq!(r.status, 303, "{}", r.text);
    let data = s.callbacks();
    assert_eq!(data.len(), 1, "{data:?}");
    assert_eq!(data[0]["kind"], "deauthorize", "{data:?}");
    assert!(
        data[0]["app_id"].to_string().contains("1000000000000077"),
        "{data:?}"
    );
    assert_eq!(data[0]["url"], "http://127.0.0.1:9/deauthorize", "{data:?}");
}

#[test]
fn a_persons_settings_remove_an_app_and_sign_out_everywhere() {
    let s = Server::seeded();
    let rival_token = s.issue("alice", "rival", &[], false);
    let (mut b, page) = signed_in_at(&s, "/settings/apps/", "alice@example.com", "alice-password");
    assert!(
        page.text.contains("Acme Social") && page.text.contains("Rival Scheduler"),
        "{}",
        page.text
    );
    let csrf = field(&page.text, "csrf").unwrap();
    let r = b.post("/settings/apps/remove", &[("csrf", &csrf), ("app", RIVAL)]);
    assert_eq!(r.status, 303);
    let page = b.get("/settings/apps/");
    assert!(
        page.text.contains("Rival Scheduler was removed"),
        "{}",
        page.text
    );
    assert!(!page.text.contains("<td>Rival Scheduler</td>"));
    let refused = s.get_as("/me", &rival_token);
    assert_eq!(
        refused.body["error"]["error_subcode"], 458,
        "{}",
        refused.text
    );
    // Another browser of alice's, then sign out everywhere: both are signed out.
    let (mut other, _) = signed_in_at(&s, "/settings/apps/", "alice@example.com", "alice-password");
    let r = b.post("/settings/sign-out-everywhere", &[("csrf", &csrf)]);
    assert_eq!(r.status, 303);
    assert!(b.get("/settings/apps/").text.contains(r#"action="/login""#));
    assert!(other
        .get("/settings/apps/")
        .text
        .contains(r#"action="/login""#));
}
