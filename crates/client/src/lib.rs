//! A small client for graphtoken's admin API: issue tokens, inspect them, move the clock.
//!
//! It speaks plain HTTP (graphtoken listens on loopback); it has no TLS.

mod events;

use serde_json::{json, Value};

/// Where the server is and the admin key it wants.
#[derive(Clone)]
pub struct Admin {
    base: String,
    key: String,
}

impl std::fmt::Debug for Admin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admin")
            .field("base", &self.base)
            .field("key", &"<redacted>")
            .finish()
    }
}

/// What went wrong: the server's own message where it sent one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientError(pub String);

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ClientError {}

impl Admin {
    pub fn new(base: &str, key: &str) -> Admin {
        Admin {
            base: base.trim_end_matches('/').to_string(),
            key: key.to_string(),
        }
    }

    pub(crate) fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, ClientError> {
        let url = format!("{}{path}", self.base);
        let req = ureq::request(method, &url).set("Authorization", &format!("Bearer {}", self.key));
        let res = match body {
            Some(b) => req.send_json(b),
            None => req.call(),
        };
        match res {
            Ok(r) => r
                .into_json()
                .map_err(|e| ClientError(format!("{url}: unreadable answer: {e}"))),
            Err(ureq::Error::Status(status, r)) => {
                let msg = r
                    .into_json::<Value>()
                    .ok()
                    .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
                    .unwrap_or_else(|| "no message".into());
                Err(ClientError(format!("{url}: HTTP {status}: {msg}")))
            }
            Err(e) => Err(ClientError(format!("{url}: {e}"))),
        }
    }

    /// `POST /_admin/tokens`: a user token as if the person consented to `scopes`.
    pub fn issue_token(
        &self,
        user: &str,
        app: &str,
        scopes: &[String],
        long_lived: bool,
    ) -> Result<Value, ClientError> {
        let body = json!({
            "user": user,
            "app": app,
            "scopes": scopes,
            "lifetime": if long_lived { "long" } else { "short" },
        });
        self.call("POST", "/_admin/tokens", Some(body))
    }

    /// `POST /_admin/debug_token`: what `debug_token` says of a token, whatever its app.
    pub fn debug_token(&self, token: &str) -> Result<Value, ClientError> {
        self.call(
            "POST",
            "/_admin/debug_token",
            Some(json!({ "token": token })),
        )
    }

    /// `GET /_admin/clock`: the virtual now, unix seconds.
    pub fn clock(&self) -> Result<i64, ClientError> {
        now(self.call("GET", "/_admin/clock", None)?)
    }

    pub fn advance_clock(&self, seconds: i64) -> Result<i64, ClientError> {
        now(self.call(
            "POST",
            "/_admin/clock",
            Some(json!({ "advance_seconds": seconds })),
        )?)
    }

    pub fn set_clock(&self, unix: i64) -> Result<i64, ClientError> {
        now(self.call("POST", "/_admin/clock", Some(json!({ "set": unix })))?)
    }

    /// `POST /_admin/faults`: arms a fault (`{"error", "times", "match", "latency_ms",
    /// "status"}`) and returns it as the listing shows it, with its `id`.
    pub fn add_fault(&self, fault: Value) -> Result<Value, ClientError> {
        self.call("POST", "/_admin/faults", Some(fault))
    }

    /// `GET /_admin/faults`: `{"data": [...]}`, every fault with `times_left` and `fired`.
    pub fn faults(&self) -> Result<Value, ClientError> {
        self.call("GET", "/_admin/faults", None)
    }

    /// `DELETE /_admin/faults` (every fault) or `DELETE /_admin/faults/{id}`.
    pub fn clear_faults(&self, id: Option<&str>) -> Result<Value, ClientError> {
        match id {
            Some(id) => self.call("DELETE", &format!("/_admin/faults/{id}"), None),
            None => self.call("DELETE", "/_admin/faults", None),
        }
    }
}

fn now(v: Value) -> Result<i64, ClientError> {
    v["now"]
        .as_i64()
        .ok_or_else(|| ClientError("the clock answer has no `now`".into()))
}

/// Parses a duration such as `61d`, `2h`, `90m`, `30s`, `1w` or plain seconds (may be negative).
pub fn parse_duration(s: &str) -> Option<i64> {
    let s = s.trim();
    let (num, unit) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&s[..i], c),
        _ => (s, 's'),
    };
    let n: i64 = num.trim().parse().ok()?;
    let mult = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        _ => return None,
    };
    n.checked_mul(mult)
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations() {
        use super::parse_duration as p;
        assert_eq!(p("61d"), Some(61 * 86_400));
        assert_eq!(p("2h"), Some(7200));
        assert_eq!(p("-30m"), Some(-1800));
        assert_eq!(p("45"), Some(45));
        assert_eq!(p("1w"), Some(604_800));
        assert_eq!(p("3y"), None);
        assert_eq!(p("d"), None);
    }
}
