//! Two Graph conventions on nodes (spec §8): `GET /?ids=a,b` answers a map keyed by the ids as
//! given, each value what `GET /{id}` would answer; `metadata=1` on a node adds
//! `"metadata": {"fields": [...], "type": ..., "connections": {...}}`.
//!
//! Each id of `ids=` counts as one call toward the rate limits, as on Facebook. An id that does
//! not exist (or that the token may not see) fails the whole request with Facebook's
//! `(#803) Some of the aliases you requested do not exist: <ids>` (type `OAuthException`, code
//! 803), listing every such id comma-separated.

use serde_json::{json, Map, Value};

use crate::auth::{Caller, Principal};
use crate::error::GraphError;
use crate::model::{AppId, Asid, Id, PageId};
use crate::ratelimit::Usage;
use crate::request::{GraphRequest, Method};
use crate::services::Services;

use super::nodes::{self, APP_FIELDS, PAGE_FIELDS, USER_FIELDS};
use super::reply::Reply;

/// The most ids one `ids=` may name.
pub const MAX_IDS: usize = 50;

/// The edges graphtoken serves on each node type (`metadata.connections`).
const USER_EDGES: &[&str] = &["accounts", "permissions"];
const APP_EDGES: &[&str] = &["accounts", "roles"];

/// `(#803)`: ids of `ids=` that name nothing this token may see.
pub fn aliases_missing(ids: &[&str]) -> GraphError {
    GraphError::new(
        803,
        "OAuthException",
        format!(
            "(#803) Some of the aliases you requested do not exist: {}",
            ids.join(",")
        ),
    )
}

fn missing_ids() -> GraphError {
    GraphError::param(
        "Missing 'ids' parameter: a request to the root names the objects it wants in ids",
    )
}

/// `GET /?ids=a,b,me`.
pub(super) async fn ids(
    g: &Services,
    req: &GraphRequest,
    usage: &mut Option<Usage>,
) -> Result<Value, GraphError> {
    if req.method != Method::Get {
        return Err(missing_ids());
    }
    // The ids in order, each once; a set keeps a long list linear.
    let mut seen = std::collections::HashSet::new();
    let list: Vec<&str> = req
        .params
        .get("ids")
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty() && seen.insert(*id))
        .collect();
    if list.is_empty() {
        return Err(missing_ids());
    }
    if list.len() > MAX_IDS {
        return Err(GraphError::param(format!(
            "Too many IDs. Maximum: {MAX_IDS}. Provided: {}.",
            list.len()
        )));
    }
    let caller = match super::caller(g, req).await? {
        Some(c) => c,
        None if list.contains(&"me") => return Err(GraphError::active_token_required()),
        None => return Err(GraphError::token_required()),
    };
    let mut out = Map::new();
    let mut missing = Vec::new();
    for id in list {
        g.admit(&caller, Some(id), usage).await?;
        match Box::pin(node(g, req, &caller, id, &[]))
            .await
            .and_then(Reply::into_value)
        {
            Ok(v) => {
                out.insert(id.to_string(), v);
            }
            Err(e) if e.code == 100 && e.subcode == Some(33) => missing.push(id),
            Err(e) => return Err(e),
        }
    }
    if !missing.is_empty() {
        return Err(aliases_missing(&missing));
    }
    Ok(Value::Object(out))
}

/// A node path (`/{id}` and its edges), with `metadata` added to the node itself when the
/// request has `metadata=1`.
pub(super) async fn node(
    g: &Services,
    req: &GraphRequest,
    caller: &Caller,
    segment: &str,
    rest: &[&str],
) -> Result<Reply, GraphError> {
    let reply = Box::pin(nodes::handle(g, req, caller, segment, rest)).await?;
    if rest.is_empty() && req.method == Method::Get && wants_metadata(req) {
        let mut v = reply.into_value()?;
        if let Value::Object(map) = &mut v {
            if let Some(kind) = kind(g, caller, segment).await? {
                let id = map
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or(segment)
                    .to_string();
                // Debug Mode's `__debug__` stays last.
                let debug = map.shift_remove("__debug__");
                map.insert("metadata".into(), metadata(req, kind, &id));
                if let Some(debug) = debug {
                    map.insert("__debug__".into(), debug);
                }
            }
        }
        return Ok(v.into());
    }
    Ok(reply)
}

fn wants_metadata(req: &GraphRequest) -> bool {
    matches!(req.params.get("metadata"), Some("1" | "true"))
}

#[derive(Clone, Copy)]
enum Kind {
    User,
    Page,
    App,
}

/// What type of node a segment names (the node has already been answered, so it exists).
async fn kind(g: &Services, caller: &Caller, segment: &str) -> Result<Option<Kind>, GraphError> {
    if segment == "me" {
        return Ok(match &caller.principal {
            Principal::User(_) => Some(Kind::User),
            Principal::Page(_) => Some(Kind::Page),
            _ => None,
        });
    }
    let Ok(id) = segment.parse::<Id>() else {
        return Ok(None);
    };
    if g.resolve_asid(Asid(id)).await?.is_some() {
        return Ok(Some(Kind::User));
    }
    if g.page(PageId(id)).await?.is_some() {
        return Ok(Some(Kind::Page));
    }
    Ok(g.app(AppId(id)).await?.map(|_| Kind::App))
}

/// `{"fields": [{name, description}], "type": ..., "connections": {edge: url}}`: the fields and
/// edges graphtoken serves for the node type, with URLs that carry the access token.
fn metadata(req: &GraphRequest, kind: Kind, id: &str) -> Value {
    let (type_name, fields, edges): (_, _, Vec<&str>) = match kind {
        Kind::User => ("user", USER_FIELDS, USER_EDGES.to_vec()),
        Kind::Page => (
            "page",
            PAGE_FIELDS,
            super::page_edges::connections().collect(),
        ),
        Kind::App => ("application", APP_FIELDS, APP_EDGES.to_vec()),
    };
    let fields: Vec<Value> = fields
        .iter()
        .map(|name| {
            let mut f = Map::new();
            f.insert("name".into(), json!(name));
            if let Some(d) = description(name) {
                f.insert("description".into(), json!(d));
            }
            Value::Object(f)
        })
        .collect();
    let query = req.token.as_ref().map(|t| {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("access_token", t)
            .finish()
    });
    let mut connections = Map::new();
    for edge in &edges {
        let mut url = format!("{}/{}/{id}/{edge}", req.base_url, req.version);
        if let Some(q) = &query {
            url.push('?');
            url.push_str(q);
        }
        connections.insert((*edge).to_string(), json!(url));
    }
    json!({"fields": fields, "type": type_name, "connections": connections})
}

/// What a field holds, in Facebook's reference wording where it is short.
fn description(name: &str) -> Option<&'static str> {
    Some(match name {
        "id" => "The ID of this object",
        "name" => "The name of this object",
        "first_name" => "The person's first name",
        "last_name" => "The person's last name",
        "middle_name" => "The person's middle name",
        "short_name" => "Shortened, locale-aware name for the person",
        "name_format" => {
            "The person's name formatted to correctly handle Chinese, Japanese, or Korean ordering"
        }
        "email" => "The User's primary email address listed on their profile",
        "picture" => "The profile picture",
        "gender" => "The gender selected by this person",
        "link" => "A link to this object on Facebook",
        "birthday" => "The person's birthday",
        "age_range" => "The age segment for this person",
        "hometown" => "The person's hometown",
        "location" => "The location of this object",
        "locale" => "The person's locale",
        "timezone" => "The person's current timezone offset from UTC",
        "updated_time" => "Updated time",
        "verified" => "Indicates whether the account has been verified",
        "installed" => "Is the app making the request installed",
        "token_for_business" => "A token that is the same across a business's apps",
        "accounts" => "Pages the person has a role on",
        "permissions" => "The permissions that the person has granted this app",
        "roles" => "The people with a role on the app",
        "category" => "The category of this object",
        "category_list" => "The Page's categories",
        "access_token" => "The Page's access token, for people with a task on the Page",
        "tasks" => "The tasks the person may perform on the Page",
        "perms" => "The person's legacy permissions on the Page (before v3.1)",
        "about" => "Information about the Page",
        "description" => "The description of the Page",
        "website" => "The URL of the Page's website",
        "phone" => "Phone number provided by a Page",
        "emails" => "The emails listed in the About section of a Page",
        "username" => "The alias of the Page",
        "fan_count" => "The number of users who like the Page",
        "followers_count" => "Number of page followers",
        "is_published" => "Indicates whether the Page is published and visible to non-admins",
        "is_verified" => "Pages with a large number of followers can be manually verified",
        "verification_status" => "Showing whether this Page is verified",
        "cover" => "Information about the page's cover photo",
        "single_line_address" => "The page address, if any, in a simple single line format",
        "namespace" => "The namespace for the app",
        "app_type" => "The type of the app",
        "app_domains" => "Domains and subdomains this app can use",
        "company" => "The company the app belongs to",
        "contact_email" => "Email address listed for people using the app to contact developers",
        "created_time" => "Timestamp that indicates when the app was created",
        "daily_active_users" => "The number of daily active users the app has",
        "monthly_active_users" => "The number of monthly active users the app has",
        "deauth_callback_url" => "URL that is pinged whenever a person removes the app",
        "icon_url" => "URL of the app's icon",
        "logo_url" => "URL of the app's logo",
        "privacy_policy_url" => "The URL of the app's privacy policy",
        "terms_of_service_url" => {
            "URL to Terms of Service that is displayed to people in the login dialog"
        }
        "website_url" => "URL of the app's website",
        "supported_platforms" => "The platforms the app supports",
        "restrictions" => "Demographic restrictions for the app",
        _ => return None,
    })
}
