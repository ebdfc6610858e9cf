//! `GET|POST /oauth/access_token` (spec §2.2): app tokens and the short → long-lived exchange.
//! The code grant arrives with the login dialog; until then a `code` is refused as malformed.

use serde_json::{json, Value};

use crate::error::GraphError;
use crate::model::App;
use crate::request::{GraphRequest, Params};
use crate::service::{Graph, Principal};
use crate::store::Store;
use crate::token;

pub async fn access_token<S: Store>(g: &Graph<S>, req: &GraphRequest) -> Result<Value, GraphError> {
    let p = &req.params;
    let app = client(g, p).await?;
    match p.non_empty("grant_type") {
        Some("client_credentials") => Ok(json!({
            "access_token": token::app_token(app.id, &app.secret),
            "token_type": "bearer",
        })),
        Some("fb_exchange_token") => exchange(g, &app, p).await,
        // passport-facebook and node-oauth always add grant_type=authorization_code: ignore it.
        Some("authorization_code") | None => match p.non_empty("code") {
            Some(_) => Err(GraphError::bad_verification_code_format()),
            None => Err(GraphError::missing_code()),
        },
        Some(other) => Err(GraphError::unsupported_grant_type(other)),
    }
}

/// The app named by `client_id`, authenticated by `client_secret`.
async fn client<S: Store>(g: &Graph<S>, p: &Params) -> Result<App, GraphError> {
    let id = p
        .non_empty("client_id")
        .ok_or_else(GraphError::missing_client_id)?;
    let app = match id.trim().parse() {
        Ok(id) => g.app(id).await?,
        Err(_) => None,
    }
    .ok_or_else(GraphError::invalid_client_id)?;
    let secret = p
        .non_empty("client_secret")
        .ok_or_else(GraphError::missing_client_secret)?;
    if !token::secrets_equal(secret, &app.secret) {
        return Err(GraphError::bad_client_secret());
    }
    Ok((*app).clone())
}

/// A long-lived user token for a valid user token of the same app. The input stays valid.
async fn exchange<S: Store>(g: &Graph<S>, app: &App, p: &Params) -> Result<Value, GraphError> {
    let input = p
        .non_empty("fb_exchange_token")
        .ok_or_else(GraphError::missing_exchange_token)?;
    let caller = g.authenticate(input).await?;
    let Principal::User(loaded) = &caller.principal else {
        return Err(GraphError::exchange_needs_user_token());
    };
    if loaded.app.id != app.id {
        return Err(GraphError::exchange_other_app());
    }
    let issued = g.mint_user_token(&loaded.session, true).await?;
    Ok(json!({
        "access_token": issued.access_token,
        "token_type": "bearer",
        "expires_in": issued.expires_in,
    }))
}
