//! `graphtoken token issue|debug` and `graphtoken clock show|advance|set` against a running
//! server, with flags and with `GRAPHTOKEN_SERVER` / `GRAPHTOKEN_ADMIN_KEY`.

use crate::harness::world::*;
use crate::harness::{run, Server, ADMIN_KEY};

fn line<'a>(verdict: &'a str, label: &str) -> &'a str {
    verdict
        .lines()
        .find(|l| l.starts_with(label))
        .unwrap_or_else(|| panic!("no `{label}` line in:\n{verdict}"))
}

#[test]
fn token_issue_prints_a_working_token() {
    let s = Server::seeded();
    let out = s.cli(&[
        "token",
        "issue",
        "--user",
        "alice",
        "--app",
        "acme",
        "--scopes",
        "email,pages_show_list",
    ]);
    let token = out.trim();
    assert!(
        token.starts_with("EAA") && !token.contains(char::is_whitespace),
        "{out:?}"
    );
    let d = s.debug(token);
    assert_eq!(d["is_valid"], true);
    // The clock is read after the token was made: a second may have passed between them.
    let left = d["expires_at"].as_i64().unwrap() - s.clock();
    assert!((SHORT - 5..=SHORT).contains(&left), "{left}");

    let out = s.cli(&[
        "token", "issue", "--user", "bob", "--app", ACME, "--scopes", "email", "--long",
    ]);
    let d = s.debug(out.trim());
    assert!((d["expires_at"].as_i64().unwrap() - s.clock() - LONG).abs() <= 5);
    assert!(crate::harness::scopes(&d).contains(&"email".to_string()));
}

#[test]
fn token_debug_reads_well() {
    let s = Server::seeded();
    let long = s.exchange(&s.alice());
    let page = s.page_token(COFFEE, &long);

    let v = s.cli(&["token", "debug", &long]);
    assert_eq!(
        line(&v, "valid:").split_whitespace().nth(1),
        Some("yes"),
        "{v}"
    );
    assert!(line(&v, "type:").ends_with("USER"), "{v}");
    assert!(
        line(&v, "app:").contains(ACME_NAME) && line(&v, "app:").contains(ACME),
        "{v}"
    );
    assert!(
        line(&v, "scopes:").contains("email, pages_show_list, public_profile"),
        "{v}"
    );
    assert!(line(&v, "expires:").contains("UTC"), "{v}");

    let v = s.cli(&["token", "debug", &page]);
    assert!(line(&v, "type:").ends_with("PAGE"), "{v}");
    assert!(line(&v, "page:").contains(COFFEE), "{v}");
    assert!(line(&v, "expires:").ends_with("never"), "{v}");

    let v = s.cli(&["token", "debug", "garbage"]);
    assert!(line(&v, "valid:").contains("no"), "{v}");
    assert!(v.contains("Cannot parse access token"), "{v}");

    s.cli(&["clock", "advance", "61d"]);
    let v = s.cli(&["token", "debug", &long]);
    assert!(line(&v, "valid:").contains("no (190/463)"), "{v}");
    assert!(v.contains("Session has expired"), "{v}");
    let v = s.cli(&["token", "debug", &page]);
    assert_eq!(
        line(&v, "valid:").split_whitespace().nth(1),
        Some("yes"),
        "{v}"
    );
}

#[test]
fn clock_show_advance_and_set() {
    let s = Server::seeded();
    let before = s.clock();
    let shown = s.cli(&["clock", "show"]);
    assert!(shown.contains(" UTC ("), "{shown}");
    let out = s.cli(&["clock", "advance", "61d"]);
    assert!((s.clock() - before - 61 * DAY).abs() <= 5, "{out}");
    let out = s.cli(&["clock", "set", "2030-01-01"]);
    assert!(out.starts_with("2030-01-01 00:00:0"), "{out}");
    assert!((s.clock() - 1_893_456_000).abs() <= 5);
    let out = s.cli(&["clock", "advance", "-1d"]);
    assert!(out.starts_with("2029-12-31"), "{out}");
}

#[test]
fn the_environment_names_the_server_and_key() {
    let s = Server::seeded();
    let env = [
        ("GRAPHTOKEN_SERVER", s.base.as_str()),
        ("GRAPHTOKEN_ADMIN_KEY", ADMIN_KEY),
    ];
    let (status, out, err) = run(&["clock", "set", "2031-06-01"], &env);
    assert!(status.success(), "{err}");
    assert!(out.starts_with("2031-06-01"), "{out}");
    let (status, out, err) = run(
        &["token", "issue", "--user", "carol", "--app", "acme"],
        &env,
    );
    assert!(status.success(), "{err}");
    assert_eq!(s.get_as("/me", out.trim()).body["name"], "Carol Nopage");
}

#[test]
fn client_commands_fail_clearly() {
    let s = Server::seeded();
    // No key at all.
    let (status, _, err) = run(&["clock", "show", "--server", &s.base], &[]);
    assert!(!status.success());
    assert!(err.contains("admin key"), "{err}");
    // A wrong key: the server's 401 message is shown.
    let (status, _, err) = run(
        &["clock", "show", "--server", &s.base, "--admin-key", "nope"],
        &[],
    );
    assert!(!status.success());
    assert!(err.contains("401"), "{err}");
    // Bad arguments.
    let args = ["--server", s.base.as_str(), "--admin-key", ADMIN_KEY];
    for bad in [
        vec!["clock", "advance", "3y"],
        vec!["clock", "set", "yesterday"],
    ] {
        let mut all = bad.clone();
        all.extend(args);
        let (status, _, err) = run(&all, &[]);
        assert!(!status.success(), "{bad:?}");
        assert!(err.contains(bad[2]), "{err}");
    }
    let mut all = vec![
        "token",
        "issue",
        "--user",
        "alice",
        "--app",
        "acme",
        "--scopes",
        "manage_pagez",
    ];
    all.extend(args);
    let (status, _, err) = run(&all, &[]);
    assert!(!status.success());
    assert!(err.contains("manage_pagez"), "{err}");
}

#[test]
fn event_commands_end_the_right_tokens() {
    let s = Server::seeded();
    let short = s.issue("alice", "acme", &[], false);
    let long = s.issue("alice", "acme", &[], true);
    let out = s.cli(&["user", "logout", "alice"]);
    assert!(out.contains("\"success\":true"), "{out}");
    assert_eq!(s.get_as("/me", &short).body["error"]["error_subcode"], 467);
    assert_eq!(s.get_as("/me", &long).status, 200);

    s.cli(&["user", "status", "alice", "checkpointed"]);
    assert_eq!(s.get_as("/me", &long).body["error"]["error_subcode"], 459);
    s.cli(&["user", "status", "alice", "active"]);
    assert_eq!(s.get_as("/me", &long).status, 200);

    s.cli(&["app", "remove", "acme", "--user", "alice"]);
    assert_eq!(s.get_as("/me", &long).body["error"]["error_subcode"], 458);

    let fresh = s.issue("bob", "acme", &[], false);
    s.cli(&["user", "password", "bob", "--password", "n3w-pass"]);
    assert_eq!(s.get_as("/me", &fresh).body["error"]["error_subcode"], 460);

    let out = s.cli(&["app", "reset-secret", "acme"]);
    let secret: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(secret["secret"].as_str().unwrap().len(), 32, "{out}");
    let old = crate::harness::app_literal();
    assert_eq!(
        s.get_as(&format!("/{ACME}"), &old).body["error"]["code"],
        190
    );
}

/// `graphtoken bench populate` stores working tokens of the people named, spread over one
/// session each, and writes them one per line; bad references change nothing.
#[test]
fn bench_populate_stores_working_tokens_and_writes_them() {
    let sb = crate::harness::Sandbox::new();
    let db = sb.db_url();
    // Before the world is seeded, there is no database to fill, and none is made.
    let (bad, _, err) = run(
        &[
            "bench",
            "populate",
            "--db",
            &db,
            "--app",
            "acme",
            "--users",
            "alice",
            "--tokens",
            "1",
            "--out",
            "/nonexistent/tokens.txt",
        ],
        &[],
    );
    assert!(!bad.success());
    assert!(err.contains("gt.db does not exist"), "{err}");
    assert!(!sb.db_path().exists());
    assert!(
        !sb.db_path().with_extension("db.key").exists(),
        "no key either"
    );
    let seed = crate::harness::fixture("world.toml");
    let (ok, _, err) = run(&["seed", "--db", &db, &seed.display().to_string()], &[]);
    assert!(ok.success(), "{err}");
    let out = sb.write("unused", "");
    let out = out.with_file_name("tokens.txt");
    let out_text = out.display().to_string();
    let populate = |users: &str, app: &str| {
        run(
            &[
                "bench", "populate", "--db", &db, "--app", app, "--users", users, "--tokens",
                "1000", "--scopes", "email", "--long", "--out", &out_text,
            ],
            &[],
        )
    };
    let (bad, _, err) = populate("alice,nobody", "acme");
    assert!(!bad.success());
    assert!(err.contains("no person \"nobody\""), "{err}");
    let (bad, _, err) = populate("alice", "no-such-app");
    assert!(!bad.success());
    assert!(err.contains("no app"), "{err}");
    assert!(!out.exists(), "a refused run made no file");

    let (ok, stdout, err) = populate("alice,bob", "acme");
    assert!(ok.success(), "{err}");
    assert!(stdout.contains("stored 1000 tokens"), "{stdout}");
    let text = std::fs::read_to_string(&out).unwrap_or_else(|e| panic!("{e}"));
    let tokens: Vec<&str> = text.lines().collect();
    assert_eq!(tokens.len(), 1000);
    let distinct: std::collections::HashSet<_> = tokens.iter().collect();
    assert_eq!(distinct.len(), 1000);
    // The file exists now: a second run refuses to overwrite it.
    let (again, _, err) = populate("alice,bob", "acme");
    assert!(!again.success());
    assert!(err.contains("cannot create"), "{err}");
    assert_eq!(
        sb.tokens_stored(&tokens),
        1000,
        "every token's row is stored"
    );

    let s = Server::on(&sb, None);
    let mut names = std::collections::HashSet::new();
    for t in tokens.iter().step_by(97) {
        let r = s.get_as("/me", t);
        assert_eq!(r.status, 200, "{}", r.text);
        names.insert(r.body["name"].as_str().unwrap_or_default().to_string());
        let d = s.debug(t);
        // Long-lived, with the scope asked for joined to what the person had granted.
        let left = d["expires_at"].as_i64().unwrap_or_default()
            - d["issued_at"].as_i64().unwrap_or_default();
        assert_eq!(left, 60 * 86_400, "{d}");
        let scopes = d["scopes"].as_array().cloned().unwrap_or_default();
        assert!(scopes.contains(&serde_json::json!("email")), "{d}");
    }
    assert_eq!(names.len(), 2, "{names:?}");
}
