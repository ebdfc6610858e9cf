//! Secrets sealed at rest (issue #12): a copy of the database holds none of the seed's app
//! secrets or client tokens, nor the cookie key, nor any token; the key lives beside a SQLite
//! file with mode 0600; a wrong key is refused; `graphtoken secrets rotate` seals everything
//! again under a new key.

use crate::harness::world::*;
use crate::harness::{fixture, run, Sandbox, Server};

const RIVAL_CLIENT_TOKEN: &str = "rival-client-token-0123456789";
const ACME_CLIENT_TOKEN: &str = "acme-client-token-0123456789";

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn a_copy_of_the_database_holds_no_secret_and_no_token() {
    let sb = Sandbox::new();
    let s = Server::on(&sb, Some(&fixture("world.toml")));
    let token = s.alice();
    let long = s.exchange(&token);
    let page = s.page_token(COFFEE, &long);
    let app_token = s
        .get(&format!(
            "/oauth/access_token?grant_type=client_credentials&client_id={ACME}&client_secret={ACME_SECRET}"
        ))
        .str("access_token");
    // The secrets still work.
    assert_eq!(s.get_as(&format!("/{ACME}"), &app_token).status, 200);
    drop(s);
    let raw = sb.db_bytes();
    assert!(raw.len() > 10_000, "the database is there");
    for secret in [
        ACME_SECRET,
        RIVAL_SECRET,
        ACME_CLIENT_TOKEN,
        RIVAL_CLIENT_TOKEN,
        &token,
        &long,
        &page,
        &app_token,
    ] {
        assert!(!contains(&raw, secret), "{secret} is in the database file");
    }
    assert!(contains(&raw, "sealed1:"), "the secrets are there, sealed");
    // The key is beside the file, for its owner only.
    let key = std::path::PathBuf::from(format!("{}.key", sb.db_path().display()));
    let meta = std::fs::metadata(&key).unwrap_or_else(|e| panic!("{}: {e}", key.display()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }
    // Restarted with its key, it works as before.
    let s = Server::on(&sb, None);
    assert_eq!(s.get_as("/me", &long).status, 200);
    assert_eq!(s.get_as(&format!("/{ACME}"), &app_token).status, 200);
}

#[test]
fn a_wrong_key_is_refused_and_changes_nothing() {
    let sb = Sandbox::new();
    drop(Server::on(&sb, Some(&fixture("world.toml"))));
    let before = sb.db_bytes();
    let wrong = sb.write("wrong.key", &"ab".repeat(32));
    let wrong = wrong.display().to_string();
    let (ok, _, err) = run(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--db",
            &sb.db_url(),
            "--secret-key-file",
            &wrong,
        ],
        &[],
    );
    assert!(!ok.success());
    assert!(err.contains("sealed under another key"), "{err}");
    assert_eq!(sb.db_bytes().len(), before.len());
}

#[test]
fn rotating_seals_everything_again_under_a_new_key() {
    let sb = Sandbox::new();
    let s = Server::on(&sb, Some(&fixture("world.toml")));
    let long = s.exchange(&s.alice());
    drop(s);
    let key_file = std::path::PathBuf::from(format!("{}.key", sb.db_path().display()));
    let old_key = std::fs::read_to_string(&key_file).unwrap_or_default();
    let (ok, out, err) = run(&["secrets", "rotate", "--db", &sb.db_url()], &[]);
    assert!(ok.success(), "{out}{err}");
    assert!(out.contains("sealed"), "{out}");
    let new_key = std::fs::read_to_string(&key_file).unwrap_or_default();
    assert_ne!(new_key.trim(), old_key.trim());
    assert_eq!(new_key.trim().len(), 64);
    // The old key no longer opens the database; the new one does, and nothing was lost.
    let old = sb.write("old.key", &old_key);
    let (ok, _, err) = run(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--db",
            &sb.db_url(),
            "--secret-key-file",
            &old.display().to_string(),
        ],
        &[],
    );
    assert!(!ok.success() && err.contains("another key"), "{err}");
    let s = Server::on(&sb, None);
    assert_eq!(s.get_as("/me", &long).status, 200);
    let app = s.get(&format!(
        "/oauth/access_token?grant_type=client_credentials&client_id={ACME}&client_secret={ACME_SECRET}"
    ));
    assert_eq!(app.status, 200, "{}", app.text);
    // A new token key was drawn too: the token's claims are no longer taken (it works from its
    // row; without the row it is unknown, where before the rotation its claims answered).
    drop(s);
    sb.forget_token_rows();
    let s = Server::on(&sb, None);
    assert_eq!(s.get_as("/me", &long).body["error"]["code"], 190);
}

/// A token key sealed under another secret key (a rotation by a graphtoken from before token
/// claims, which did not know to seal it again) does not stop a start: it is dropped and a new
/// one drawn, and tokens tagged under it are read from the store. Any other secret that does not
/// open still stops it.
#[test]
fn a_token_key_sealed_under_another_key_is_drawn_again() {
    let sb = Sandbox::new();
    let s = Server::on(&sb, Some(&fixture("world.toml")));
    let long = s.exchange(&s.alice());
    drop(s);
    let other =
        graphtoken_core::seal::Sealer::from_hex(&"ab".repeat(32)).unwrap_or_else(|e| panic!("{e}"));
    let foreign = other
        .seal(&"cd".repeat(32), "setting:token_key")
        .unwrap_or_else(|e| panic!("{e}"));
    // Written while no server holds the file.
    let set = |value: &str, name: &str| {
        let conn = rusqlite::Connection::open(sb.db_path()).unwrap_or_else(|e| panic!("{e}"));
        conn.execute(
            "UPDATE settings SET value = ?1 WHERE name = ?2",
            [value, name],
        )
        .unwrap_or_else(|e| panic!("{e}"))
    };
    assert_eq!(set(&foreign, "token_key"), 1);
    let s = Server::on(&sb, None);
    assert_eq!(s.get_as("/me", &long).status, 200);
    let fresh = s.exchange(&s.alice());
    assert_eq!(s.get_as("/me", &fresh).status, 200);
    drop(s);
    // The cookie key sealed under another key is refused, as any other secret.
    let browser = other
        .seal(&"ef".repeat(32), "setting:browser_key")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(set(&browser, "browser_key"), 1);
    let (ok, _, err) = run(
        &["serve", "--listen", "127.0.0.1:0", "--db", &sb.db_url()],
        &[],
    );
    assert!(!ok.success() && err.contains("another key"), "{err}");
}
