//! Storage backends for graphtoken: implementations of [`graphtoken_core::store::Store`].
//!
//! The store is written once ([`sql_store`], over the dialect-neutral [`db`]) and runs on a
//! backend: SQLite, the embedded default, or PostgreSQL. [`conformance`] is the test suite
//! every backend must pass (enable the `conformance` feature to use it from elsewhere).

mod browser_sessions;
mod content;
mod copy;
mod db;
mod error;
mod events;
mod faults;
mod limits;
mod login;
mod messaging;
mod migrations;
mod outbox;
mod page_settings;
mod postgres;
mod psids;
mod queries;
mod rows;
mod sealing;
mod seed_content;
mod sql_store;
mod sqlite;
mod world;

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;

#[cfg(test)]
mod tests;

use postgres::PostgresStore;
use sqlite::SqliteStore;

use std::sync::Arc;

use graphtoken_core::seal::Sealer;
use graphtoken_core::store::{Store, StoreError};

/// Opens the store a database URL names (not migrated: call `migrate`); the backend is chosen
/// here, at run time. `sqlite://FILE`, `sqlite:FILE`, `sqlite::memory:` and a bare path are
/// SQLite; `postgres://…` and `postgresql://…` are PostgreSQL. Any other `scheme://` is refused
/// with a clear error rather than read as a file name.
pub fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    open_sealed(url, None)
}

/// [`open`], sealing the secrets it keeps under `sealer` (see `graphtoken_core::seal`).
pub fn open_sealed(url: &str, sealer: Option<Arc<Sealer>>) -> Result<Arc<dyn Store>, StoreError> {
    match scheme(url).as_deref() {
        None | Some("sqlite") => Ok(Arc::new(SqliteStore::open(url)?.sealed_with(sealer))),
        Some("postgres" | "postgresql") => {
            Ok(Arc::new(PostgresStore::open(url)?.sealed_with(sealer)))
        }
        Some(other) => Err(not_sqlite(other)),
    }
}

/// Whether `url` names a PostgreSQL database, as [`open`] reads it.
pub fn is_postgres(url: &str) -> bool {
    matches!(scheme(url).as_deref(), Some("postgres" | "postgresql"))
}

/// The file of a SQLite database URL (`None`: a database in memory), as `open` reads it; an
/// error for a URL of another backend.
pub fn sqlite_file(url: &str) -> Result<Option<std::path::PathBuf>, StoreError> {
    sqlite::file_of(url)
}

pub use copy::Copied;

/// Copies every record of the database at `from` into the one at `to`, which is migrated and
/// must hold nothing yet; any two backends. Returns each table and the rows it carried.
pub async fn copy(from: &str, to: &str) -> Result<Copied, StoreError> {
    enum Opened {
        Sqlite(SqliteStore),
        Postgres(PostgresStore),
    }
    let open = |url: &str| -> Result<Opened, StoreError> {
        match scheme(url).as_deref() {
            None | Some("sqlite") => Ok(Opened::Sqlite(SqliteStore::open(url)?)),
            Some("postgres" | "postgresql") => Ok(Opened::Postgres(PostgresStore::open(url)?)),
            Some(other) => Err(not_sqlite(other)),
        }
    };
    must_exist(from)?;
    match (open(from)?, open(to)?) {
        (Opened::Sqlite(a), Opened::Sqlite(b)) => copy::copy_between(&a, &b).await,
        (Opened::Sqlite(a), Opened::Postgres(b)) => copy::copy_between(&a, &b).await,
        (Opened::Postgres(a), Opened::Sqlite(b)) => copy::copy_between(&a, &b).await,
        (Opened::Postgres(a), Opened::Postgres(b)) => copy::copy_between(&a, &b).await,
    }
}

/// An error when `url` names a SQLite file that is not there, for commands that read a
/// database rather than make one: opening a SQLite file makes it, empty. Any other URL
/// (PostgreSQL, memory, one that does not parse) passes, for opening it to judge.
pub fn must_exist(url: &str) -> Result<(), StoreError> {
    match sqlite::file_of(url) {
        Ok(Some(file)) if !file.exists() => Err(StoreError::new(format!(
            "{} does not exist",
            file.display()
        ))),
        _ => Ok(()),
    }
}

/// Whether `e` says the database could not be reached at all (it may come back: worth a retry),
/// rather than that it refused or failed a statement.
pub fn is_unreachable(e: &StoreError) -> bool {
    e.unavailable
}

/// The error for a database whose schema is newer than this graphtoken knows.
pub(crate) fn newer_schema(found: i64, known: i64) -> StoreError {
    StoreError::new(format!(
        "the database was written by a newer graphtoken (schema version {found}; this one knows \
         up to {known}): run the newer graphtoken, or restore a backup made by this one"
    ))
}

/// The lower-cased scheme of a `scheme://…` URL; `None` for a bare path or `sqlite:FILE`.
pub(crate) fn scheme(url: &str) -> Option<String> {
    let (scheme, _) = url.trim().split_once("://")?;
    let valid = !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    valid.then(|| scheme.to_ascii_lowercase())
}

/// The error for a URL of a scheme SQLite does not serve.
pub(crate) fn not_sqlite(scheme: &str) -> StoreError {
    match scheme {
        "postgres" | "postgresql" => {
            StoreError::new("a PostgreSQL URL is not a SQLite database: open it with `open`")
        }
        other => StoreError::new(format!(
            "unknown database URL scheme `{other}://`: use sqlite://FILE, sqlite::memory: or \
             postgres://USER@HOST/DB"
        )),
    }
}
