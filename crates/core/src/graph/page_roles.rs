//! Who has which task on a Page: `GET|POST|DELETE /{page-id}/assigned_users` and the legacy
//! `GET /{page-id}/roles` (spec §2.9), under the policy's `ASSIGNED_USERS` operation (MANAGE and
//! `pages_manage_metadata`). Changing a person's tasks takes effect on their next call; taking
//! every task away makes their Page tokens for the Page fail with 190/492.

use serde_json::{json, Value};

use crate::error::GraphError;

use super::paging::{self, EdgeQuery};
use crate::auth::Caller;
use crate::model::{Asid, Page, UserId};
use crate::policy::ASSIGNED_USERS;
use crate::request::{GraphRequest, Method};
use crate::services::Services;
use crate::tasks::{self, TaskSet};

/// The person a `user` parameter names: an app-scoped id of the caller's app.
async fn person(g: &Services, caller: &Caller, req: &GraphRequest) -> Result<UserId, GraphError> {
    let given = req
        .params
        .non_empty("user")
        .ok_or_else(|| GraphError::param("The parameter user is required"))?;
    let asid: Asid = given
        .trim()
        .parse()
        .map_err(|_| GraphError::param(format!("Invalid user id: {given}")))?;
    match g.resolve_asid(asid).await? {
        Some((user, app)) if app == caller.principal.app().id => Ok(user),
        _ => Err(GraphError::param(format!("Invalid user id: {given}"))),
    }
}

/// `GET /{page-id}/assigned_users`, and the Page field `assigned_users`: ASSIGNED_USERS, then
/// every person with a task, by their app-scoped id.
pub async fn read_assigned_users(
    g: &Services,
    req: &GraphRequest,
    caller: &Caller,
    page: &Page,
    q: &EdgeQuery,
) -> Result<Value, GraphError> {
    g.authorize(caller, page.id, &ASSIGNED_USERS).await?;
    let app = caller.principal.app().id;
    let mut items = Vec::new();
    for (user, t) in g.people_of_page(page.id).await? {
        let asid = g.asid(user.id, app).await?;
        items.push((
            asid.0,
            json!({
                "id": asid.to_string(),
                "name": user.name,
                "tasks": t.tasks.names(),
            }),
        ));
    }
    items.sort_by_key(|(id, _)| *id);
    Ok(paging::page_of(
        req,
        paging::EdgePath {
            node: &page.id,
            edge: "assigned_users",
        },
        q,
        items,
    ))
}

/// `/{page-id}/assigned_users`.
pub async fn assigned_users(
    g: &Services,
    req: &GraphRequest,
    caller: &Caller,
    page: &Page,
) -> Result<Value, GraphError> {
    match req.method {
        Method::Get => {
            read_assigned_users(g, req, caller, page, &EdgeQuery::from_request(req)?).await
        }
        Method::Post => {
            g.authorize(caller, page.id, &ASSIGNED_USERS).await?;
            let user = person(g, caller, req).await?;
            let raw = req
                .params
                .non_empty("tasks")
                .ok_or_else(|| GraphError::param("The parameter tasks is required"))?;
            let set = tasks::parse_list(raw).map_err(|(at, bad)| {
                GraphError::param(format!(
                    "Param tasks[{at}] must be one of {{ADVERTISE, ANALYZE, CREATE_CONTENT, MANAGE, MESSAGING, MODERATE}}, not {bad}"
                ))
            })?;
            if set.is_empty() {
                return Err(GraphError::param(
                    "The parameter tasks must name at least one task",
                ));
            }
            g.set_page_tasks(page.id, user, set).await?;
            Ok(json!({ "success": true }))
        }
        Method::Delete => {
            g.authorize(caller, page.id, &ASSIGNED_USERS).await?;
            let user = person(g, caller, req).await?;
            g.set_page_tasks(page.id, user, TaskSet::EMPTY).await?;
            Ok(json!({ "success": true }))
        }
    }
}

/// The legacy `/{page-id}/roles`: `role` and `tasks` (versions before v3.1 had `perms`
/// instead; they are retired, and served by the oldest available version). Cursor-paged by
/// app-scoped id, as `assigned_users` is.
pub async fn roles(
    g: &Services,
    req: &GraphRequest,
    caller: &Caller,
    page: &Page,
) -> Result<Value, GraphError> {
    if req.method != Method::Get {
        return Err(GraphError::unknown_object(
            &page.id.to_string(),
            req.method.as_str(),
        ));
    }
    g.authorize(caller, page.id, &ASSIGNED_USERS).await?;
    let app = caller.principal.app().id;
    let q = EdgeQuery::from_request(req)?;
    let mut items = Vec::new();
    for (user, t) in g.people_of_page(page.id).await? {
        let asid = g.asid(user.id, app).await?;
        let item = json!({
            "id": asid.to_string(),
            "name": user.name,
            "role": tasks::role_of(t.tasks),
            "tasks": t.tasks.names(),
        });
        items.push((asid.0, item));
    }
    items.sort_by_key(|(id, _)| *id);
    Ok(paging::page_of(
        req,
        paging::EdgePath {
            node: &page.id,
            edge: "roles",
        },
        &q,
        items,
    ))
}
