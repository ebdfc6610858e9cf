//! The outbox of callbacks to apps, for the server's delivery loop (`graphtoken_server::
//! callbacks`): what is due, each try's outcome, the listing. Core puts callbacks in it (see
//! `sessions`); these writes are delivery bookkeeping and publish no event.

use crate::error::GraphError;
use crate::outbox::{Attempt, Outgoing};
use crate::services::Services;

impl Services {
    /// Claims up to `limit` due callbacks for `lease_ms` (wall-clock milliseconds).
    pub async fn claim_callbacks(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<Outgoing>, GraphError> {
        Ok(self.store.claim_callbacks(now_ms, lease_ms, limit).await?)
    }

    /// Records a try of callback `id`.
    pub async fn record_callback(&self, id: u64, attempt: &Attempt) -> Result<(), GraphError> {
        Ok(self.store.record_callback(id, attempt).await?)
    }

    /// The newest `limit` callbacks, newest first.
    pub async fn callbacks(&self, limit: u32) -> Result<Vec<Outgoing>, GraphError> {
        Ok(self.store.callbacks(limit).await?)
    }
}
