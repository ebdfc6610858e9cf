//! `GET|POST /oauth/access_token` (spec §2.2): app tokens, the short → long-lived exchange, and
//! the redemption of dialog codes (with PKCE) and client codes; `GET /oauth/client_code` (§2.3).

use std::sync::Arc;

use serde_json::{json, Value};

use crate::auth::Principal;
use crate::codes::{self, AuthCode, CodeKind, PkceMethod};
use crate::error::GraphError;
use crate::model::{App, Reason, SessionId, Unix};
use crate::request::{GraphRequest, Params};
use crate::services::Services;
use crate::token;

pub async fn access_token(g: &Services, req: &GraphRequest) -> Result<Value, GraphError> {
    let p = &req.params;
    let app = app_of(g, p).await?;
    match p.non_empty("grant_type") {
        Some("client_credentials") => {
            authenticate(&app, p)?;
            Ok(json!({
                "access_token": token::app_token(app.id, &app.secret),
                "token_type": "bearer",
            }))
        }
        Some("fb_exchange_token") => {
            authenticate(&app, p)?;
            exchange(g, &app, p).await
        }
        // A session info token needs no secret (a wrong one sent is still refused).
        Some("fb_attenuate_token") => {
            if p.non_empty("client_secret").is_some() {
                authenticate(&app, p)?;
            }
            attenuate(g, &app, p).await
        }
        // passport-facebook and node-oauth always add grant_type=authorization_code: ignore it.
        Some("authorization_code") | None => match p.non_empty("code") {
            Some(code) => redeem(g, &app, p, code).await,
            None => {
                authenticate(&app, p)?;
                Err(GraphError::missing_code())
            }
        },
        Some(other) => Err(GraphError::unsupported_grant_type(other)),
    }
}

/// The app named by `client_id`.
async fn app_of(g: &Services, p: &Params) -> Result<Arc<App>, GraphError> {
    let id = p
        .non_empty("client_id")
        .ok_or_else(GraphError::missing_client_id)?;
    match id.trim().parse() {
        Ok(id) => g.app(id).await?,
        Err(_) => None,
    }
    .ok_or_else(GraphError::invalid_client_id)
}

/// The request's `client_secret` is the app's.
fn authenticate(app: &App, p: &Params) -> Result<(), GraphError> {
    secret_is(app, p.non_empty("client_secret"))
}

/// `secret` (a `client_secret` sent, not empty) is the app's.
fn secret_is(app: &App, secret: Option<&str>) -> Result<(), GraphError> {
    let secret = secret.ok_or_else(GraphError::missing_client_secret)?;
    if !token::secrets_equal(secret, &app.secret) {
        return Err(GraphError::bad_client_secret());
    }
    Ok(())
}

/// Redeems a dialog code (for a short-lived token) or a client code (for a long-lived token in
/// the session it was made from). A dialog code needs the app secret, or its S256 PKCE verifier
/// alone (a public client; a `plain` challenge sits in the dialog URL, so it needs the secret
/// too); a client code needs neither. Nothing is spent until every check has passed. Codes are
/// single use: an authenticated second redemption of a dialog code also ends the session its
/// token went into.
async fn redeem(g: &Services, app: &Arc<App>, p: &Params, code: &str) -> Result<Value, GraphError> {
    if p.non_empty("client_secret").is_some() {
        authenticate(app, p)?;
    }
    if !codes::well_formed(code) {
        return Err(GraphError::bad_verification_code_format());
    }
    let hash = codes::hash(code);
    let now = g.now();
    // A dialog code that passes every check is spent in the write that opens its session and
    // stores its token; any other code is answered from what that write found.
    let (app2, sent) = (Arc::clone(app), Presented::of(p));
    let spend =
        move |c: &AuthCode| c.kind == CodeKind::Dialog && check(&app2, &sent, c, now).is_ok();
    let (found, issued) = g.redeem_code_into_session(hash, spend).await?;
    if let Some(issued) = issued {
        return Ok(json!({
            "access_token": issued.access_token,
            "token_type": "bearer",
            "expires_in": issued.expires_in,
        }));
    }
    let c = found.ok_or_else(GraphError::bad_verification_code_format)?;
    match check(app, &Presented::of(p), &c, now) {
        Err(Refusal::Used) => return Err(reused(g, &c).await),
        Err(Refusal::Error(e)) => return Err(e),
        Ok(()) => {}
    }
    match c.kind {
        // It passed the same checks in the write, which would have spent it.
        CodeKind::Dialog => Err(GraphError::internal_because(
            "a dialog code passed its checks but was not redeemed",
        )),
        CodeKind::Client => {
            let session = match c.session_id {
                Some(id) => g.session(id).await?,
                None => None,
            }
            .filter(|s| s.invalidated.is_none())
            .ok_or_else(GraphError::code_expired)?;
            let before = g.redeem_code(hash, now).await?;
            if before.is_some_and(|b| b.used_at.is_some()) {
                return Err(GraphError::code_used());
            }
            let asid = g.asid(session.user_id, session.app_id).await?;
            let issued = g.mint_user_token(&session, asid, true).await?;
            let machine_id = match p.non_empty("machine_id") {
                Some(m) => m.to_string(),
                None => token::random_alnum(24)?,
            };
            Ok(json!({
                "access_token": issued.access_token,
                "machine_id": machine_id,
                "expires_in": issued.expires_in,
            }))
        }
    }
}

/// Why a code cannot be redeemed now.
enum Refusal {
    /// Redeemed before: see [`reused`].
    Used,
    Error(GraphError),
}

/// What the caller sent with a code that [`check`] reads, copied so that the writer can check
/// the code in the write that spends it.
struct Presented {
    client_secret: Option<String>,
    code_verifier: Option<String>,
    redirect_uri: String,
}

impl Presented {
    fn of(p: &Params) -> Self {
        let text = |name| p.non_empty(name).map(str::to_string);
        Presented {
            client_secret: text("client_secret"),
            code_verifier: text("code_verifier"),
            redirect_uri: p.get("redirect_uri").unwrap_or("").to_string(),
        }
    }
}

/// The checks a code must pass, in the order their errors win: the caller's app, the dialog
/// code's secret or PKCE verifier, not used, not expired, the same `redirect_uri`.
fn check(app: &App, sent: &Presented, c: &AuthCode, now: Unix) -> Result<(), Refusal> {
    let secret = || secret_is(app, sent.client_secret.as_deref()).map_err(Refusal::Error);
    if c.app_id != app.id {
        return Err(Refusal::Error(GraphError::bad_verification_code_format()));
    }
    if c.kind == CodeKind::Dialog {
        match &c.pkce {
            Some(pkce) => {
                if !sent
                    .code_verifier
                    .as_deref()
                    .is_some_and(|v| pkce.verify(v))
                {
                    return Err(Refusal::Error(GraphError::bad_code_verifier()));
                }
                if pkce.method == PkceMethod::Plain {
                    secret()?;
                }
            }
            None => secret()?,
        }
    }
    if c.used_at.is_some() {
        return Err(Refusal::Used);
    }
    if now >= c.expires_at {
        return Err(Refusal::Error(GraphError::code_expired()));
    }
    if sent.redirect_uri != c.redirect_uri {
        return Err(Refusal::Error(GraphError::redirect_mismatch()));
    }
    Ok(())
}

/// The answer to a second redemption: for a dialog code, the session its first token went
/// into ends (190/466), as Facebook revokes tokens issued from a reused code.
async fn reused(g: &Services, first: &AuthCode) -> GraphError {
    if let Some(session) = first.session_id.filter(|_| first.kind == CodeKind::Dialog) {
        if let Err(e) = end_session(g, session).await {
            return e;
        }
    }
    GraphError::code_used()
}

async fn end_session(g: &Services, session: SessionId) -> Result<(), GraphError> {
    g.end_session(session, Reason::RevokedByApi)
        .await
        .map(|_| ())
}

/// `GET /oauth/client_code` (spec §2.3): a one-time code for a device, made from a long-lived
/// user token of the app; the device redeems it for a long-lived token of the same session.
pub async fn client_code(g: &Services, req: &GraphRequest) -> Result<Value, GraphError> {
    let p = &req.params;
    let app = app_of(g, p).await?;
    authenticate(&app, p)?;
    let redirect_uri = p.get("redirect_uri").unwrap_or("");
    let input = req
        .token
        .as_deref()
        .ok_or_else(GraphError::token_required)?;
    let caller = g.authenticate(input).await?;
    let Principal::User(loaded) = &caller.principal else {
        return Err(GraphError::client_code_needs_long_lived());
    };
    if loaded.app.id != app.id || !loaded.token.long_lived {
        return Err(GraphError::client_code_needs_long_lived());
    }
    let now = g.now();
    let (code, mut record) = AuthCode::issue(
        CodeKind::Client,
        app.id,
        loaded.user.id,
        redirect_uri,
        now,
        g.stamps(),
    )?;
    record.session_id = Some(loaded.session.id);
    g.add_code(&record).await?;
    Ok(json!({ "code": code }))
}

/// A long-lived user token for a valid user token of the same app. The input stays valid.
async fn exchange(g: &Services, app: &App, p: &Params) -> Result<Value, GraphError> {
    let input = p
        .non_empty("fb_exchange_token")
        .ok_or_else(GraphError::missing_exchange_token)?;
    let (token, expires_in) = extend(g, input, Some(app.id)).await?;
    Ok(json!({
        "access_token": token,
        "token_type": "bearer",
        "expires_in": expires_in,
    }))
}

/// A session info token for a working user or Page token of the app: `{"access_token",
/// "token_type", "expires_in"}` as Auth0's guide to native Facebook login shows it (no
/// `expires_in` when it never expires). It tells on `debug_token` whether the login still
/// works, and reads no data.
async fn attenuate(g: &Services, app: &App, p: &Params) -> Result<Value, GraphError> {
    let input = p
        .non_empty("fb_exchange_token")
        .ok_or_else(GraphError::missing_exchange_token)?;
    let caller = g.authenticate(input).await?;
    let (Principal::User(loaded) | Principal::Page(loaded)) = &caller.principal else {
        return Err(GraphError::attenuate_needs_user_or_page_token());
    };
    if loaded.app.id != app.id {
        return Err(GraphError::exchange_other_app());
    }
    // No secret is needed, so the call counts against the input token's rate limits (each
    // answer stores a new token).
    g.admit(&caller, None, &mut None).await?;
    let (token, expires_in) = g.mint_session_info(loaded).await?;
    let mut answer = json!({ "access_token": token, "token_type": "bearer" });
    if let Some(seconds) = expires_in {
        answer["expires_in"] = json!(seconds);
    }
    Ok(answer)
}

/// The long-lived exchange of a working user token (of the app `of`, when given): a new
/// long-lived token in the same session, and its `expires_in`. The input stays valid.
pub async fn extend(
    g: &Services,
    input: &str,
    of: Option<crate::model::AppId>,
) -> Result<(String, i64), GraphError> {
    let caller = g.authenticate(input).await?;
    let Principal::User(loaded) = &caller.principal else {
        return Err(GraphError::exchange_needs_user_token());
    };
    if of.is_some_and(|app| loaded.app.id != app) {
        return Err(GraphError::exchange_other_app());
    }
    let issued = g
        .mint_user_token(&loaded.session, loaded.asid, true)
        .await?;
    Ok((issued.access_token, issued.expires_in))
}
