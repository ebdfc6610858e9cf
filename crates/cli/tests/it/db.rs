//! `graphtoken db migrate|status` and `serve --no-migrate`: migrating apart from serving, and a
//! database written by a newer graphtoken refused.

use std::time::{Duration, Instant};

use crate::harness::postgres::{shared_database, Cuttable};
use crate::harness::{enc, fixture, run, world, Sandbox, Server};

fn serve_args(db: &str, no_migrate: bool) -> graphtoken::serve::ServeArgs {
    graphtoken::serve::ServeArgs {
        no_migrate,
        ..crate::harness::Server::args(db, None)
    }
}

/// Whether `graphtoken serve` with these arguments gets as far as listening; its error if not.
fn starts(args: graphtoken::serve::ServeArgs) -> Result<(), String> {
    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    rt.block_on(graphtoken::serve::start(args)).map(|_| ())
}

#[test]
fn a_database_migrated_apart_serves_without_migrating() {
    let sb = Sandbox::new();
    let db = sb.db_url();
    // No file yet: none is made by asking.
    let (ok, _, err) = run(&["db", "status", "--db", &db], &[]);
    assert!(!ok.success());
    assert!(err.contains("gt.db does not exist"), "{err}");
    assert!(!sb.db_path().exists());

    let refused = starts(serve_args(&db, true)).err().unwrap_or_default();
    assert!(refused.contains("is at schema version 0"), "{refused}");
    assert!(refused.contains("graphtoken db migrate"), "{refused}");
    let (ok, out, _) = run(&["db", "status", "--db", &db], &[]);
    assert!(ok.success());
    assert!(
        out.starts_with("schema version 0 (this graphtoken: "),
        "{out}"
    );
    assert!(out.contains("behind: run `graphtoken db migrate`"), "{out}");

    let (ok, out, err) = run(&["db", "migrate", "--db", &db], &[]);
    assert!(ok.success(), "{err}");
    assert!(
        out.starts_with("migrated the schema from version 0 to "),
        "{out}"
    );
    let (ok, out, _) = run(&["db", "migrate", "--db", &db], &[]);
    assert!(ok.success());
    assert!(out.starts_with("the schema is current (version "), "{out}");
    let (_, out, _) = run(&["db", "status", "--db", &db], &[]);
    assert!(out.ends_with(": current\n"), "{out}");

    assert_eq!(starts(serve_args(&db, true)), Ok(()));
}

#[test]
fn a_database_written_by_a_newer_graphtoken_is_refused() {
    let sb = Sandbox::new();
    let db = sb.db_url();
    let (ok, _, err) = run(&["db", "migrate", "--db", &db], &[]);
    assert!(ok.success(), "{err}");
    let conn = rusqlite::Connection::open(sb.db_path()).unwrap_or_else(|e| panic!("{e}"));
    conn.execute(
        "INSERT INTO schema_version (version, applied_at) VALUES (999, 0)",
        [],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let versions = |conn: &rusqlite::Connection| -> Vec<i64> {
        let mut stmt = conn
            .prepare("SELECT version FROM schema_version ORDER BY version")
            .unwrap_or_else(|e| panic!("{e}"));
        let rows = stmt
            .query_map([], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{e}"));
        rows.map(|r| r.unwrap_or_else(|e| panic!("{e}"))).collect()
    };
    let before = versions(&conn);
    drop(conn);
    for args in [
        &["db", "migrate", "--db", &db][..],
        &["seed", "--db", &db, "/dev/null"],
    ] {
        let (ok, _, err) = run(args, &[]);
        assert!(!ok.success(), "{args:?} succeeded");
        assert!(
            err.contains("written by a newer graphtoken (schema version 999"),
            "{args:?}: {err}"
        );
    }
    let refused = starts(serve_args(&db, false)).err().unwrap_or_default();
    assert!(refused.contains("newer graphtoken"), "{refused}");
    let (_, out, _) = run(&["db", "status", "--db", &db], &[]);
    assert!(out.contains("newer than this graphtoken knows"), "{out}");
    let conn = rusqlite::Connection::open(sb.db_path()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(versions(&conn), before, "a refused database was migrated");
}

#[test]
fn a_database_out_of_reach_at_start_is_waited_for_then_reported() {
    // A socket directory where no PostgreSQL listens.
    let sb = Sandbox::new();
    let db = format!(
        "postgres://graphtoken@localhost/none?host={}",
        sb.db_path()
            .parent()
            .map(|d| d.display().to_string())
            .unwrap_or_default()
    );
    let (ok, _, err) = run(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--db",
            &db,
            "--db-wait",
            "1",
        ],
        &[("GRAPHTOKEN_SECRET_KEY", crate::harness::TEST_SECRET_KEY)],
    );
    assert!(!ok.success());
    assert!(err.contains("waiting for the database"), "{err}");
    assert!(err.contains("cannot reach the database"), "{err}");
    assert!(err.contains("after 1 s"), "{err}");
}

#[test]
fn a_world_copied_to_a_new_database_serves_the_same_tokens() {
    let sb = Sandbox::new();
    let source = crate::harness::Server::in_process(
        &sb.db_url(),
        &sb,
        Some(&crate::harness::fixture("world.toml")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let token = source.alice();
    let moved = source.advance(3600 / 2);
    drop(source);
    let target = Sandbox::new();
    let (ok, out, err) = run(
        &[
            "db",
            "copy",
            "--from",
            &sb.db_url(),
            "--to",
            &target.db_url(),
        ],
        &[],
    );
    assert!(ok.success(), "{err}");
    assert!(out.contains("tokens  1"), "{out}");
    assert!(out.ends_with("the counts match\n"), "{out}");
    let copy = crate::harness::Server::in_process(&target.db_url(), &target, None)
        .unwrap_or_else(|e| panic!("{e}"));
    let r = copy.get_as("/me", &token);
    assert_eq!(r.status, 200, "{}", r.text);
    // The clock came along.
    assert!((copy.clock() - moved).abs() < 60);
    drop(copy);
    let (ok, _, err) = run(
        &[
            "db",
            "copy",
            "--from",
            &sb.db_url(),
            "--to",
            &target.db_url(),
        ],
        &[],
    );
    assert!(!ok.success());
    assert!(err.contains("the target is not empty"), "{err}");

    // A source that is not there is not made.
    let nowhere = target.dir.path().join("nowhere.db");
    let (ok, _, err) = run(
        &[
            "db",
            "copy",
            "--from",
            &format!("sqlite://{}", nowhere.display()),
            "--to",
            &format!("sqlite://{}", target.dir.path().join("other.db").display()),
        ],
        &[],
    );
    assert!(!ok.success());
    assert!(err.contains("nowhere.db does not exist"), "{err}");
    assert!(!nowhere.exists());
}

#[test]
fn a_database_lost_mid_run_fails_calls_as_transient_and_the_server_recovers_by_itself() {
    let Some(db) = shared_database() else {
        return;
    };
    let (link, through) = Cuttable::before(&db);
    let s = Server::on_database(&through, Some(&fixture("world.toml")));
    let short = s.issue("alice", "acme", &[], false);
    // The long-lived exchange writes: it needs the database every time.
    let exchange = format!(
        "/v25.0/oauth/access_token?grant_type=fb_exchange_token&client_id={}&client_secret={}&fb_exchange_token={}",
        world::ACME,
        world::ACME_SECRET,
        enc(&short)
    );
    assert_eq!(s.get(&exchange).status, 200);

    link.cut();
    let r = s.get(&exchange);
    assert_eq!(r.status, 503, "{}", r.text);
    assert_eq!(r.body["error"]["code"], 2, "{}", r.text);
    assert_eq!(r.body["error"]["is_transient"], true, "{}", r.text);
    assert_eq!(s.get("/readyz").status, 503);
    assert_eq!(s.get("/healthz").status, 200);

    link.restore();
    let start = Instant::now();
    let mut last = s.get(&exchange);
    while last.status != 200 && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(100));
        last = s.get(&exchange);
    }
    assert_eq!(last.status, 200, "not recovered: {}", last.text);
    assert_eq!(s.get("/readyz").status, 200);
    assert_eq!(s.get_as("/me", &short).status, 200);
}

/// A SQLite file is used by one process at a time: while a server has it, another process is
/// refused at once, saying why and what to do, and a second server waits for it (`--db-wait`)
/// before giving up; once the server stops, the file is free. With `?locking=shared` in both
/// URLs, a tool may use it beside the server.
#[test]
fn a_sqlite_file_a_server_uses_is_refused_to_another_process() {
    let sb = Sandbox::new();
    let s = Server::on(&sb, Some(&fixture("world.toml")));
    let started = Instant::now();
    let (ok, _, err) = run(&["db", "status", "--db", &sb.db_url()], &[]);
    assert!(!ok.success(), "a second process opened the file");
    assert!(
        err.contains("in use by another process") && err.contains("?locking=shared"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "refused at once"
    );
    // A second server waits for the file as for a database out of reach (a restart overlapping
    // the old process's exit), then gives up, saying why.
    let second = Server::try_on_with(
        &sb,
        None,
        Some(crate::harness::ADMIN_KEY),
        &["--db-wait", "3"],
    )
    .err()
    .unwrap_or_default();
    assert!(
        second.contains("waiting for the database") && second.contains("in use by another process"),
        "{second}"
    );
    assert_eq!(s.get("/readyz").status, 200, "the server goes on");
    drop(s);
    let (ok, out, err) = run(&["db", "status", "--db", &sb.db_url()], &[]);
    assert!(ok.success(), "{err}");
    assert!(out.contains("schema version"), "{out}");

    let shared = format!("{}?locking=shared", sb.db_url());
    let s = Server::process_on(&sb, &shared, None, Some(crate::harness::ADMIN_KEY), &[])
        .unwrap_or_else(|e| panic!("{e}"));
    let (ok, out, err) = run(&["db", "status", "--db", &shared], &[]);
    assert!(ok.success(), "{err}");
    assert!(out.contains("schema version"), "{out}");
    assert_eq!(s.get("/readyz").status, 200);
    drop(s);

    // A way of locking that is none: said so, not taken for a PostgreSQL URL.
    let wrong = format!("{}?locking=nfs", sb.db_url());
    let refused = Server::process_on(&sb, &wrong, None, Some(crate::harness::ADMIN_KEY), &[])
        .err()
        .unwrap_or_default();
    assert!(refused.contains("is not a way of locking"), "{refused}");
}
