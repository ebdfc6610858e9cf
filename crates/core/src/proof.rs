//! `appsecret_proof` (spec §5): verified in constant time whenever sent, required when the app
//! says so. The timed form signs `token|appsecret_time` and lasts five minutes.

use crate::error::GraphError;
use crate::model::{App, Unix};
use crate::request::Params;
use crate::token;

const TIMED_WINDOW: i64 = 300;

pub fn missing() -> GraphError {
    GraphError::new(
        100,
        "GraphMethodException",
        "API calls from the server require an appsecret_proof argument",
    )
}

pub fn invalid() -> GraphError {
    GraphError::new(
        100,
        "GraphMethodException",
        "Invalid appsecret_proof provided in the API argument",
    )
}

/// Checks the proof in `params` for `access_token`, issued for `app`, at `now`.
pub fn check(app: &App, access_token: &str, params: &Params, now: Unix) -> Result<(), GraphError> {
    let Some(proof) = params.get("appsecret_proof") else {
        return if app.require_appsecret_proof {
            Err(missing())
        } else {
            Ok(())
        };
    };
    let expected = match params.get("appsecret_time") {
        Some(t) => {
            let at: i64 = t.trim().parse().map_err(|_| invalid())?;
            if (now - at).abs() > TIMED_WINDOW {
                return Err(invalid());
            }
            token::appsecret_proof(&app.secret, &format!("{access_token}|{t}"))
        }
        None => token::appsecret_proof(&app.secret, access_token),
    };
    if token::secrets_equal(&proof.to_ascii_lowercase(), &expected) {
        Ok(())
    } else {
        Err(invalid())
    }
}
