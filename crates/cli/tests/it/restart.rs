//! Durability: a clean stop on SIGTERM, and a restart on the same database keeps every app,
//! person, Page, grant and token, and the virtual clock's offset; a kill -9 under load loses no
//! token that was answered.

use std::time::Duration;

use crate::harness::world::*;
use crate::harness::{app_literal, enc, fixture, real_now, Sandbox, Server};

#[test]
fn sigterm_stops_cleanly() {
    // The real process: it is the signal handling that is tested.
    let sb = Sandbox::new();
    let s = Server::on(&sb, Some(&fixture("world.toml")));
    let (status, stderr) = s.stop();
    assert!(status.success(), "{status}: {stderr}");
    assert!(stderr.contains("graphtoken stopped"), "{stderr}");
}

#[test]
fn a_restart_keeps_everything() {
    let sb = Sandbox::new();
    let s = Server::on(&sb, Some(&fixture("world.toml")));
    let short = s.issue("alice", "acme", &[], false);
    let long = s.exchange(&short);
    let page_long = s.page_token(COFFEE, &long);
    let page_short = s.page_token(NEWS, &short);
    let bob = s.issue("bob", "acme", &[], true);
    let rival = s.issue("alice", "rival", &["pages_show_list"], true);
    s.advance(DAY);
    let tokens = [&short, &long, &page_long, &page_short, &bob, &rival];
    let before: Vec<_> = tokens.iter().map(|t| s.get_as("/me", t).body).collect();
    // The short token and its Page token died with the day; the others work.
    let expired = |i: usize| i == 0 || i == 3;
    let accounts_before = s.get_as("/me/accounts", &long).body;
    let perms_before = s.get_as("/me/permissions", &long).body;
    let debug_before = s.debug(&page_long);
    let (status, stderr) = s.stop();
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("graphtoken stopped"), "{stderr}");

    // Restarted without --seed: the stored world is used as it is (no demo world).
    let s = Server::on(&sb, None);
    assert!(
        (s.clock() - (real_now() + DAY)).abs() <= 10,
        "the clock offset survived"
    );
    let after: Vec<_> = tokens.iter().map(|t| s.get_as("/me", t).body).collect();
    for (i, (b, a)) in before.iter().zip(&after).enumerate() {
        if expired(i) {
            assert_eq!(b["error"]["error_subcode"], 463, "{b}");
            assert_eq!(a["error"]["error_subcode"], 463, "{a}");
        } else {
            assert!(a.get("error").is_none(), "token {i}: {a}");
            assert_eq!(a, b, "token {i}");
        }
    }
    assert_eq!(
        s.get_as("/me/accounts", &long).body["data"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let accounts_after = s.get_as("/me/accounts", &long).body;
    assert_eq!(
        accounts_after, accounts_before,
        "same Pages, same Page tokens"
    );
    assert_eq!(s.get_as("/me/permissions", &long).body, perms_before);
    let debug_after = s.debug(&page_long);
    assert_eq!(debug_after, debug_before);
    assert_eq!(debug_after["expires_at"], 0);
    // Apps, people and Pages by id.
    assert_eq!(
        s.get_as(&format!("/{ACME}"), &app_literal()).body["name"],
        ACME_NAME
    );
    assert_eq!(
        s.get_as(&format!("/{COFFEE}"), &long).body["name"],
        "Acme Coffee"
    );
    assert_eq!(s.get_as("/me", &bob).body["name"], "Bob Analyst");
    assert_eq!(s.issue("carol", "acme", &[], false).len(), short.len());
    // No demo world appeared on the non-empty database.
    let r = s.admin_post(
        "/_admin/tokens",
        serde_json::json!({"user": "demo", "app": "demo"}),
    );
    assert_eq!(r.status, 404, "{}", r.text);
}

/// Writes on SQLite are committed in groups; each caller is answered only after its group's
/// commit. Eight clients exchange tokens as fast as the server answers, and the server is killed
/// (SIGKILL) in the middle: after a restart on the same file, every token that was answered
/// works.
#[test]
fn a_kill_9_under_load_loses_no_acknowledged_token() {
    let sb = Sandbox::new();
    // Thousands of calls from one person in a few seconds: acme's rate limits lifted.
    let world = std::fs::read_to_string(fixture("world.toml"))
        .unwrap_or_else(|e| panic!("{e}"))
        .replacen(
            "client_token = \"acme-client-token-0123456789\"",
            "client_token = \"acme-client-token-0123456789\"\nrate_limits = { app = 4000000000, user = 4000000000, page = 4000000000 }",
            1,
        );
    let mut s = Server::on(&sb, Some(&sb.write("world.toml", &world)));
    let short = s.issue("alice", "acme", &[], false);
    let exchange = s.url(&format!(
        "/v25.0/oauth/access_token?grant_type=fb_exchange_token&client_id={ACME}&client_secret={ACME_SECRET}&fb_exchange_token={}",
        enc(&short)
    ));
    let tokens = s.kill9_under_load(8, Duration::from_millis(1500), || {
        ureq::get(&exchange)
            .timeout(Duration::from_secs(10))
            .call()
            .ok()
    });

    // These long-lived tokens' claims would answer for them even without their rows
    // (`a_long_lived_token_s_claims_stand_for_its_row`): their rows are looked for first.
    assert_eq!(
        sb.tokens_stored(&tokens),
        tokens.len(),
        "an acknowledged token's row was lost"
    );
    let s = Server::on(&sb, None);
    for t in &tokens {
        let r = s.get_as("/me", t);
        assert_eq!(r.status, 200, "an acknowledged token was lost: {}", r.text);
    }
}

/// A long-lived user token carries claims (its session, its app-scoped id, its times) under a
/// tag of the database's key, and a server that has not cached it answers from them without
/// reading its row: here the rows are removed by hand (nothing in graphtoken removes a working
/// token's row) to show it. A short-lived token is still read from the store, and claims with a
/// character changed, in another spelling or with another token's body are not taken.
#[test]
fn a_long_lived_token_s_claims_stand_for_its_row() {
    let sb = Sandbox::new();
    let s = Server::on(&sb, Some(&fixture("world.toml")));
    let short = s.issue("alice", "acme", &[], false);
    let long = s.exchange(&short);
    let other = s.exchange(&short);
    let me = s.get_as("/me", &long).body;
    let debug = s.debug(&long);
    let (status, stderr) = s.stop();
    assert!(status.success(), "{stderr}");
    sb.forget_token_rows();

    let s = Server::on(&sb, None);
    assert_eq!(s.get_as("/me", &long).body, me);
    assert_eq!(s.debug(&long), debug);
    assert_eq!(s.get_as("/me", &short).body["error"]["code"], 190);
    let claims_at = long.len() - graphtoken_core::token::CLAIMS_LEN;
    let flipped = |i: usize| {
        let mut b = long.clone().into_bytes();
        b[i] = if b[i] == b'0' { b'1' } else { b'0' };
        String::from_utf8(b).unwrap_or_default()
    };
    let forged = [
        flipped(claims_at),
        flipped(long.len() - 1),
        flipped(claims_at - 1),
        format!("{}{}", &long[..claims_at], long[claims_at..].to_uppercase()),
        format!("{}{}", &other[..claims_at], &long[claims_at..]),
    ];
    for t in &forged {
        let r = s.get_as("/me", t);
        assert_eq!(r.body["error"]["code"], 190, "{t}: {}", r.text);
    }
    // What ends its session ends it, as any other.
    let r = s.admin_post("/_admin/users/alice/invalidate", serde_json::json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s.get_as("/me", &long);
    assert_eq!(r.body["error"]["error_subcode"], 460, "{}", r.text);
}

/// With `--plain-tokens` (a rolling upgrade from a version before claims), user tokens are minted
/// in the form that version reads, `EAA`, a stamp and 64 characters, and work; a token with
/// claims minted before still works.
#[test]
fn plain_tokens_are_minted_in_the_older_form() {
    let sb = Sandbox::new();
    let s = Server::on(&sb, Some(&fixture("world.toml")));
    let claimed = s.exchange(&s.issue("alice", "acme", &[], false));
    let (status, stderr) = s.stop();
    assert!(status.success(), "{stderr}");
    let mut args = Server::args(&sb.db_url(), None);
    args.plain_tokens = true;
    // The key file the first server made beside the database, as it used.
    args.keys.secret_key = None;
    let s = Server::in_process_with(args, &sb).unwrap_or_else(|e| panic!("{e}"));
    let short = s.issue("alice", "acme", &[], false);
    let long = s.exchange(&short);
    for t in [&short, &long] {
        assert_eq!(t.len(), 76, "{t}");
        assert_eq!(s.get_as("/me", t).status, 200);
    }
    assert!(claimed.len() > 76, "{claimed}");
    assert_eq!(s.get_as("/me", &claimed).status, 200);
}
