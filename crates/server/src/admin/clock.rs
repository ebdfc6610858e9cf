//! The virtual clock: `GET /_admin/clock` → `{"now"}`, and `POST /_admin/clock` to move it.

use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::json;

use super::reply::{bad, ok, Answer, Body, St};
use crate::AppState;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/clock", get(clock))
}

/// The emulator's: moving the virtual clock.
pub fn emulator_routes() -> Router<Arc<AppState>> {
    Router::new().route("/clock", post(move_clock))
}

/// `GET /_admin/clock` → `{"now": unix}`.
async fn clock(st: St) -> Answer {
    ok(json!({ "now": st.services.now() }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MoveClock {
    advance_seconds: Option<i64>,
    set: Option<i64>,
}

/// `POST /_admin/clock {"advance_seconds": N}` or `{"set": unix}` → `{"now"}`.
async fn move_clock(st: St, Body(b): Body<MoveClock>) -> Answer {
    let target = match (b.advance_seconds, b.set) {
        (Some(a), None) => st.services.now().saturating_add(a),
        (None, Some(s)) => s,
        _ => {
            return Err(bad(
                "send exactly one of {\"advance_seconds\": N} or {\"set\": unix}",
            ))
        }
    };
    let now = st.services.set_clock(&st.clock, target).await?;
    ok(json!({ "now": now }))
}
