//! `POST /_admin/tokens` (a user token, as if the person had logged in) and
//! `POST /_admin/debug_token` (what `debug_token` says of any app's token).

use axum::routing::post;
use axum::Router;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

use graphtoken_core::permissions;

use super::reply::{app, ok, user, Answer, Body, St, Text};
use crate::AppState;

/// What an operator needs: `debug_token` on any app's token.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/debug_token", post(debug_token))
}

/// The emulator's: a token as if the person had logged in.
pub fn emulator_routes() -> Router<Arc<AppState>> {
    Router::new().route("/tokens", post(issue_token))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IssueToken {
    user: Text,
    app: Text,
    #[serde(default)]
    scopes: Option<Scopes>,
    #[serde(default)]
    lifetime: Lifetime,
}

/// A list of permission names, or one comma- or space-separated string of them.
#[derive(Deserialize)]
#[serde(untagged)]
enum Scopes {
    List(Vec<String>),
    Text(String),
}

#[derive(Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Lifetime {
    #[default]
    Short,
    Long,
}

/// `POST /_admin/tokens {"user","app","scopes":[...],"lifetime":"short"|"long"}`: a user token
/// as if the person had consented in the login dialog.
async fn issue_token(st: St, Body(b): Body<IssueToken>) -> Answer {
    let scopes: Vec<String> = match b.scopes {
        None => Vec::new(),
        Some(Scopes::List(l)) => l,
        Some(Scopes::Text(s)) => permissions::split_scope(&s).map(str::to_string).collect(),
    };
    let (user, app) = (user(&st, &b.user).await?, app(&st, &b.app).await?);
    let issued = st
        .services
        .login(&user, &app, &scopes, b.lifetime == Lifetime::Long)
        .await?;
    ok(json!({
        "access_token": issued.access_token,
        "token_type": "bearer",
        "expires_in": issued.expires_in,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DebugToken {
    token: String,
}

/// `POST /_admin/debug_token {"token"}` → `{"data": ...}`: `debug_token` for any app's token.
async fn debug_token(st: St, Body(b): Body<DebugToken>) -> Answer {
    let data = graphtoken_core::graph::debug_data(&st.services, &b.token).await?;
    ok(json!({ "data": data }))
}
