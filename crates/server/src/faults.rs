//! Fault injection, an emulator control (issue #5): `/_admin/faults` arms faults that make the
//! next N Graph calls — optionally only those matching a path, method, app, user or token — fail
//! with a catalogued error, wait, or answer a transient 5xx. Faults live in memory: a restart
//! clears them. They apply to Graph paths only, never to `/_admin` or `/healthz`.
//!
//! On each Graph call every matching latency-only fault fires (their delays add up), and the
//! first matching fault that answers with an error fires and answers, after its own delay.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use axum::response::Response;
use serde_json::{json, Map, Value};

use graphtoken_core::auth::{Inspection, Principal};
use graphtoken_core::error::GraphError;
use graphtoken_core::model::{AppId, Asid, Id, Reason, Unix, UserId};
use graphtoken_core::request::{GraphRequest, Method};

use crate::render;
use crate::AppState;

/// The most faults the table holds, spent ones included.
const MAX_FAULTS: usize = 256;

pub(crate) const OAUTH: &str = "OAuthException";

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
    app: Option<AppId>,
    asid: Option<Asid>,
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
    let (app, user) = (c.app.unwrap_or_default(), c.asid.unwrap_or_default());
    Some(match name {
        "expired" => GraphError::expired(c.now.saturating_sub(1), c.now),
        "invalid_token" => GraphError::cannot_parse(),
        "not_decrypted" => GraphError::not_decrypted(),
        "bad_signature" => GraphError::bad_signature(),
        "session_invalidated" => GraphError::invalidated(Reason::RevokedByApi, app, user),
        "app_not_installed" => GraphError::invalidated(Reason::AppNotAuthorized, app, user),
        "checkpoint" => GraphError::invalidated(Reason::Checkpoint, app, user),
        "password_changed" => GraphError::invalidated(Reason::PasswordChanged, app, user),
        "unconfirmed" => GraphError::invalidated(Reason::Unconfirmed, app, user),
        "logged_out" => GraphError::invalidated(Reason::LoggedOut, app, user),
        "page_role_lost" => GraphError::invalidated(Reason::PageTaskLost, app, user),
        "data_access_expired" => GraphError::invalidated(Reason::DataAccessExpired, app, user),
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

pub(crate) enum Answer {
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
pub(crate) struct Matcher {
    /// Path segments after the version; a prefix of the request's.
    pub(crate) path: Option<Vec<String>>,
    pub(crate) method: Option<Method>,
    pub(crate) token: Option<String>,
    pub(crate) app: Option<(String, AppId)>,
    /// As given, and the numbers that match: the person's id and, when numeric, an app-scoped
    /// id.
    pub(crate) user: Option<(String, Vec<u64>)>,
}

/// Who a Graph call comes from, when a fault needs to know.
#[derive(Default)]
struct Who {
    app: Option<AppId>,
    user: Option<UserId>,
    asid: Option<Asid>,
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
            let hit = |x: Option<u64>| x.is_some_and(|x| ids.contains(&x));
            if !hit(who.user.map(|u| u.0)) && !hit(who.asid.map(|a| a.0)) {
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
pub async fn intercept(st: &AppState, req: &GraphRequest, trace: &str) -> Option<Response> {
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
async fn who(st: &AppState, req: &GraphRequest) -> Who {
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

// ---- arming and listing (the admin routes are `admin::faults`) -----------------------------

/// A fault to arm, as the admin API checked it.
pub(crate) struct Spec {
    pub(crate) answer: Option<Answer>,
    pub(crate) status: Option<u16>,
    pub(crate) latency_ms: u64,
    pub(crate) matcher: Matcher,
    pub(crate) times: u64,
    /// The `error` as given, for the listing.
    pub(crate) given_error: Value,
}

impl Faults {
    /// Arms a fault and answers it as the listing shows it; `Err` when the table is full.
    pub(crate) fn arm(&self, spec: Spec) -> Result<Value, String> {
        let mut t = self.table();
        if t.faults.len() >= MAX_FAULTS {
            return Err(format!(
                "at most {MAX_FAULTS} faults are kept: clear some first"
            ));
        }
        t.next += 1;
        let fault = Fault {
            id: t.next,
            answer: spec.answer,
            status: spec.status,
            latency_ms: spec.latency_ms,
            matcher: spec.matcher,
            times: spec.times,
            fired: 0,
            given_error: spec.given_error,
        };
        let v = fault.describe();
        t.faults.push(fault);
        self.refresh(&t);
        Ok(v)
    }

    /// `{"data": [...]}`: every fault, armed or spent, and how often it fired.
    pub(crate) fn list(&self) -> Value {
        let t = self.table();
        let data: Vec<Value> = t.faults.iter().map(Fault::describe).collect();
        json!({ "data": data })
    }

    /// Clears every fault.
    pub(crate) fn clear_all(&self) {
        let mut t = self.table();
        t.faults.clear();
        self.refresh(&t);
    }

    /// Clears one fault; false when there is no fault `id`.
    pub(crate) fn clear(&self, id: &str) -> bool {
        let mut t = self.table();
        let before = t.faults.len();
        t.faults.retain(|f| f.id.to_string() != id);
        let found = t.faults.len() < before;
        self.refresh(&t);
        found
    }
}

/// The catalogue name `name`, as the table keeps it.
pub(crate) fn catalogue_name(name: &str) -> Option<&'static str> {
    CATALOGUE.iter().copied().find(|n| *n == name)
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
