//! `GET /debug_token` (spec §2.4): the truth about a token, as Facebook tells it. An input
//! token that does not work is still HTTP 200, with `is_valid: false` and an `error` object.

use serde_json::{json, Map, Value};

use crate::auth::{Caller, Inspection, LoadedToken, Principal};
use crate::error::GraphError;
use crate::permissions::{self, PUBLIC_PROFILE};
use crate::policy;
use crate::request::GraphRequest;
use crate::services::Services;

use super::require_get;

pub async fn debug_token(
    g: &Services,
    req: &GraphRequest,
    caller: &Caller,
) -> Result<Value, GraphError> {
    require_get(req, "debug_token")?;
    let viewer = policy::debug_token_viewer(caller)?;
    let input = req
        .params
        .non_empty("input_token")
        .ok_or_else(|| GraphError::param("The parameter input_token is required"))?;
    let data = inspect(g, input, Some(viewer)).await?;
    // Moved in, not through `json!`, which would copy it by serializing it again.
    Ok(Value::Object(Map::from_iter([("data".into(), data)])))
}

/// What `debug_token` says of `input`, as seen by the app `viewer` (any app when `None`: the
/// admin API's view).
pub async fn inspect(
    g: &Services,
    input: &str,
    viewer: Option<crate::model::AppId>,
) -> Result<Value, GraphError> {
    let data = match g.inspect(input).await? {
        Inspection::Unknown(e) => {
            json!({"error": e.to_debug_json(), "is_valid": false, "scopes": []})
        }
        Inspection::Known { principal, error } => {
            policy::may_debug(viewer, principal.app().id)?;
            match &principal {
                Principal::App(app) => json!({
                    "app_id": app.id.to_string(),
                    "type": "APP",
                    "application": app.name,
                    "is_valid": true,
                    "scopes": [],
                }),
                Principal::Client(_) => json!({
                    "error": GraphError::bad_signature().to_debug_json(),
                    "is_valid": false,
                    "scopes": [],
                }),
                Principal::User(t) | Principal::Page(t) => describe(g, t, error.as_ref()).await?,
            }
        }
    };
    Ok(data)
}

/// A user or Page token, in the field order of Facebook's captured answers.
async fn describe(
    g: &Services,
    t: &LoadedToken,
    error: Option<&GraphError>,
) -> Result<Value, GraphError> {
    let mut d = Map::with_capacity(12);
    d.insert("app_id".into(), t.app.id.to_string().into());
    d.insert("type".into(), t.token.kind.as_str().into());
    d.insert("application".into(), t.app.name.as_str().into());
    if let Some(grant) = &t.grant {
        d.insert(
            "data_access_expires_at".into(),
            json!(grant.data_access_expires_at()),
        );
    }
    if let Some(e) = error {
        d.insert("error".into(), e.to_debug_json());
    }
    d.insert("expires_at".into(), json!(t.token.expires_at));
    d.insert("is_valid".into(), json!(error.is_none()));
    if t.token.long_lived {
        d.insert("issued_at".into(), json!(t.token.issued_at));
    }
    if let Some((page, _)) = &t.page {
        d.insert("profile_id".into(), page.id.to_string().into());
    }
    // An expired token still shows what it was granted; a revoked one shows nothing.
    let show_scopes = error.is_none_or(|e| e.subcode == Some(463));
    let mut scopes: Vec<&str> = match (&t.grant, show_scopes) {
        (Some(grant), true) => grant.granted.iter().map(String::as_str).collect(),
        _ => Vec::new(),
    };
    scopes.sort_unstable();
    d.insert("scopes".into(), json!(scopes));
    if error.is_none() {
        let granular = granular_scopes(g, t, &scopes).await?;
        if !granular.is_empty() {
            d.insert("granular_scopes".into(), Value::Array(granular));
        }
    }
    d.insert("user_id".into(), t.asid.to_string().into());
    Ok(Value::Object(d))
}

/// `granular_scopes`: every scope but `public_profile`; Page permissions name their Pages (those
/// the person chose at login, when they chose).
async fn granular_scopes(
    g: &Services,
    t: &LoadedToken,
    scopes: &[&str],
) -> Result<Vec<Value>, GraphError> {
    let needs_pages = scopes.iter().any(|s| permissions::is_page_scoped(s));
    let page_ids: Vec<Value> = if needs_pages {
        let ids = g.page_ids_of_user(t.user.id).await?;
        policy::chosen_page_ids(t.grant.as_deref(), &ids)
            .into_iter()
            .map(|p| p.to_string().into())
            .collect()
    } else {
        Vec::new()
    };
    Ok(scopes
        .iter()
        .filter(|s| **s != PUBLIC_PROFILE)
        .map(|s| {
            let mut scope = Map::with_capacity(2);
            scope.insert("scope".into(), (*s).into());
            if permissions::is_page_scoped(s) && !page_ids.is_empty() {
                scope.insert("target_ids".into(), Value::Array(page_ids.clone()));
            }
            Value::Object(scope)
        })
        .collect())
}
