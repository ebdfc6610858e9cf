//! `/_admin/faults`: arm, list and clear faults (see `crate::faults` for what they do to Graph
//! calls). Bodies are read with serde; an unknown key is refused, so that a typo does not arm a
//! fault that matches everything.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};

use graphtoken_core::faults::MAX_FAULTS;
use graphtoken_core::request::Method;
use graphtoken_core::token;

use super::reply::{bad, error, not_found, ok, AdminError, Answer, Body, St, Text};
use crate::faults::{self, Answer as FaultAnswer, Matcher, Spec};
use crate::AppState;

/// The longest delay a fault may add (10 minutes).
const MAX_LATENCY_MS: u64 = 600_000;

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

/// `POST /_admin/faults`: arms a fault and answers it as the listing shows it.
async fn add(State(st): St, Body(b): Body<FaultBody>) -> Answer {
    let error = b.error.unwrap_or(Value::Null);
    let error = match faults::answer_of(&error).map_err(bad)? {
        // Kept as the catalogue spells it.
        Some(FaultAnswer::Named(n)) => json!(n),
        _ => error,
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
    if error.is_null() && status.is_none() && latency_ms == 0 {
        return Err(bad(
            "a fault needs an `error`, a `status` or a `latency_ms`",
        ));
    }
    let matcher = match b.matcher {
        None => Matcher::default(),
        Some(m) => matcher(&st, m).await?,
    };
    let spec = Spec {
        error,
        status,
        latency_ms,
        matcher,
        times: b.times.unwrap_or(1),
    };
    match st.faults.arm(&st.services, spec).await? {
        Some(armed) => ok(armed),
        None => Err(bad(format!(
            "at most {MAX_FAULTS} faults are kept: clear some first"
        ))),
    }
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
        mt.path = Some(faults::path_segments(&p));
    }
    if let Some(x) = m.method {
        mt.method =
            Some(Method::parse(&x).ok_or_else(|| bad("`method` must be GET, POST or DELETE"))?);
    }
    mt.token = m
        .token
        .map(|t| (faults::redact(&t), token::hex(&token::hash(&t))));
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
    ok(st.faults.list(&st.services).await?)
}

/// `DELETE /_admin/faults`: clears every fault.
async fn clear_all(State(st): St) -> Answer {
    st.faults.clear(&st.services, None).await?;
    ok(json!({ "success": true }))
}

/// `DELETE /_admin/faults/{id}`.
async fn clear_one(State(st): St, Path(id): Path<String>) -> Answer {
    if !st.faults.clear(&st.services, Some(&id)).await? {
        return Err(error(StatusCode::NOT_FOUND, format!("no fault `{id}`")));
    }
    ok(json!({ "success": true }))
}
