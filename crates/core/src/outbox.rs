//! The outbox's records: a callback to an app as stored until it is delivered or given up, and
//! the outcome of one try (see `store::OutboxStore`, and the server's delivery loop).

use crate::events::Callback;
use crate::model::Unix;

/// A callback in the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    pub id: u64,
    pub callback: Callback,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub last_error: Option<String>,
    /// The app's answer, as JSON text, when it sent one.
    pub answer: Option<String>,
    pub created_at: Unix,
}

/// Where a callback's delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryStatus {
    Pending,
    Retrying,
    Delivered,
    Failed,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 4] = [
        DeliveryStatus::Pending,
        DeliveryStatus::Retrying,
        DeliveryStatus::Delivered,
        DeliveryStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Retrying => "retrying",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// The outcome of one try of a callback.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// `Delivered`, `Failed` (given up) or `Retrying`.
    pub status: DeliveryStatus,
    /// Tries so far, this one included.
    pub attempts: u32,
    pub last_error: Option<String>,
    pub answer: Option<String>,
    /// When `Retrying`: when the next try is due (wall-clock milliseconds).
    pub next_at_ms: i64,
}
