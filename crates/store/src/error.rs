//! Errors with context: what the store was doing when something failed. Their text is for
//! logs only; clients see a catalogued Graph error.

use graphtoken_core::store::{StoreError, StoreResult};

/// Adds context to a driver error and turns it into a [`StoreError`].
pub(crate) trait Ctx<T> {
    fn ctx(self, what: &str) -> StoreResult<T>;
}

impl<T, E: std::fmt::Display> Ctx<T> for Result<T, E> {
    fn ctx(self, what: &str) -> StoreResult<T> {
        self.map_err(|e| StoreError::new(format!("store: {what}: {e}")))
    }
}
