//! Page-scoped ids (spec §2.12): each person has a stable id per Page for messaging.
//! `GET /{asid}/ids_for_pages` (app token), `GET /{psid}/ids_for_apps` (Page token) and the
//! ASID → PSID migration API `POST /pages_id_mapping` (Page token, within 180 days of the app's
//! App Review approval). All three want an `appsecret_proof`. Both id lists are cursor-paged
//! by the listed id.

use serde_json::{json, Map, Value};

use crate::error::GraphError;

use super::paging::{self, EdgeQuery};
use crate::auth::Caller;
use crate::model::{AppId, Asid, Id, PageId, Psid, User};
use crate::policy;
use crate::request::{GraphRequest, Method};
use crate::services::Services;

/// At most this many ids per `pages_id_mapping` call.
const MAX_IDS: usize = 200;

fn require_proof(req: &GraphRequest) -> Result<(), GraphError> {
    // The proof was verified when the caller was authenticated; here it must also be present.
    match req.params.get("appsecret_proof") {
        Some(_) => Ok(()),
        None => Err(GraphError::proof_missing()),
    }
}

fn require_get(req: &GraphRequest, id: Id) -> Result<(), GraphError> {
    if req.method == Method::Get {
        Ok(())
    } else {
        Err(GraphError::unknown_object(
            &id.to_string(),
            req.method.as_str(),
        ))
    }
}

/// `GET /{asid}/ids_for_pages[?page=<page-id>]`: the person's PSIDs, with an app token.
pub async fn ids_for_pages(
    g: &Services,
    req: &GraphRequest,
    caller: &Caller,
    user: &User,
    asid: Asid,
) -> Result<Value, GraphError> {
    require_get(req, asid.0)?;
    policy::needs_app_token(caller)?;
    require_proof(req)?;
    let pairs = match req.params.non_empty("page") {
        Some(p) => {
            let page_id: PageId = p
                .parse()
                .map_err(|_| GraphError::param(format!("Invalid page id: {p}")))?;
            if g.page(page_id).await?.is_none() {
                return Err(GraphError::param(format!("Invalid page id: {p}")));
            }
            vec![(page_id, g.psid(user.id, page_id).await?)]
        }
        None => g.psids_of_user(user.id).await?,
    };
    let q = EdgeQuery::from_request(req)?;
    let mut items = Vec::with_capacity(pairs.len());
    for (page_id, psid) in pairs {
        if let Some(page) = g.page(page_id).await? {
            items.push((
                psid.0,
                json!({
                    "id": psid.to_string(),
                    "page": {"id": page.id.to_string(), "name": page.name},
                }),
            ));
        }
    }
    items.sort_by_key(|(id, _)| *id);
    Ok(paging::page_of(
        req,
        paging::EdgePath {
            node: &asid,
            edge: "ids_for_pages",
        },
        &q,
        items,
    ))
}

/// `GET /{psid}/ids_for_apps[?app=<app-id>]`: the person's app-scoped ids, with the Page's
/// token. graphtoken has no Business Manager, so every app the person uses is listed.
pub async fn ids_for_apps(
    g: &Services,
    req: &GraphRequest,
    caller: &Caller,
    user: &User,
    psid: Psid,
) -> Result<Value, GraphError> {
    require_get(req, psid.0)?;
    policy::needs_page_token(caller)?;
    require_proof(req)?;
    let only: Option<AppId> = req.params.non_empty("app").and_then(|a| a.parse().ok());
    let q = EdgeQuery::from_request(req)?;
    let mut items = Vec::new();
    for (app_id, asid) in g.asids_of_user(user.id).await? {
        if only.is_some_and(|o| o != app_id) {
            continue;
        }
        if let Some(app) = g.app(app_id).await? {
            items.push((
                asid.0,
                json!({
                    "id": asid.to_string(),
                    "app": {
                        "id": app.id.to_string(),
                        "name": app.name,
                        "link": format!("https://www.facebook.com/games/?app_id={}", app.id),
                    },
                }),
            ));
        }
    }
    items.sort_by_key(|(id, _)| *id);
    Ok(paging::page_of(
        req,
        paging::EdgePath {
            node: &psid,
            edge: "ids_for_apps",
        },
        &q,
        items,
    ))
}

/// `POST /pages_id_mapping` with `user_ids` (app-scoped ids of the Page token's app): each
/// person's PSID for the Page, keyed by the ASID given. Ids that are not the app's people are
/// refused with `error_data.invalid_ids`, or skipped with `ignore_invalid_ids=true`.
pub async fn pages_id_mapping(
    g: &Services,
    req: &GraphRequest,
    caller: &Caller,
) -> Result<Value, GraphError> {
    if req.method != Method::Post {
        return Err(GraphError::unknown_object(
            "pages_id_mapping",
            req.method.as_str(),
        ));
    }
    let t = policy::needs_page_token(caller)?;
    require_proof(req)?;
    let Some((page, _)) = &t.page else {
        return Err(GraphError::internal_because("Page token without a Page"));
    };
    policy::migration_open(&t.app, g.now())?;
    let raw = req
        .params
        .non_empty("user_ids")
        .ok_or_else(|| GraphError::param("The parameter user_ids is required"))?;
    let ids: Vec<&str> = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if ids.len() > MAX_IDS {
        return Err(GraphError::param(format!(
            "Too many user_ids: at most {MAX_IDS}, got {}",
            ids.len()
        )));
    }
    let ignore = matches!(req.params.get("ignore_invalid_ids"), Some("true" | "1"));
    let mut out = Map::new();
    let mut invalid = Vec::new();
    for given in ids {
        let person = match given.parse::<Asid>() {
            Ok(asid) => match g.resolve_asid(asid).await? {
                Some((user, app)) if app == t.app.id => Some(user),
                _ => None,
            },
            Err(_) => None,
        };
        match person {
            Some(user) => {
                let psid = g.psid(user, page.id).await?;
                out.insert(given.to_string(), json!({ "id": psid.to_string() }));
            }
            None => invalid.push(given.to_string()),
        }
    }
    if !invalid.is_empty() && !ignore {
        return Err(GraphError::param(
            "Some of the user_ids are not valid app-scoped ids of this app",
        )
        .with_data(json!({ "invalid_ids": invalid })));
    }
    Ok(Value::Object(out))
}
