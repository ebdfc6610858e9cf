//! `appsecret_proof` (spec §5): verified in constant time whenever sent, required when the app
//! says so, except when the call carries the secret itself: the `{app-id}|{app-secret}`
//! literal as its token, or the app's `client_secret` ("require app secret or app secret proof
//! for all API calls", the setting says). The timed form signs `token|appsecret_time` and
//! lasts five minutes.

use crate::error::GraphError;
use crate::model::{App, Unix};
use crate::request::Params;
use crate::token;

const TIMED_WINDOW: u64 = 300;

/// Checks the proof in `params` for `access_token`, issued for `app`, at `now`.
pub fn check(app: &App, access_token: &str, params: &Params, now: Unix) -> Result<(), GraphError> {
    let Some(proof) = params.get("appsecret_proof") else {
        let literal = || token::secrets_equal(access_token, &format!("{}|{}", app.id, app.secret));
        let secret = || {
            params
                .get("client_secret")
                .is_some_and(|s| token::secrets_equal(s, &app.secret))
        };
        return if app.require_appsecret_proof && !literal() && !secret() {
            Err(GraphError::proof_missing())
        } else {
            Ok(())
        };
    };
    let expected = match params.get("appsecret_time") {
        Some(t) => {
            let at: i64 = t.trim().parse().map_err(|_| GraphError::proof_invalid())?;
            if now.abs_diff(at) > TIMED_WINDOW {
                return Err(GraphError::proof_invalid());
            }
            token::appsecret_proof(&app.secret, &format!("{access_token}|{t}"))
        }
        None => token::appsecret_proof(&app.secret, access_token),
    };
    if token::secrets_equal(&proof.to_ascii_lowercase(), &expected) {
        Ok(())
    } else {
        Err(GraphError::proof_invalid())
    }
}
