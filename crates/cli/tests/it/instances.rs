//! Many instances on one PostgreSQL database (issue #10). Each test starts two servers on a new
//! database of the test command's PostgreSQL; without one they say so and pass (the test
//! command sets `GRAPHTOKEN_REQUIRE_POSTGRES`, which makes that a failure).

use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::browser::{is_consent, param, params_of, Browser};
use crate::harness::{enc, fixture, Server};

/// Two servers on one new PostgreSQL database, the first applying the fixture world, and the
/// database's URL.
fn two_instances() -> Option<(Server, Server, String)> {
    two_instances_with("world.toml")
}

/// Like [`two_instances`], with another fixture world.
fn two_instances_with(world: &str) -> Option<(Server, Server, String)> {
    let Ok(base) = std::env::var("GRAPHTOKEN_TEST_POSTGRES") else {
        assert!(
            std::env::var_os("GRAPHTOKEN_REQUIRE_POSTGRES").is_none(),
            "GRAPHTOKEN_REQUIRE_POSTGRES is set but GRAPHTOKEN_TEST_POSTGRES is not"
        );
        eprintln!("no PostgreSQL: run under scripts/with-postgres to test many instances");
        return None;
    };
    let db = graphtoken_store::conformance::fresh_postgres_database(&base)
        .unwrap_or_else(|e| panic!("{e}"));
    let a = Server::on_database(&db, Some(&fixture(world)));
    let b = Server::on_database(&db, None);
    Some((a, b, db))
}

/// Asks `s` for `/me` with `token` until it is refused, for at most `limit`; how long it took.
fn refused_within(s: &Server, token: &str, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if s.get_as("/me", token).status != 200 {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
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

#[test]
fn a_revocation_on_one_instance_reaches_the_other_s_cache() {
    let Some((a, b, _)) = two_instances() else {
        return;
    };
    // Each kind of invalidation, on a token the other instance has cached.
    for (what, path) in [
        ("security reset", "/_admin/users/alice/invalidate"),
        ("logout", "/_admin/users/alice/logout"),
        ("app removal", "/_admin/users/alice/apps/acme/remove"),
    ] {
        let token = a.alice();
        for _ in 0..2 {
            assert_eq!(b.get_as("/me", &token).status, 200, "{what}: before");
        }
        let r = a.admin_post(path, json!({}));
        assert!(r.status < 300, "{what}: {}", r.text);
        assert_eq!(
            a.get_as("/me", &token).status,
            400,
            "{what}: on the instance that revoked"
        );
        let took = refused_within(&b, &token, Duration::from_secs(2));
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
    let took = refused_within(&b, &token, Duration::from_secs(5));
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
    while b.clock() < moved - 5 && start.elapsed() < Duration::from_secs(2) {
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
