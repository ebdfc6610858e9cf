//! `graphtoken seed` and `serve --seed` (docs/seed.md): idempotent, one transaction, and
//! errors that name the file, the line and the problem.

use std::path::Path;

use crate::harness::seeding::{dump, seed};
use crate::harness::{fixture, Sandbox, Server};

fn count(db: &Path, table: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

#[test]
fn applying_twice_changes_nothing() {
    let sb = Sandbox::new();
    let world = fixture("world.toml");
    let (ok, err) = seed(&sb, &world);
    assert!(ok, "{err}");
    let first = dump(&sb.db_path());
    let rows = |t: &str| first.iter().find(|(n, _)| n == t).unwrap().1.len();
    assert_eq!(
        (rows("apps"), rows("users"), rows("pages"), rows("grants")),
        (2, 3, 3, 4)
    );
    assert_eq!(rows("page_tasks"), 4);
    let (ok, err) = seed(&sb, &world);
    assert!(ok, "{err}");
    assert_eq!(dump(&sb.db_path()), first);
    // The example world too, with its generated id and secret.
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/world.toml");
    let (ok, err) = seed(&sb, &example);
    assert!(ok, "{err}");
    let with_example = dump(&sb.db_path());
    assert_ne!(with_example, first);
    let (ok, err) = seed(&sb, &example);
    assert!(ok, "{err}");
    assert_eq!(dump(&sb.db_path()), with_example);
}

/// A valid item first, then a broken one: the error names the line and nothing is applied.
const GOOD_PREFIX: &str = r#"[[apps]]
key = "fresh"
id = "3000000000000001"
name = "Fresh App"

[[users]]
key = "zoe"
id = "300000000000001"
name = "Zoe Fresh"
"#;
const PREFIX_LINES: usize = 9;

fn bad_cases() -> Vec<(&'static str, String, usize, &'static str)> {
    vec![
        (
            "unknown field",
            "\n[[pages]]\nkey = \"p\"\nname = \"P\"\ncolour = \"red\"\n".into(),
            PREFIX_LINES + 5,
            "unknown field `colour`",
        ),
        (
            "unknown permission",
            "\n[[grants]]\nuser = \"zoe\"\napp = \"fresh\"\ngranted = [\"manage_pagez\"]\n".into(),
            PREFIX_LINES + 5,
            "unknown permission `manage_pagez`",
        ),
        (
            "unknown task",
            "\n[[pages]]\nkey = \"p\"\nname = \"P\"\ntasks = { zoe = [\"MANAGES\"] }\n".into(),
            PREFIX_LINES + 5,
            "unknown task `MANAGES`",
        ),
        (
            "unknown reference",
            "\n[[grants]]\nuser = \"bobby\"\napp = \"fresh\"\n".into(),
            PREFIX_LINES + 3,
            "unknown user `bobby`",
        ),
        (
            "unknown id reference",
            "\n[[grants]]\nuser = \"399999999999999\"\napp = \"fresh\"\n".into(),
            PREFIX_LINES + 3,
            "399999999999999",
        ),
        (
            "a page with an app's id",
            "\n[[pages]]\nkey = \"q\"\nid = \"1000000000000001\"\nname = \"Q\"\n".into(),
            PREFIX_LINES + 2,
            "page id 1000000000000001 is already an app's id",
        ),
        (
            "duplicate id",
            "\n[[users]]\nkey = \"zed\"\nid = \"300000000000001\"\nname = \"Zed\"\n".into(),
            PREFIX_LINES + 2,
            "duplicate user id 300000000000001 (first at line 6)",
        ),
    ]
}

#[test]
fn errors_name_file_and_line_and_apply_nothing() {
    let sb = Sandbox::new();
    let (ok, err) = seed(&sb, &fixture("world.toml"));
    assert!(ok, "{err}");
    let before = dump(&sb.db_path());
    for (what, tail, line, problem) in bad_cases() {
        let file = sb.write("bad.toml", &format!("{GOOD_PREFIX}{tail}"));
        let (ok, err) = seed(&sb, &file);
        assert!(!ok, "{what}: applied");
        let prefix = format!("{}:{line}: ", file.display());
        assert!(
            err.contains(&prefix),
            "{what}: expected `{prefix}` in {err}"
        );
        assert!(
            err.contains(problem),
            "{what}: expected `{problem}` in {err}"
        );
        assert_eq!(dump(&sb.db_path()), before, "{what}: something was applied");
    }
}

#[test]
fn errors_on_a_fresh_database_leave_it_empty() {
    let sb = Sandbox::new();
    let (what, tail, line, _) = bad_cases().remove(3);
    let file = sb.write("bad.toml", &format!("{GOOD_PREFIX}{tail}"));
    let (ok, err) = seed(&sb, &file);
    assert!(!ok, "{what}");
    assert!(err.contains(&format!("bad.toml:{line}:")), "{err}");
    if sb.db_path().exists() {
        for t in ["apps", "users", "pages", "grants"] {
            assert_eq!(count(&sb.db_path(), t), 0, "{t}");
        }
    }
}

#[test]
fn serve_with_a_bad_seed_exits_non_zero() {
    let sb = Sandbox::new();
    let file = sb.write(
        "broken.toml",
        &format!("{GOOD_PREFIX}\n[[pages]]\nkey = \"p\"\nname = \"P\"\ncolour = \"red\"\n"),
    );
    let err = match Server::try_on(&sb, Some(&file)) {
        Ok(_) => panic!("the server started on a broken seed"),
        Err(e) => e,
    };
    assert!(err.contains("exited with exit status: 1"), "{err}");
    assert!(
        err.contains(&format!("broken.toml:{}:", PREFIX_LINES + 5)),
        "{err}"
    );
    assert!(err.contains("colour"), "{err}");
}

#[test]
fn serving_the_same_seed_again_changes_nothing() {
    let sb = Sandbox::new();
    let world = fixture("world.toml");
    let s = Server::on(&sb, Some(&world));
    let (status, _) = s.stop();
    assert!(status.success());
    let first = dump(&sb.db_path());
    let s = Server::on(&sb, Some(&world));
    let (status, _) = s.stop();
    assert!(status.success());
    assert_eq!(dump(&sb.db_path()), first);
}
