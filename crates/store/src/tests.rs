//! The conformance suite against [`SqliteStore`], on files and in memory, and against
//! [`PostgresStore`] on the test command's throwaway cluster.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use graphtoken_core::store::{
    DirectoryStore, OutboxStore, Store, StoreError, StoreResult, TokenStore,
};

use crate::conformance;
use crate::{PostgresStore, SqliteStore};

fn temp_dir() -> StoreResult<tempfile::TempDir> {
    tempfile::tempdir().map_err(|e| graphtoken_core::store::StoreError::new(e.to_string()))
}

#[tokio::test(flavor = "multi_thread")]
async fn suite_on_files() -> StoreResult<()> {
    let dir = temp_dir()?;
    let n = AtomicUsize::new(0);
    conformance::run_suite(|| {
        let path = dir
            .path()
            .join(format!("db{}.sqlite", n.fetch_add(1, Ordering::Relaxed)));
        SqliteStore::open(&format!("sqlite://{}", path.display()))
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn suite_in_memory() -> StoreResult<()> {
    conformance::run_suite(|| SqliteStore::open("sqlite::memory:")).await
}

#[tokio::test(flavor = "multi_thread")]
async fn survives_restart() -> StoreResult<()> {
    let dir = temp_dir()?;
    let path = dir.path().join("nested").join("g.db");
    conformance::durability(|| SqliteStore::open(&path.display().to_string())).await
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_file() -> StoreResult<()> {
    let dir = temp_dir()?;
    let url = format!("sqlite://{}", dir.path().join("c.db").display());
    conformance::concurrency(Arc::new(SqliteStore::open(&url)?)).await
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_memory() -> StoreResult<()> {
    conformance::concurrency(Arc::new(SqliteStore::open("sqlite::memory:")?)).await
}

/// Clones share one in-memory database (the writer and readers must agree).
#[tokio::test(flavor = "multi_thread")]
async fn memory_clones_share_data() -> StoreResult<()> {
    let a = SqliteStore::open("sqlite::memory:")?;
    let b = a.clone();
    a.migrate().await?;
    a.apply_world(&conformance::world()).await?;
    assert!(!b.is_empty().await?);
    assert!(SqliteStore::open("sqlite::memory:")?
        .migrate()
        .await
        .is_ok());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_world_rolls_back() -> StoreResult<()> {
    let store = SqliteStore::open("sqlite::memory:")?;
    store.migrate().await?;
    let mut w = conformance::world();
    // A grant for a person who does not exist violates a foreign key at commit.
    w.grants[0].user_id = graphtoken_core::model::UserId(424242);
    assert!(store.apply_world(&w).await.is_err());
    assert!(store.is_empty().await?);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn pragmas_are_set() -> StoreResult<()> {
    let dir = temp_dir()?;
    let path = dir.path().join("p.db");
    let store = SqliteStore::open(&path.display().to_string())?;
    store.migrate().await?;
    let conn = rusqlite::Connection::open(&path)
        .map_err(|e| graphtoken_core::store::StoreError::new(e.to_string()))?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .map_err(|e| graphtoken_core::store::StoreError::new(e.to_string()))?;
    assert_eq!(mode, "wal");
    Ok(())
}

/// A database from before migration 8 keeps its apps, which get the default test-user limit.
#[tokio::test(flavor = "multi_thread")]
async fn apps_from_before_v8_get_the_default_test_user_limit() -> StoreResult<()> {
    let dir = temp_dir()?;
    let path = dir.path().join("v7.db");
    let err = |e: rusqlite::Error| graphtoken_core::store::StoreError::new(e.to_string());
    {
        let conn = rusqlite::Connection::open(&path).map_err(err)?;
        crate::migrations::apply_up_to(&conn, 7).map_err(err)?;
        conn.execute_batch(
            "INSERT INTO apps (id, name, secret, client_token, mode, platform, \
             require_appsecret_proof, redirect_uris, advanced_access, created_at) \
             VALUES (77, 'Old', 's', 'c', 'live', 'web', 0, '[]', '[]', 1)",
        )
        .map_err(err)?;
    }
    let store = SqliteStore::open(&path.display().to_string())?;
    store.migrate().await?;
    let app = store
        .app(graphtoken_core::model::AppId(77))
        .await?
        .map(|a| a.test_user_limit);
    assert_eq!(app, Some(graphtoken_core::model::DEFAULT_TEST_USER_LIMIT));
    Ok(())
}

#[test]
fn a_database_url_of_another_scheme_is_refused() {
    let refused = |url| {
        crate::open(url)
            .err()
            .map(|e| e.message)
            .unwrap_or_default()
    };
    let pg = refused("postgres://user@localhost:notaport/db");
    assert!(pg.contains("the database URL is not valid"), "{pg}");
    let tls = refused("postgresql://user@localhost/db?sslmode=verify-everything");
    assert!(
        tls.contains("sslmode=verify-everything is not supported"),
        "{tls}"
    );
    let other = refused("mysql://localhost/db");
    assert!(
        other.contains("unknown database URL scheme `mysql://`"),
        "{other}"
    );
    assert!(crate::open("sqlite::memory:").is_ok());
}

/// The PostgreSQL the test command started (`scripts/with-postgres` sets
/// `GRAPHTOKEN_TEST_POSTGRES`). Without one the PostgreSQL tests say so and pass, unless
/// `GRAPHTOKEN_REQUIRE_POSTGRES` is set (the test command sets it), where they fail.
fn postgres() -> Option<String> {
    match std::env::var("GRAPHTOKEN_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var_os("GRAPHTOKEN_REQUIRE_POSTGRES").is_none(),
                "GRAPHTOKEN_REQUIRE_POSTGRES is set but GRAPHTOKEN_TEST_POSTGRES is not"
            );
            eprintln!("no PostgreSQL: run under scripts/with-postgres to test that backend");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn suite_on_postgres() -> StoreResult<()> {
    let Some(base) = postgres() else {
        return Ok(());
    };
    conformance::run_suite(|| PostgresStore::open(&conformance::fresh_postgres_database(&base)?))
        .await
}

/// Each `sslmode` against the test PostgreSQL's TLS port, which turns away TCP without TLS and
/// holds a certificate for `localhost` (not `127.0.0.1`) from a CA of the test run.
#[tokio::test(flavor = "multi_thread")]
async fn tls_modes_on_postgres() -> StoreResult<()> {
    let Some(base) = postgres() else {
        return Ok(());
    };
    let (Ok(server), Ok(ca)) = (
        std::env::var("GRAPHTOKEN_TEST_POSTGRES_TLS"),
        std::env::var("GRAPHTOKEN_TEST_POSTGRES_CA"),
    ) else {
        panic!("scripts/with-postgres sets GRAPHTOKEN_TEST_POSTGRES_TLS and _CA");
    };
    let db = conformance::fresh_postgres_database(&base)?;
    let name = db.split('?').next().and_then(|h| h.rsplit('/').next());
    let name = name.unwrap_or_default();
    let port = server.rsplit_once(':').map_or("", |(_, p)| p);
    let url =
        |host: &str, query: &str| format!("postgres://graphtoken@{host}:{port}/{name}?{query}");
    let ca = format!("sslrootcert={ca}");
    async fn outcome(url: &str) -> Result<(), String> {
        let store = PostgresStore::open(url).map_err(|e| e.message)?;
        store.migrate().await.map_err(|e| e.message)
    }
    for (query, host) in [
        ("sslmode=require", "127.0.0.1"),
        ("", "127.0.0.1"),
        (&*format!("sslmode=verify-ca&{ca}"), "127.0.0.1"),
        (&*format!("sslmode=verify-full&{ca}"), "localhost"),
    ] {
        let u = url(host, query);
        outcome(&u).await.unwrap_or_else(|e| panic!("{u}: {e}"));
    }
    for (query, host, why) in [
        ("sslmode=disable", "127.0.0.1", "no encryption"),
        (
            &*format!("sslmode=verify-full&{ca}"),
            "127.0.0.1",
            "certificate",
        ),
        // The web's authorities did not sign the test CA's certificate.
        (
            "sslmode=verify-full&sslrootcert=system",
            "localhost",
            "certificate",
        ),
    ] {
        let u = url(host, query);
        let e = outcome(&u)
            .await
            .err()
            .unwrap_or_else(|| panic!("{u} connected"));
        assert!(e.contains(why), "{u}: {e}");
    }
    Ok(())
}

/// A database that answers and refuses (no such database) is a mistake to fix, not an outage
/// to wait out; a socket where nothing listens is an outage.
#[tokio::test(flavor = "multi_thread")]
async fn refusals_are_not_outages_on_postgres() -> StoreResult<()> {
    let Some(base) = postgres() else {
        return Ok(());
    };
    let (head, query) = base.split_once('?').unwrap_or((&base, ""));
    let server = head.rsplit_once('/').map_or(head, |(s, _)| s);
    let missing = format!("{server}/no_such_database?{query}");
    let e = PostgresStore::open(&missing)?.schema().await.err();
    let e = e.unwrap_or_else(|| panic!("{missing} answered"));
    assert!(!e.unavailable, "{e}");
    assert!(e.message.contains("no_such_database"), "{e}");
    let nowhere = "postgres://graphtoken@localhost/x?host=/nonexistent-socket-dir";
    let e = PostgresStore::open(nowhere)?.schema().await.err();
    assert!(e.is_some_and(|e| e.unavailable));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn survives_restart_on_postgres() -> StoreResult<()> {
    let Some(base) = postgres() else {
        return Ok(());
    };
    let url = conformance::fresh_postgres_database(&base)?;
    conformance::durability(|| PostgresStore::open(&url)).await
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_postgres() -> StoreResult<()> {
    let Some(base) = postgres() else {
        return Ok(());
    };
    let url = conformance::fresh_postgres_database(&base)?;
    conformance::concurrency(Arc::new(PostgresStore::open(&url)?)).await
}

/// `db copy`'s list of tables and columns is the schema's: every table, every column, each
/// with the type SQLite declares.
#[tokio::test(flavor = "multi_thread")]
async fn the_copy_lists_every_table_and_column() -> StoreResult<()> {
    use crate::db::Kind;
    use crate::sql_store::Backend;
    let store = SqliteStore::open("sqlite::memory:")?;
    store.migrate().await?;
    let schema = store
        .backend
        .read(|db| {
            let tables = db.all(
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT IN ('schema_version', 'sqlite_sequence') ORDER BY name",
                &[],
                |r| r.get::<String>(0),
                "listing tables",
            )?;
            tables
                .into_iter()
                .map(|t| {
                    let columns = db.all(
                        &format!("SELECT name, type FROM pragma_table_info('{t}') ORDER BY cid"),
                        &[],
                        |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?)),
                        "listing columns",
                    )?;
                    Ok((t, columns))
                })
                .collect::<StoreResult<Vec<_>>>()
        })
        .await?;
    let mut listed: Vec<(String, Vec<(String, String)>)> = crate::copy::TABLES
        .iter()
        .map(|t| {
            let columns = t
                .columns
                .iter()
                .map(|(c, k)| {
                    let ty = match k {
                        Kind::Int => "INTEGER",
                        Kind::Text => "TEXT",
                        Kind::Blob => "BLOB",
                    };
                    (c.to_string(), ty.to_string())
                })
                .collect();
            (t.name.to_string(), columns)
        })
        .collect();
    listed.sort();
    assert_eq!(listed, schema);
    Ok(())
}

/// A PostgreSQL database whose highest sessions went with their person under a graphtoken that
/// kept no `sessions_high` there (its sequence alone knew): a copy still numbers new sessions
/// past them, on either backend.
#[tokio::test(flavor = "multi_thread")]
async fn a_copy_from_postgres_numbers_past_every_session_drawn() -> StoreResult<()> {
    use crate::sql_store::Backend;
    let Some(base) = postgres() else {
        return Ok(());
    };
    let (source, s, _) = pg_copy_source(&base).await?;
    let last = s
        .create_session(conformance::BOB, conformance::MAIN_APP, 1000)
        .await?;
    assert!(s.delete_user(conformance::BOB).await?.is_some());
    s.backend
        .write(|db| {
            db.execute(
                "DELETE FROM settings WHERE name = ?1",
                crate::args![crate::queries::SESSIONS_HIGH],
                "forgetting the setting, as an older graphtoken",
            )
        })
        .await?;
    drop(s);
    let dir = temp_dir()?;
    let targets = [
        format!("sqlite://{}", dir.path().join("to.db").display()),
        conformance::fresh_postgres_database(&base)?,
    ];
    for target in targets {
        crate::copy(&source, &target).await?;
        let next = crate::open(&target)?
            .create_session(conformance::ALICE, conformance::MAIN_APP, 1001)
            .await?;
        assert!(next.id.0 > last.id.0, "{target}: {next:?} after {last:?}");
    }
    Ok(())
}

/// A copy's source: the conformance world in a SQLite file in `dir`, with a session of Alice.
async fn copy_source(
    dir: &tempfile::TempDir,
) -> StoreResult<(String, SqliteStore, graphtoken_core::model::Session)> {
    let source = format!("sqlite://{}", dir.path().join("from.db").display());
    let s = SqliteStore::open(&source)?;
    let session = fill_copy_source(&s).await?;
    Ok((source, s, session))
}

/// Migrates `s`, applies the conformance world, and opens a session of Alice in it.
async fn fill_copy_source(s: &impl Store) -> StoreResult<graphtoken_core::model::Session> {
    s.migrate().await?;
    s.apply_world(&conformance::world()).await?;
    s.create_session(conformance::ALICE, conformance::MAIN_APP, 1000)
        .await
}

/// A table read from PostgreSQL may take longer than the connections' statement timeout (30 s;
/// 300 ms here) and is not cancelled. The source's tokens are read through a view that sleeps
/// a millisecond a row, so their read lasts two seconds or more on the server; the copy's other
/// statements are quick, well within the timeout even on a loaded machine.
#[tokio::test(flavor = "multi_thread")]
async fn a_copy_from_postgres_outlasts_the_statement_timeout() -> StoreResult<()> {
    let Some(base) = postgres() else {
        return Ok(());
    };
    // The source: tokens stored in SQLite (one row at a time is slow on PostgreSQL), copied
    // into a new PostgreSQL database.
    let dir = temp_dir()?;
    let many = 2_000;
    let filled = copy_source_of_many(&dir, many).await?;
    let source = conformance::fresh_postgres_database(&base)?;
    crate::copy(&filled, &source).await?;
    conformance::postgres_batch(
        &source,
        "CREATE FUNCTION slowly() RETURNS boolean LANGUAGE plpgsql AS \
         $$ BEGIN PERFORM pg_sleep(0.001); RETURN true; END $$; \
         ALTER TABLE tokens RENAME TO tokens_kept; \
         CREATE VIEW tokens AS SELECT * FROM tokens_kept WHERE slowly()",
    )?;
    let sep = if source.contains('?') { '&' } else { '?' };
    let hurried = format!("{source}{sep}options=-c%20statement_timeout%3D300");
    let target = format!("sqlite://{}", dir.path().join("to.db").display());
    let started = std::time::Instant::now();
    let copied = crate::copy(&hurried, &target).await?;
    assert!(started.elapsed() > std::time::Duration::from_secs(1));
    let tokens = copied.iter().find(|(t, _)| *t == "tokens").map(|(_, n)| *n);
    assert_eq!(tokens, Some(u64::from(many)));
    Ok(())
}

/// `n` user tokens of Alice's `session`, each with a hash of its own.
fn many_tokens(
    session: graphtoken_core::model::SessionId,
    n: u32,
) -> Vec<graphtoken_core::model::TokenRecord> {
    (0..n)
        .map(|i| {
            let mut t = conformance::user_token(7, session, conformance::ALICE);
            t.hash[..4].copy_from_slice(&i.to_be_bytes());
            t
        })
        .collect()
}

/// A copy's source as [`copy_source`] makes it, in a new PostgreSQL database on the server at
/// `base`.
async fn pg_copy_source(
    base: &str,
) -> StoreResult<(String, PostgresStore, graphtoken_core::model::Session)> {
    let source = conformance::fresh_postgres_database(base)?;
    let s = PostgresStore::open(&source)?;
    let session = fill_copy_source(&s).await?;
    Ok((source, s, session))
}

/// A copy's source ([`copy_source`]) with `many` tokens of Alice besides.
async fn copy_source_of_many(dir: &tempfile::TempDir, many: u32) -> StoreResult<String> {
    use crate::sql_store::Backend;
    let (source, s, session) = copy_source(dir).await?;
    let tokens = many_tokens(session.id, many);
    let stored = s
        .backend
        .write(move |db| crate::queries::insert_tokens(db, &tokens))
        .await?;
    assert_eq!(stored, u64::from(many));
    Ok(source)
}

/// Copies `source` into `target` (opened as `t`), which refuses its 2,501st token: the copy
/// fails with the target's error within a minute (no thread left waiting: the source's read
/// stops when the target stops taking rows), and nothing is left in the target.
async fn copy_fails_partway<B: crate::sql_store::Backend>(
    source: &str,
    target: &str,
    t: &crate::sql_store::SqlStore<B>,
) -> StoreResult<()> {
    let failed = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        crate::copy(source, target),
    )
    .await
    .map_err(|_| StoreError::new("the copy hung"))?
    .err()
    .map(|e| e.message)
    .unwrap_or_default();
    assert!(failed.contains("the target is full"), "{failed}");
    let held = t.backend.read(crate::copy::held).await?;
    assert!(
        held.iter().all(|(_, n)| *n == 0),
        "the failed copy left rows behind: {held:?}"
    );
    Ok(())
}

/// A copy whose target fails partway, after some chunks of rows went in (see
/// [`copy_fails_partway`]). Then the same copy, with nothing in the way, carries every token.
#[tokio::test(flavor = "multi_thread")]
async fn a_copy_that_fails_partway_leaves_the_target_empty() -> StoreResult<()> {
    use crate::sql_store::Backend;
    let dir = temp_dir()?;
    // Many more chunks' worth of rows than the copy's channel holds.
    let many = 20_000;
    let source = copy_source_of_many(&dir, many).await?;
    let target = format!("sqlite://{}", dir.path().join("to.db").display());
    let t = SqliteStore::open(&target)?;
    t.migrate().await?;
    t.backend
        .write(|db| {
            db.execute(
                "CREATE TRIGGER full BEFORE INSERT ON tokens \
                 WHEN (SELECT COUNT(*) FROM tokens) >= 2500 \
                 BEGIN SELECT RAISE(ABORT, 'the target is full'); END",
                &[],
                "making a target that fails partway",
            )
        })
        .await?;
    copy_fails_partway(&source, &target, &t).await?;
    t.backend
        .write(|db| db.execute("DROP TRIGGER full", &[], "clearing the way"))
        .await?;
    drop(t);
    let copied = crate::copy(&source, &target).await?;
    let tokens = copied.iter().find(|(t, _)| *t == "tokens").map(|(_, n)| *n);
    assert_eq!(tokens, Some(u64::from(many)));
    Ok(())
}

/// The same into PostgreSQL, whose rows go in through `COPY`: a `COPY` that fails partway
/// fails the copy with PostgreSQL's error, and the target is left empty.
#[tokio::test(flavor = "multi_thread")]
async fn a_copy_into_postgres_that_fails_partway_leaves_it_empty() -> StoreResult<()> {
    let Some(base) = postgres() else {
        return Ok(());
    };
    let dir = temp_dir()?;
    let source = copy_source_of_many(&dir, 20_000).await?;
    let target = conformance::fresh_postgres_database(&base)?;
    let t = PostgresStore::open(&target)?;
    t.migrate().await?;
    conformance::postgres_batch(
        &target,
        "CREATE FUNCTION full_up() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN IF (SELECT COUNT(*) FROM tokens) >= 2500 THEN \
         RAISE EXCEPTION 'the target is full'; END IF; RETURN NEW; END $$; \
         CREATE TRIGGER filled BEFORE INSERT ON tokens FOR EACH ROW EXECUTE FUNCTION full_up()",
    )?;
    copy_fails_partway(&source, &target, &t).await
}

/// Every table of a SQLite file as its rows, in a fixed order.
async fn every_row(url: &str) -> StoreResult<Vec<(&'static str, Vec<crate::db::Row>)>> {
    use crate::sql_store::Backend;
    let store = SqliteStore::open(url)?;
    store
        .backend
        .read(|db| {
            crate::copy::TABLES
                .iter()
                .map(|t| {
                    let columns = crate::copy::names(t);
                    let sql = format!("SELECT {columns} FROM {} ORDER BY {columns}", t.name);
                    Ok((t.name, db.rows(&sql, &[]).map_err(StoreError::new)?))
                })
                .collect()
        })
        .await
}

/// Texts with every character the PostgreSQL load escapes (and some it need not), a token's
/// bytes and NULLs, copied from SQLite into PostgreSQL and back: every row comes back as it was.
#[tokio::test(flavor = "multi_thread")]
async fn a_copy_through_postgres_gives_back_every_value() -> StoreResult<()> {
    use crate::sql_store::Backend;
    let Some(base) = postgres() else {
        return Ok(());
    };
    let dir = temp_dir()?;
    let (source, s, session) = copy_source(&dir).await?;
    let token = conformance::user_token(7, session.id, conformance::ALICE);
    assert!(s.insert_token(&token).await?);
    let odd = "tab\there\nnew line\r\\N \\x00 back\\slash \"quoted\" ,; ✓ é 日本";
    s.backend
        .write(move |db| {
            db.execute(
                "UPDATE users SET name = ?1 || name, email = NULL",
                crate::args![odd],
                "making odd names",
            )?;
            db.execute("UPDATE apps SET platform = ''", &[], "emptying a text")
        })
        .await?;
    drop(s);
    let through = conformance::fresh_postgres_database(&base)?;
    crate::copy(&source, &through).await?;
    let back = format!("sqlite://{}", dir.path().join("back.db").display());
    crate::copy(&through, &back).await?;
    let (before, after) = (every_row(&source).await?, every_row(&back).await?);
    for ((table, was), (_, is)) in before.iter().zip(&after) {
        if *table == "settings" {
            // The copy may add the sessions' high mark.
            assert!(
                was.iter().all(|r| is.contains(r)),
                "{table}: {was:?} -> {is:?}"
            );
        } else {
            assert_eq!(was, is, "{table}");
        }
    }
    let names = &before
        .iter()
        .find(|(t, _)| *t == "users")
        .map(|(_, r)| r.len());
    assert!(names.is_some_and(|n| n >= 2));
    Ok(())
}

/// A world with sessions, tokens, a post, a callback and a throttle entry, copied into an
/// empty database of each backend: the same counts, and the token reads back.
#[tokio::test(flavor = "multi_thread")]
async fn a_copy_carries_everything() -> StoreResult<()> {
    use graphtoken_core::model::SessionId;
    let dir = temp_dir()?;
    let (source, s, session) = copy_source(&dir).await?;
    let token = conformance::user_token(7, session.id, conformance::ALICE);
    assert!(s.insert_token(&token).await?);
    s.enqueue_callback(&conformance::callback("deauthorize"), 1000)
        .await?;
    // A person whose sessions held the highest ids goes before the copy.
    let gone = s
        .create_session(conformance::BOB, conformance::MAIN_APP, 1000)
        .await?;
    let last = s
        .create_session(conformance::BOB, conformance::MAIN_APP, 1000)
        .await?;
    assert!(last.id.0 > gone.id.0 && gone.id.0 > session.id.0);
    assert!(s.delete_user(conformance::BOB).await?.is_some());
    drop(s);
    let mut targets = vec![format!("sqlite://{}", dir.path().join("to.db").display())];
    if let Some(base) = postgres() {
        targets.push(conformance::fresh_postgres_database(&base)?);
    }
    for target in targets {
        let copied = crate::copy(&source, &target).await?;
        let rows = |table: &str| copied.iter().find(|(t, _)| *t == table).map(|(_, n)| *n);
        assert_eq!(rows("tokens"), Some(1), "{target}");
        assert_eq!(rows("callbacks"), Some(1), "{target}");
        assert_eq!(rows("apps"), Some(2), "{target}");
        let store = crate::open(&target)?;
        let (entry, read) = store
            .token_entry(token.hash)
            .await?
            .ok_or_else(|| StoreError::new(format!("{target}: the token did not arrive")))?;
        assert_eq!(entry.token, token);
        assert_eq!(read.id, session.id);
        // New sessions are numbered past the copied ones, and past the deleted ones.
        let next = store
            .create_session(conformance::ALICE, conformance::MAIN_APP, 1001)
            .await?;
        assert!(next.id > SessionId(last.id.0), "{target}: {next:?}");
        // A second copy into it is refused: it is not empty any more.
        let again = crate::copy(&source, &target)
            .await
            .err()
            .map(|e| e.message)
            .unwrap_or_default();
        assert!(again.contains("the target is not empty"), "{again}");
    }
    Ok(())
}
