//! The emulator's admin API under `/_admin` (`Authorization: Bearer <admin key>`). Every route
//! reads its body with serde ([`reply::Body`]), calls a service, and fails with the one
//! [`reply::AdminError`].

mod clock;
mod content;
mod events;
mod faults;
mod messaging;
mod reply;
mod tokens;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;

use graphtoken_core::token;

use crate::{AppState, Mode};
use reply::{error, St};

/// The admin routes of `mode`: an operator's always; the emulator's controls (minting tokens as
/// if a person logged in, the virtual clock, faults, a person's own actions, Page content)
/// only in the emulator.
pub fn routes(state: Arc<AppState>, mode: Mode) -> Router<Arc<AppState>> {
    let operator = Router::new()
        .merge(tokens::routes())
        .merge(clock::routes())
        .merge(events::routes());
    let all = match mode {
        Mode::Production => operator,
        Mode::Emulator => operator
            .merge(tokens::emulator_routes())
            .merge(clock::emulator_routes())
            .merge(events::emulator_routes())
            .merge(content::routes())
            .merge(messaging::routes())
            .merge(faults::routes()),
    };
    all.route_layer(middleware::from_fn_with_state(state, require_key))
        .fallback(|| async {
            error(
                StatusCode::NOT_FOUND,
                "no such admin route (docs: README, \"The admin API\")",
            )
            .into_response()
        })
}

/// A refusal in the admin API's envelope (see `crate::enveloped`).
pub(crate) fn refusal(status: StatusCode, message: String) -> axum::response::Response {
    error(status, message).into_response()
}

/// Whether the request carries `Authorization: Bearer <key>`, compared in constant time.
pub(crate) fn bearer_is(headers: &axum::http::HeaderMap, key: &str) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .is_some_and(|k| token::secrets_equal(k, key))
}

/// Every admin route wants `Authorization: Bearer <admin key>`, compared in constant time.
async fn require_key(State(st): St, req: Request, next: Next) -> Response {
    match bearer_is(req.headers(), &st.admin_key) {
        true => next.run(req).await,
        false => {
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
