//! Storage backends for graphtoken: implementations of [`graphtoken_core::store::Store`].
//!
//! [`SqliteStore`] is the embedded default. A PostgreSQL backend is planned; the schema in
//! [`migrations`](crate::migrations) is written to port to it, and [`conformance`] is the test
//! suite every backend must pass (enable the `conformance` feature to use it from elsewhere).

mod content;
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
mod sqlite;
mod world;

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;

#[cfg(test)]
mod tests;

pub use sqlite::SqliteStore;

use std::sync::Arc;

use graphtoken_core::store::{Store, StoreError};

/// Opens the store a database URL names (not migrated: call `migrate`); the backend is chosen
/// here, at run time. `sqlite://FILE`,
/// `sqlite:FILE`, `sqlite::memory:` and a bare path are SQLite. Any other `scheme://` is refused
/// with a clear error rather than read as a file name (`postgres://x` once made a SQLite file
/// at `postgres:/x`).
pub fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    let scheme = url.trim().split_once("://").map(|(s, _)| s).filter(|s| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    });
    match scheme.map(str::to_ascii_lowercase).as_deref() {
        None | Some("sqlite") => Ok(Arc::new(SqliteStore::open(url)?)),
        Some("postgres" | "postgresql") => Err(StoreError(
            "PostgreSQL is not supported yet: use sqlite://FILE".into(),
        )),
        Some(other) => Err(StoreError(format!(
            "unknown database URL scheme `{other}://`: use sqlite://FILE or sqlite::memory:"
        ))),
    }
}
