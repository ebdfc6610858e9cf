//! Fault injection, an emulator control (issue #5): `/_admin/faults` arms faults that make the
//! next N Graph calls — optionally only those matching a path, method, app, user or token — fail
//! with a catalogued error, wait, or answer a transient 5xx. Faults live in memory: a restart
//! clears them. They apply to Graph paths only, never to `/_admin` or `/healthz`.
//!
//! On each Graph call every matching latency-only fault fires (their delays add up), and the
//! first matching fault that answers with an error fires and answers, after its own delay.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{delete, get};
use axum::Router;
use serde_json::{json, Map, Value};

use graphtoken_core::auth::{Inspection, Principal};
use graphtoken_core::error::{GraphError, More};
use graphtoken_core::model::{Id, Unix};
use graphtoken_core::request::{GraphRequest, Method};
use graphtoken_core::store::Store;

use crate::render;
use crate::AppState;

/// The most faults the table holds, spent ones included.
const MAX_FAULTS: usize = 256;
/// The longest delay a fault may add (10 minutes).
const MAX_LATENCY_MS: u64 = 600_000;

const OAUTH: &str = "OAuthException";

/// The catalogue names `error` accepts, in the order the docs list them.
pub const CATALOGUE: &[&str] = &[
    "expired",
    "invalid_token",
    "not_decrypted",
    "bad_signature",
    "session_invalidated",
    "app_not_installed",
    "checkpoint",
    "password_changed",
    "unconfirmed",
    "logged_out",
    "page_role_lost",
    "data_access_expired",
    "token_required",
    "active_token_required",
    "unknown_object",
    "proof_missing",
    "proof_invalid",
    "permission",
    "permissions_error",
    "rate_limit_app",
    "rate_limit_user",
    "rate_limit_page",
    "page_rate_limit",
    "custom_rate_limit",
    "unknown",
    "service",
];

/// What a catalogued error is built from when it fires.
#[derive(Clone, Copy, Default)]
struct Ctx<'a> {
    now: Unix,
    app: Option<Id>,
    asid: Option<Id>,
    /// The first path segment (the node) and the method, for `unknown_object`.
    node: &'a str,
    method: Option<Method>,
}

fn transient(mut e: GraphError) -> GraphError {
    e.is_transient = Some(true);
    e
}

/// The catalogued error `name`, or `None` if there is no such name.
fn catalogued(name: &str, c: &Ctx<'_>) -> Option<GraphError> {
    let (app, user) = (c.app.unwrap_or(0), c.asid.unwrap_or(0));
    Some(match name {
        "expired" => GraphError::expired(c.now.saturating_sub(1), c.now),
        "invalid_token" => GraphError::cannot_parse(),
        "not_decrypted" => GraphError::not_decrypted(),
        "bad_signature" => GraphError::bad_signature(),
        "session_invalidated" => GraphError::invalidated(466, app, user),
        "app_not_installed" => GraphError::invalidated(458, app, user),
        "checkpoint" => GraphError::invalidated(459, app, user),
        "password_changed" => GraphError::invalidated(460, app, user),
        "unconfirmed" => GraphError::invalidated(464, app, user),
        "logged_out" => GraphError::invalidated(467, app, user),
        "page_role_lost" => GraphError::invalidated(492, app, user),
        "data_access_expired" => GraphError::invalidated(493, app, user),
        "token_required" => GraphError::token_required(),
        "active_token_required" => GraphError::active_token_required(),
        "unknown_object" => GraphError::unknown_object(
            if c.node.is_empty() { "me" } else { c.node },
            c.method.unwrap_or(Method::Get).as_str(),
        ),
        "proof_missing" => GraphError::proof_missing(),
        "proof_invalid" => GraphError::proof_invalid(),
        "permission" => GraphError::new(
            200,
            OAUTH,
            "(#200) The user hasn't authorized the application to perform this action",
        ),
        "permissions_error" => GraphError::permission_denied(),
        // The same errors the rate limiter answers, with a full hour to regain access.
        "rate_limit_app" => GraphError::app_rate_limited(60),
        "rate_limit_user" => GraphError::user_rate_limited(60),
        "rate_limit_page" => GraphError::page_rate_limited(60),
        "page_rate_limit" => GraphError::page_business_rate_limited(60),
        "custom_rate_limit" => transient(
            GraphError::new(
                613,
                OAUTH,
                "(#613) Calls to this api have exceeded the rate limit.",
            )
            .with_subcode(1996),
        ),
        "unknown" => unknown(500),
        "service" => GraphError::internal(),
        _ => return None,
    })
}

/// Code 1, `An unknown error has occurred.`, transient.
fn unknown(status: u16) -> GraphError {
    let mut e =
        transient(GraphError::new(1, OAUTH, "An unknown error has occurred.")).with_status(status);
    e.www_authenticate = None;
    e
}

/// The transient 5xx of a fault with a `status` and no `error`: code 1 for 500, code 2 (the
/// service error) for the others.
fn server_error(status: u16) -> GraphError {
    if status == 500 {
        unknown(500)
    } else {
        GraphError::internal().with_status(status)
    }
}

/// Whether the catalogued error's message names the caller (so it is worth resolving).
fn names_caller(name: &str) -> bool {
    matches!(name, "app_not_installed" | "unconfirmed")
}

// ---- the table ------------------------------------------------------------------------------

/// The armed faults of a running server.
#[derive(Default)]
pub struct Faults {
    table: Mutex<Table>,
    /// Whether any fault can still fire: the only thing a Graph call reads when none can.
    live: AtomicBool,
}

#[derive(Default)]
struct Table {
    next: u64,
    faults: Vec<Fault>,
}

enum Answer {
    Named(&'static str),
    Custom(GraphError),
}

struct Fault {
    id: u64,
    answer: Option<Answer>,
    /// The HTTP status, overriding the error's (with `answer`) or a transient 5xx (without).
    status: Option<u16>,
    latency_ms: u64,
    matcher: Matcher,
    /// 0: until cleared.
    times: u64,
    fired: u64,
    /// The `error` as given, for the listing.
    given_error: Value,
}

#[derive(Default)]
struct Matcher {
    /// Path segments after the version; a prefix of the request's.
    path: Option<Vec<String>>,
    method: Option<Method>,
    token: Option<String>,
    app: Option<(String, Id)>,
    /// As given, and the ids that match: the person's id and, when numeric, an app-scoped id.
    user: Option<(String, Vec<Id>)>,
}

/// Who a Graph call comes from, when a fault needs to know.
#[derive(Default)]
struct Who {
    app: Option<Id>,
    user: Option<Id>,
    asid: Option<Id>,
}

impl Fault {
    fn live(&self) -> bool {
        self.times == 0 || self.fired < self.times
    }

    fn answers(&self) -> bool {
        self.answer.is_some() || self.status.is_some()
    }

    fn needs_caller(&self) -> bool {
        self.matcher.app.is_some()
            || self.matcher.user.is_some()
            || matches!(self.answer, Some(Answer::Named(n)) if names_caller(n))
    }

    fn error(&self, c: &Ctx<'_>) -> Option<GraphError> {
        let e = match &self.answer {
            Some(Answer::Named(n)) => catalogued(n, c),
            Some(Answer::Custom(e)) => Some(e.clone()),
            None => self.status.map(server_error),
        }?;
        Some(match self.status {
            Some(s) => e.with_status(s),
            None => e,
        })
    }

    fn describe(&self) -> Value {
        let sample = self.error(&Ctx::default());
        let m = &self.matcher;
        let mut matched = Map::new();
        if let Some(p) = &m.path {
            matched.insert("path".into(), json!(format!("/{}", p.join("/"))));
        }
        if let Some(x) = m.method {
            matched.insert("method".into(), json!(x.as_str().to_ascii_uppercase()));
        }
        if let Some((given, id)) = &m.app {
            matched.insert("app".into(), json!(given));
            matched.insert("app_id".into(), json!(id.to_string()));
        }
        if let Some((given, ids)) = &m.user {
            matched.insert("user".into(), json!(given));
            let ids: Vec<String> = ids.iter().map(Id::to_string).collect();
            matched.insert("user_ids".into(), json!(ids));
        }
        if let Some(t) = &m.token {
            matched.insert("token".into(), json!(redact(t)));
        }
        json!({
            "id": self.id.to_string(),
            "error": self.given_error,
            "status": sample.as_ref().map(|e| e.status),
            "code": sample.as_ref().map(|e| e.code),
            "subcode": sample.as_ref().and_then(|e| e.subcode),
            "latency_ms": self.latency_ms,
            "match": matched,
            "times": self.times,
            "times_left": (self.times > 0).then(|| self.times.saturating_sub(self.fired)),
            "fired": self.fired,
            "armed": self.live(),
        })
    }
}

/// A token in a listing: enough to recognise it, not enough to use it.
fn redact(t: &str) -> String {
    let head: String = t.chars().take(8).collect();
    if head.len() < t.len() {
        format!("{head}…")
    } else {
        head
    }
}

impl Matcher {
    /// What can be checked without knowing the caller.
    fn cheap(&self, req: &GraphRequest) -> bool {
        if let Some(p) = &self.path {
            if p.len() > req.path.len() || p.iter().zip(&req.path).any(|(a, b)| a != b) {
                return false;
            }
        }
        if self.method.is_some_and(|m| m != req.method) {
            return false;
        }
        if let Some(t) = &self.token {
            if req.token.as_deref() != Some(t.as_str()) {
                return false;
            }
        }
        true
    }

    fn matches(&self, req: &GraphRequest, who: &Who) -> bool {
        if !self.cheap(req) {
            return false;
        }
        if let Some((_, id)) = &self.app {
            if who.app != Some(*id) {
                return false;
            }
        }
        if let Some((_, ids)) = &self.user {
            let hit = |x: Option<Id>| x.is_some_and(|x| ids.contains(&x));
            if !hit(who.user) && !hit(who.asid) {
                return false;
            }
        }
        true
    }
}

impl Faults {
    fn table(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Re-reads whether any fault can fire; call with the table locked.
    fn refresh(&self, t: &Table) {
        self.live
            .store(t.faults.iter().any(Fault::live), Ordering::Release);
    }
}

/// The hook at the start of every Graph call: the injected answer, if a fault fires with one,
/// after the delays of the faults that fired; `None` lets the call through.
pub async fn intercept<S: Store>(
    st: &AppState<S>,
    req: &GraphRequest,
    trace: &str,
) -> Option<Response> {
    let faults = &st.faults;
    if !faults.live.load(Ordering::Acquire) {
        return None;
    }
    let resolve = faults
        .table()
        .faults
        .iter()
        .any(|f| f.live() && f.needs_caller() && f.matcher.cheap(req));
    let who = if resolve {
        who(st, req).await
    } else {
        Who::default()
    };
    let (latency, error) = {
        let mut t = faults.table();
        let mut latency = 0u64;
        let mut error = None;
        for f in t.faults.iter_mut() {
            if !f.live() || !f.matcher.matches(req, &who) {
                continue;
            }
            if f.answers() {
                if error.is_some() {
                    continue;
                }
                let ctx = Ctx {
                    now: st.services.now(),
                    app: who.app.or(f.matcher.app.as_ref().map(|a| a.1)),
                    asid: who.asid,
                    node: req.path.first().map_or("", String::as_str),
                    method: Some(req.method),
                };
                error = f.error(&ctx);
            }
            f.fired += 1;
            latency = latency.saturating_add(f.latency_ms);
        }
        faults.refresh(&t);
        (latency, error)
    };
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let e = error?;
    let mut resp = render::graph(&req.version, trace, Err(e));
    // Injected answers carry the usage headers too; the injected call itself is not counted.
    if let Some(caller) = match req.token.as_deref() {
        Some(t) => st.services.authenticate(t).await.ok(),
        None => None,
    } {
        let node = req.path.first().map(String::as_str);
        let usage = st.services.peek_usage(&caller, node).await.ok();
        render::usage(&mut resp, usage.as_ref());
    }
    Some(resp)
}

/// The app and person behind the request's token (or its `client_id`), as far as known.
async fn who<S: Store>(st: &AppState<S>, req: &GraphRequest) -> Who {
    let mut w = Who::default();
    if let Some(token) = req.token.as_deref() {
        if let Ok(Inspection::Known { principal, .. }) = st.services.inspect(token).await {
            match principal {
                Principal::User(t) | Principal::Page(t) => {
                    w.app = Some(t.app.id);
                    w.user = Some(t.user.id);
                    w.asid = Some(t.asid);
                }
                Principal::App(a) | Principal::Client(a) => w.app = Some(a.id),
            }
        }
    }
    if w.app.is_none() {
        w.app = req.params.get("client_id").and_then(|c| c.parse().ok());
    }
    w
}

// ---- the admin routes -------------------------------------------------------------------------

type St<S> = State<Arc<AppState<S>>>;

/// `/faults` and `/faults/{id}`, to merge into the admin router (behind its key).
pub fn routes<S: Store>() -> Router<Arc<AppState<S>>> {
    Router::new()
        .route(
            "/faults",
            get(list::<S>).post(add::<S>).delete(clear_all::<S>),
        )
        .route("/faults/{id}", delete(clear_one::<S>))
}

/// An admin failure: its status and message.
struct Refusal(StatusCode, String);

impl Refusal {
    /// In the admin API's envelope.
    fn response(self) -> Response {
        let e = GraphError::new(100, "AdminException", self.1).with_status(self.0.as_u16());
        render::json(self.0, &e.to_json(&render::trace_id()))
    }
}

fn fail(status: StatusCode, message: impl Into<String>) -> Refusal {
    Refusal(status, message.into())
}

fn bad(message: impl Into<String>) -> Refusal {
    fail(StatusCode::BAD_REQUEST, message)
}

fn store_failed(e: GraphError) -> Refusal {
    tracing::error!(detail = e.detail().unwrap_or(""), "admin API: {e}");
    fail(
        StatusCode::INTERNAL_SERVER_ERROR,
        GraphError::internal().message,
    )
}

/// Rejects keys outside `known`, so that a typo does not arm a fault that matches everything.
fn only(m: &Map<String, Value>, known: &[&str], what: &str) -> Result<(), Refusal> {
    match m.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(bad(format!(
            "unknown key `{k}` in {what}: use {}",
            known.join(", ")
        ))),
        None => Ok(()),
    }
}

fn uint(m: &Map<String, Value>, key: &str) -> Result<Option<u64>, Refusal> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| bad(format!("`{key}` must be a whole number ≥ 0"))),
    }
}

fn string(m: &Map<String, Value>, key: &str) -> Result<Option<String>, Refusal> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(bad(format!("`{key}` must be a non-empty string"))),
    }
}

/// The `type`s a custom error may have (`GraphError::kind` is static).
const KINDS: &[&str] = &[
    "OAuthException",
    "GraphMethodException",
    "IGApiException",
    "OAuthAccessTokenException",
    "Exception",
];

/// A custom error: `{"code","subcode","message","type","status","is_transient",
/// "error_user_title","error_user_msg"}`.
fn custom(m: &Map<String, Value>) -> Result<GraphError, Refusal> {
    only(
        m,
        &[
            "code",
            "subcode",
            "message",
            "type",
            "status",
            "is_transient",
            "error_user_title",
            "error_user_msg",
        ],
        "`error`",
    )?;
    let code = uint(m, "code")?
        .and_then(|c| u32::try_from(c).ok())
        .ok_or_else(|| bad("a custom `error` needs a numeric `code`"))?;
    let message = string(m, "message")?.ok_or_else(|| bad("a custom `error` needs a `message`"))?;
    let kind = match string(m, "type")? {
        None => OAUTH,
        Some(k) => KINDS.iter().copied().find(|x| *x == k).ok_or_else(|| {
            bad(format!(
                "unknown error type `{k}`: use {}",
                KINDS.join(", ")
            ))
        })?,
    };
    let mut e = GraphError::new(code, kind, message);
    if let Some(s) = uint(m, "subcode")? {
        e = e.with_subcode(u32::try_from(s).map_err(|_| bad("`subcode` is too large"))?);
    }
    if let Some(s) = uint(m, "status")? {
        if !(400..=599).contains(&s) {
            return Err(bad("`status` of an error must be between 400 and 599"));
        }
        e = e.with_status(s as u16);
    }
    match m.get("is_transient") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(b)) => e.is_transient = Some(*b),
        Some(_) => return Err(bad("`is_transient` must be true or false")),
    }
    let (title, msg) = (string(m, "error_user_title")?, string(m, "error_user_msg")?);
    if title.is_some() || msg.is_some() {
        e.more = Some(Box::new(More {
            user_title: title,
            user_msg: msg,
            ..More::default()
        }));
    }
    Ok(e)
}

/// `POST /_admin/faults`: arms a fault and answers it as the listing shows it.
async fn add<S: Store>(State(st): St<S>, bytes: Bytes) -> Response {
    match arm(&st, &bytes).await {
        Ok(v) => render::json(StatusCode::OK, &v),
        Err(r) => r.response(),
    }
}

async fn arm<S: Store>(st: &AppState<S>, bytes: &Bytes) -> Result<Value, Refusal> {
    let m = match serde_json::from_slice(bytes) {
        Ok(Value::Object(m)) => m,
        _ => return Err(bad("the body must be a JSON object")),
    };
    only(
        &m,
        &["error", "times", "match", "latency_ms", "status"],
        "the fault",
    )?;
    let (answer, given_error) = match m.get("error") {
        None | Some(Value::Null) => (None, Value::Null),
        Some(Value::String(name)) => match CATALOGUE.iter().copied().find(|n| n == name) {
            Some(n) => (Some(Answer::Named(n)), json!(n)),
            None => {
                return Err(bad(format!(
                    "unknown error `{name}`: use one of {}, or an object {{\"code\", \"message\", ...}}",
                    CATALOGUE.join(", ")
                )))
            }
        },
        Some(Value::Object(o)) => (Some(Answer::Custom(custom(o)?)), Value::Object(o.clone())),
        Some(_) => {
            return Err(bad(
                "`error` must be a catalogue name or an object {\"code\", \"message\", ...}",
            ))
        }
    };
    let status = match uint(&m, "status")? {
        None => None,
        Some(s @ 500..=599) => Some(s as u16),
        Some(_) => return Err(bad("`status` must be a 5xx, such as 500, 502 or 503")),
    };
    let latency_ms = uint(&m, "latency_ms")?.unwrap_or(0);
    if latency_ms > MAX_LATENCY_MS {
        return Err(bad(format!("`latency_ms` may be at most {MAX_LATENCY_MS}")));
    }
    if answer.is_none() && status.is_none() && latency_ms == 0 {
        return Err(bad(
            "a fault needs an `error`, a `status` or a `latency_ms`",
        ));
    }
    let times = uint(&m, "times")?.unwrap_or(1);
    let matcher = match m.get("match") {
        None | Some(Value::Null) => Matcher::default(),
        Some(Value::Object(o)) => matcher(st, o).await?,
        Some(_) => return Err(bad("`match` must be an object")),
    };
    let mut t = st.faults.table();
    if t.faults.len() >= MAX_FAULTS {
        return Err(bad(format!(
            "at most {MAX_FAULTS} faults are kept: clear some first"
        )));
    }
    t.next += 1;
    let fault = Fault {
        id: t.next,
        answer,
        status,
        latency_ms,
        matcher,
        times,
        fired: 0,
        given_error,
    };
    let v = fault.describe();
    t.faults.push(fault);
    st.faults.refresh(&t);
    Ok(v)
}

async fn matcher<S: Store>(st: &AppState<S>, o: &Map<String, Value>) -> Result<Matcher, Refusal> {
    only(o, &["path", "method", "app", "user", "token"], "`match`")?;
    let mut mt = Matcher::default();
    if let Some(p) = string(o, "path")? {
        let mut segs: Vec<String> = p
            .split('?')
            .next()
            .unwrap_or("")
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let versioned = segs.first().is_some_and(|s| {
            s.strip_prefix('v')
                .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()) && r.contains('.'))
        });
        if versioned {
            segs.remove(0);
        }
        mt.path = Some(segs);
    }
    if let Some(x) = string(o, "method")? {
        mt.method =
            Some(Method::parse(&x).ok_or_else(|| bad("`method` must be GET, POST or DELETE"))?);
    }
    mt.token = string(o, "token")?;
    let g = &st.services;
    if let Some(a) = string(o, "app")? {
        let app = g.find_app(&a).await.map_err(store_failed)?;
        let app = app.ok_or_else(|| fail(StatusCode::NOT_FOUND, format!("no app `{a}`")))?;
        mt.app = Some((a, app.id));
    }
    if let Some(u) = string(o, "user")? {
        let mut ids = Vec::new();
        if let Some(user) = g.find_user(&u).await.map_err(store_failed)? {
            ids.push(user.id);
        }
        // A number that is no person's id may be an app-scoped id.
        if let Ok(n) = u.parse::<Id>() {
            if !ids.contains(&n) {
                ids.push(n);
            }
        }
        if ids.is_empty() {
            return Err(fail(StatusCode::NOT_FOUND, format!("no user `{u}`")));
        }
        mt.user = Some((u, ids));
    }
    Ok(mt)
}

/// `GET /_admin/faults` → `{"data": [...]}`: every fault, armed or spent, and how often it fired.
async fn list<S: Store>(State(st): St<S>) -> Response {
    let t = st.faults.table();
    let data: Vec<Value> = t.faults.iter().map(Fault::describe).collect();
    render::json(StatusCode::OK, &json!({ "data": data }))
}

/// `DELETE /_admin/faults`: clears every fault.
async fn clear_all<S: Store>(State(st): St<S>) -> Response {
    let mut t = st.faults.table();
    t.faults.clear();
    st.faults.refresh(&t);
    render::json(StatusCode::OK, &json!({ "success": true }))
}

/// `DELETE /_admin/faults/{id}`.
async fn clear_one<S: Store>(State(st): St<S>, Path(id): Path<String>) -> Response {
    let mut t = st.faults.table();
    let before = t.faults.len();
    t.faults.retain(|f| f.id.to_string() != id);
    if t.faults.len() == before {
        return fail(StatusCode::NOT_FOUND, format!("no fault `{id}`")).response();
    }
    st.faults.refresh(&t);
    render::json(StatusCode::OK, &json!({ "success": true }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_name_builds() {
        for n in CATALOGUE {
            let e = catalogued(n, &Ctx::default()).unwrap_or_else(|| panic!("{n}"));
            assert!(!e.message.is_empty(), "{n}");
        }
        assert!(catalogued("nope", &Ctx::default()).is_none());
    }

    #[test]
    fn transient_5xx_bodies() {
        let e = server_error(503);
        assert_eq!((e.status, e.code, e.is_transient), (503, 2, Some(true)));
        let e = server_error(500);
        assert_eq!((e.status, e.code), (500, 1));
        assert_eq!(e.message, "An unknown error has occurred.");
    }

    #[test]
    fn tokens_are_redacted_in_listings() {
        assert_eq!(redact("EAAB0123456789"), "EAAB0123…");
        assert_eq!(redact("short"), "short");
    }
}
