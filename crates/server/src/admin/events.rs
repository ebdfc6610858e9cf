//! Admin routes that trigger the events of spec §7 (see docs/invalidation.md). People, apps and
//! Pages are named by seed key or id.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use graphtoken_core::model::{AccountStatus, BudgetChange, Reason};
use graphtoken_core::ratelimit::Budgets;
use graphtoken_core::tasks::{PageRole, Task, TaskSet};

use super::reply::{app, bad, ok, page, user, AdminError, Answer, Body, St, Text};
use crate::AppState;

/// What an operator needs: ending a person's access, an app's secret and call budgets, a
/// Page's tasks, the callbacks sent.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/users/{user}/apps/{app}/remove", post(remove_app))
        .route("/users/{user}/invalidate", post(invalidate))
        .route("/users/{user}/logout", post(logout))
        .route("/users/{user}/status", post(status))
        .route("/apps/{app}/reset_secret", post(reset_secret))
        .route("/apps/{app}/rate_limits", post(rate_limits))
        .route("/pages/{page}/tasks", post(page_tasks))
        .route("/callbacks", get(callbacks))
}

/// The emulator's: what a person does in their own settings (a new password, a data-deletion
/// request).
pub fn emulator_routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/users/{user}/apps/{app}/data_deletion",
            post(data_deletion),
        )
        .route("/users/{user}/password", post(password))
}

/// `GET /_admin/callbacks`: every callback sent to apps, newest first.
async fn callbacks(State(st): St) -> Answer {
    ok(crate::callbacks::Callbacks::list(&st.services).await?)
}

/// The person removes the app in their settings: 190/458 for every token of theirs for it, and
/// the app's deauthorize callback gets a `signed_request` (spec §7) in the background.
async fn remove_app(State(st): St, Path((u, a)): Path<(String, String)>) -> Answer {
    let (user, app) = (user(&st, &u).await?, app(&st, &a).await?);
    let done = st
        .services
        .uninstall(user.id, &app, Reason::AppNotAuthorized)
        .await?;
    ok(json!({
        "success": true,
        "was_installed": done.was_installed,
        "callback": done.callback.map(|id| id.to_string()),
    }))
}

/// The person asks the app to delete their data: the app's `data_deletion_url` gets a
/// `signed_request` (with `expires`, spec §7) in the background; its answer
/// (`{"url", "confirmation_code"}`) is recorded in `/_admin/callbacks`.
async fn data_deletion(State(st): St, Path((u, a)): Path<(String, String)>) -> Answer {
    let (user, app) = (user(&st, &u).await?, app(&st, &a).await?);
    let url = app
        .data_deletion_url
        .clone()
        .ok_or_else(|| bad(format!("app `{a}` has no data_deletion_url (seed field)")))?;
    let id = st
        .services
        .request_data_deletion(user.id, &app, &url)
        .await?;
    ok(json!({ "success": true, "callback": id.to_string() }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewPassword {
    password: String,
}

/// A new password: 190/460 for every session of the person, in every app.
async fn password(State(st): St, Path(u): Path<String>, Body(b): Body<NewPassword>) -> Answer {
    let user = user(&st, &u).await?;
    if b.password.is_empty() {
        return Err(bad("`password` is required"));
    }
    // argon2id takes tens of milliseconds: the services hash off the async workers.
    let hash = st.services.hash_password(&b.password).await?;
    let ended = st.services.change_password(user.id, hash).await?;
    ok(json!({ "success": true, "sessions_ended": ended }))
}

/// A security reset: 190/460 for every session of the person, in every app.
async fn invalidate(State(st): St, Path(u): Path<String>) -> Answer {
    let user = user(&st, &u).await?;
    let ended = st.services.reset_sessions(user.id).await?;
    ok(json!({ "success": true, "sessions_ended": ended }))
}

/// The person logs out: 190/467 for their short-lived tokens; long-lived ones keep working.
async fn logout(State(st): St, Path(u): Path<String>) -> Answer {
    let user = user(&st, &u).await?;
    let ended = st.services.logout(user.id).await?;
    ok(json!({ "success": true, "tokens_ended": ended }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Status {
    status: String,
}

/// `{"status": "checkpointed" | "unconfirmed" | "active"}`: 190/459 or 190/464 until active.
async fn status(State(st): St, Path(u): Path<String>, Body(b): Body<Status>) -> Answer {
    let user = user(&st, &u).await?;
    let status = AccountStatus::parse(&b.status)
        .ok_or_else(|| bad("`status` must be one of active, checkpointed, unconfirmed"))?;
    st.services.set_account_status(user.id, status).await?;
    ok(json!({ "success": true, "status": status.as_str() }))
}

/// A new app secret, returned once: every app token of the old secret stops working.
async fn reset_secret(State(st): St, Path(a): Path<String>) -> Answer {
    let app = app(&st, &a).await?;
    let secret = st.services.reset_secret(app.id).await?;
    ok(json!({ "app_id": app.id.to_string(), "secret": secret }))
}

/// The budget `name` in a body: `null` (graphtoken's default) or a positive number of calls
/// per hour; anything else is refused, named.
fn budget(name: &str, v: &Value) -> Result<Option<u32>, AdminError> {
    if v.is_null() {
        return Ok(None);
    }
    match v.as_u64().map(u32::try_from) {
        Some(Ok(n)) if n > 0 => Ok(Some(n)),
        _ => Err(bad(format!(
            "`{name}`: a budget is a positive number of calls per hour up to {}, or null for \
             the default, not {v}",
            u32::MAX
        ))),
    }
}

/// `{"app": N, "user": N, "page": N}`, any of them: an app's call budgets over a sliding hour,
/// as a seed's `rate_limits` sets them. A budget left out stays as it is; `null` is
/// graphtoken's default. Calls already counted stay counted. The budgets in force, in return.
async fn rate_limits(
    State(st): St,
    Path(a): Path<String>,
    Body(b): Body<Map<String, Value>>,
) -> Answer {
    let mut app = app(&st, &a).await?;
    let mut change = BudgetChange::default();
    for (name, v) in &b {
        let slot = match name.as_str() {
            "app" => &mut change.app,
            "user" => &mut change.user,
            "page" => &mut change.page,
            other => {
                return Err(bad(format!(
                    "unknown field `{other}`, expected one of `app`, `user`, `page`"
                )))
            }
        };
        *slot = Some(budget(name, v)?);
    }
    app.rate_limits = st.services.change_rate_limits(app.id, change).await?;
    let Budgets { app: a, user, page } = Budgets::of(&app);
    ok(json!({
        "app_id": app.id.to_string(),
        "rate_limits": { "app": a, "user": user, "page": page },
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PageTasks {
    user: Text,
    tasks: Option<Vec<String>>,
    role: Option<String>,
}

/// `{"user": key or id, "tasks": ["MANAGE", ...]}` or `{"user", "role": "Editor"}`; an empty
/// task list removes the person from the Page (their Page tokens then fail with 190/492).
async fn page_tasks(State(st): St, Path(p): Path<String>, Body(b): Body<PageTasks>) -> Answer {
    let page = page(&st, &p).await?;
    let user = user(&st, &b.user).await?;
    let tasks = match (b.tasks, b.role) {
        (Some(list), None) => {
            let mut set = TaskSet::EMPTY;
            for t in list {
                let task = Task::parse(&t).ok_or_else(|| {
                    bad(format!("unknown task {t:?}: use ADVERTISE, ANALYZE, CREATE_CONTENT, MANAGE, MESSAGING, MODERATE"))
                })?;
                set = set.with(task);
            }
            set
        }
        (None, Some(role)) => PageRole::parse(&role).map(PageRole::tasks).ok_or_else(|| {
            bad(format!(
                "unknown role `{role}`: use Admin, Editor, Moderator, Advertiser, Analyst"
            ))
        })?,
        _ => return Err(bad("send `tasks` (a list, empty to remove) or `role`")),
    };
    let now_held = st.services.set_page_tasks(page.id, user.id, tasks).await?;
    let names: Vec<&str> = now_held.map(|t| t.tasks.names()).unwrap_or_default();
    ok(json!({ "page_id": page.id.to_string(), "user_id": user.id.to_string(), "tasks": names }))
}
