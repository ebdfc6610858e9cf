//! Answers one normalised Graph request: the token endpoint, `debug_token`, and nodes with their
//! edges. The server turns HTTP into a [`GraphRequest`] and renders what comes back.

mod app_roles;
mod batch;
pub mod catalogue;
mod content;
mod debug;
mod device;
mod insights;
mod json;
mod messaging;
mod multi;
mod nodes;
mod oauth;
mod page_edges;
mod page_roles;
pub mod page_settings;
mod page_view;
mod paging;
mod psids;
mod reply;
mod test_users;

use serde_json::Value;

use crate::auth::{Caller, Principal};
use crate::error::GraphError;
use crate::model::Platform;
use crate::proof;
use crate::ratelimit::Usage;
use crate::request::{GraphRequest, Method};
use crate::services::Services;

pub use oauth::extend;
pub use reply::Reply;

/// The `data` object `debug_token` would answer for `input`, whatever its app (admin view).
pub async fn debug_data(g: &Services, input: &str) -> Result<Value, GraphError> {
    json::to_value(&debug::inspect(g, input, None).await?)
}

/// A Graph answer, with the rate-limit usage of its caller for the `X-*-Usage` headers.
#[derive(Debug)]
pub struct Answer {
    pub result: Result<Reply, GraphError>,
    /// `None` when the request had no caller (the token endpoint, no token, a bad token).
    pub usage: Option<Usage>,
}

/// Answers a Graph request, counting it against its caller's rate limits.
pub async fn answer(g: &Services, req: &GraphRequest) -> Answer {
    let mut usage = None;
    let result = route(g, req, &mut usage).await;
    Answer { result, usage }
}

async fn route(
    g: &Services,
    req: &GraphRequest,
    usage: &mut Option<Usage>,
) -> Result<Reply, GraphError> {
    let path: Vec<&str> = req.path.iter().map(String::as_str).collect();
    match path.as_slice() {
        // Each branch is boxed: the futures differ a lot in size, and an unboxed match would make
        // every request carry (and move) the largest.
        ["oauth", "access_token"] => Box::pin(oauth::access_token(g, req)).await.map(Reply::from),
        ["device", "login"] => Box::pin(device::login(g, req)).await.map(Reply::from),
        ["device", "login_status"] => Box::pin(device::status(g, req)).await.map(Reply::from),
        ["oauth", "client_code"] => {
            require_get(req, "client_code")?;
            Box::pin(oauth::client_code(g, req)).await.map(Reply::from)
        }
        ["debug_token"] => match caller(g, req).await? {
            Some(caller) => {
                g.admit(&caller, None, usage).await?;
                Box::pin(debug::debug_token(g, req, &caller))
                    .await
                    .map(Reply::DebugToken)
            }
            None => Err(GraphError::debug_token_needs_token()),
        },
        // The root: batch requests (POST with `batch`) and `ids=` multi-gets.
        [] if req.method == Method::Post && req.params.get("batch").is_some() => {
            Box::pin(batch::run(g, req, usage)).await.map(Reply::from)
        }
        [] => Box::pin(multi::ids(g, req, usage)).await.map(Reply::from),
        ["pages_id_mapping"] => match caller(g, req).await? {
            Some(caller) => {
                g.admit(&caller, None, usage).await?;
                Box::pin(psids::pages_id_mapping(g, req, &caller))
                    .await
                    .map(Reply::from)
            }
            None => Err(GraphError::token_required()),
        },
        [node, rest @ ..] => match caller(g, req).await? {
            Some(caller) => {
                g.admit(&caller, Some(node), usage).await?;
                Box::pin(multi::node(g, req, &caller, node, rest)).await
            }
            None if *node == "me" => Err(GraphError::active_token_required()),
            None => Err(GraphError::token_required()),
        },
    }
}

/// The caller behind the request's token, with its `appsecret_proof` checked; `None` when no
/// token was sent, or one that counts as none: a client token (public, shipped inside apps) and
/// the app token of a native or desktop app (its secret cannot be kept, spec §1).
async fn caller(g: &Services, req: &GraphRequest) -> Result<Option<Caller>, GraphError> {
    let Some(token) = req.token.as_deref() else {
        return Ok(None);
    };
    let caller = g.authenticate(token).await?;
    match &caller.principal {
        Principal::Client(_) => return Ok(None),
        Principal::App(app) if app.platform == Platform::Native => return Ok(None),
        _ => {}
    }
    proof::check(caller.principal.app(), token, &req.params, g.now())?;
    Ok(Some(caller))
}

/// `Unsupported <method> request` for a method a path does not answer.
fn unsupported(req: &GraphRequest, id: &str) -> GraphError {
    GraphError::unknown_object(id, req.method.as_str())
}

fn require_get(req: &GraphRequest, id: &str) -> Result<(), GraphError> {
    if req.method == Method::Get {
        Ok(())
    } else {
        Err(unsupported(req, id))
    }
}
