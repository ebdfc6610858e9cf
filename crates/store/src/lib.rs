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
