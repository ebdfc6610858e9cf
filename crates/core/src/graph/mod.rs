//! Answers one normalised Graph request: the token endpoint, `debug_token`, and nodes with their
//! edges. The server turns HTTP into a [`GraphRequest`] and renders what comes back.

mod debug;
mod nodes;
mod oauth;
mod paging;

use serde_json::Value;

use crate::error::GraphError;
use crate::proof;
use crate::request::{GraphRequest, Method};
use crate::service::{Caller, Graph};
use crate::store::Store;

/// The `data` object `debug_token` would answer for `input`, whatever its app (admin view).
pub async fn debug_data<S: Store>(g: &Graph<S>, input: &str) -> Result<Value, GraphError> {
    debug::inspect(g, input, None).await
}

/// Answers a Graph request with its JSON body, or the error to render.
pub async fn handle<S: Store>(g: &Graph<S>, req: &GraphRequest) -> Result<Value, GraphError> {
    let path: Vec<&str> = req.path.iter().map(String::as_str).collect();
    match path.as_slice() {
        // Each branch is boxed: the futures differ a lot in size, and an unboxed match would make
        // every request carry (and move) the largest.
        ["oauth", "access_token"] => Box::pin(oauth::access_token(g, req)).await,
        ["debug_token"] => {
            let Some(token) = req.token.as_deref() else {
                return Err(GraphError::debug_token_needs_token());
            };
            let caller = authenticate(g, req, token).await?;
            Box::pin(debug::debug_token(g, req, &caller)).await
        }
        [] => Err(GraphError::param(
            "Missing 'ids' parameter: a request to the root names the objects it wants in ids",
        )),
        [node, rest @ ..] => {
            let Some(token) = req.token.as_deref() else {
                return Err(if *node == "me" {
                    GraphError::active_token_required()
                } else {
                    GraphError::token_required()
                });
            };
            let caller = authenticate(g, req, token).await?;
            Box::pin(nodes::handle(g, req, &caller, node, rest)).await
        }
    }
}

/// The caller behind the request's token, with its `appsecret_proof` checked.
async fn authenticate<S: Store>(
    g: &Graph<S>,
    req: &GraphRequest,
    token: &str,
) -> Result<Caller, GraphError> {
    let caller = g.authenticate(token).await?;
    proof::check(caller.principal.app(), token, &req.params, g.now())?;
    Ok(caller)
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
