//! Test users (spec §2.10): people an app makes for itself through the Graph API.
//!
//! * `POST /{app-id}/accounts/test-users` (also `/{app-id}/accounts`) with the app's token:
//!   `installed` (default true), `permissions`, `name` → `{"id","access_token","login_url",
//!   "email","password"}`. The person's id is also their app-scoped id for the app, so `/me`
//!   with the returned token answers the same `id`. The token is long-lived (60 days): test
//!   users are set up once and used for a while, as on Facebook. The password is answered once
//!   and stored only as an argon2id hash.
//! * `GET /{app-id}/accounts/test-users` (also `/{app-id}/accounts`): oldest first,
//!   `{"id","login_url","access_token"}`, `access_token` (a fresh long-lived one per listing,
//!   each in a new session) only for those who have the app installed. The cursors count
//!   positions in that order.
//! * `DELETE /{test-user-id}` with the owning app's token or the test user's own token, and
//!   `POST /{test-user-id}` with `name`/`password` (the owning app's token): `{"success":true}`.
//!
//! Errors: another token than an app token is `(#15) This method must be called with an app
//! access_token.`; another app's token is `(#200) Permissions error`; the app's cap
//! (`test_user_limit`, default 10) is `(#2900) Too many test accounts`.

use serde_json::{json, Map, Value};

use crate::auth::Caller;
use crate::error::GraphError;
use crate::model::{App, Asid, Id, User, UserId};
use crate::permissions::{self, PUBLIC_PROFILE};
use crate::policy;
use crate::request::{GraphRequest, Method};
use crate::services::Services;
use crate::token;

use super::paging::{self, EdgeQuery};

/// Letters of a generated password.
const PASSWORD_LEN: usize = 20;

const FIRST_NAMES: &[&str] = &[
    "Alice", "Ben", "Carla", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kofi",
    "Lena", "Marco", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tariq",
];
const LAST_NAMES: &[&str] = &[
    "Adeyemi", "Bauer", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ivanova",
    "Jensen", "Kowalski", "Larsen", "Moreau", "Nakamura", "Okafor", "Petrov", "Rossi", "Silva",
    "Tanaka", "Wong",
];

/// `/{app-id}/accounts` and `/{app-id}/accounts/test-users`.
pub(super) async fn app_edge(
    g: &Services,
    req: &GraphRequest,
    caller: &Caller,
    app: &App,
) -> Result<Value, GraphError> {
    policy::app_edge_access(caller, app.id)?;
    match req.method {
        Method::Get => list(g, req, app).await,
        Method::Post => create(g, req, app).await,
        _ => Err(super::unsupported(req, &app.id.to_string())),
    }
}

/// `DELETE /{test-user-id}` and `POST /{test-user-id}`: `(#200)` for a token that may not;
/// on anyone who is not a test user, Facebook's `Unsupported <method> request` (100/33).
pub(super) async fn node(
    g: &Services,
    req: &GraphRequest,
    caller: &Caller,
    segment: &str,
    user: &User,
) -> Result<Value, GraphError> {
    let Some(test) = g.test_user(user.id).await? else {
        return Err(super::unsupported(req, segment));
    };
    let may = policy::test_user_rights(caller, test.app_id, user.id);
    match req.method {
        Method::Delete if may.delete => delete(g, user.id).await,
        Method::Post if may.change => update(g, req, user.id).await,
        Method::Delete | Method::Post => Err(GraphError::permission_denied()),
        Method::Get => Err(super::unsupported(req, segment)),
    }
}

async fn create(g: &Services, req: &GraphRequest, app: &App) -> Result<Value, GraphError> {
    let p = &req.params;
    let installed = p.boolean("installed")?.unwrap_or(true);
    let mut scopes = permissions::parse_scope(p.get("permissions").unwrap_or(""))
        .map_err(|bad| GraphError::invalid_scope(&bad.join(", ")))?;
    scopes.retain(|s| s != PUBLIC_PROFILE);
    // A cheap early refusal; the insert itself enforces the cap atomically.
    let existing = g.test_users_of_app(app.id).await?;
    if existing.len() >= app.test_user_limit as usize {
        return Err(GraphError::too_many_test_accounts());
    }
    let name = match p.non_empty("name") {
        Some(n) => n.trim().to_string(),
        None => generated_name()?,
    };
    let secret = token::random_alnum(PASSWORD_LEN)?;
    let hash = g.hash_password(&secret).await?;
    let email_of = |id| format!("{}_{id}@tfbnw.net", slug(&name));
    let user = g.add_test_user(app, &name, email_of, hash).await?;
    // The person's id doubles as their app-scoped id for the owning app.
    let asid = g.test_user_asid(user.id, app.id).await?;
    let mut out = Map::new();
    out.insert("id".into(), json!(asid.to_string()));
    if installed {
        let issued = g.login(&user, app, &scopes, true).await?;
        out.insert("access_token".into(), json!(issued.access_token));
    }
    out.insert("login_url".into(), json!(login_url(req, asid)));
    out.insert("email".into(), json!(user.email));
    out.insert("password".into(), json!(secret));
    Ok(Value::Object(out))
}

async fn list(g: &Services, req: &GraphRequest, app: &App) -> Result<Value, GraphError> {
    let q = EdgeQuery::from_request(req)?;
    let all = g.test_users_of_app(app.id).await?;
    // Cursors are 1-based positions in the oldest-first order.
    let keys: Vec<Id> = (1..=all.len() as Id).collect();
    let (range, more_before, more_after) = q.window.apply(&keys);
    let wanted = |name: &str| match &q.fields {
        Some(f) if !f.is_empty() => name == "id" || f.iter().any(|x| x.name == name),
        _ => true,
    };
    let mut items = Vec::with_capacity(range.len());
    for t in &all[range.clone()] {
        let asid = g.test_user_asid(t.user_id, app.id).await?;
        let mut item = Map::new();
        if wanted("id") {
            item.insert("id".into(), json!(asid.to_string()));
        }
        if wanted("login_url") {
            item.insert("login_url".into(), json!(login_url(req, asid)));
        }
        let installed = g
            .grant(t.user_id, app.id)
            .await?
            .is_some_and(|gr| gr.has(PUBLIC_PROFILE));
        if installed && wanted("access_token") {
            let issued = g.open_session(t.user_id, app.id, true).await?;
            item.insert("access_token".into(), json!(issued.access_token));
        }
        items.push(Value::Object(item));
    }
    let first_last = (!range.is_empty()).then(|| (range.start as Id + 1, range.end as Id));
    Ok(paging::page(
        req,
        paging::Slice {
            edge_path: paging::EdgePath {
                node: &app.id,
                edge: "accounts/test-users",
            },
            fields: q.fields_param.as_deref(),
            items,
            first_last,
            more_before,
            more_after,
            limit: q.window.limit,
        },
    ))
}

/// The person and everything of theirs go; their tokens fail from now on.
async fn delete(g: &Services, user: UserId) -> Result<Value, GraphError> {
    if !g.delete_user(user).await? {
        return Err(GraphError::unknown_object(&user.to_string(), "delete"));
    }
    Ok(json!({ "success": true }))
}

/// `name` renames; `password` sets a new one (every session of the person ends, 190/460, as on
/// any password change).
async fn update(g: &Services, req: &GraphRequest, user: UserId) -> Result<Value, GraphError> {
    let p = &req.params;
    let name = p.non_empty("name").map(str::trim).filter(|n| !n.is_empty());
    let new_password = p.non_empty("password");
    if name.is_none() && new_password.is_none() {
        return Err(GraphError::param("Param name or password is required"));
    }
    if let Some(name) = name {
        if !g.rename_user(user, name).await? {
            return Err(GraphError::unknown_object(&user.to_string(), "post"));
        }
    }
    if let Some(pw) = new_password {
        g.change_password(user, g.hash_password(pw).await?).await?;
    }
    Ok(json!({ "success": true }))
}

fn login_url(req: &GraphRequest, id: Asid) -> String {
    format!("{}/checkpoint/test-user-login/{id}/", req.base_url)
}

/// A plausible "First Last".
fn generated_name() -> Result<String, GraphError> {
    let b = token::random_bytes(2)?;
    let pick = |list: &[&'static str], i: usize| {
        let n = usize::from(b.get(i).copied().unwrap_or(0));
        list.get(n % list.len()).copied().unwrap_or("Test")
    };
    Ok(format!("{} {}", pick(FIRST_NAMES, 0), pick(LAST_NAMES, 1)))
}

/// The name as the local part of an email: lower-case letters and digits, words joined by `_`.
fn slug(name: &str) -> String {
    let words: Vec<String> = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    if words.is_empty() {
        "test_user".to_string()
    } else {
        words.join("_")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slug("Open Graph Test User"), "open_graph_test_user");
        assert_eq!(slug("  Zoë  O'Neil "), "zo_o_neil");
        assert_eq!(slug("***"), "test_user");
    }
}
