//! Device login (spec §2.14): a device with the app's client token asks for a code, shows the
//! person a `user_code` to type at `/device`, and polls until they answer.

use serde_json::{json, Value};

use crate::auth::Principal;
use crate::codes::{self, DeviceCode, DeviceState, DEVICE_INTERVAL, DEVICE_SECONDS};
use crate::error::GraphError;
use crate::model::App;
use crate::permissions;
use crate::request::{GraphRequest, Method};
use crate::services::Services;

/// How many `user_code`s are drawn before giving up (they collide only among live codes).
const DRAWS: usize = 8;

/// The app whose client token (`{app-id}|{client-token}`) the request carries.
async fn client_app(g: &Services, req: &GraphRequest) -> Result<App, GraphError> {
    let token = req
        .token
        .as_deref()
        .ok_or_else(GraphError::client_token_required)?;
    match g.authenticate(token).await {
        Ok(caller) => match caller.principal {
            Principal::Client(app) => Ok((*app).clone()),
            _ => Err(GraphError::client_token_required()),
        },
        Err(_) => Err(GraphError::client_token_required()),
    }
}

/// `POST /device/login`: a new device code for the app and `scope`.
pub async fn login(g: &Services, req: &GraphRequest) -> Result<Value, GraphError> {
    if req.method != Method::Post {
        return Err(super::unsupported(req, "login"));
    }
    let app = client_app(g, req).await?;
    let scopes = permissions::parse_scope(req.params.get("scope").unwrap_or(""))
        .map_err(|bad| GraphError::invalid_scope(&bad.join(", ")))?;
    let now = g.now();
    let code = codes::mint()?;
    for _ in 0..DRAWS {
        let user_code = codes::mint_user_code()?;
        let record = DeviceCode {
            hash: codes::hash(&code),
            user_code: user_code.clone(),
            app_id: app.id,
            scopes: scopes.clone(),
            created_at: now,
            expires_at: now + DEVICE_SECONDS,
            state: DeviceState::Pending,
            last_poll_at: None,
        };
        if g.add_device_code(&record).await? {
            return Ok(json!({
                "code": code,
                "user_code": user_code,
                "verification_uri": format!("{}/device", req.base_url),
                "expires_in": DEVICE_SECONDS,
                "interval": DEVICE_INTERVAL,
            }));
        }
    }
    Err(GraphError::internal_because(
        "could not draw a free device user_code",
    ))
}

/// `POST /device/login_status`: pending, too fast, declined, expired, or the token (once).
pub async fn status(g: &Services, req: &GraphRequest) -> Result<Value, GraphError> {
    if req.method != Method::Post {
        return Err(super::unsupported(req, "login_status"));
    }
    let app = client_app(g, req).await?;
    let code = req
        .params
        .non_empty("code")
        .ok_or_else(|| GraphError::param("The parameter code is required"))?;
    let now = g.now();
    let hash = codes::hash(code);
    // Another app's poll, or one after expiry, changes nothing.
    let known = g.device_code(hash).await?;
    if !known.is_some_and(|c| c.app_id == app.id && now < c.expires_at) {
        return Err(GraphError::device_expired());
    }
    // Note the poll and hand out an approval at most once, in one step; the state before it
    // decides the answer.
    let before = g.poll_device_code(hash, now).await?;
    let Some(c) = before else {
        return Err(GraphError::device_expired());
    };
    match c.state {
        DeviceState::Redeemed => Err(GraphError::device_expired()),
        DeviceState::Denied => Err(GraphError::device_declined()),
        DeviceState::Pending => match c.last_poll_at {
            Some(last) if now - last < DEVICE_INTERVAL => Err(GraphError::device_slow_down()),
            _ => Err(GraphError::device_pending()),
        },
        DeviceState::Approved { user_id } => {
            let issued = g.open_session(user_id, app.id, true).await?;
            let grant = g.grant(user_id, app.id).await?;
            let data_access = grant.map_or(now, |g| g.data_access_expires_at());
            Ok(json!({
                "access_token": issued.access_token,
                "data_access_expiration_time": data_access,
                "expires_in": issued.expires_in,
            }))
        }
    }
}
