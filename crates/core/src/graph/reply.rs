//! What a Graph request answers: JSON built as a `serde_json::Value`, or, for the hottest
//! endpoints, a typed answer that its `Serialize` writes straight into the body.

use std::sync::Arc;

use serde_core::ser::{Serialize, Serializer};
use serde_json::Value;

use crate::error::GraphError;
use crate::services::KeptAnswer;

use super::debug;
use super::page_view::PageView;
use super::paging::Paged;

/// What core answers a Graph request with; the server writes it as the body.
pub enum Reply {
    /// JSON built as a `Value` (most endpoints).
    Value(Value),
    /// `{"data": …}` of `GET /debug_token`.
    DebugToken(debug::Data),
    /// `GET /{user}/accounts`.
    Accounts(Paged<PageView>),
    /// `GET /{user}/accounts` as kept, written out, in the token's cached entry.
    Kept(Arc<KeptAnswer>),
}

impl From<Value> for Reply {
    fn from(v: Value) -> Self {
        Reply::Value(v)
    }
}

impl Reply {
    /// The answer when it was written out whole before (kept in a token's cached entry), to
    /// send as it is.
    pub fn written(&self) -> Option<bytes::Bytes> {
        match self {
            Reply::DebugToken(debug::Data::Kept(kept)) => Some(kept.body.bytes()),
            Reply::Kept(kept) => Some(kept.body.bytes()),
            _ => None,
        }
    }

    /// The answer as a `Value`, for what reads into answers (batch references, `ids=`).
    pub fn into_value(self) -> Result<Value, GraphError> {
        match self {
            Reply::Value(v) => Ok(v),
            typed => super::json::to_value(&typed),
        }
    }
}

impl Serialize for Reply {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Reply::Value(v) => v.serialize(s),
            Reply::DebugToken(debug::Data::Kept(kept)) => kept.body.serialize(s),
            Reply::DebugToken(data) => debug::Whole(data).serialize(s),
            Reply::Accounts(paged) => paged.serialize(s),
            Reply::Kept(kept) => kept.body.serialize(s),
        }
    }
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // An answer may carry tokens (`access_token`, paging URLs): its shape only.
            Reply::Value(_) => f.write_str("Value(..)"),
            Reply::DebugToken(_) => f.write_str("DebugToken(..)"),
            Reply::Accounts(_) => f.write_str("Accounts(..)"),
            Reply::Kept(_) => f.write_str("Kept(..)"),
        }
    }
}
