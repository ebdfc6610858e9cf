//! The App Dashboard (`/apps/{app-id}/…`, as on Facebook's developer site) for a signed-in person
//! with a role on the app, and a person's own settings (`/settings/apps/`).
//!
//! Settings › Basic (the secret shown on request, "Reset" with a confirmation), Settings ›
//! Advanced, Roles, App Review, Test Users (create, log in as, delete), Callbacks and rate-limit
//! usage; "Apps and websites" with Remove (the deauthorize callback, as the admin route sends
//! it) and "Sign out everywhere". Test users are made and deleted through the Graph API's own
//! endpoints, with the app token, so they follow the same rules as an SDK's calls.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use maud::{html, Markup};
use serde_json::Value;

use graphtoken_core::model::{App, AppId, AppRole, Platform, Reason, User, UserId};
use graphtoken_core::permissions;
use graphtoken_core::policy::{self, Dashboard};
use graphtoken_core::timefmt;

use super::{broken, call_graph, field, visit, with_cookies, St, Visit};
use crate::browser;
use crate::pages::{self, console_document, hidden};
use crate::AppState;

/// The dashboard's sections, in the order of its menu: path, title.
const SECTIONS: &[(&str, &str)] = &[
    ("settings/basic", "Settings › Basic"),
    ("settings/advanced", "Settings › Advanced"),
    ("roles", "Roles"),
    ("app-review", "App Review"),
    ("test-users", "Test Users"),
    ("callbacks", "Callbacks"),
    ("rate-limits", "Rate limits"),
];

/// The ASID → PSID migration window after App Review (spec §2.12).
const MIGRATION_DAYS: i64 = 180;

/// The signed-in person, or the sign-in page (coming back to `here` afterwards).
async fn person(
    st: &AppState,
    headers: &HeaderMap,
    here: &str,
) -> Result<(Visit, User), Box<Response>> {
    let v = visit(st, headers)?;
    match crate::login::signed_in_user(st, &v.session).await {
        Ok(Some(u)) => Ok((v, u)),
        Ok(None) => {
            let body = pages::sign_in(&pages::SignIn {
                app_name: None,
                email: "",
                error: None,
                next: here,
                csrf: &v.csrf,
                reauthenticate: false,
            });
            Err(Box::new(with_cookies(
                browser::html(StatusCode::OK, body, None),
                v.cookies,
            )))
        }
        Err(e) => Err(Box::new(broken(&e))),
    }
}

/// The app `id`, if the person has a role on it (`Err`: the page that says why not).
async fn app_for(
    st: &AppState,
    v: &Visit,
    user: &User,
    id: &str,
) -> Result<(App, Dashboard), Box<Response>> {
    let app = match id.parse::<u64>() {
        Ok(n) => st
            .services
            .app(AppId(n))
            .await
            .map_err(|e| Box::new(broken(&e)))?,
        Err(_) => None,
    };
    let Some(app) = app else {
        return Err(Box::new(message(
            v,
            StatusCode::NOT_FOUND,
            "App not found",
            &format!("There is no app {id}."),
        )));
    };
    match policy::dashboard(&app, user.id) {
        Some(may) => Ok(((*app).clone(), may)),
        None => Err(Box::new(message(
            v,
            StatusCode::FORBIDDEN,
            "No access",
            &format!("{} has no role on {}: only its administrators, developers and testers see its dashboard.", user.name, app.name),
        ))),
    }
}

fn message(v: &Visit, status: StatusCode, title: &str, text: &str) -> Response {
    let content = html! {
        h1 { (title) }
        p class="error" role="alert" { (text) }
        p class="note" { a href="/apps/" { "← Your apps" } " · " a href="/" { "Console" } }
    };
    with_cookies(
        browser::html(status, console_document(title, content), None),
        v.cookies.clone(),
    )
}

/// A posted form with its CSRF token checked.
async fn posted(
    st: &AppState,
    headers: &HeaderMap,
    bytes: &Bytes,
    here: &str,
) -> Result<(Visit, User, Vec<(String, String)>), Box<Response>> {
    let (v, user) = person(st, headers, here).await?;
    let form: Vec<(String, String)> = form_urlencoded::parse(bytes).into_owned().collect();
    if !st.browser.csrf_ok(&v.session, field(&form, "csrf")) {
        return Err(Box::new(message(
            &v,
            StatusCode::FORBIDDEN,
            "This form has expired",
            "This form has expired. Go back, reload the page and try again.",
        )));
    }
    Ok((v, user, form))
}

/// Back to a page, saying what was done.
fn done(st: &AppState, v: Visit, to: &str, notice: String) -> Response {
    st.console.with(&v.desk, |d| d.notice = Some(notice));
    with_cookies(browser::see_other(to, None), v.cookies)
}

// ---- the list of apps ---------------------------------------------------------------------

/// `GET /apps/`: the apps the person has a role on.
pub async fn apps(State(st): St, headers: HeaderMap) -> Response {
    let (v, user) = match person(&st, &headers, "/apps/").await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let all = st
        .services
        .overview(super::LISTED)
        .await
        .map(|o| o.apps)
        .unwrap_or_default();
    let mine: Vec<(&App, AppRole)> = all
        .iter()
        .filter_map(|a| policy::dashboard(a, user.id).map(|may| (a, may.role)))
        .collect();
    let content = html! {
        h1 { "Your apps" }
        p class="lede" { "Signed in as " strong { (user.name) } ". " a href="/settings/apps/" { "Your settings" } }
        @if mine.is_empty() {
            p class="note" { "You have no role on any app. Roles come from the seed file (" code { "roles" } " of an app)." }
        } @else {
            table {
                thead { tr { th scope="col" { "App" } th scope="col" { "App ID" } th scope="col" { "Your role" } } }
                tbody {
                    @for (a, r) in &mine {
                        tr {
                            td { a href=(format!("/apps/{}/settings/basic/", a.id)) { (a.name) } }
                            td { code { (a.id) } }
                            td { (role_name(*r)) }
                        }
                    }
                }
            }
        }
        p class="note" { a href="/" { "← Console" } }
    };
    with_cookies(
        browser::html(StatusCode::OK, console_document("Your apps", content), None),
        v.cookies,
    )
}

fn role_name(r: AppRole) -> &'static str {
    match r {
        AppRole::Administrator => "Administrator",
        AppRole::Developer => "Developer",
        AppRole::Tester => "Tester",
    }
}

// ---- the dashboard's sections -------------------------------------------------------------

/// `GET /apps/{app}/settings/{basic|advanced}/`.
pub async fn settings_section(
    State(st): St,
    headers: HeaderMap,
    Path((id, sub)): Path<(String, String)>,
) -> Response {
    show(&st, &headers, &id, &format!("settings/{sub}"), None).await
}

/// `GET /apps/{app}/{section}/`.
pub async fn other_section(
    State(st): St,
    headers: HeaderMap,
    Path((id, section)): Path<(String, String)>,
) -> Response {
    show(&st, &headers, &id, &section, None).await
}

/// A secret shown once on the page (never kept, never in a URL).
struct Revealed {
    label: &'static str,
    value: String,
}

async fn show(
    st: &Arc<AppState>,
    headers: &HeaderMap,
    id: &str,
    section: &str,
    revealed: Option<Revealed>,
) -> Response {
    let here = format!("/apps/{id}/{section}/");
    let (v, user) = match person(st, headers, &here).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let (app, may) = match app_for(st, &v, &user, id).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let Some((_, title)) = SECTIONS.iter().find(|(p, _)| *p == section) else {
        return message(
            &v,
            StatusCode::NOT_FOUND,
            "Page not found",
            "The dashboard has no such page.",
        );
    };
    let notice = st.console.with(&v.desk, |d| d.notice.take());
    // A secret just reset, shown once to the administrator who reset it.
    let revealed = revealed.or_else(|| {
        let once = st.console.with(&v.desk, |d| d.secret_once.take());
        once.filter(|(a, _)| *a == app.id.to_string() && may.secret)
            .map(|(_, value)| Revealed {
                label: "secret",
                value,
            })
    });
    let body = match section {
        "settings/basic" => basic(&app, may.secret, &v.csrf, revealed.as_ref()),
        "settings/advanced" => advanced(st, &app),
        "roles" => roles(st, &app).await,
        "app-review" => review(&app),
        "test-users" => test_users(st, &app, may.test_users, &v.csrf).await,
        "callbacks" => callbacks(st, &app).await,
        _ => usage(st, &app).await,
    };
    let content = html! {
        p class="crumbs" { a href="/apps/" { "Your apps" } " › " (app.name) }
        h1 { (title) }
        nav class="tabs" aria-label="App Dashboard" {
            @for (p, t) in SECTIONS {
                a href=(format!("/apps/{}/{p}/", app.id)) aria-current=[(*p == section).then_some("page")] { (t.rsplit(" › ").next().unwrap_or(t)) }
            }
        }
        @if let Some(n) = &notice { p class="notice" role="status" { (n) } }
        (body)
        p class="note" { a href="/" { "← Console" } }
    };
    with_cookies(
        browser::html(
            StatusCode::OK,
            console_document(&format!("{} · {}", app.name, title), content),
            None,
        ),
        v.cookies,
    )
}

fn row(label: &str, value: Markup) -> Markup {
    html! { div { dt { (label) } dd { (value) } } }
}

fn basic(app: &App, admin: bool, csrf: &str, revealed: Option<&Revealed>) -> Markup {
    html! {
        dl class="info" {
            (row("App ID", html! { code { (app.id) } }))
            (row("Display name", html! { (app.name) }))
            (row("App secret", html! {
                @match revealed {
                    Some(r) if r.label == "secret" => code id="secret" { (r.value) },
                    _ => "••••••••••••",
                }
            }))
            (row("Client token", html! { code { (app.client_token) } }))
            (row("Mode", html! { (format!("{:?}", app.mode)) }))
            (row("Valid OAuth redirect URIs", html! {
                @if app.redirect_uris.is_empty() { "none" } @else {
                    @for u in &app.redirect_uris { code { (u) } br; }
                }
            }))
            (row("Deauthorize callback URL", html! { (app.deauthorize_callback_url.as_deref().unwrap_or("none")) }))
            (row("Data deletion request URL", html! { (app.data_deletion_url.as_deref().unwrap_or("none")) }))
        }
        @if admin {
            div class="actions inline wrap" {
                form method="post" action=(format!("/apps/{}/settings/basic/secret", app.id)) {
                    (hidden("csrf", csrf))
                    button type="submit" id="show-secret" class="secondary" { "Show the app secret" }
                }
                form method="post" action=(format!("/apps/{}/settings/basic/reset", app.id)) {
                    (hidden("csrf", csrf))
                    button type="submit" id="reset-secret" class="secondary" { "Reset the app secret" }
                }
            }
            @if revealed.is_some_and(|r| r.label == "confirm") {
                form method="post" action=(format!("/apps/{}/settings/basic/reset", app.id)) class="confirm" {
                    (hidden("csrf", csrf))
                    (hidden("confirm", "yes"))
                    p class="error" role="alert" { "Reset the secret? Every app token made with the old one (and the "
                        code { "app-id|secret" } " literal) stops working at once." }
                    div class="actions inline" {
                        button type="submit" id="confirm-reset" class="primary" { "Reset it" }
                        a href=(format!("/apps/{}/settings/basic/", app.id)) { "Cancel" }
                    }
                }
            }
        } @else {
            p class="hint" { "Only the app's administrators see and reset its secret." }
        }
    }
}

fn advanced(st: &AppState, app: &App) -> Markup {
    let now = st.services.now();
    let window = app.review_approved_at.map(|at| {
        let ends = at.saturating_add(MIGRATION_DAYS * 86_400);
        let left = ends.saturating_sub(now) / 86_400;
        if now < ends {
            format!("open until {} ({left} days left)", timefmt::utc(ends))
        } else {
            format!("closed on {}", timefmt::utc(ends))
        }
    });
    html! {
        dl class="info" {
            (row("Platform", html! { (match app.platform { Platform::Web => "Web", Platform::Native => "Native or desktop app (app tokens are treated as no token)" }) }))
            (row("Require App Secret", html! { (if app.require_appsecret_proof { "Yes: every call with a user token needs appsecret_proof" } else { "No" }) }))
            (row("App Review passed", html! { (app.review_approved_at.map(timefmt::utc).unwrap_or_else(|| "no".into())) }))
            (row("Pages API Migration window", html! { (window.unwrap_or_else(|| "not open: the app has not passed App Review".into())) }))
            (row("Test users allowed", html! { (app.test_user_limit) }))
        }
        p class="hint" { "These come from the seed file (docs/seed.md): " code { "platform" } ", " code { "require_appsecret_proof" } ", " code { "review_approved_at" } ", " code { "test_user_limit" } "." }
    }
}

async fn roles(st: &AppState, app: &App) -> Markup {
    let mut people = Vec::new();
    for (u, r) in &app.roles {
        let name = match st.services.user(*u).await {
            Ok(Some(p)) => p.name.clone(),
            _ => "—".to_string(),
        };
        people.push((name, *u, *r));
    }
    html! {
        @if people.is_empty() { p class="note" { "Nobody has a role on this app." } } @else {
            table {
                thead { tr { th scope="col" { "Person" } th scope="col" { "ID" } th scope="col" { "Role" } } }
                tbody { @for (name, id, r) in &people { tr { td { (name) } td { code { (id) } } td { (role_name(*r)) } } } }
            }
        }
    }
}

fn review(app: &App) -> Markup {
    html! {
        p class="hint" { "In live mode, people without a role on the app can grant only permissions with Advanced Access." }
        table {
            thead { tr { th scope="col" { "Permission" } th scope="col" { "Access" } } }
            tbody {
                @for p in permissions::KNOWN {
                    tr {
                        td { code { (p) } }
                        td { @if *p == permissions::PUBLIC_PROFILE || app.advanced_access.iter().any(|a| a == p) { strong { "Advanced Access" } } @else { "Standard Access" } }
                    }
                }
            }
        }
    }
}

async fn test_users(st: &AppState, app: &App, manage: bool, csrf: &str) -> Markup {
    let users = st
        .services
        .test_users_of_app(app.id)
        .await
        .unwrap_or_default();
    let mut rows = Vec::new();
    for t in &users {
        let name = match st.services.user(t.user_id).await {
            Ok(Some(p)) => p.name.clone(),
            _ => "—".to_string(),
        };
        rows.push((name, t.user_id, t.created_at));
    }
    let path = |what: &str| format!("/apps/{}/test-users/{what}", app.id);
    html! {
        p class="hint" { (users.len()) " of " (app.test_user_limit) " test users." }
        @if manage {
            form method="post" action=(path("create")) class="inline-form" {
                (hidden("csrf", csrf))
                div class="field" {
                    label for="name" { "Name (optional)" }
                    input id="name" name="name" type="text" autocomplete="off";
                }
                div class="actions inline" { button type="submit" id="create-test-user" class="primary" { "Create a test user" } }
            }
        }
        @if rows.is_empty() { p class="note" { "No test users yet." } } @else {
            table {
                thead { tr { th scope="col" { "Name" } th scope="col" { "ID" } th scope="col" { "Made" } th scope="col" { span class="visually-hidden" { "Actions" } } } }
                tbody {
                    @for (name, id, at) in &rows {
                        tr {
                            td { (name) } td { code { (id) } } td class="nowrap" { (timefmt::utc(*at)) }
                            td {
                                @if manage {
                                    div class="actions inline" {
                                        form method="post" action=(path("login")) { (hidden("csrf", csrf)) (hidden("user", &id.to_string())) button type="submit" class="link" { "Log in as" } }
                                        form method="post" action=(path("delete")) { (hidden("csrf", csrf)) (hidden("user", &id.to_string())) button type="submit" class="link" { "Delete" } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

async fn callbacks(st: &AppState, app: &App) -> Markup {
    let all = crate::callbacks::Callbacks::list(&st.services).await.ok();
    let id = app.id.to_string();
    let mine: Vec<Value> = all
        .as_ref()
        .and_then(|v| v.get("data").and_then(Value::as_array))
        .into_iter()
        .flatten()
        .filter(|c| {
            c.get("app_id").map(|a| {
                a.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| a.to_string())
            }) == Some(id.clone())
        })
        .cloned()
        .collect();
    html! {
        p class="hint" { "The deauthorize and data-deletion callbacks sent to this app, newest first, with their retries." }
        @if mine.is_empty() { p class="note" { "No callback has been sent to this app." } } @else {
            table {
                thead { tr { th scope="col" { "Kind" } th scope="col" { "URL" } th scope="col" { "Person" } th scope="col" { "Status" } th scope="col" { "Attempts" } th scope="col" { "Last error" } } }
                tbody {
                    @for c in &mine {
                        tr {
                            td { (c["kind"].as_str().unwrap_or("")) }
                            td { code { (c["url"].as_str().unwrap_or("")) } }
                            td { (text(&c["user_id"])) }
                            td { (c["status"].as_str().unwrap_or("")) }
                            td { (text(&c["attempts"])) }
                            td { (c["last_error"].as_str().unwrap_or("—")) }
                        }
                    }
                }
            }
        }
    }
}

fn text(v: &Value) -> String {
    v.as_str()
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string())
}

async fn usage(st: &AppState, app: &App) -> Markup {
    let literal = format!("{}|{}", app.id, app.secret);
    let header = match st.services.authenticate(&literal).await {
        Ok(caller) => st
            .services
            .peek_usage(&caller, None)
            .await
            .ok()
            .map(|u| u.app_header()),
        Err(_) => None,
    };
    let parsed: Value = header
        .and_then(|h| serde_json::from_str(h).ok())
        .unwrap_or(Value::Null);
    html! {
        p class="hint" { "The app's platform rate limit now, as its calls see it in " code { "X-App-Usage" } " (percent of the hourly budget)." }
        @if parsed.is_null() {
            p class="error" role="alert" { "The usage cannot be read now: the app's own token was refused. Try again in a moment." }
        } @else {
        dl class="info" {
            (row("Call count", html! { (text(&parsed["call_count"])) "%" }))
            (row("Total time", html! { (text(&parsed["total_time"])) "%" }))
            (row("Total CPU time", html! { (text(&parsed["total_cputime"])) "%" }))
        }
        }
    }
}

// ---- the dashboard's actions ----------------------------------------------------------------

/// `POST /apps/{app}/settings/basic/secret`: the secret, shown on this page only.
pub async fn reveal(
    State(st): St,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Response {
    let here = format!("/apps/{id}/settings/basic/");
    let (v, user, _) = match posted(&st, &headers, &bytes, &here).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    match app_for(&st, &v, &user, &id).await {
        Ok((app, may)) if may.secret => {
            show(
                &st,
                &headers,
                &id,
                "settings/basic",
                Some(Revealed {
                    label: "secret",
                    value: app.secret,
                }),
            )
            .await
        }
        Ok(_) => message(
            &v,
            StatusCode::FORBIDDEN,
            "No access",
            "Only the app's administrators see its secret.",
        ),
        Err(r) => *r,
    }
}

/// `POST /apps/{app}/settings/basic/reset`: asks first; with `confirm=yes`, a new secret.
pub async fn reset(
    State(st): St,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Response {
    let here = format!("/apps/{id}/settings/basic/");
    let (v, user, f) = match posted(&st, &headers, &bytes, &here).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let app = match app_for(&st, &v, &user, &id).await {
        Ok((app, may)) if may.secret => app,
        Ok(_) => {
            return message(
                &v,
                StatusCode::FORBIDDEN,
                "No access",
                "Only the app's administrators reset its secret.",
            )
        }
        Err(r) => return *r,
    };
    if field(&f, "confirm") != Some("yes") {
        return show(
            &st,
            &headers,
            &id,
            "settings/basic",
            Some(Revealed {
                label: "confirm",
                value: String::new(),
            }),
        )
        .await;
    }
    match st.services.reset_secret(app.id).await {
        // Shown once, after a redirect: a reload of the page resets nothing again.
        Ok(secret) => {
            st.console.with(&v.desk, |d| {
                d.secret_once = Some((app.id.to_string(), secret))
            });
            done(
                &st,
                v,
                &here,
                "The app secret was reset: app tokens made with the old one no longer work.".into(),
            )
        }
        Err(e) => broken(&e),
    }
}

/// The app and its manager (an administrator or developer) for a test-user action.
async fn manager(st: &AppState, v: &Visit, user: &User, id: &str) -> Result<App, Box<Response>> {
    match app_for(st, v, user, id).await? {
        (app, may) if may.test_users => Ok(app),
        _ => Err(Box::new(message(
            v,
            StatusCode::FORBIDDEN,
            "No access",
            "Testers cannot manage test users.",
        ))),
    }
}

/// A test-user form: its CSRF token checked, the app, and the page to go back to.
async fn test_user_form(
    st: &AppState,
    headers: &HeaderMap,
    id: &str,
    bytes: &Bytes,
) -> Result<(Visit, App, Vec<(String, String)>, String), Box<Response>> {
    let here = format!("/apps/{id}/test-users/");
    let (v, user, f) = posted(st, headers, bytes, &here).await?;
    let app = manager(st, &v, &user, id).await?;
    Ok((v, app, f, here))
}

/// The test user of `app` the form's `user` names (`Err`: the page that says it is not one).
async fn tester_of(
    st: &AppState,
    v: &Visit,
    app: &App,
    form: &[(String, String)],
) -> Result<graphtoken_core::codes::TestUser, Box<Response>> {
    let id = field(form, "user").and_then(|u| u.parse::<u64>().ok());
    let tester = match id {
        Some(t) => st.services.test_user(UserId(t)).await.ok().flatten(),
        None => None,
    };
    tester.filter(|t| t.app_id == app.id).ok_or_else(|| {
        Box::new(message(
            v,
            StatusCode::BAD_REQUEST,
            "Not a test user",
            "That is not a test user of this app.",
        ))
    })
}

/// `POST /apps/{app}/test-users/create`: `POST /{app-id}/accounts/test-users` with the app token.
pub async fn create_test_user(
    State(st): St,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Response {
    let (v, app, f, here) = match test_user_form(&st, &headers, &id, &bytes).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let name = field(&f, "name").unwrap_or("").trim().to_string();
    let mut form = vec![("installed".to_string(), "true".to_string())];
    if !name.is_empty() {
        form.push(("name".into(), name));
    }
    let literal = format!("{}|{}", app.id, app.secret);
    let (_, answer) = call_graph(
        &st,
        Method::POST,
        &format!("/{}/accounts/test-users", app.id),
        Some(&literal),
        &form,
    )
    .await;
    let notice = match (
        answer.get("id").and_then(Value::as_str),
        answer.get("error"),
    ) {
        (Some(uid), _) => format!(
            "Test user {uid} made: email {}, password {} (shown this once).",
            answer["email"].as_str().unwrap_or("?"),
            answer["password"].as_str().unwrap_or("?")
        ),
        (None, Some(e)) => format!(
            "No test user: {}",
            e["message"].as_str().unwrap_or("the Graph API refused")
        ),
        (None, None) => "No test user: the Graph API gave no answer.".into(),
    };
    done(&st, v, &here, notice)
}

/// `POST /apps/{app}/test-users/delete`: `DELETE /{test-user-id}` with the app token.
pub async fn delete_test_user(
    State(st): St,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Response {
    let (v, app, f, here) = match test_user_form(&st, &headers, &id, &bytes).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    // Only a test user of this app: the app token may delete nothing else from here.
    let tester = match tester_of(&st, &v, &app, &f).await {
        Ok(t) => t,
        Err(r) => return *r,
    };
    let target = tester.user_id.to_string();
    let literal = format!("{}|{}", app.id, app.secret);
    let (status, answer) = call_graph(
        &st,
        Method::DELETE,
        &format!("/{target}"),
        Some(&literal),
        &[],
    )
    .await;
    let notice = match answer.get("error") {
        None if status == 200 => {
            format!("Test user {target} deleted: their tokens no longer work.")
        }
        None => format!("Not deleted: the Graph API answered HTTP {status}."),
        Some(e) => format!(
            "Not deleted: {}",
            e["message"].as_str().unwrap_or("the Graph API refused")
        ),
    };
    done(&st, v, &here, notice)
}

/// `POST /apps/{app}/test-users/login`: this browser signs in as the test user (Facebook's
/// "Log in as this test user").
pub async fn login_as(
    State(st): St,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Response {
    let (v, app, f, _) = match test_user_form(&st, &headers, &id, &bytes).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let tester = match tester_of(&st, &v, &app, &f).await {
        Ok(t) => t,
        Err(r) => return *r,
    };
    let Ok(Some(person)) = st.services.user(tester.user_id).await else {
        return message(
            &v,
            StatusCode::BAD_REQUEST,
            "Not a test user",
            "That test user is gone.",
        );
    };
    // Not a password typed: the sign-in does not count as fresh (auth_type=reauthenticate
    // still asks the test user for their password).
    let session = match st.browser.signed_in(&person, st.services.now()) {
        Ok(s) => browser::Session { fresh: false, ..s },
        Err(e) => return broken(&e),
    };
    if let Err(e) = st
        .services
        .start_browser_sign_in(&session.browser, person.id)
        .await
    {
        return broken(&e);
    }
    st.console.with(&v.desk, |d| {
        d.notice = Some(format!("This browser is signed in as {} now.", person.name))
    });
    with_cookies(
        browser::see_other("/settings/apps/", Some(st.browser.set_cookie(&session))),
        v.cookies,
    )
}

// ---- a person's settings --------------------------------------------------------------------

/// `GET /settings/apps/`: "Apps and websites": the apps the person gave access, and what.
pub async fn settings(State(st): St, headers: HeaderMap) -> Response {
    let (v, user) = match person(&st, &headers, "/settings/apps/").await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let notice = st.console.with(&v.desk, |d| d.notice.take());
    let grants = st
        .services
        .grants_of_user(user.id)
        .await
        .unwrap_or_default();
    let mut rows = Vec::new();
    for g in &grants {
        let name = match st.services.app(g.app_id).await {
            Ok(Some(a)) => a.name.clone(),
            _ => "—".to_string(),
        };
        rows.push((name, g));
    }
    let csrf = &v.csrf;
    let content = html! {
        h1 { "Apps and websites" }
        p class="lede" { "Signed in as " strong { (user.name) } ". The apps you gave access to your information." }
        @if let Some(n) = &notice { p class="notice" role="status" { (n) } }
        @if rows.is_empty() { p class="note" { "No app has access." } } @else {
            table {
                thead { tr { th scope="col" { "App" } th scope="col" { "Granted" } th scope="col" { "Declined" } th scope="col" { "Last used" } th scope="col" { span class="visually-hidden" { "Remove" } } } }
                tbody {
                    @for (name, g) in &rows {
                        tr {
                            td { (name) }
                            td { (g.granted.join(", ")) }
                            td { @if g.declined.is_empty() { "—" } @else { (g.declined.join(", ")) } }
                            td class="nowrap" { (timefmt::utc(g.last_login_at)) }
                            td {
                                form method="post" action="/settings/apps/remove" {
                                    (hidden("csrf", csrf))
                                    (hidden("app", &g.app_id.to_string()))
                                    button type="submit" class="link" { "Remove" }
                                }
                            }
                        }
                    }
                }
            }
        }
        form method="post" action="/settings/sign-out-everywhere" {
            (hidden("csrf", csrf))
            div class="actions inline" { button type="submit" id="sign-out-everywhere" class="secondary" { "Sign out everywhere" } }
        }
        p class="note" { a href="/apps/" { "Your apps" } " · " a href="/" { "Console" } }
    };
    with_cookies(
        browser::html(
            StatusCode::OK,
            console_document("Apps and websites", content),
            None,
        ),
        v.cookies,
    )
}

/// `POST /settings/apps/remove`: the person removes the app (190/458 for its tokens, and the
/// app's deauthorize callback).
pub async fn remove(State(st): St, headers: HeaderMap, bytes: Bytes) -> Response {
    let (v, user, f) = match posted(&st, &headers, &bytes, "/settings/apps/").await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let app = match field(&f, "app").and_then(|a| a.parse::<u64>().ok()) {
        Some(n) => st.services.app(AppId(n)).await.ok().flatten(),
        None => None,
    };
    let Some(app) = app else {
        return message(
            &v,
            StatusCode::BAD_REQUEST,
            "No such app",
            "That app does not exist.",
        );
    };
    match st
        .services
        .uninstall(user.id, &app, Reason::AppNotAuthorized)
        .await
    {
        Ok(_) => done(
            &st,
            v,
            "/settings/apps/",
            format!(
                "{} was removed: it can no longer use your information.",
                app.name
            ),
        ),
        Err(e) => broken(&e),
    }
}

/// `POST /settings/sign-out-everywhere`: every browser signed in as the person signs out.
pub async fn sign_out_everywhere(State(st): St, headers: HeaderMap, bytes: Bytes) -> Response {
    let (v, user, _) = match posted(&st, &headers, &bytes, "/settings/apps/").await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    match st.services.end_every_browser_sign_in(user.id).await {
        Ok(n) => done(
            &st,
            v,
            "/settings/apps/",
            format!(
                "Signed out of {n} browser{}.",
                if n == 1 { "" } else { "s" }
            ),
        ),
        Err(e) => broken(&e),
    }
}
