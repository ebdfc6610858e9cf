//! Armed faults (`/_admin/faults`): the server decides what a fault matches and answers; these
//! keep the faults in the store so that every instance on one database fires the same ones.
//! Arming and clearing publish [`Event::FaultsChanged`]; a firing is bookkeeping and publishes
//! nothing (the instance that fired knows, and other instances hear of a fault running out
//! through the database).

use crate::error::GraphError;
use crate::events::Event;
use crate::faults::{StoredFault, MAX_FAULTS};
use crate::services::Services;

impl Services {
    /// Arms a fault; `None` when [`MAX_FAULTS`] are kept already.
    pub async fn arm_fault(
        &self,
        spec: &str,
        times: u64,
    ) -> Result<Option<StoredFault>, GraphError> {
        let armed = self.store.arm_fault(spec, times, MAX_FAULTS).await?;
        if armed.is_some() {
            self.publish(Event::FaultsChanged);
        }
        Ok(armed)
    }

    /// Every fault, armed or spent, oldest first.
    pub async fn faults(&self) -> Result<Vec<StoredFault>, GraphError> {
        Ok(self.store.faults().await?)
    }

    /// Counts a firing of fault `id`: its firings so far, or `None` when it is spent (on any
    /// instance) or cleared, and must not fire.
    pub async fn fire_fault(&self, id: u64) -> Result<Option<u64>, GraphError> {
        Ok(self.store.fire_fault(id).await?)
    }

    /// Clears fault `id`, or every fault; how many were cleared.
    pub async fn clear_faults(&self, id: Option<u64>) -> Result<u64, GraphError> {
        let cleared = self.store.clear_faults(id).await?;
        if cleared > 0 {
            self.publish(Event::FaultsChanged);
        }
        Ok(cleared)
    }
}
