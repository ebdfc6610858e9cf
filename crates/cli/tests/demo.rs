//! A fresh database without `--seed`: the demo world, its banner, and `GET /healthz`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{enc, Server, ADMIN_KEY};

/// The value after `label` on the banner line that has it.
fn after<'a>(banner: &'a str, label: &str) -> &'a str {
    banner
        .lines()
        .find_map(|l| l.trim_start().strip_prefix(label))
        .unwrap_or_else(|| panic!("no `{label}` in banner:\n{banner}"))
        .trim()
}

#[test]
fn the_banner_walks_the_recipe() {
    let s = Server::demo();
    let banner = s.stdout.join("\n");
    assert!(after(&banner, "base URL").contains(&s.base), "{banner}");
    assert_eq!(after(&banner, "admin key"), ADMIN_KEY);
    // demo app     Demo App: id 123, secret abc
    let app = after(&banner, "demo app");
    let (_, rest) = app.split_once(": id ").unwrap();
    let (id, secret) = rest.split_once(", secret ").unwrap();
    assert!(id.parse::<u64>().is_ok(), "{app}");
    assert!(!secret.is_empty());
    let user = after(&banner, "demo user");
    let (email, password) = user.split_once(" / ").unwrap();
    assert!(email.contains('@') && !password.is_empty(), "{user}");
    assert_eq!(banner.matches("curl ").count(), 3, "{banner}");
    assert!(banner.contains(&format!("{}/_admin/tokens", s.base)));
    assert!(banner.contains("fb_exchange_token"));
    assert!(banner.contains("/me/accounts"));

    // The recipe itself, with what the banner printed.
    let short = s.issue(
        "demo",
        "demo",
        &["pages_show_list", "pages_read_engagement"],
        false,
    );
    let r = s.get(&format!(
        "/v25.0/oauth/access_token?grant_type=fb_exchange_token&client_id={id}&client_secret={secret}&fb_exchange_token={}",
        enc(&short)
    ));
    assert_eq!(r.status, 200, "{}", r.text);
    let long = r.str("access_token");
    let accounts = s.get_as("/v25.0/me/accounts", &long);
    let pages = accounts.body["data"].as_array().unwrap();
    assert_eq!(pages.len(), 2, "{}", accounts.text);
    let viewer = format!("{id}|{secret}");
    for p in pages {
        let token = p["access_token"].as_str().unwrap();
        let d = s.debug_as(token, &viewer).body;
        assert_eq!(d["data"]["expires_at"], 0, "{d}");
        assert_eq!(d["data"]["type"], "PAGE");
    }
}

#[test]
fn a_seeded_server_prints_no_demo_banner() {
    let s = Server::seeded();
    assert_eq!(s.stdout.len(), 2, "{:?}", s.stdout);
    assert_eq!(s.stdout[0], format!("admin key: {ADMIN_KEY}"));
}

#[test]
fn healthz_needs_no_auth() {
    let s = Server::demo();
    let r = s.get("/healthz");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=UTF-8")
    );
}
