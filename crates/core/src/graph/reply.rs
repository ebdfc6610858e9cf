//! What a Graph request answers: JSON built as a `serde_json::Value`, or, for the hottest
//! endpoints, a typed answer that its `Serialize` writes straight into the body.

use std::fmt::Display;

use serde_core::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use crate::error::GraphError;

use super::debug;
use super::page_view::PageView;
use super::paging::Paged;

pub enum Reply {
    Value(Value),
    /// `{"data": …}` of `GET /debug_token`.
    DebugToken(debug::Data),
    /// `GET /{user}/accounts`.
    Accounts(Paged<PageView>),
}

impl From<Value> for Reply {
    fn from(v: Value) -> Self {
        Reply::Value(v)
    }
}

impl Reply {
    /// The answer as a `Value`, for what reads into answers (batch references, `ids=`).
    pub fn into_value(self) -> Result<Value, GraphError> {
        match self {
            Reply::Value(v) => Ok(v),
            typed => serde_json::to_value(&typed).map_err(|_| GraphError::internal()),
        }
    }
}

impl Serialize for Reply {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Reply::Value(v) => v.serialize(s),
            Reply::DebugToken(data) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("data", data)?;
                m.end()
            }
            Reply::Accounts(paged) => paged.serialize(s),
        }
    }
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reply::Value(v) => std::fmt::Debug::fmt(v, f),
            Reply::DebugToken(_) => f.write_str("DebugToken(..)"),
            Reply::Accounts(_) => f.write_str("Accounts(..)"),
        }
    }
}

/// A number Graph writes as a string (ids), written without a `String` of its own.
pub struct AsText<T>(pub T);

impl<T: Display> Serialize for AsText<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}
