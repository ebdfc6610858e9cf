//! Admin route for Page messaging: a person's incoming message to a Page, so the Page has
//! conversations to read and answer.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use serde_json::json;

use graphtoken_core::store::Store;

use crate::admin::{body, error, text, Answer, St};
use crate::render;
use crate::AppState;

pub fn routes<S: Store>() -> Router<Arc<AppState<S>>> {
    Router::new().route("/pages/{page}/messages", post(incoming_message::<S>))
}

/// `POST /_admin/pages/{page}/messages {"user", "message"}` → `{"id": "m_<n>",
/// "conversation_id": "t_<n>"}`: the person (seed key or id) messages the Page, starting their
/// conversation when there is none.
async fn incoming_message<S: Store>(
    State(st): St<S>,
    Path(p): Path<String>,
    bytes: Bytes,
) -> Answer {
    let g = &st.services;
    let page = g
        .find_page(&p)
        .await?
        .ok_or_else(|| error(StatusCode::NOT_FOUND, format!("no page `{p}`")))?;
    let m = body(&bytes)?;
    let who = text(&m, "user").ok_or_else(|| {
        error(
            StatusCode::BAD_REQUEST,
            "`user` is required (a seed key or an id)",
        )
    })?;
    let message = text(&m, "message")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| error(StatusCode::BAD_REQUEST, "`message` is required"))?;
    let user = g
        .find_user(&who)
        .await?
        .ok_or_else(|| error(StatusCode::NOT_FOUND, format!("no user `{who}`")))?;
    // The person gets their page-scoped id for this Page now, as on Facebook.
    let msg = g
        .add_message(page.id, user.id, false, None, message)
        .await?;
    Ok(render::json(
        StatusCode::OK,
        &json!({ "id": msg.public_id(), "conversation_id": format!("t_{}", msg.conversation_id) }),
    ))
}
