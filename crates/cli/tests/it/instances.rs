//! Many instances on one PostgreSQL database (issue #10). Each test starts two servers on a new
//! database of the test command's PostgreSQL; without one they say so and pass (the test
//! command sets `GRAPHTOKEN_REQUIRE_POSTGRES`, which makes that a failure).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::browser::{is_consent, param, params_of, Browser};
use crate::harness::postgres::shared_database;
use crate::harness::{app_literal, enc, fixture, world, Sandbox, Server, ADMIN_KEY};
use crate::production::{metric, scrape};

/// Two servers on one new PostgreSQL database, the first applying the fixture world, and the
/// database's URL.
fn two_instances() -> Option<(Server, Server, String)> {
    two_instances_with("world.toml")
}

/// Like [`two_instances`], with another fixture world.
fn two_instances_with(world: &str) -> Option<(Server, Server, String)> {
    two_instances_seeded(&fixture(world))
}

/// Two servers on one new PostgreSQL database, the first applying `seed`, and its URL.
fn two_instances_seeded(seed: &std::path::Path) -> Option<(Server, Server, String)> {
    let db = shared_database()?;
    let a = Server::on_database(&db, Some(seed));
    let b = Server::on_database(&db, None);
    // An instance is ready before its change feed has connected; the tests start once both
    // follow the feed, however slow the machine.
    for s in [&a, &b] {
        let connected = || {
            metric(
                &scrape(s),
                r#"graphtoken_change_feed_connected{database="postgres"}"#,
            ) == 1.0
        };
        let start = Instant::now();
        while !connected() && start.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(connected(), "the change feed did not connect in 30 s");
    }
    Some((a, b, db))
}

#[test]
fn a_token_minted_on_one_instance_works_on_the_other_at_once() {
    let Some((a, b, _)) = two_instances() else {
        return;
    };
    let token = a.alice();
    let r = b.get_as("/me", &token);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["name"], a.get_as("/me", &token).body["name"]);
}

/// Asks `s` for `path` with `token` until it is refused, for at most `limit`; how long it
/// took.
fn refused_within(s: &Server, path: &str, token: &str, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if s.get_as(path, token).status != 200 {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

#[test]
fn every_invalidation_on_one_instance_reaches_the_other_s_cache() {
    let Some((a, b, _)) = two_instances() else {
        return;
    };
    let acme = format!("/{}", world::ACME);
    // Each kind of invalidation (the call on the first instance), on a token the second has
    // cached (and the path it is used on).
    type Case<'a> = (
        &'a str,
        &'a str,
        serde_json::Value,
        Box<dyn Fn() -> String + 'a>,
        &'a str,
    );
    let page_token = || {
        let long = a.exchange(&a.issue("alice", "acme", &["pages_show_list"], false));
        a.page_token(world::COFFEE, &long)
    };
    let cases: Vec<Case<'_>> = vec![
        (
            "security reset",
            "/_admin/users/alice/invalidate",
            json!({}),
            Box::new(|| a.alice()),
            "/me",
        ),
        (
            "logout",
            "/_admin/users/alice/logout",
            json!({}),
            Box::new(|| a.alice()),
            "/me",
        ),
        (
            "password change",
            "/_admin/users/alice/password",
            json!({"password": "n3w-pass"}),
            Box::new(|| a.alice()),
            "/me",
        ),
        (
            "lost Page task",
            "/_admin/pages/coffee/tasks",
            json!({"user": "alice", "tasks": []}),
            Box::new(page_token),
            "/me",
        ),
        (
            "secret reset",
            "/_admin/apps/acme/reset_secret",
            json!({}),
            Box::new(app_literal),
            &acme,
        ),
        (
            "app removal",
            "/_admin/users/alice/apps/acme/remove",
            json!({}),
            Box::new(|| a.alice()),
            "/me",
        ),
    ];
    for (what, call, body, token, path) in cases {
        let token = token();
        for _ in 0..2 {
            let r = b.get_as(path, &token);
            assert_eq!(r.status, 200, "{what}: before: {}", r.text);
        }
        let r = a.admin_post(call, body);
        assert!(r.status < 300, "{what}: {}", r.text);
        assert_eq!(
            a.get_as(path, &token).status,
            400,
            "{what}: on the instance that revoked"
        );
        let took = refused_within(&b, path, &token, Duration::from_secs(10));
        assert!(
            took.is_some(),
            "{what}: the other instance still accepts the token"
        );
    }
}

#[test]
fn a_revocation_while_the_feed_is_cut_arrives_after_it_reconnects() {
    let Some((a, b, db)) = two_instances() else {
        return;
    };
    let token = a.alice();
    assert_eq!(b.get_as("/me", &token).status, 200);
    // Both instances lose their feed connection; the revocation happens before they are back.
    let cut = "DO $$ BEGIN \
               IF (SELECT count(*) FROM pg_stat_activity \
                   WHERE application_name = 'graphtoken-changes' \
                   AND datname = current_database()) < 2 \
               THEN RAISE EXCEPTION 'the feed connections are not there'; END IF; END $$; \
               SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
               WHERE application_name = 'graphtoken-changes' AND datname = current_database()";
    graphtoken_store::conformance::postgres_batch(&db, cut).unwrap_or_else(|e| panic!("{e}"));
    let r = a.admin_post("/_admin/users/alice/invalidate", json!({}));
    assert!(r.status < 300, "{}", r.text);
    let took = refused_within(&b, "/me", &token, Duration::from_secs(10));
    assert!(
        took.is_some(),
        "the other instance missed the revocation made while its feed was cut"
    );
}

#[test]
fn the_virtual_clock_is_one_clock() {
    let Some((a, b, _)) = two_instances() else {
        return;
    };
    let token = a.alice();
    assert_eq!(b.get_as("/me", &token).status, 200);
    // Two hours on, on the first instance: the short-lived token has expired on both.
    let moved = a.advance(2 * 3600);
    let start = Instant::now();
    while b.clock() < moved - 5 && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        b.clock() >= moved - 5,
        "the other instance's clock did not move"
    );
    let r = b.get_as("/me", &token);
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["error"]["error_subcode"], 463, "{}", r.text);
}

#[test]
fn a_code_is_redeemed_once_across_instances() {
    let Some((a, b, _)) = two_instances_with("login.toml") else {
        return;
    };
    const WEB: &str = "1000000000000011";
    const CB: &str = "https://app.test/cb";
    let mut browser = Browser::new(&a);
    let url = format!(
        "/v25.0/dialog/oauth?client_id={WEB}&redirect_uri={}&scope=email",
        enc(CB)
    );
    let page = browser.get(&url);
    let page = browser.sign_in(&page, "alice@login.test", "alice-password");
    let page = if is_consent(&page) {
        browser.answer(&page, &["email"], true)
    } else {
        page
    };
    assert_eq!(page.status, 302, "{}", page.text);
    let location = page.header("location").unwrap_or_default().to_string();
    let code = param(&params_of(&location, false), "code").unwrap_or_default();
    assert!(!code.is_empty(), "{location}");
    // Eight redemptions at once, half through each instance: one token, seven refusals.
    let servers = [&a, &b];
    let answers: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let (s, code) = (servers[i % 2], code.as_str());
                scope.spawn(move || {
                    let form = [
                        ("grant_type", "authorization_code"),
                        ("client_id", WEB),
                        ("client_secret", "web-secret-0123456789abcdef"),
                        ("redirect_uri", CB),
                        ("code", code),
                    ];
                    s.post_form("/v25.0/oauth/access_token", &form).status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).collect()
    });
    let ok = answers.iter().filter(|s| **s == 200).count();
    assert_eq!(ok, 1, "{answers:?}");
    assert!(
        answers.iter().all(|s| *s == 200 || *s == 400),
        "{answers:?}"
    );
}

/// An app's endpoint on loopback that answers every POST with 200 and counts them.
fn receiver() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let url = format!(
        "http://{}/hook",
        listener.local_addr().unwrap_or_else(|e| panic!("{e}"))
    );
    let posts = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&posts);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let counted = Arc::clone(&counted);
            std::thread::spawn(move || answer(stream, &counted));
        }
    });
    (url, posts)
}

/// Reads one request (headers and body) and answers `{}`; counts it.
fn answer(mut stream: TcpStream, posts: &AtomicUsize) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let complete = |buf: &[u8]| {
        let text = String::from_utf8_lossy(buf);
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            return false;
        };
        let length = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse::<usize>().ok())
                    .flatten()
            })
            .unwrap_or(0);
        body.len() >= length
    };
    while !complete(&buf) {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    posts.fetch_add(1, Ordering::SeqCst);
    let _ = stream.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
    );
}

#[test]
fn each_callback_is_delivered_once_although_every_instance_runs_the_outbox() {
    let (hook, posts) = receiver();
    let sb = Sandbox::new();
    let seed = sb.write(
        "hooked.toml",
        &format!(
            "[[apps]]\nkey = \"hooked\"\nname = \"Hooked\"\ndata_deletion_url = \"{hook}\"\n\
             [[users]]\nkey = \"dana\"\nname = \"Dana\"\n"
        ),
    );
    let Some((a, b, _)) = two_instances_seeded(&seed) else {
        return;
    };
    let sent = 12;
    for i in 0..sent {
        let s = if i % 2 == 0 { &a } else { &b };
        let r = s.admin_post("/_admin/users/dana/apps/hooked/data_deletion", json!({}));
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let start = Instant::now();
    while posts.load(Ordering::SeqCst) < sent && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    // Long enough for every instance to have looked at the outbox again.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(posts.load(Ordering::SeqCst), sent);
    for s in [&a, &b] {
        let data = s.callbacks();
        assert_eq!(data.len(), sent, "{data:?}");
        assert!(
            data.iter()
                .all(|c| c["status"] == "delivered" && c["attempts"] == 1),
            "{data:?}"
        );
    }
}

#[test]
fn wrong_passwords_sent_to_both_instances_count_together() {
    let Some((a, b, _)) = two_instances_with("login.toml") else {
        return;
    };
    const WEB: &str = "1000000000000011";
    let url = format!(
        "/v25.0/dialog/oauth?client_id={WEB}&redirect_uri={}",
        enc("https://app.test/cb")
    );
    let (mut on_a, mut on_b) = (Browser::new(&a), Browser::new(&b));
    let (page_a, page_b) = (on_a.get(&url), on_b.get(&url));
    // Five wrong passwords, alternating: each instance saw fewer than five.
    for i in 0..5 {
        let r = if i % 2 == 0 {
            on_a.submit_sign_in(&page_a, "alice@login.test", "nope")
        } else {
            on_b.submit_sign_in(&page_b, "alice@login.test", "nope")
        };
        assert_eq!(r.status, 401, "{}", r.text);
    }
    for (browser, page) in [(&mut on_a, &page_a), (&mut on_b, &page_b)] {
        let r = browser.submit_sign_in(page, "alice@login.test", "alice-password");
        assert_eq!(r.status, 429, "{}", r.text);
        assert!(r.text.contains("Too many failed attempts"), "{}", r.text);
    }
}

#[test]
fn an_instance_killed_under_load_loses_no_acknowledged_token_and_the_other_serves_on() {
    let Some(db) = shared_database() else {
        return;
    };
    let key = crate::harness::ADMIN_KEY;
    let (sa, sb) = (Sandbox::new(), Sandbox::new());
    let mut a = Server::process_on(&sa, &db, Some(&fixture("world.toml")), Some(key), &[])
        .unwrap_or_else(|e| panic!("{e}"));
    let b = Server::process_on(&sb, &db, None, Some(key), &[]).unwrap_or_else(|e| panic!("{e}"));
    // Four clients mint tokens on A as fast as it answers; A is killed after a while.
    let mint = a.url("/_admin/tokens");
    let tokens = a.kill9_under_load(4, Duration::from_millis(1500), || {
        ureq::post(&mint)
            .set("Authorization", &format!("Bearer {key}"))
            .send_json(json!({"user": "alice", "app": "acme", "scopes": []}))
            .ok()
    });
    for t in &tokens {
        let r = b.get_as("/me", t);
        assert_eq!(r.status, 200, "an acknowledged token was lost: {}", r.text);
    }
    // B goes on serving: it mints and answers on its own.
    let fresh = b.alice();
    assert_eq!(b.get_as("/me", &fresh).status, 200);
}

/// A budget changed through one instance's admin API is in force on the other one too (it
/// hears of the app's change through the database).
#[test]
fn a_budget_changed_on_one_instance_holds_on_the_other() {
    let Some((a, b, _)) = two_instances() else {
        return;
    };
    let token = a.alice();
    assert_eq!(b.get_as("/me", &token).status, 200);
    let r = a.admin_post("/_admin/apps/acme/rate_limits", json!({"user": 2}));
    assert_eq!(r.status, 200, "{}", r.text);
    let took = refused_within(&b, "/me", &token, Duration::from_secs(10));
    assert!(took.is_some(), "the other instance kept the old budget");
    let refused = b.get_as("/me", &token);
    assert_eq!(refused.body["error"]["code"], 17, "{}", refused.text);
}

#[test]
fn an_app_s_budget_is_shared_by_the_instances() {
    let sb = Sandbox::new();
    let seed = sb.write(
        "limited.toml",
        "[[apps]]\nkey = \"tight\"\nname = \"Tight\"\nrate_limits = { app = 20 }\n\
         [[users]]\nkey = \"ann\"\nname = \"Ann\"\n\
         [[grants]]\nuser = \"ann\"\napp = \"tight\"\n",
    );
    let Some((a, b, _)) = two_instances_seeded(&seed) else {
        return;
    };
    let token = a.issue("ann", "tight", &[], false);
    // Forty calls, two to each instance at a time, with a pause longer than the exchange
    // interval after each four: the instances never admit more than that between exchanges.
    // Around the budget (after calls 12 to 24) the pause is eight intervals, so a loaded
    // machine's late exchange still comes before the next four.
    let (mut admitted, mut refused) = (0, 0);
    for i in 0..40 {
        let s = if i % 2 == 0 { &a } else { &b };
        let r = s.get_as("/me", &token);
        match r.status {
            200 => admitted += 1,
            _ => {
                assert_eq!(r.body["error"]["code"], 4, "{}", r.text);
                refused += 1;
            }
        }
        if i % 4 == 3 {
            let near = (11..24).contains(&i);
            std::thread::sleep(Duration::from_millis(if near { 2000 } else { 600 }));
        }
    }
    // The budget is 20 calls an hour for the app, whichever instance takes them; the bound on
    // overshoot is what the other instance admitted since the last exchange (here at most 2).
    assert!(
        (20..=22).contains(&admitted),
        "admitted {admitted}, refused {refused}"
    );
    assert_eq!(admitted + refused, 40);
}

#[test]
fn test_user_caps_hold_across_instances() {
    let Some((a, b, _)) = two_instances_with("test_users.toml") else {
        return;
    };
    // The fixture's development app may have three test users; eight are asked for at once,
    // half through each instance.
    const DEV: &str = "1000000000000021";
    let token = format!("{DEV}|tu-dev-secret-0123456789abcdef");
    let path = format!("/v25.0/{DEV}/accounts/test-users");
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let (s, token, path) = (if i % 2 == 0 { &a } else { &b }, &token, &path);
                scope.spawn(move || {
                    s.post_form(path, &[("access_token", token), ("installed", "false")])
                        .status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|c| **c == 200).count(),
        3,
        "{statuses:?}"
    );
    let listed = b.get_as(&path, &token);
    assert_eq!(
        listed.body["data"].as_array().map(Vec::len),
        Some(3),
        "{}",
        listed.text
    );
}

#[test]
fn a_fault_armed_on_one_instance_fires_exactly_its_times_across_both() {
    let Some((a, b, _)) = two_instances() else {
        return;
    };
    let token = a.alice();
    let r = a.admin_post(
        "/_admin/faults",
        json!({"error": "service", "times": 3, "match": {"path": "/me"}}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    // The second instance hears of it through the database; its first refusal counts.
    let start = Instant::now();
    let mut failed = 0;
    while failed == 0 && start.elapsed() < Duration::from_secs(10) {
        if b.get_as("/me", &token).status != 200 {
            failed += 1;
        }
    }
    assert_eq!(failed, 1, "the other instance never fired the fault");
    // Alternating, the fault fires twice more, then never.
    let statuses: Vec<u16> = (0..8)
        .map(|i| {
            if i % 2 == 0 { &a } else { &b }
                .get_as("/me", &token)
                .status
        })
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s != 200).count(),
        2,
        "{statuses:?}"
    );
    assert!(statuses[2..].iter().all(|s| *s == 200), "{statuses:?}");
    // Both list it the same: fired three times, spent.
    for s in [&a, &b] {
        let listed = s.admin("GET", "/_admin/faults", None, Some(ADMIN_KEY));
        let f = &listed.body["data"][0];
        assert_eq!(
            (f["fired"].as_u64(), f["armed"].as_bool()),
            (Some(3), Some(false)),
            "{}",
            listed.text
        );
    }
    // Cleared on the second, gone from the first.
    let r = b.admin("DELETE", "/_admin/faults", None, Some(ADMIN_KEY));
    assert_eq!(r.status, 200, "{}", r.text);
    let listed = a.admin("GET", "/_admin/faults", None, Some(ADMIN_KEY));
    assert_eq!(listed.body["data"], json!([]), "{}", listed.text);
}

#[test]
fn metrics_show_the_pool_and_how_the_change_feed_keeps_up() {
    let Some((a, b, _)) = two_instances() else {
        return;
    };
    let token = a.alice();
    assert_eq!(b.get_as("/me", &token).status, 200);
    let r = a.admin_post("/_admin/users/alice/invalidate", json!({}));
    assert!(r.status < 300, "{}", r.text);
    assert!(refused_within(&b, "/me", &token, Duration::from_secs(10)).is_some());
    let text = scrape(&b);
    let line = |prefix: &str| metric(&text, prefix);
    assert_eq!(line(r#"graphtoken_db_connections{state="max"}"#), 16.0);
    assert!(line(r#"graphtoken_db_connections{state="open"}"#) >= 1.0);
    assert_eq!(
        line(r#"graphtoken_change_feed_connected{database="postgres"}"#),
        1.0
    );
    assert!(line(r#"graphtoken_change_feed_changes_total{database="postgres"}"#) >= 1.0);
    // Lateness is counted, not asserted away: a loaded machine may hear a change late.
    let late = line(r#"graphtoken_change_feed_late_changes_total{database="postgres"}"#);
    assert!(late <= line(r#"graphtoken_change_feed_changes_total{database="postgres"}"#));
    assert!(line(r#"graphtoken_change_feed_lag_seconds{database="postgres"}"#) < 10.0);
}
