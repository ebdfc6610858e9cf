//! `graphtoken serve --production`: the production token service. An operator's admin API only,
//! no demo world, the machine's clock, and an admin key that must be given.

use serde_json::json;

use crate::harness::{fixture, Sandbox, Server};

fn production(sb: &Sandbox, seed: Option<&std::path::Path>) -> Result<Server, String> {
    let mut args = Server::args(&sb.db_url(), seed);
    args.production = true;
    Server::in_process_with(args, sb)
}

#[test]
fn only_an_operator_s_admin_api_is_served() {
    let sb = Sandbox::new();
    let s = production(&sb, Some(&fixture("world.toml"))).unwrap_or_else(|e| panic!("{e}"));
    // The emulator's controls are not there.
    for (method, path) in [
        ("POST", "/_admin/tokens"),
        ("GET", "/_admin/faults"),
        ("POST", "/_admin/faults"),
        ("POST", "/_admin/users/alice/password"),
        ("POST", "/_admin/users/alice/apps/acme/data_deletion"),
        ("POST", "/_admin/pages/coffee/messages"),
    ] {
        let r = s.admin(
            method,
            path,
            Some(json!({})),
            Some(crate::harness::ADMIN_KEY),
        );
        assert_eq!(r.status, 404, "{method} {path}: {}", r.text);
    }
    let moved = s.admin_post("/_admin/clock", json!({"advance_seconds": 60}));
    assert_eq!(moved.status, 405, "{}", moved.text);
    // An operator's are.
    assert_eq!(
        s.admin(
            "GET",
            "/_admin/callbacks",
            None,
            Some(crate::harness::ADMIN_KEY)
        )
        .status,
        200
    );
    assert_eq!(
        s.admin(
            "GET",
            "/_admin/clock",
            None,
            Some(crate::harness::ADMIN_KEY)
        )
        .status,
        200
    );
    let r = s.admin_post("/_admin/users/alice/invalidate", json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s.admin_post("/_admin/apps/acme/reset_secret", json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    // Without the key, nothing.
    assert_eq!(s.admin("GET", "/_admin/callbacks", None, None).status, 401);
}

#[test]
fn a_new_database_gets_no_demo_world_and_the_key_must_be_given() {
    let sb = Sandbox::new();
    let s = production(&sb, None).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        s.stdout.iter().all(|l| !l.contains("demo")),
        "{:?}",
        s.stdout
    );
    drop(s);
    let conn = rusqlite::Connection::open(sb.db_path()).unwrap_or_else(|e| panic!("{e}"));
    let apps: i64 = conn
        .query_row("SELECT COUNT(*) FROM apps", [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(apps, 0);

    let other = Sandbox::new();
    let mut args = Server::args(&other.db_url(), None);
    args.production = true;
    args.admin_key = None;
    let refused = Server::in_process_with(args, &other)
        .err()
        .unwrap_or_default();
    assert!(
        refused.contains("--production needs --admin-key"),
        "{refused}"
    );
}

#[test]
fn the_clock_is_the_machine_s() {
    let sb = Sandbox::new();
    let emulator = Server::in_process(&sb.db_url(), &sb, Some(&fixture("world.toml")))
        .unwrap_or_else(|e| panic!("{e}"));
    let moved = emulator.advance(10 * 86_400);
    drop(emulator);
    let s = production(&sb, None).unwrap_or_else(|e| panic!("{e}"));
    let now = s.clock();
    let real = crate::harness::real_now();
    assert!(
        (now - real).abs() < 60,
        "production clock {now}, machine {real}"
    );
    assert!(moved - now > 9 * 86_400);
}

#[test]
fn readyz_says_whether_the_database_answers_with_the_schema_wanted() {
    let s = Server::seeded();
    let r = s.get("/readyz");
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({"status": "ready"}));
}

#[test]
fn a_schema_behind_makes_readyz_fail_and_logs_why_as_json() {
    let sb = Sandbox::new();
    // Another process changes the file while the server runs: the file must be shared.
    let s = Server::process_on(
        &sb,
        &format!("{}?locking=shared", sb.db_url()),
        Some(&fixture("world.toml")),
        Some(crate::harness::ADMIN_KEY),
        &["--log-format", "json"],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.get("/readyz").status, 200);
    let conn = rusqlite::Connection::open(sb.db_path()).unwrap_or_else(|e| panic!("{e}"));
    // A newer schema (migrated for the next version) still serves: rolling out goes on.
    conn.execute(
        "INSERT INTO schema_version (version, applied_at) VALUES (999, 0)",
        [],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.get("/readyz").status, 200);
    // One behind is not ready.
    conn.execute("DELETE FROM schema_version WHERE version >= (SELECT MAX(version) - 1 FROM schema_version WHERE version < 999)", [])
        .unwrap_or_else(|e| panic!("{e}"));
    let r = s.get("/readyz");
    assert_eq!(r.status, 503, "{}", r.text);
    assert_eq!(r.body, json!({"status": "unavailable"}));
    // The Graph API itself goes on answering from what it has.
    assert_eq!(s.get("/healthz").status, 200);
    let (_, stderr) = s.stop();
    let line = stderr
        .lines()
        .find(|l| l.contains("not ready"))
        .unwrap_or_else(|| panic!("no `not ready` in the log: {stderr}"));
    let entry: serde_json::Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    assert_eq!(entry["level"], "WARN", "{entry}");
    assert!(
        entry["fields"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("is at schema version"),
        "{entry}"
    );
}

#[test]
fn metrics_count_requests_caches_and_callbacks_for_the_admin_key() {
    let s = Server::seeded();
    let token = s.alice();
    for _ in 0..3 {
        assert_eq!(s.get_as("/me", &token).status, 200);
    }
    assert_eq!(s.get_as("/me", "EAAnot-a-token").status, 400);
    assert_eq!(s.get("/metrics").status, 401);
    let text = scrape(&s);
    let line = |prefix: &str| metric(&text, prefix);
    assert!(line(r#"graphtoken_http_requests_total{route="graph",status="200"}"#) >= 3.0);
    assert!(line(r#"graphtoken_http_requests_total{route="graph",status="400"}"#) >= 1.0);
    assert!(line(r#"graphtoken_http_requests_total{route="admin",status="200"}"#) >= 1.0);
    assert!(line(r#"graphtoken_http_request_duration_seconds_count{route="graph"}"#) >= 4.0);
    assert!(line(r#"graphtoken_cache{cache="tokens",what="hits"}"#) >= 2.0);
    assert!(line(r#"graphtoken_cache{cache="tokens",what="entries"}"#) >= 1.0);
    assert_eq!(line(r#"graphtoken_callbacks{status="pending"}"#), 0.0);
    // SQLite has no pool or change feed to report (the PostgreSQL run of these tests has).
    if std::env::var("GRAPHTOKEN_IT_DB").as_deref() != Ok("postgres") {
        assert!(!text.contains("graphtoken_db_connections"), "{text}");
        assert!(!text.contains("graphtoken_change_feed"), "{text}");
    }
}

#[test]
fn the_memory_budget_sizes_the_caches() {
    let capacity = |budget: u64| {
        let sb = Sandbox::new();
        let mut args = Server::args(&sb.db_url(), Some(&fixture("world.toml")));
        args.memory_budget = budget;
        let s = Server::in_process_with(args, &sb).unwrap_or_else(|e| panic!("{e}"));
        metric(
            &scrape(&s),
            r#"graphtoken_cache{cache="tokens",what="capacity"}"#,
        )
    };
    // The caches get what is left after 96 MiB for the rest: 32 MiB of 128, 160 of 256, and
    // the tokens 51% of that (about 45,500 and 227,500 of them).
    let (small, default) = (capacity(128), capacity(256));
    assert!(small >= 44_000.0, "{small}");
    assert!((default / small - 5.0).abs() < 0.1, "{default} / {small}");
    // Under what the rest of the process needs, the server refuses to start, saying why.
    let (status, _, err) = crate::harness::run(&["serve", "--memory-budget", "100"], &[]);
    assert!(!status.success());
    assert!(
        err.contains("--memory-budget") && err.contains("128"),
        "{err}"
    );
}

/// `/metrics` as the admin key sees it.
pub fn scrape(s: &Server) -> String {
    let r = s.get_with_header(
        "/metrics",
        "Authorization",
        &format!("Bearer {}", crate::harness::ADMIN_KEY),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    r.text
}

/// Whether counts of cache reads are exact: on PostgreSQL the change feed also reports this
/// instance's own writes, a moment later, and drops what they touched once more.
pub fn reads_are_exact() -> bool {
    std::env::var("GRAPHTOKEN_IT_DB").as_deref() != Ok("postgres")
}

/// How often people's Page lists were read (the `user_pages` cache's hits and misses): a kept
/// `/me/accounts` answer reads none.
pub fn page_list_reads(s: &Server) -> f64 {
    let text = scrape(s);
    metric(&text, r#"graphtoken_cache{cache="user_pages",what="hits"}"#)
        + metric(
            &text,
            r#"graphtoken_cache{cache="user_pages",what="misses"}"#,
        )
}

/// The value of the series `prefix` starts in the exposition `text`.
pub fn metric(text: &str, prefix: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no `{prefix}` in {text}"))
}

#[test]
fn a_cached_token_reads_its_session_from_its_entry_until_a_session_is_dropped() {
    let s = Server::seeded();
    let token = s.alice();
    let session_reads = |s: &Server| {
        let text = scrape(s);
        metric(&text, r#"graphtoken_cache{cache="sessions",what="hits"}"#)
            + metric(&text, r#"graphtoken_cache{cache="sessions",what="misses"}"#)
    };
    let me_three_times = || {
        for _ in 0..3 {
            assert_eq!(s.get_as("/me", &token).status, 200);
        }
    };
    assert_eq!(s.get_as("/me", &token).status, 200);
    let before = session_reads(&s);
    me_three_times();
    assert_eq!(
        session_reads(&s),
        before,
        "the session came from the token's entry"
    );
    // Forty of Bob's sessions end at once: every shard of the sessions cache drops one, so the
    // copy in Alice's entry is out of date. It is read once from the sessions cache, and the
    // entry keeps the new copy.
    let bobs: Vec<String> = (0..40)
        .map(|_| s.issue("bob", "acme", &[], false))
        .collect();
    let r = s.post_form(
        "/me/permissions",
        &[("access_token", bobs[0].as_str()), ("method", "delete")],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(s.get_as("/me", &bobs[39]).status, 400);
    let before = session_reads(&s);
    me_three_times();
    // Another instance's changes on PostgreSQL may drop sessions meanwhile: exact on SQLite.
    if std::env::var("GRAPHTOKEN_IT_DB").as_deref() != Ok("postgres") {
        assert_eq!(
            session_reads(&s),
            before + 1.0,
            "read once, then kept again"
        );
    }
}
