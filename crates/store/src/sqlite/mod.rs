//! The SQLite [`Backend`] of [`SqlStore`]: connections, threading and transactions.
//!
//! SQLite allows one writer at a time, so writes go through a single connection behind a mutex
//! (no `SQLITE_BUSY` juggling between our own writers). WAL mode lets a small pool of reader
//! connections read concurrently with that writer, each seeing the last committed state.
//! rusqlite is blocking, so every call runs on tokio's blocking pool (`spawn_blocking`) and the
//! async workers never wait on disk or on a lock.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::Duration;

use graphtoken_core::store::{StoreError, StoreFuture, StoreResult};
use rusqlite::{Connection, TransactionBehavior};

use crate::db::Db;
use crate::error::Ctx;
use crate::migrations;
use crate::sql_store::{blocking, Backend, SqlStore};

mod db;

const READERS: usize = 4;
const BUSY_TIMEOUT: Duration = Duration::from_millis(5000);
const STATEMENT_CACHE: usize = 64;

/// The [`Store`](graphtoken_core::store::Store) on SQLite.
pub(crate) type SqliteStore = SqlStore<Sqlite>;

/// SQLite connections: one writer, a few readers. Cloning is cheap and shares them.
#[derive(Clone)]
pub(crate) struct Sqlite {
    inner: Arc<Inner>,
}

struct Inner {
    location: String,
    writer: Mutex<Connection>,
    /// Empty for an in-memory database: there every call uses the writer, the only connection
    /// that sees that database.
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

impl std::fmt::Debug for Sqlite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sqlite")
            .field("location", &self.inner.location)
            .field("readers", &self.inner.readers.len())
            .finish()
    }
}

enum Target {
    Memory,
    File(PathBuf),
}

/// The file a SQLite URL names (`None`: a database in memory); an error for any other URL.
pub(crate) fn file_of(url: &str) -> StoreResult<Option<PathBuf>> {
    Ok(match parse_url(url)? {
        Target::Memory => None,
        Target::File(path) => Some(path),
    })
}

fn parse_url(url: &str) -> StoreResult<Target> {
    let url = url.trim();
    if let Some(other) = crate::scheme(url).filter(|s| s != "sqlite") {
        return Err(crate::not_sqlite(&other));
    }
    let lower = url.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "sqlite::memory:" | ":memory:" | "sqlite://:memory:"
    ) {
        return Ok(Target::Memory);
    }
    // The scheme in any case; the path as written.
    let prefix = ["sqlite://", "sqlite:"]
        .into_iter()
        .find(|p| lower.starts_with(p))
        .map_or(0, str::len);
    let path = &url[prefix..];
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() {
        return Err(StoreError::new(format!(
            "sqlite: no database path in {url:?}"
        )));
    }
    Ok(Target::File(PathBuf::from(path)))
}

fn configure(conn: &Connection, file: bool, writer: bool) -> StoreResult<()> {
    conn.busy_timeout(BUSY_TIMEOUT)
        .ctx("setting busy_timeout")?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    if file && writer {
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .ctx("setting journal_mode=WAL")?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::new(format!(
                "sqlite: journal_mode=WAL refused (got {mode})"
            )));
        }
    }
    conn.pragma_update(None, "synchronous", "NORMAL")
        .ctx("setting synchronous=NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .ctx("setting foreign_keys=ON")?;
    if !writer {
        conn.pragma_update(None, "query_only", "ON")
            .ctx("setting query_only=ON")?;
    }
    Ok(())
}

fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    // A panic mid-call rolled its transaction back when the guard dropped: the connection is fine.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url`: `sqlite://relative.db`,
    /// `sqlite:///abs/path.db`, a bare path, or `sqlite::memory:` (one private in-memory
    /// database, shared by every clone of this store). Does not migrate: call
    /// `Store::migrate`.
    pub(crate) fn open(url: &str) -> Result<SqliteStore, StoreError> {
        let (writer, readers, location) = match parse_url(url)? {
            Target::Memory => {
                let conn = Connection::open_in_memory().ctx("opening in-memory database")?;
                configure(&conn, false, true)?;
                (conn, Vec::new(), ":memory:".to_string())
            }
            Target::File(path) => {
                let location = path.display().to_string();
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .ctx(&format!("creating directory {}", dir.display()))?;
                }
                let writer = Connection::open(&path).ctx(&format!("opening {location}"))?;
                configure(&writer, true, true)?;
                let mut readers = Vec::with_capacity(READERS);
                for _ in 0..READERS {
                    let conn =
                        Connection::open(&path).ctx(&format!("opening reader on {location}"))?;
                    configure(&conn, true, false)?;
                    readers.push(Mutex::new(conn));
                }
                (writer, readers, location)
            }
        };
        Ok(SqlStore::new(Sqlite {
            inner: Arc::new(Inner {
                location,
                writer: Mutex::new(writer),
                readers,
                next_reader: AtomicUsize::new(0),
            }),
        }))
    }
}

impl Backend for Sqlite {
    /// Runs `f` on a reader connection, on the blocking pool.
    fn read<T, F>(&self, f: F) -> StoreFuture<'static, T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Db) -> StoreResult<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        Box::pin(blocking(move || inner.with_reader(|c| f(c))))
    }

    /// Runs `f` in one transaction on the single writer connection, on the blocking pool:
    /// committed when `f` succeeds, rolled back when it fails. `IMMEDIATE` takes the write lock
    /// at the start, so what `f` reads is not changed by another process before it writes.
    fn write<T, F>(&self, f: F) -> StoreFuture<'static, T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Db) -> StoreResult<T> + Send + 'static,
    {
        self.on_writer(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .ctx("starting a write")?;
            let out = f(&*tx)?;
            tx.commit().ctx("committing a write")?;
            Ok(out)
        })
    }

    fn latest_schema(&self) -> i64 {
        migrations::latest()
    }

    fn migrate(&self) -> StoreFuture<'static, ()> {
        self.on_writer(migrations::migrate)
    }
}

impl Sqlite {
    /// Runs `f` on the single writer connection itself, on the blocking pool (migrations).
    fn on_writer<T, F>(&self, f: F) -> StoreFuture<'static, T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        Box::pin(blocking(move || f(&mut lock(&inner.writer))))
    }
}

impl Inner {
    /// Takes the first idle reader (round-robin start), or waits for one.
    fn with_reader<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let n = self.readers.len();
        if n == 0 {
            return f(&lock(&self.writer));
        }
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed) % n;
        for i in 0..n {
            match self.readers[(start + i) % n].try_lock() {
                Ok(conn) => return f(&conn),
                Err(TryLockError::Poisoned(p)) => return f(&p.into_inner()),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        f(&lock(&self.readers[start]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse() {
        assert!(matches!(parse_url("sqlite::memory:"), Ok(Target::Memory)));
        let file = |u: &str| match parse_url(u) {
            Ok(Target::File(p)) => p,
            _ => PathBuf::new(),
        };
        assert_eq!(
            file("sqlite://graphtoken.db"),
            PathBuf::from("graphtoken.db")
        );
        assert_eq!(file("sqlite:///abs/path.db"), PathBuf::from("/abs/path.db"));
        assert_eq!(file("sqlite://x.db?mode=rwc"), PathBuf::from("x.db"));
        assert_eq!(file("data/g.db"), PathBuf::from("data/g.db"));
        assert!(parse_url("sqlite://").is_err());
        // The scheme in any case.
        assert_eq!(file("SQLite://Mixed.db"), PathBuf::from("Mixed.db"));
        assert_eq!(file("SQLITE:x.db"), PathBuf::from("x.db"));
        assert!(matches!(parse_url("SQLITE::MEMORY:"), Ok(Target::Memory)));
        // Another scheme is refused here too, not read as a file name.
        assert!(parse_url("postgres://x").is_err());
        assert!(SqliteStore::open("mysql://x").is_err());
    }
}
