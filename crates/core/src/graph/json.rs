//! Small pieces for answers written by hand-written `Serialize`s (see [`super::Reply`]).

use std::fmt::Display;

use serde_core::ser::{Serialize, Serializer};
use serde_json::Value;

use crate::error::GraphError;

/// A number Graph writes as a string (ids), written without a `String` of its own.
pub struct AsText<T>(pub T);

impl<T: Display> Serialize for AsText<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

/// A typed answer as a `Value`, for what reads into answers. It cannot fail (every key is a
/// string); if it did, the cause goes with the internal error.
pub fn to_value(typed: &impl Serialize) -> Result<Value, GraphError> {
    serde_json::to_value(typed).map_err(GraphError::internal_because)
}
