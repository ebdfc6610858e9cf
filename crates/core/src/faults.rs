//! Armed faults as the store keeps them (see `store::FaultStore`). What a fault matches and
//! answers is the server's business (`graphtoken_server::faults`): its spec is kept as the
//! server wrote it.

/// At most this many faults are kept, spent ones included.
pub const MAX_FAULTS: u32 = 256;

/// A fault as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredFault {
    pub id: u64,
    /// What the fault matches and answers, as the server wrote it (JSON). A token it matches is
    /// kept as its hash.
    pub spec: String,
    /// How many calls it fires on (0: until cleared).
    pub times: u64,
    /// How many it fired on so far, across every instance.
    pub fired: u64,
}

impl StoredFault {
    /// Whether it can still fire.
    pub fn armed(&self) -> bool {
        self.times == 0 || self.fired < self.times
    }
}
