//! Time. Nothing in graphtoken reads the system clock except [`SystemClock`].

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::model::Unix;

pub trait Clock: Send + Sync + 'static {
    /// Now, in unix seconds.
    fn now(&self) -> Unix;
}

/// The machine's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Unix {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_secs() as i64,
            Err(e) => -(e.duration().as_secs() as i64),
        }
    }
}

/// The emulator's virtual clock: real time plus an offset that the admin API moves.
/// The offset is persisted by the service, so it survives a restart.
#[derive(Debug, Default)]
pub struct VirtualClock {
    offset: AtomicI64,
}

impl VirtualClock {
    pub fn new(offset: i64) -> Self {
        VirtualClock {
            offset: AtomicI64::new(offset),
        }
    }
    pub fn offset(&self) -> i64 {
        self.offset.load(Ordering::Relaxed)
    }
    pub fn set_offset(&self, offset: i64) {
        self.offset.store(offset, Ordering::Relaxed);
    }
    /// The offset that makes `now()` equal `target`.
    pub fn offset_for(&self, target: Unix) -> i64 {
        target.saturating_sub(SystemClock.now())
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> Unix {
        SystemClock.now().saturating_add(self.offset())
    }
}
