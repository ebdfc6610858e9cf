//! `/_admin/faults`: arm, list and clear faults (see `crate::faults` for what they do to Graph
//! calls). Bodies are read with serde; an unknown key is refused, so that a typo does not arm a
//! fault that matches everything.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use graphtoken_core::error::{GraphError, More};
use graphtoken_core::request::Method;

use super::reply::{bad, error, not_found, ok, AdminError, Answer, Body, St, Text};
use crate::faults::{self, Answer as FaultAnswer, Matcher, Spec, CATALOGUE, OAUTH};
use crate::AppState;

/// The longest delay a fault may add (10 minutes).
const MAX_LATENCY_MS: u64 = 600_000;

/// The `type`s a custom error may have (`GraphError::kind` is static).
const KINDS: &[&str] = &[
    "OAuthException",
    "GraphMethodException",
    "IGApiException",
    "OAuthAccessTokenException",
    "Exception",
];

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/faults", get(list).post(add).delete(clear_all))
        .route("/faults/{id}", delete(clear_one))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultBody {
    /// A catalogue name, or a custom error object (checked by [`custom`]).
    error: Option<Value>,
    times: Option<u64>,
    #[serde(rename = "match")]
    matcher: Option<MatchBody>,
    latency_ms: Option<u64>,
    status: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MatchBody {
    path: Option<String>,
    method: Option<String>,
    app: Option<Text>,
    user: Option<Text>,
    token: Option<Text>,
}

/// A custom error: `{"code","subcode","message","type","status","is_transient",
/// "error_user_title","error_user_msg"}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomError {
    code: Option<u32>,
    subcode: Option<u32>,
    message: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    status: Option<u16>,
    is_transient: Option<bool>,
    error_user_title: Option<String>,
    error_user_msg: Option<String>,
}

/// `POST /_admin/faults`: arms a fault and answers it as the listing shows it.
async fn add(State(st): St, Body(b): Body<FaultBody>) -> Answer {
    let (answer, given_error) = match b.error {
        None | Some(Value::Null) => (None, Value::Null),
        Some(Value::String(name)) => match faults::catalogue_name(&name) {
            Some(n) => (Some(FaultAnswer::Named(n)), json!(n)),
            None => {
                return Err(bad(format!(
                    "unknown error `{name}`: use one of {}, or an object {{\"code\", \"message\", ...}}",
                    CATALOGUE.join(", ")
                )))
            }
        },
        Some(Value::Object(o)) => (Some(FaultAnswer::Custom(custom(&o)?)), Value::Object(o)),
        Some(_) => {
            return Err(bad(
                "`error` must be a catalogue name or an object {\"code\", \"message\", ...}",
            ))
        }
    };
    let status = match b.status {
        None => None,
        Some(s @ 500..=599) => Some(s as u16),
        Some(_) => return Err(bad("`status` must be a 5xx, such as 500, 502 or 503")),
    };
    let latency_ms = b.latency_ms.unwrap_or(0);
    if latency_ms > MAX_LATENCY_MS {
        return Err(bad(format!("`latency_ms` may be at most {MAX_LATENCY_MS}")));
    }
    if answer.is_none() && status.is_none() && latency_ms == 0 {
        return Err(bad(
            "a fault needs an `error`, a `status` or a `latency_ms`",
        ));
    }
    let matcher = match b.matcher {
        None => Matcher::default(),
        Some(m) => matcher(&st, m).await?,
    };
    let spec = Spec {
        answer,
        status,
        latency_ms,
        matcher,
        times: b.times.unwrap_or(1),
        given_error,
    };
    ok(st.faults.arm(spec).map_err(bad)?)
}

/// A custom `error` object, checked.
fn custom(o: &Map<String, Value>) -> Result<GraphError, AdminError> {
    let c = CustomError::deserialize(o)
        .map_err(|e| bad(format!("`error` is not a custom error: {e}")))?;
    let code = c
        .code
        .ok_or_else(|| bad("a custom `error` needs a numeric `code`"))?;
    let message = c
        .message
        .filter(|m| !m.is_empty())
        .ok_or_else(|| bad("a custom `error` needs a `message`"))?;
    let kind = match c.kind {
        None => OAUTH,
        Some(k) => KINDS.iter().copied().find(|x| *x == k).ok_or_else(|| {
            bad(format!(
                "unknown error type `{k}`: use {}",
                KINDS.join(", ")
            ))
        })?,
    };
    let mut e = GraphError::new(code, kind, message);
    if let Some(s) = c.subcode {
        e = e.with_subcode(s);
    }
    if let Some(s) = c.status {
        if !(400..=599).contains(&s) {
            return Err(bad("`status` of an error must be between 400 and 599"));
        }
        e = e.with_status(s);
    }
    e.is_transient = c.is_transient;
    if c.error_user_title.is_some() || c.error_user_msg.is_some() {
        e.more = Some(Box::new(More {
            user_title: c.error_user_title,
            user_msg: c.error_user_msg,
            ..More::default()
        }));
    }
    Ok(e)
}

async fn matcher(st: &AppState, m: MatchBody) -> Result<Matcher, AdminError> {
    let mut mt = Matcher::default();
    let empty = |what: &str| bad(format!("`{what}` must be a non-empty string"));
    if m.path.as_deref() == Some("") {
        return Err(empty("path"));
    }
    if m.token.as_ref().is_some_and(|t| t.is_empty()) {
        return Err(empty("token"));
    }
    if let Some(p) = m.path {
        let mut segs: Vec<String> = p
            .split('?')
            .next()
            .unwrap_or("")
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let versioned = segs.first().is_some_and(|s| {
            s.strip_prefix('v')
                .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()) && r.contains('.'))
        });
        if versioned {
            segs.remove(0);
        }
        mt.path = Some(segs);
    }
    if let Some(x) = m.method {
        mt.method =
            Some(Method::parse(&x).ok_or_else(|| bad("`method` must be GET, POST or DELETE"))?);
    }
    mt.token = m.token.map(|t| t.0);
    let s = &st.services;
    if let Some(a) = m.app {
        let app = super::reply::app(st, &a).await?;
        mt.app = Some((a.0, app.id));
    }
    if let Some(u) = m.user {
        let mut ids = Vec::new();
        if let Some(user) = s.find_user(&u).await? {
            ids.push(user.id.0);
        }
        // A number that is no person's id may be an app-scoped id.
        if let Ok(n) = u.parse() {
            if !ids.contains(&n) {
                ids.push(n);
            }
        }
        if ids.is_empty() {
            return Err(not_found("user", &u));
        }
        mt.user = Some((u.0, ids));
    }
    Ok(mt)
}

/// `GET /_admin/faults` → `{"data": [...]}`: every fault, armed or spent, and how often it fired.
async fn list(State(st): St) -> Answer {
    ok(st.faults.list())
}

/// `DELETE /_admin/faults`: clears every fault.
async fn clear_all(State(st): St) -> Answer {
    st.faults.clear_all();
    ok(json!({ "success": true }))
}

/// `DELETE /_admin/faults/{id}`.
async fn clear_one(State(st): St, Path(id): Path<String>) -> Answer {
    if !st.faults.clear(&id) {
        return Err(error(StatusCode::NOT_FOUND, format!("no fault `{id}`")));
    }
    ok(json!({ "success": true }))
}
