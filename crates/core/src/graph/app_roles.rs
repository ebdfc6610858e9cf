//! `GET /{app-id}/roles` (spec §2.11): the people with a role on the app, each
//! `{"app_id", "user", "role"}` with `role` one of `administrators`, `developers`, `testers`,
//! in the order the seed gives them, with cursor paging. The app's own token only, as for its
//! test users; `user` is the person's app-scoped id for the app, as every person id the app
//! sees.

use serde_json::{json, Map, Value};

use crate::auth::Caller;
use crate::error::GraphError;
use crate::model::App;
use crate::policy;
use crate::request::GraphRequest;
use crate::services::Services;

use super::paging::{self, EdgeQuery};
use super::require_get;

pub(super) async fn roles(
    g: &Services,
    req: &GraphRequest,
    caller: &Caller,
    app: &App,
) -> Result<Value, GraphError> {
    require_get(req, "roles")?;
    policy::app_edge_access(caller, app.id)?;
    let q = EdgeQuery::from_request(req)?;
    let wanted = |name: &str| match &q.fields {
        Some(f) if !f.is_empty() => f.iter().any(|x| x.name == name),
        _ => true,
    };
    // Keyed by their place in the seed's order (from 1); an app has a handful.
    let mut items = Vec::with_capacity(app.roles.len());
    for (at, (user, role)) in (1..).zip(&app.roles) {
        let mut item = Map::new();
        if wanted("app_id") {
            item.insert("app_id".into(), json!(app.id.to_string()));
        }
        if wanted("user") {
            let asid = g.asid(*user, app.id).await?;
            item.insert("user".into(), json!(asid.to_string()));
        }
        if wanted("role") {
            item.insert("role".into(), json!(role.as_str()));
        }
        items.push((at, Value::Object(item)));
    }
    let edge_path = paging::EdgePath {
        node: &app.id,
        edge: "roles",
    };
    Ok(paging::page_of(req, edge_path, &q, items))
}
