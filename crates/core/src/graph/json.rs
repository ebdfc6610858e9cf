//! Small pieces for answers written by hand-written `Serialize`s (see [`super::Reply`]).

use serde_core::ser::{Serialize, Serializer};
use serde_json::Value;

use crate::error::GraphError;

/// An id Graph writes as a string, written without a `String` of its own (its digits by
/// `itoa`, not through `fmt`'s machinery).
pub struct AsText<T>(pub T);

impl<T: Copy + Into<u64>> Serialize for AsText<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(itoa::Buffer::new().format(self.0.into()))
    }
}

/// A typed answer as a `Value`, for what reads into answers. It cannot fail (every key is a
/// string); if it did, the cause goes with the internal error.
pub fn to_value(typed: &impl Serialize) -> Result<Value, GraphError> {
    serde_json::to_value(typed).map_err(GraphError::internal_because)
}
