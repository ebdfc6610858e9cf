//! Admin route for Page messaging: a person's incoming message to a Page, so the Page has
//! conversations to read and answer.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::routing::post;
use axum::Router;
use serde_json::json;

use super::content::Said;
use super::reply::{bad, ok, page, user, Answer, Body, St};
use crate::AppState;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/pages/{page}/messages", post(incoming_message))
}

/// `POST /_admin/pages/{page}/messages {"user", "message"}` → `{"id": "m_<n>",
/// "conversation_id": "t_<n>"}`: the person (seed key or id) messages the Page, starting their
/// conversation when there is none; they get their page-scoped id for the Page, as on Facebook.
async fn incoming_message(State(st): St, Path(p): Path<String>, Body(b): Body<Said>) -> Answer {
    let page = page(&st, &p).await?;
    if b.message.is_empty() {
        return Err(bad("`message` is required"));
    }
    let user = user(&st, &b.user).await?;
    let msg = st
        .services
        .add_message(page.id, user.id, false, None, b.message)
        .await?;
    ok(json!({
        "id": msg.public_id(),
        "conversation_id": format!("t_{}", msg.conversation_id),
    }))
}
