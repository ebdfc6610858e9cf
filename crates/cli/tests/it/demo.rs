//! A fresh database without `--seed`: the demo world, its banner, and `GET /healthz`.

use crate::harness::{enc, Server, ADMIN_KEY};

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
    // A key the operator chose is never printed.
    assert!(!banner.contains(ADMIN_KEY), "{banner}");
    assert!(after(&banner, "admin key").starts_with("the one you passed"));
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
fn a_seeded_server_prints_no_demo_banner_and_not_the_chosen_key() {
    let s = Server::seeded();
    assert_eq!(s.stdout.len(), 1, "{:?}", s.stdout);
    assert!(s.stdout[0].starts_with("graphtoken listening on http://"));
}

#[test]
fn a_generated_admin_key_is_printed_and_works() {
    let sb = crate::harness::Sandbox::new();
    let seed = crate::harness::fixture("world.toml");
    let s = Server::try_on_with_key(&sb, Some(&seed), None).unwrap();
    let key = s.stdout[0].strip_prefix("admin key: ").unwrap().to_string();
    assert!(
        key.len() == 32 && key.bytes().all(|b| b.is_ascii_alphanumeric()),
        "{key}"
    );
    assert_eq!(
        s.admin("GET", "/_admin/clock", None, Some(&key)).status,
        200
    );
    assert_eq!(
        s.admin("GET", "/_admin/clock", None, Some("wrong")).status,
        401
    );
}

#[test]
fn the_banner_is_shown_when_the_demo_world_is_created_only() {
    let sb = crate::harness::Sandbox::new();
    let first = Server::on(&sb, None);
    assert!(first.stdout.iter().any(|l| l.contains("demo app")));
    first.stop();
    let again = Server::on(&sb, None);
    assert!(
        !again.stdout.iter().any(|l| l.contains("demo app")),
        "{:?}",
        again.stdout
    );
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
