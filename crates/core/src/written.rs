//! An answer written out once as JSON and kept, to be sent again as it is: the server hands its
//! bytes to the connection without copying them ([`Written::bytes`] shares them), and where it
//! goes inside another answer (a batch, `ids=`) it is read back as raw JSON.

use bytes::Bytes;
use serde_core::ser::{Error as _, Serialize, Serializer};
use serde_json::value::RawValue;

/// JSON text, whole, shared by every answer that sends it.
///
/// Tried and not kept: the text in one allocation with its count (`Arc<str>`), sent through
/// `Bytes::from_owner`. It saves the count's own line but allocates for every answer sent, and
/// showed no gain (docs/benchmarks.md).
#[derive(Clone)]
pub struct Written(Bytes);

impl Written {
    /// `value` written out. It cannot fail for the answers kept (every key is a string).
    pub fn of(value: &impl Serialize) -> serde_json::Result<Self> {
        // To size, so that what it holds is what its room counts.
        let text = serde_json::to_vec(value)?.into_boxed_slice();
        Ok(Written(Bytes::from(text)))
    }

    /// The text, to send: a count bumped, nothing copied.
    pub fn bytes(&self) -> Bytes {
        self.0.clone()
    }

    /// The text (JSON is UTF-8; were it not, nothing).
    #[cfg(test)]
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The text, or the part of it `range` names, as raw JSON inside another answer (read
    /// again: it is only ever whole JSON, and this is not the path an answer is sent by).
    pub fn serialize_part<S: Serializer>(
        &self,
        range: std::ops::Range<usize>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let text = self
            .0
            .get(range)
            .and_then(|b| std::str::from_utf8(b).ok())
            .ok_or_else(|| S::Error::custom("no such part of a kept answer"))?;
        let raw: &RawValue = serde_json::from_str(text).map_err(S::Error::custom)?;
        raw.serialize(s)
    }

    /// What it takes in memory: the text, rounded up for the allocator's size classes, and
    /// the count its copies share.
    pub fn cost(&self) -> usize {
        self.0.len().next_multiple_of(16) + 32
    }
}

impl Serialize for Written {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.serialize_part(0..self.len(), s)
    }
}

/// Its length only: an answer may carry tokens.
impl std::fmt::Debug for Written {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Written({} bytes)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_is_sent_as_written_and_read_back_as_raw_json() {
        let w = Written::of(&serde_json::json!({"data": {"a": [1, 2]}})).unwrap();
        assert_eq!(&w.bytes()[..], br#"{"data":{"a":[1,2]}}"#);
        let inside = serde_json::json!({ "body": w });
        assert_eq!(inside.to_string(), r#"{"body":{"data":{"a":[1,2]}}}"#);
        let mut part = Vec::new();
        w.serialize_part(8..w.len() - 1, &mut serde_json::Serializer::new(&mut part))
            .unwrap();
        assert_eq!(part, br#"{"a":[1,2]}"#);
        assert_eq!(format!("{w:?}"), "Written(20 bytes)");
        let sent = w.bytes();
        drop(w);
        assert_eq!(
            &sent[..],
            br#"{"data":{"a":[1,2]}}"#,
            "sent, it outlives the kept one"
        );
    }

    #[test]
    fn a_part_that_is_not_json_is_an_error_not_a_panic() {
        let w = Written::of(&serde_json::json!({"data": 1})).unwrap();
        let mut out = Vec::new();
        let mut s = serde_json::Serializer::new(&mut out);
        assert!(w.serialize_part(0..3, &mut s).is_err(), "not JSON");
        assert!(w.serialize_part(5..99, &mut s).is_err(), "past its end");
        let (from, to) = (3, 1);
        assert!(w.serialize_part(from..to, &mut s).is_err(), "backwards");
        let heart = Written::of(&serde_json::json!({"data": "\u{2665}"})).unwrap();
        assert!(
            heart.serialize_part(10..11, &mut s).is_err(),
            "inside a character"
        );
    }
}
