//! Storage backends for graphtoken: implementations of [`graphtoken_core::store::Store`].
//!
//! [`SqliteStore`] is the embedded default. A PostgreSQL backend is planned; the schema in
//! [`migrations`](crate::migrations) is written to port to it, and [`conformance`] is the test
//! suite every backend must pass (enable the `conformance` feature to use it from elsewhere).

mod content;
mod db;
mod error;
mod events;
mod login;
mod messaging;
mod migrations;
mod page_settings;
mod psids;
mod queries;
mod rows;
mod seed_content;
mod sql_store;
mod sqlite;
mod world;

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;

#[cfg(test)]
mod tests;

use sqlite::SqliteStore;

use std::sync::Arc;

use graphtoken_core::store::{Store, StoreError};

/// Opens the store a database URL names (not migrated: call `migrate`); the backend is chosen
/// here, at run time. `sqlite://FILE`,
/// `sqlite:FILE`, `sqlite::memory:` and a bare path are SQLite. Any other `scheme://` is refused
/// with a clear error rather than read as a file name (`postgres://x` once made a SQLite file
/// at `postgres:/x`).
pub fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    match scheme(url).as_deref() {
        None | Some("sqlite") => Ok(Arc::new(SqliteStore::open(url)?)),
        Some(other) => Err(not_sqlite(other)),
    }
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
            StoreError("PostgreSQL is not supported yet: use sqlite://FILE".into())
        }
        other => StoreError(format!(
            "unknown database URL scheme `{other}://`: use sqlite://FILE or sqlite::memory:"
        )),
    }
}
