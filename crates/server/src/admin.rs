//! The emulator's admin API under `/_admin` (`Authorization: Bearer <admin key>`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

use graphtoken_core::error::GraphError;
use graphtoken_core::permissions;
use graphtoken_core::store::Store;
use graphtoken_core::token;

use crate::render;
use crate::AppState;

pub(crate) type St<S> = State<Arc<AppState<S>>>;

pub fn routes<S: Store>(state: Arc<AppState<S>>) -> Router<Arc<AppState<S>>> {
    Router::new()
        .route("/tokens", post(issue_token::<S>))
        .route("/clock", get(clock::<S>).post(move_clock::<S>))
        .route("/debug_token", post(debug_token::<S>))
        .merge(crate::events::routes::<S>())
        .merge(crate::content::routes::<S>())
        .merge(crate::messaging::routes::<S>())
        .merge(crate::faults::routes::<S>())
        .route_layer(middleware::from_fn_with_state(state, require_key::<S>))
        .fallback(|| async { crate::not_found() })
}

/// An admin API failure, rendered as the Graph envelope with the admin API's status.
pub(crate) struct AdminError(pub(crate) StatusCode, pub(crate) String);

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let e = GraphError::new(100, "AdminException", self.1).with_status(self.0.as_u16());
        render::json(self.0, &e.to_json(&render::trace_id()))
    }
}

impl From<GraphError> for AdminError {
    fn from(e: GraphError) -> Self {
        if e.status < 500 {
            return AdminError(StatusCode::BAD_REQUEST, e.message);
        }
        tracing::error!(detail = e.detail().unwrap_or(""), "admin API: {e}");
        AdminError(
            StatusCode::INTERNAL_SERVER_ERROR,
            GraphError::internal().message,
        )
    }
}

pub(crate) type Answer = Result<Response, AdminError>;

pub(crate) fn error(status: StatusCode, message: impl Into<String>) -> AdminError {
    AdminError(status, message.into())
}

/// A JSON object body, or the 400 that says why not.
pub(crate) fn body(bytes: &Bytes) -> Result<serde_json::Map<String, Value>, AdminError> {
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(error(
            StatusCode::BAD_REQUEST,
            "the body must be a JSON object",
        )),
    }
}

/// A string field of the body (numbers are accepted for ids).
pub(crate) fn text(m: &serde_json::Map<String, Value>, name: &str) -> Option<String> {
    match m.get(name)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `POST /_admin/tokens {"user","app","scopes":[...],"lifetime":"short"|"long"}`: a user token
/// as if the person had consented in the login dialog.
async fn issue_token<S: Store>(State(st): St<S>, bytes: Bytes) -> Answer {
    let m = body(&bytes)?;
    let (Some(user), Some(app)) = (text(&m, "user"), text(&m, "app")) else {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "`user` and `app` are required (a seed key or an id)",
        ));
    };
    let bad_scopes = || {
        error(
            StatusCode::BAD_REQUEST,
            "`scopes` must be a list of permission names",
        )
    };
    let scopes: Vec<String> = match m.get("scopes") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or_else(bad_scopes)?,
        Some(Value::String(s)) => permissions::split_scope(s).map(str::to_string).collect(),
        Some(_) => return Err(bad_scopes()),
    };
    if let Some(bad) = scopes.iter().find(|s| !permissions::is_known(s)) {
        return Err(error(
            StatusCode::BAD_REQUEST,
            format!("unknown permission `{bad}`"),
        ));
    }
    let long = match text(&m, "lifetime").as_deref() {
        None | Some("short") => false,
        Some("long") => true,
        Some(other) => {
            return Err(error(
                StatusCode::BAD_REQUEST,
                format!("unknown lifetime `{other}`: use short or long"),
            ))
        }
    };
    let g = &st.services;
    let user = g
        .find_user(&user)
        .await?
        .ok_or_else(|| error(StatusCode::NOT_FOUND, format!("no user `{user}`")))?;
    let app = g
        .find_app(&app)
        .await?
        .ok_or_else(|| error(StatusCode::NOT_FOUND, format!("no app `{app}`")))?;
    let issued = g.login(&user, &app, &scopes, long).await?;
    Ok(render::json(
        StatusCode::OK,
        &json!({
            "access_token": issued.access_token,
            "token_type": "bearer",
            "expires_in": issued.expires_in,
        }),
    ))
}

/// `POST /_admin/debug_token {"token"}` → `{"data": ...}`: `debug_token` for any app's token.
async fn debug_token<S: Store>(State(st): St<S>, bytes: Bytes) -> Answer {
    let m = body(&bytes)?;
    let t =
        text(&m, "token").ok_or_else(|| error(StatusCode::BAD_REQUEST, "`token` is required"))?;
    let data = graphtoken_core::graph::debug_data(&st.services, &t).await?;
    Ok(render::json(StatusCode::OK, &json!({ "data": data })))
}

/// `GET /_admin/clock` → `{"now": unix}`.
async fn clock<S: Store>(State(st): St<S>) -> Response {
    render::json(StatusCode::OK, &json!({ "now": st.services.now() }))
}

/// `POST /_admin/clock {"advance_seconds": N}` or `{"set": unix}` → `{"now"}`.
async fn move_clock<S: Store>(State(st): St<S>, bytes: Bytes) -> Answer {
    let m = body(&bytes)?;
    let target = match (m.get("advance_seconds"), m.get("set")) {
        (Some(a), None) => st.services.now().saturating_add(a.as_i64().ok_or_else(|| {
            error(
                StatusCode::BAD_REQUEST,
                "`advance_seconds` must be a whole number",
            )
        })?),
        (None, Some(s)) => s
            .as_i64()
            .ok_or_else(|| error(StatusCode::BAD_REQUEST, "`set` must be unix seconds"))?,
        _ => {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "send exactly one of {\"advance_seconds\": N} or {\"set\": unix}",
            ))
        }
    };
    let now = st.services.set_clock(&st.clock, target).await?;
    Ok(render::json(StatusCode::OK, &json!({ "now": now })))
}

/// Every admin route wants `Authorization: Bearer <admin key>`, compared in constant time.
async fn require_key<S: Store>(State(st): St<S>, req: Request, next: Next) -> Response {
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match given {
        Some(k) if token::secrets_equal(k, &st.admin_key) => next.run(req).await,
        _ => {
            let mut r = error(
                StatusCode::UNAUTHORIZED,
                "the admin API wants `Authorization: Bearer <admin key>`",
            )
            .into_response();
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"graphtoken admin\""),
            );
            r
        }
    }
}
