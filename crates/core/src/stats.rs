//! What a store tells the metrics (`store::Store::stats`): its connections and its change feed,
//! where it has them.

/// What a store tells the metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreStats {
    pub pool: Option<PoolStats>,
    pub feed: Option<FeedStats>,
}

/// A store's connections.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Open now, of which idle, at most, and calls waiting for one.
    pub open: u64,
    pub idle: u64,
    pub max: u64,
    pub waiting: u64,
}

/// How the change feed (see `store::Store::watch`) keeps up, since start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FeedStats {
    pub connected: bool,
    /// Changes heard, and of those, heard more than a second after they were written.
    pub changes: u64,
    pub late: u64,
    /// How long after it was written the last change was heard, in milliseconds.
    pub last_lag_ms: u64,
    /// Connections lost.
    pub reconnects: u64,
}
