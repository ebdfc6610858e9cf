//! Page settings, call-to-action buttons and Instant Articles (spec §3), each under the policy:
//!
//! * `POST /{page-id}` with `about`, `description`, `website`, `phone` → `{"success": true}`
//!   (SETTINGS: a Page token, MANAGE, `pages_manage_metadata`); the four fields then render on
//!   the Page node (`GET /{page-id}?fields=about,...`). An empty value clears a field.
//! * `GET|POST /{page-id}/call_to_actions` (`type`, `web_url`) and
//!   `DELETE /{page-id}/call_to_actions?id=<cta-id>` (CALL_TO_ACTION: a Page token, MANAGE or
//!   CREATE_CONTENT [U], `pages_manage_cta`).
//! * `GET|POST /{page-id}/instant_articles` (`html_source`, `published`) and
//!   `DELETE /{page-id}/instant_articles?id=<article-id>` (INSTANT_ARTICLES: a Page token,
//!   CREATE_CONTENT [U], `pages_manage_instant_articles`).
//!
//! Button and article ids are plain numbers drawn from the store's never-reused counters; they
//! are deleted through their Page's edge (`?id=`), not as `/{id}` nodes.

use serde_json::{json, Value};

use crate::error::GraphError;

use super::paging::{self, EdgeQuery};
use crate::auth::Caller;
use crate::content::{CallToAction, InstantArticle, PageInfo};
use crate::model::{Id, Page};
use crate::policy::{CALL_TO_ACTION, INSTANT_ARTICLES, SETTINGS};
use crate::request::{GraphRequest, Method};
use crate::services::Services;
use crate::timefmt;

/// Button types Facebook documents.
const CTA_TYPES: &[&str] = &[
    "BOOK_NOW",
    "BUY_NOW",
    "CALL_NOW",
    "CONTACT_US",
    "DOWNLOAD",
    "GET_DIRECTIONS",
    "LEARN_MORE",
    "MESSAGE_PAGE",
    "ORDER_NOW",
    "PLAY_GAME",
    "SEND_EMAIL",
    "SHOP_NOW",
    "SIGN_UP",
    "USE_APP",
    "WATCH_VIDEO",
];

/// `POST /{page-id}`: changes any of `about`, `description`, `website`, `phone`.
pub async fn update(
    g: &Services,
    req: &GraphRequest,
    caller: &Caller,
    page: &Page,
) -> Result<Value, GraphError> {
    g.authorize(caller, page.id, &SETTINGS).await?;
    let get = |name: &str| req.params.get(name).map(str::to_string);
    let info = PageInfo {
        about: get("about"),
        description: get("description"),
        website: get("website"),
        phone: get("phone"),
        ..PageInfo::default()
    };
    if info == PageInfo::default() {
        return Err(GraphError::param(
            "At least one of about, description, website, phone is required",
        ));
    }
    if !g.set_page_info(page.id, &info).await? {
        return Err(GraphError::unknown_object(
            &page.id.to_string(),
            req.method.as_str(),
        ));
    }
    Ok(json!({ "success": true }))
}

/// The `id` parameter of a DELETE on an edge.
fn id_param(req: &GraphRequest) -> Result<Id, GraphError> {
    let id = req
        .params
        .non_empty("id")
        .ok_or_else(|| GraphError::param("The parameter id is required"))?;
    id.parse()
        .map_err(|_| GraphError::param(format!("Invalid id: {id}")))
}

fn success(found: bool, req: &GraphRequest) -> Result<Value, GraphError> {
    if found {
        Ok(json!({ "success": true }))
    } else {
        Err(GraphError::unknown_object(
            req.params.get("id").unwrap_or_default(),
            req.method.as_str(),
        ))
    }
}

/// `/{page-id}/call_to_actions` and `/{page-id}/instant_articles`.
pub async fn page_edge(
    g: &Services,
    req: &GraphRequest,
    caller: &Caller,
    page: &Page,
    edge: &str,
) -> Result<Value, GraphError> {
    if edge == "call_to_actions" {
        call_to_actions(g, req, caller, page).await
    } else {
        instant_articles(g, req, caller, page).await
    }
}

/// `GET /{page-id}/call_to_actions`, and the Page field `call_to_actions`.
pub async fn read_call_to_actions(
    g: &Services,
    req: &GraphRequest,
    caller: &Caller,
    page: &Page,
    q: &EdgeQuery,
) -> Result<Value, GraphError> {
    g.authorize(caller, page.id, &CALL_TO_ACTION).await?;
    let all = g.call_to_actions_of_page(page.id).await?;
    let visible = g.visible_only(caller, all, |c| c.app_id).await?;
    let items: Vec<(crate::model::Id, Value)> = visible
        .iter()
        .map(|c| {
            let mut v = json!({
                "id": c.id.to_string(),
                "type": c.kind,
                "status": "ACTIVE",
                "created_time": timefmt::graph_time(c.created_at),
            });
            if let Some(url) = &c.web_url {
                v["web_url"] = json!(url);
            }
            (c.id, v)
        })
        .collect();
    Ok(paging::page_of(
        req,
        paging::EdgePath {
            node: &page.id,
            edge: "call_to_actions",
        },
        q,
        items,
    ))
}

/// `GET /{page-id}/instant_articles`, and the Page field `instant_articles`.
pub async fn read_instant_articles(
    g: &Services,
    req: &GraphRequest,
    caller: &Caller,
    page: &Page,
    q: &EdgeQuery,
) -> Result<Value, GraphError> {
    g.authorize(caller, page.id, &INSTANT_ARTICLES).await?;
    let all = g.instant_articles_of_page(page.id).await?;
    let visible = g.visible_only(caller, all, |a| a.app_id).await?;
    let items: Vec<(crate::model::Id, Value)> = visible
        .iter()
        .map(|a| {
            let v = json!({
                "id": a.id.to_string(),
                "html_source": a.html_source,
                "published": a.published,
                "created_time": timefmt::graph_time(a.created_at),
            });
            (a.id, v)
        })
        .collect();
    Ok(paging::page_of(
        req,
        paging::EdgePath {
            node: &page.id,
            edge: "instant_articles",
        },
        q,
        items,
    ))
}

async fn call_to_actions(
    g: &Services,
    req: &GraphRequest,
    caller: &Caller,
    page: &Page,
) -> Result<Value, GraphError> {
    match req.method {
        Method::Get => {
            read_call_to_actions(g, req, caller, page, &EdgeQuery::from_request(req)?).await
        }
        Method::Post => {
            g.authorize(caller, page.id, &CALL_TO_ACTION).await?;
            let kind = req
                .params
                .non_empty("type")
                .ok_or_else(|| GraphError::param("The parameter type is required"))?;
            if !CTA_TYPES.contains(&kind) {
                return Err(GraphError::param(format!(
                    "Param type must be one of {{{}}}",
                    CTA_TYPES.join(", ")
                )));
            }
            let cta = CallToAction {
                id: 0,
                page_id: page.id,
                kind: kind.to_string(),
                web_url: req.params.non_empty("web_url").map(str::to_string),
                created_at: g.now(),
                app_id: Some(caller.principal.app().id),
            };
            let cta = g.add_call_to_action(cta).await?;
            Ok(json!({ "id": cta.id.to_string() }))
        }
        Method::Delete => {
            g.authorize(caller, page.id, &CALL_TO_ACTION).await?;
            let id = id_param(req)?;
            // What a development-mode app made does not exist for others: nothing to delete.
            let made_by = g.call_to_actions_of_page(page.id).await?;
            let app = made_by.iter().find(|c| c.id == id).and_then(|c| c.app_id);
            if !g.visible(caller, app).await? {
                return success(false, req);
            }
            success(g.delete_call_to_action(page.id, id).await?, req)
        }
    }
}

async fn instant_articles(
    g: &Services,
    req: &GraphRequest,
    caller: &Caller,
    page: &Page,
) -> Result<Value, GraphError> {
    match req.method {
        Method::Get => {
            read_instant_articles(g, req, caller, page, &EdgeQuery::from_request(req)?).await
        }
        Method::Post => {
            g.authorize(caller, page.id, &INSTANT_ARTICLES).await?;
            let html = req
                .params
                .non_empty("html_source")
                .ok_or_else(|| GraphError::param("The parameter html_source is required"))?;
            let article = InstantArticle {
                id: 0,
                page_id: page.id,
                html_source: html.to_string(),
                published: req.params.boolean("published")?.unwrap_or(false),
                created_at: g.now(),
                app_id: Some(caller.principal.app().id),
            };
            let article = g.add_instant_article(article).await?;
            Ok(json!({ "id": article.id.to_string() }))
        }
        Method::Delete => {
            g.authorize(caller, page.id, &INSTANT_ARTICLES).await?;
            let id = id_param(req)?;
            let made_by = g.instant_articles_of_page(page.id).await?;
            let app = made_by.iter().find(|a| a.id == id).and_then(|a| a.app_id);
            if !g.visible(caller, app).await? {
                return success(false, req);
            }
            success(g.delete_instant_article(page.id, id).await?, req)
        }
    }
}
