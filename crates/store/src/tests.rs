//! The conformance suite against [`SqliteStore`], on files and in memory, and against
//! [`PostgresStore`] on the test command's throwaway cluster.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use graphtoken_core::store::{DirectoryStore, Store, StoreResult};

use crate::conformance;
use crate::{PostgresStore, SqliteStore};

fn temp_dir() -> StoreResult<tempfile::TempDir> {
    tempfile::tempdir().map_err(|e| graphtoken_core::store::StoreError(e.to_string()))
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
        .map_err(|e| graphtoken_core::store::StoreError(e.to_string()))?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .map_err(|e| graphtoken_core::store::StoreError(e.to_string()))?;
    assert_eq!(mode, "wal");
    Ok(())
}

/// A database from before migration 8 keeps its apps, which get the default test-user limit.
#[tokio::test(flavor = "multi_thread")]
async fn apps_from_before_v8_get_the_default_test_user_limit() -> StoreResult<()> {
    let dir = temp_dir()?;
    let path = dir.path().join("v7.db");
    let err = |e: rusqlite::Error| graphtoken_core::store::StoreError(e.to_string());
    {
        let conn = rusqlite::Connection::open(&path).map_err(err)?;
        conn.execute_batch("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)")
            .map_err(err)?;
        for (version, sql) in crate::migrations::MIGRATIONS.iter().filter(|(v, _)| *v < 8) {
            conn.execute_batch(sql).map_err(err)?;
            conn.execute("INSERT INTO schema_version VALUES (?1, 0)", [version])
                .map_err(err)?;
        }
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
    let refused = |url| crate::open(url).err().map(|e| e.0).unwrap_or_default();
    let pg = refused("postgres://user@localhost:notaport/db");
    assert!(pg.contains("the database URL is not valid"), "{pg}");
    let tls = refused("postgresql://user@localhost/db?sslmode=require");
    assert!(
        tls.contains("sslmode=require is not supported yet"),
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
