//! The console, served in emulator mode: what a person who opens graphtoken's base URL in a
//! browser lands on. Its home (`GET /` from a browser: the world at a glance) and the Access
//! Token Debugger (`/tools/debug/accesstoken/`, as on Facebook's developer site) are here; the
//! Graph API Explorer, the App Dashboard with a person's settings, and the emulator controls
//! have a module each (docs/console.md lists every page).
//!
//! Tokens travel in form posts, never in URLs; every form carries the browser session's CSRF
//! token. Graph calls to `/` (`?ids=…`, a batch `POST /`) are answered by the Graph API as
//! before: only a browser's `GET /` without a query gets the home page.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;

use graphtoken_core::error::GraphError;
use graphtoken_core::model::{Asid, PageId, Reason};
use graphtoken_core::services::dialog::CONSOLE_CALLBACK;
use graphtoken_core::timefmt;
use graphtoken_core::token;

use crate::browser::{self, Session};
use crate::pages::{self, Debugged, Field, Home};
use crate::AppState;

pub mod dashboard;
mod docs;
pub mod emulator;
pub mod explorer;
pub mod timeline;

type St = State<Arc<AppState>>;

/// The path of the Access Token Debugger, as on Facebook's developer site.
pub const DEBUGGER: &str = "/tools/debug/accesstoken/";

/// How many apps, people and Pages the home page lists.
const LISTED: u32 = 50;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(home_or_graph).fallback(crate::graph_request))
        .route(DEBUGGER, get(debugger).post(debug))
        .route("/tools/debug/accesstoken/extend", post(extend))
        .route(explorer::EXPLORER, get(explorer::page).post(explorer::run))
        .route("/tools/explorer/generate", post(explorer::generate))
        .route(CONSOLE_CALLBACK, get(explorer::callback))
        .route("/tools/explorer/page", post(explorer::choose_page))
        .route("/apps/", get(dashboard::apps))
        .route("/docs/", get(docs::index))
        .route("/docs/{name}", get(docs::doc))
        .route("/docs", get(slash))
        // The same pages typed without their final slash.
        .route("/apps", get(slash))
        .route("/apps/{app}/settings/{sub}", get(slash))
        .route("/apps/{app}/{section}", get(slash))
        .route("/settings/apps", get(slash))
        .route("/tools/explorer", get(slash))
        .route("/tools/emulator", get(slash))
        .route("/tools/debug/accesstoken", get(slash))
        .route(
            "/apps/{app}/settings/{sub}/",
            get(dashboard::settings_section),
        )
        .route("/apps/{app}/{section}/", get(dashboard::other_section))
        .route("/apps/{app}/settings/basic/secret", post(dashboard::reveal))
        .route("/apps/{app}/settings/basic/reset", post(dashboard::reset))
        .route(
            "/apps/{app}/test-users/create",
            post(dashboard::create_test_user),
        )
        .route(
            "/apps/{app}/test-users/delete",
            post(dashboard::delete_test_user),
        )
        .route("/apps/{app}/test-users/login", post(dashboard::login_as))
        .route("/settings/apps/", get(dashboard::settings))
        .route("/settings/apps/remove", post(dashboard::remove))
        .route(
            "/settings/sign-out-everywhere",
            post(dashboard::sign_out_everywhere),
        )
        .route(emulator::EMULATOR, get(emulator::page))
        .route("/tools/emulator/unlock", post(emulator::unlock))
        .route("/tools/emulator/lock", post(emulator::lock))
        .route("/tools/emulator/clock", post(emulator::clock))
        .route("/tools/emulator/faults", post(emulator::arm))
        .route("/tools/emulator/faults/clear", post(emulator::disarm))
}

/// A console path typed without its final slash: the page is one slash away.
async fn slash(uri: axum::http::Uri) -> Response {
    browser::redirect(&format!("{}/", uri.path()), None)
}

/// Whether a request is a browser opening the base URL: a GET without a query that prefers
/// HTML (a Graph client sends `?ids=` or a token, and asks for JSON or anything).
fn is_browser(req: &Request) -> bool {
    req.uri().query().is_none_or(str::is_empty)
        && req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
}

async fn home_or_graph(st: St, req: Request) -> Response {
    if !is_browser(&req) {
        return crate::graph_request(st, req).await;
    }
    let State(st) = st;
    let overview = match st.services.overview(LISTED).await {
        Ok(o) => o,
        Err(e) => return broken(&e),
    };
    let body = pages::home(&Home {
        overview: &overview,
        now: &timefmt::utc(st.services.now()),
        offset_days: st.clock.offset() as f64 / 86_400.0,
    });
    browser::html(StatusCode::OK, body, None)
}

/// The browser's session (a new one, set with the answer, when it has none) and its CSRF token.
fn session(
    st: &AppState,
    headers: &HeaderMap,
) -> Result<(Session, String, Option<String>), GraphError> {
    let (session, new) = st.browser.session_or_new(headers, st.services.now())?;
    let csrf = st.browser.csrf(&session);
    let cookie = new.then(|| st.browser.set_cookie(&session));
    Ok((session, csrf, cookie))
}

/// `GET /tools/debug/accesstoken/`: the empty form.
async fn debugger(State(st): St, headers: HeaderMap) -> Response {
    match session(&st, &headers) {
        Ok((_, csrf, cookie)) => {
            let body = pages::debugger(&csrf, "", None, None);
            browser::html(StatusCode::OK, body, cookie)
        }
        Err(e) => broken(&e),
    }
}

/// A debugger form, once its CSRF token is checked: the token for the next form, and the
/// access token pasted.
struct Posted {
    csrf: String,
    token: String,
}

/// The form posted, once its CSRF token is checked; `Err` answers the request.
fn checked_form(
    st: &AppState,
    headers: &HeaderMap,
    bytes: &Bytes,
) -> Result<Posted, Box<Response>> {
    let (session, csrf, _) = session(st, headers).map_err(|e| Box::new(broken(&e)))?;
    let form: Vec<(String, String)> = form_urlencoded::parse(bytes).into_owned().collect();
    let given = form
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str());
    if !st.browser.csrf_ok(&session, given) {
        let body = pages::debugger(
            &csrf,
            "",
            None,
            Some("This form has expired. Paste the token again."),
        );
        return Err(Box::new(browser::html(StatusCode::FORBIDDEN, body, None)));
    }
    let token = form
        .iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default();
    Ok(Posted { csrf, token })
}

/// `POST /tools/debug/accesstoken/`: what `debug_token` knows of the pasted token, in words.
async fn debug(State(st): St, headers: HeaderMap, bytes: Bytes) -> Response {
    let Posted { csrf, token } = match checked_form(&st, &headers, &bytes) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    if token.is_empty() {
        let body = pages::debugger(&csrf, "", None, Some("Paste an access token to debug it."));
        return browser::html(StatusCode::BAD_REQUEST, body, None);
    }
    match debugged(&st, &token, None).await {
        Ok(d) => browser::html(
            StatusCode::OK,
            pages::debugger(&csrf, &token, Some(&d), None),
            None,
        ),
        Err(e) => broken(&e),
    }
}

/// `POST /tools/debug/accesstoken/extend`: the long-lived exchange of the pasted user token
/// (what `fb_exchange_token` does for its app), and what the debugger says of the new token.
async fn extend(State(st): St, headers: HeaderMap, bytes: Bytes) -> Response {
    let Posted { csrf, token } = match checked_form(&st, &headers, &bytes) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    match graphtoken_core::graph::extend(&st.services, &token, None).await {
        Ok((long, _)) => match debugged(&st, &long, Some(&token)).await {
            Ok(d) => browser::html(
                StatusCode::OK,
                pages::debugger(&csrf, &long, Some(&d), None),
                None,
            ),
            Err(e) => broken(&e),
        },
        Err(e) => {
            let why = format!("This token cannot be extended: {}", e.message);
            let d = debugged(&st, &token, None).await.ok();
            browser::html(
                StatusCode::BAD_REQUEST,
                pages::debugger(&csrf, &token, d.as_ref(), Some(&why)),
                None,
            )
        }
    }
}

/// The debugger's rows for `token` (`extended_from`: the token it was exchanged for, if so).
async fn debugged(
    st: &AppState,
    token: &str,
    extended_from: Option<&str>,
) -> Result<Debugged, GraphError> {
    let data = graphtoken_core::graph::debug_data(&st.services, token).await?;
    let now = st.services.now();
    let text = |k: &str| data.get(k).and_then(Value::as_str).map(str::to_string);
    let time = |k: &str| data.get(k).and_then(Value::as_i64);
    let mut fields = Vec::new();
    if let Some(app) = text("app_id") {
        let name = text("application").unwrap_or_default();
        fields.push(Field::new("App ID", format!("{app} : {name}")));
    }
    // A session info token takes its source token's type on `debug_token` (USER or PAGE); the
    // debugger says what it is.
    let session_info = token::is_session_info(token);
    if let Some(kind) = text("type") {
        let kind = if session_info {
            format!("{kind} (session info: for debugging only, reads no data)")
        } else {
            kind
        };
        fields.push(Field::new("Type", kind));
    }
    if let Some(user) = text("user_id") {
        let name = person_name(st, &user).await;
        fields.push(Field::new("User ID", format!("{user} : {name}")));
    }
    if let Some(page) = text("profile_id") {
        let name = page_name(st, &page).await;
        fields.push(Field::new("Page", format!("{page} : {name}")));
    }
    if let Some(at) = time("issued_at") {
        fields.push(Field::new("Issued", when(at, now)));
    }
    if let Some(at) = time("expires_at") {
        let shown = if at == 0 {
            "Never".to_string()
        } else {
            when(at, now)
        };
        fields.push(Field::new("Expires", shown));
    }
    if let Some(at) = time("data_access_expires_at") {
        fields.push(Field::new("Data access expires", when(at, now)));
    }
    let valid = data
        .get("is_valid")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let reason = data.get("error").map(|e| {
        let message = e.get("message").and_then(Value::as_str).unwrap_or("");
        let subcode = e.get("subcode").and_then(Value::as_u64);
        match subcode.and_then(in_words) {
            Some(words) => format!("{message} (subcode {}: {words})", subcode.unwrap_or(0)),
            None => message.to_string(),
        }
    });
    fields.push(Field::new(
        "Valid",
        match (&reason, valid) {
            (_, true) => "True".to_string(),
            (Some(r), false) => format!("False: {r}"),
            (None, false) => "False".to_string(),
        },
    ));
    let scopes: Vec<&str> = data
        .get("scopes")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    fields.push(Field::new(
        "Scopes",
        if scopes.is_empty() {
            "(none)".to_string()
        } else {
            scopes.join(", ")
        },
    ));
    let mut granular = Vec::new();
    for g in data
        .get("granular_scopes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let scope = g.get("scope").and_then(Value::as_str).unwrap_or("");
        let mut pages = Vec::new();
        for id in g
            .get("target_ids")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(id) = id.as_str() {
                pages.push(format!("{} ({id})", page_name(st, id).await));
            }
        }
        granular.push(if pages.is_empty() {
            scope.to_string()
        } else {
            format!("{scope}: {}", pages.join(", "))
        });
    }
    if !granular.is_empty() {
        fields.push(Field::new("Granular scopes", granular.join("; ")));
    }
    // A working short-lived user token can be extended (the long-lived exchange).
    let expires = time("expires_at").unwrap_or(0);
    let extendable = valid
        && !session_info
        && text("type").as_deref() == Some("USER")
        && expires != 0
        && expires - now <= 24 * 3600;
    Ok(Debugged {
        fields,
        valid,
        extendable,
        extended_from: extended_from.is_some(),
    })
}

/// The name of the person behind an app-scoped id, or a dash.
async fn person_name(st: &AppState, asid: &str) -> String {
    let Ok(asid) = asid.parse().map(Asid) else {
        return "—".to_string();
    };
    match st.services.resolve_asid(asid).await {
        Ok(Some((user, _))) => match st.services.user(user).await {
            Ok(Some(u)) => u.name.clone(),
            _ => "—".to_string(),
        },
        _ => "—".to_string(),
    }
}

/// A Page's name, or a dash for an id that names no Page.
async fn page_name(st: &AppState, id: &str) -> String {
    match id.parse().map(PageId) {
        Ok(page) => match st.services.page(page).await {
            Ok(Some(p)) => p.name.clone(),
            _ => "—".to_string(),
        },
        Err(_) => "—".to_string(),
    }
}

/// `2026-11-30 14:05:00 UTC (in 59 days)`, on the virtual clock.
fn when(at: i64, now: i64) -> String {
    let d = at.saturating_sub(now);
    let span = |s: i64| {
        let s = s.saturating_abs();
        match s {
            0..=119 => format!("{s} seconds"),
            120..=7199 => format!("{} minutes", s / 60),
            7200..=172_799 => format!("{} hours", s / 3600),
            _ => format!("{} days", s / 86_400),
        }
    };
    let rel = if d == 0 {
        "now".to_string()
    } else if d > 0 {
        format!("in {}", span(d))
    } else {
        format!("{} ago", span(d))
    };
    format!("{} ({rel})", timefmt::utc(at))
}

/// What an invalidation subcode means, in words.
fn in_words(subcode: u64) -> Option<&'static str> {
    if subcode == 463 {
        return Some("the token expired");
    }
    let reason = u32::try_from(subcode).ok().and_then(Reason::from_subcode)?;
    Some(match reason {
        Reason::AppNotAuthorized => "the person removed the app, or did not authorize it",
        Reason::Checkpoint => "the person must clear a security checkpoint",
        Reason::PasswordChanged => {
            "the person changed their password, or their sessions were reset"
        }
        Reason::Unconfirmed => "the person has not confirmed their account",
        Reason::RevokedByApi => "the session was ended through the API",
        Reason::LoggedOut => "the person logged out",
        Reason::PageTaskLost => "the person no longer has a task on the Page",
        Reason::DataAccessExpired => "the person has not used the app for 90 days",
    })
}

/// What an error code means, in words (the common ones).
fn code_in_words(code: u64) -> Option<&'static str> {
    Some(match code {
        1 | 2 => "the Graph API failed on its side; try again",
        4 => "the app made too many calls (app rate limit)",
        10 => "the app may not do this (a permission without Advanced Access, or development mode)",
        17 => "this person's token made too many calls (user rate limit)",
        32 => "too many calls to this Page with a user token",
        100 => "a parameter is wrong or missing, or the object does not exist",
        104 => "an access token is needed",
        190 => "the access token is not valid",
        200..=299 => "a permission this needs was not granted, or the Page task is missing",
        368 => "blocked for a while for a policy violation",
        613 => "a call-rate limit of this endpoint",
        2500 => "this needs a person's or a Page's token",
        80001 => "too many calls to this Page (business use case limit)",
        _ => return None,
    })
}

fn broken(e: &GraphError) -> Response {
    tracing::error!("console: {}", e.message);
    let body = pages::error_page(&pages::ErrorPage {
        title: "Sorry, something went wrong",
        message: "graphtoken could not show this page. Please try again.",
        detail: None,
    });
    browser::html(StatusCode::INTERNAL_SERVER_ERROR, body, None)
}

/// The browser's session and desk: the CSRF token, the desk id, and cookies to set.
pub(super) struct Visit {
    pub(super) csrf: String,
    pub(super) session: browser::Session,
    pub(super) desk: String,
    pub(super) cookies: Vec<String>,
}

pub(super) fn visit(st: &AppState, headers: &HeaderMap) -> Result<Visit, Box<Response>> {
    let (session, new) = st
        .browser
        .session_or_new(headers, st.services.now())
        .map_err(|e| Box::new(broken(&e)))?;
    let mut cookies = Vec::new();
    if new {
        cookies.push(st.browser.set_cookie(&session));
    }
    let desk = match st.browser.desk(headers) {
        Some(d) => d,
        None => {
            let (id, cookie) = st.browser.new_desk().map_err(|e| Box::new(broken(&e)))?;
            cookies.push(cookie);
            id
        }
    };
    Ok(Visit {
        csrf: st.browser.csrf(&session),
        session,
        desk,
        cookies,
    })
}

pub(super) fn with_cookies(mut r: Response, cookies: Vec<String>) -> Response {
    for c in cookies {
        r = browser::add_cookie(r, Some(c));
    }
    r
}

/// A form field's value.
pub(super) fn field<'f>(form: &'f [(String, String)], name: &str) -> Option<&'f str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A Graph call made by the console itself, through the same handler as any client's: its
/// status and JSON body (`Null` when the body is not JSON).
pub(super) async fn call_graph(
    st: &Arc<AppState>,
    method: axum::http::Method,
    uri: &str,
    token: Option<&str>,
    form: &[(String, String)],
) -> (u16, Value) {
    match graph_answer(st, method, uri, "127.0.0.1", token, form).await {
        Some((status, bytes)) => (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ),
        None => (400, Value::Null),
    }
}

/// [`call_graph`]'s answer as sent: its status and body (`None`: the request cannot be built,
/// say a header with characters it cannot carry). `host` is the `Host` the Graph API sees (the
/// base of any paging URL it writes).
pub(super) async fn graph_answer(
    st: &Arc<AppState>,
    method: axum::http::Method,
    uri: &str,
    host: &str,
    token: Option<&str>,
    form: &[(String, String)],
) -> Option<(u16, Bytes)> {
    let mut req = axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .header(header::HOST, host);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("OAuth {t}"));
    }
    let body = if form.is_empty() {
        axum::body::Body::empty()
    } else {
        req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        let encoded: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        axum::body::Body::from(encoded)
    };
    let req = req.body(body).ok()?;
    let resp = crate::graph_request(State(Arc::clone(st)), req).await;
    let status = resp.status().as_u16();
    let bytes = axum::body::to_bytes(resp.into_body(), 16 * 1024 * 1024)
        .await
        .unwrap_or_default();
    Some((status, bytes))
}

/// What the console keeps per browser (its desk), in memory: a restart forgets it.
#[derive(Default)]
pub struct Memory {
    desks: std::sync::Mutex<Desks>,
}

/// The desks, and a counter that orders their uses (the eviction's clock).
#[derive(Default)]
struct Desks {
    by_id: std::collections::HashMap<String, Desk>,
    uses: u64,
}

/// At most this many desks are kept; the one used longest ago goes first.
const DESKS: usize = 1000;

/// One browser's console state.
#[derive(Default, Clone)]
pub struct Desk {
    /// The Graph API Explorer's access token.
    pub token: Option<String>,
    /// The person's token the Page token in `token` was taken with ("back to the user token").
    pub user_token: Option<String>,
    /// The app last chosen in the Explorer.
    pub app: Option<String>,
    /// A login the Explorer started: its `state`, PKCE verifier and app.
    pub login: Option<(String, String, String)>,
    /// A message for the next page (a login that came back, a token chosen).
    pub notice: Option<String>,
    /// The Explorer's requests, newest first.
    pub history: std::collections::VecDeque<explorer::Ran>,
    /// The admin key was entered here (the emulator controls are open).
    pub admin: bool,
    /// An app secret just reset (app id, secret), shown once on its Settings › Basic.
    pub secret_once: Option<(String, String)>,
    used: u64,
}

impl Memory {
    /// Runs `f` on the desk `id` (made when missing).
    pub fn with<R>(&self, id: &str, f: impl FnOnce(&mut Desk) -> R) -> R {
        let mut guard = match self.desks.lock() {
            Ok(d) => d,
            Err(poisoned) => poisoned.into_inner(),
        };
        let desks = &mut *guard;
        desks.uses += 1;
        // Full: the desk used longest ago goes (a scan, only when a new desk must fit).
        if !desks.by_id.contains_key(id) && desks.by_id.len() >= DESKS {
            if let Some(oldest) = desks
                .by_id
                .iter()
                .min_by_key(|(_, d)| d.used)
                .map(|(k, _)| k.clone())
            {
                desks.by_id.remove(&oldest);
            }
        }
        let desk = desks.by_id.entry(id.to_string()).or_default();
        desk.used = desks.uses;
        f(desk)
    }
}
