//! What every admin route shares: its one error type, and request bodies read with serde.
//!
//! Admin bodies are JSON objects whatever the `Content-Type` (`curl -d '{…}'` sends a form
//! type). A body that is not valid JSON for the route, or names a field the route does not know,
//! is a 400 that says which field and why, in the Graph envelope with type `AdminException`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use graphtoken_core::error::GraphError;
use graphtoken_core::model::{App, Page, User};

use crate::{render, AppState};

pub(crate) type St = State<Arc<AppState>>;

/// An admin API failure: its status and message, rendered in the Graph envelope.
#[derive(Debug)]
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

/// A 400 with `message`.
pub(crate) fn bad(message: impl Into<String>) -> AdminError {
    error(StatusCode::BAD_REQUEST, message)
}

/// A 404 for a seed key or id that names nothing.
pub(crate) fn not_found(what: &str, given: &str) -> AdminError {
    error(StatusCode::NOT_FOUND, format!("no {what} `{given}`"))
}

/// `200` with a JSON body.
pub(crate) fn ok(v: Value) -> Answer {
    Ok(render::json(StatusCode::OK, &v))
}

/// A route's JSON body, deserialized into `T`; a 400 saying what is wrong otherwise.
pub(crate) struct Body<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = AdminError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AdminError> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| error(e.status(), format!("the body could not be read: {e}")))?;
        let object = match serde_json::from_slice(&bytes) {
            Ok(Value::Object(o)) => o,
            _ => return Err(bad("the body must be a JSON object")),
        };
        T::deserialize(object)
            .map(Body)
            .map_err(|e| bad(format!("the body is not what this route takes: {e}")))
    }
}

/// A seed key or an id: a JSON string, or a number for ids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Text(pub(crate) String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Number(serde_json::Number),
        }
        match Raw::deserialize(d).map_err(|_| {
            serde::de::Error::custom("expected a string (a seed key or an id) or a number")
        })? {
            Raw::Text(s) => Ok(Text(s)),
            Raw::Number(n) => Ok(Text(n.to_string())),
        }
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// The person a seed key or id names; a 404 when none.
pub(crate) async fn user(st: &AppState, r: &str) -> Result<User, AdminError> {
    st.services
        .find_user(r)
        .await?
        .ok_or_else(|| not_found("user", r))
}

/// The app a seed key or id names; a 404 when none.
pub(crate) async fn app(st: &AppState, r: &str) -> Result<App, AdminError> {
    st.services
        .find_app(r)
        .await?
        .ok_or_else(|| not_found("app", r))
}

/// The Page a seed key or id names; a 404 when none.
pub(crate) async fn page(st: &AppState, r: &str) -> Result<Page, AdminError> {
    st.services
        .find_page(r)
        .await?
        .ok_or_else(|| not_found("page", r))
}
