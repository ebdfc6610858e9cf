//! Fault injection, an emulator control (issue #5): `/_admin/faults` arms faults that make the
//! next N Graph calls — optionally only those matching a path, method, app, user or token — fail
//! with a catalogued error, wait, or answer a transient 5xx. They apply to Graph paths only,
//! never to `/_admin` or `/healthz`.
//!
//! Faults are kept in the database (`Services::arm_fault`), so that every instance on one
//! fires the same faults: each instance holds a copy, reloaded when a fault is armed, cleared
//! or runs out anywhere, and a firing is counted in the database first, so that a fault armed
//! for N calls fires on exactly N, whichever instances serve them. Faults survive a restart
//! until they are cleared.
//!
//! On each Graph call every matching latency-only fault fires (their delays add up), and the
//! first matching fault that answers with an error fires and answers, after its own delay.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use graphtoken_core::auth::{Inspection, Principal};
use graphtoken_core::error::{GraphError, More};
use graphtoken_core::events::{Event, Subscriber};
use graphtoken_core::faults::StoredFault;
use graphtoken_core::model::{AppId, Asid, Id, Reason, Unix, UserId};
use graphtoken_core::request::{GraphRequest, Method};
use graphtoken_core::services::Services;
use graphtoken_core::token;

use crate::render;
use crate::AppState;

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

/// This instance's copy of the armed faults.
pub struct Faults {
    table: Mutex<Vec<Fault>>,
    /// Whether any fault can still fire: the only thing a Graph call reads when none can.
    live: AtomicBool,
    /// Changes heard (a fault armed, cleared or run out, here or on another instance), and the
    /// count the copy was loaded after: the copy is stale while `loaded < wanted`. One at the
    /// start, so the first Graph call loads it.
    wanted: AtomicU64,
    loaded: AtomicU64,
    /// Reloads run one at a time, so an older read never replaces a newer one.
    reloading: tokio::sync::Mutex<()>,
    /// After a failed reload (the database out of reach), when the next may be tried.
    retry_at: Mutex<Option<std::time::Instant>>,
}

/// How long after a failed reload of the faults the next is tried.
const RELOAD_RETRY: Duration = Duration::from_secs(1);

impl Default for Faults {
    fn default() -> Self {
        Faults {
            table: Mutex::default(),
            live: AtomicBool::new(false),
            wanted: AtomicU64::new(1),
            loaded: AtomicU64::new(0),
            reloading: tokio::sync::Mutex::new(()),
            retry_at: Mutex::new(None),
        }
    }
}

impl Subscriber for Faults {
    fn on(&self, event: &Event) {
        if matches!(event, Event::FaultsChanged) {
            self.wanted.fetch_add(1, Ordering::AcqRel);
        }
    }
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
    /// As this instance last knew it (the database counts).
    fired: u64,
    /// The `error` as given, for the listing.
    given_error: Value,
}

#[derive(Default)]
pub(crate) struct Matcher {
    /// Path segments after the version; a prefix of the request's.
    pub(crate) path: Option<Vec<String>>,
    pub(crate) method: Option<Method>,
    /// The first characters of the token's random part (for the listing) and its key in hex
    /// (`token::hash`): the only forms of it kept.
    pub(crate) token: Option<(String, String)>,
    pub(crate) app: Option<(String, AppId)>,
    /// As given, and the numbers that match: the person's id and, when numeric, an app-scoped
    /// id.
    pub(crate) user: Option<(String, Vec<u64>)>,
}

/// A fault's spec as stored (`StoredFault::spec`), resolved: the app and person are kept as
/// the ids they named when it was armed.
#[derive(Serialize, Deserialize)]
struct Stored {
    #[serde(default)]
    error: Value,
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    latency_ms: u64,
    #[serde(default)]
    path: Option<Vec<String>>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    token: Option<(String, String)>,
    #[serde(default)]
    app: Option<(String, u64)>,
    #[serde(default)]
    user: Option<(String, Vec<u64>)>,
}

/// Who a Graph call comes from, when a fault needs to know.
#[derive(Default)]
struct Who {
    app: Option<AppId>,
    user: Option<UserId>,
    asid: Option<Asid>,
}

impl Fault {
    /// The fault a stored one describes; why not, when its spec cannot be read.
    fn load(f: &StoredFault) -> Result<Fault, String> {
        let s: Stored = serde_json::from_str(&f.spec).map_err(|e| e.to_string())?;
        let method = match s.method.as_deref() {
            None => None,
            Some(m) => Some(Method::parse(m).ok_or_else(|| format!("unknown method {m:?}"))?),
        };
        Ok(Fault {
            id: f.id,
            answer: answer_of(&s.error)?,
            status: s.status,
            latency_ms: s.latency_ms,
            matcher: Matcher {
                path: s.path,
                method,
                token: s.token,
                app: s.app.map(|(given, id)| (given, AppId(id))),
                user: s.user,
            },
            times: f.times,
            fired: f.fired,
            given_error: s.error,
        })
    }

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
        if let Some((hint, _)) = &m.token {
            matched.insert("token".into(), json!(hint));
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
pub(crate) fn redact(t: &str) -> String {
    // A stamp is much the same for every token minted that day: the head of the random part.
    let t = token::unstamped(t);
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
        if let Some((_, hash)) = &self.token {
            match req.token.as_deref() {
                Some(t) if token::hex(&token::hash(t)) == *hash => {}
                _ => return false,
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
    fn table(&self) -> MutexGuard<'_, Vec<Fault>> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Re-reads whether any fault can fire; call with the table locked.
    fn refresh(&self, t: &[Fault]) {
        self.live
            .store(t.iter().any(Fault::live), Ordering::Release);
    }

    fn stale(&self) -> bool {
        self.loaded.load(Ordering::Acquire) < self.wanted.load(Ordering::Acquire)
    }

    /// Reloads the copy from the database when it is stale, and waits for a reload already
    /// under way. When the database does not answer, the old copy is kept and a call a second
    /// later tries again.
    async fn reload(&self, services: &Services) {
        let _one_at_a_time = self.reloading.lock().await;
        // The changes heard before this read are in it; one heard during it makes it stale again.
        let target = self.wanted.load(Ordering::Acquire);
        if self.loaded.load(Ordering::Acquire) >= target {
            return;
        }
        let now = std::time::Instant::now();
        {
            let mut retry = self.retry_at.lock().unwrap_or_else(|p| p.into_inner());
            if retry.is_some_and(|at| now < at) {
                return;
            }
            *retry = None;
        }
        match services.faults().await {
            Ok(stored) => {
                let loaded = loaded(&stored);
                let mut t = self.table();
                *t = loaded;
                self.refresh(&t);
                self.loaded.store(target, Ordering::Release);
            }
            Err(e) => {
                *self.retry_at.lock().unwrap_or_else(|p| p.into_inner()) = Some(now + RELOAD_RETRY);
                tracing::warn!("cannot read the armed faults: {}", e.message);
            }
        }
    }

    /// Notes what the database said of a firing of fault `id`: its firings so far, or `None`
    /// when it is spent or gone (so it is forgotten here).
    fn fired(&self, id: u64, fired: Option<u64>) {
        let mut t = self.table();
        match fired {
            Some(n) => {
                if let Some(f) = t.iter_mut().find(|f| f.id == id) {
                    f.fired = f.fired.max(n);
                }
            }
            None => t.retain(|f| f.id != id),
        }
        self.refresh(&t);
    }
}

/// The faults of stored ones; one whose spec cannot be read (written by another version of
/// graphtoken, say) is left out, with a warning.
fn loaded(stored: &[StoredFault]) -> Vec<Fault> {
    stored
        .iter()
        .filter_map(|f| {
            Fault::load(f)
                .map_err(|e| {
                    tracing::warn!("fault {} is left out: its spec is unreadable: {e}", f.id)
                })
                .ok()
        })
        .collect()
}

/// A fault that matched a call: whether it answers, its delay and its error.
struct Candidate {
    id: u64,
    answers: bool,
    latency_ms: u64,
    error: Option<GraphError>,
}

/// The hook at the start of every Graph call: the injected answer, if a fault fires with one,
/// after the delays of the faults that fired; `None` lets the call through.
pub async fn intercept(
    st: &AppState,
    req: &GraphRequest,
    trace: &graphtoken_core::error::TraceId,
) -> Option<Response> {
    let faults = &st.faults;
    if faults.stale() {
        faults.reload(&st.services).await;
    }
    if !faults.live.load(Ordering::Acquire) {
        return None;
    }
    let resolve = faults
        .table()
        .iter()
        .any(|f| f.live() && f.needs_caller() && f.matcher.cheap(req));
    let who = if resolve {
        who(st, req).await
    } else {
        Who::default()
    };
    let candidates: Vec<Candidate> = {
        let t = faults.table();
        let now = st.services.now();
        t.iter()
            .filter(|f| f.live() && f.matcher.matches(req, &who))
            .map(|f| {
                let ctx = Ctx {
                    now,
                    app: who.app.or(f.matcher.app.as_ref().map(|a| a.1)),
                    asid: who.asid,
                    node: req.path.first().map_or("", String::as_str),
                    method: Some(req.method),
                };
                Candidate {
                    id: f.id,
                    answers: f.answers(),
                    latency_ms: f.latency_ms,
                    error: if f.answers() { f.error(&ctx) } else { None },
                }
            })
            .collect()
    };
    // Every matching delay fires, and the first matching answer; each firing is counted in
    // the database first, where a fault spent by another instance's call does not fire.
    let mut latency = 0u64;
    let mut error = None;
    for c in candidates {
        if c.answers && error.is_some() {
            continue;
        }
        let fired = match st.services.fire_fault(c.id).await {
            Ok(fired) => fired,
            Err(e) => {
                tracing::warn!("cannot count a firing of fault {}: {}", c.id, e.message);
                continue;
            }
        };
        faults.fired(c.id, fired);
        if fired.is_some() {
            latency = latency.saturating_add(c.latency_ms);
            if c.answers {
                error = c.error;
            }
        }
    }
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let e = error?;
    // Injected answers carry the usage headers too; the injected call itself is not counted.
    let usage = match req.token.as_deref() {
        Some(t) => match st.services.authenticate(t).await {
            Ok(caller) => {
                let node = req.path.first().map(String::as_str);
                st.services.peek_usage(&caller, node).await.ok()
            }
            Err(_) => None,
        },
        None => None,
    };
    Some(render::graph(req.version, trace, Err(e), usage.as_ref()))
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

/// The `type`s a custom error may have (`GraphError::kind` is static).
pub(crate) const KINDS: &[&str] = &[
    "OAuthException",
    "GraphMethodException",
    "IGApiException",
    "OAuthAccessTokenException",
    "Exception",
];

/// A custom error: `{"code","subcode","message","type","status","is_transient",
/// "error_user_title","error_user_msg"}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomError {
    code: Option<u32>,
    subcode: Option<u32>,
    message: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    status: Option<u16>,
    is_transient: Option<bool>,
    error_user_title: Option<String>,
    error_user_msg: Option<String>,
}

/// What a fault's `error` answers: nothing (null), a catalogued error (a name) or a custom one
/// (an object); why not, when it is none of these.
pub(crate) fn answer_of(error: &Value) -> Result<Option<Answer>, String> {
    match error {
        Value::Null => Ok(None),
        Value::String(name) => match catalogue_name(name) {
            Some(n) => Ok(Some(Answer::Named(n))),
            None => Err(format!(
                "unknown error `{name}`: use one of {}, or an object {{\"code\", \"message\", ...}}",
                CATALOGUE.join(", ")
            )),
        },
        Value::Object(o) => Ok(Some(Answer::Custom(custom(o)?))),
        _ => Err(
            "`error` must be a catalogue name or an object {\"code\", \"message\", ...}".into(),
        ),
    }
}

/// A custom `error` object, checked.
fn custom(o: &Map<String, Value>) -> Result<GraphError, String> {
    let c =
        CustomError::deserialize(o).map_err(|e| format!("`error` is not a custom error: {e}"))?;
    let code = c.code.ok_or("a custom `error` needs a numeric `code`")?;
    let message = c
        .message
        .filter(|m| !m.is_empty())
        .ok_or("a custom `error` needs a `message`")?;
    let kind = match c.kind {
        None => OAUTH,
        Some(k) => KINDS
            .iter()
            .copied()
            .find(|x| *x == k)
            .ok_or_else(|| format!("unknown error type `{k}`: use {}", KINDS.join(", ")))?,
    };
    let mut e = GraphError::new(code, kind, message);
    if let Some(s) = c.subcode {
        e = e.with_subcode(s);
    }
    if let Some(s) = c.status {
        if !(400..=599).contains(&s) {
            return Err("`status` of an error must be between 400 and 599".into());
        }
        e = e.with_status(s);
    }
    e.is_transient = c.is_transient;
    if c.error_user_title.is_some() || c.error_user_msg.is_some() {
        e.more = Some(Box::new(More {
            user_title: c.error_user_title,
            user_msg: c.error_user_msg,
            ..More::default()
        }));
    }
    Ok(e)
}

/// A fault to arm, as the admin API checked it.
pub(crate) struct Spec {
    /// The `error` as given: null, a catalogue name or a custom error (see [`answer_of`]).
    pub(crate) error: Value,
    pub(crate) status: Option<u16>,
    pub(crate) latency_ms: u64,
    pub(crate) matcher: Matcher,
    pub(crate) times: u64,
}

impl Faults {
    /// Arms a fault for every instance and answers it as the listing shows it; `None` when
    /// `MAX_FAULTS` are kept already.
    pub(crate) async fn arm(
        &self,
        services: &Services,
        spec: Spec,
    ) -> Result<Option<Value>, GraphError> {
        let m = spec.matcher;
        let stored = Stored {
            error: spec.error,
            status: spec.status,
            latency_ms: spec.latency_ms,
            path: m.path,
            method: m.method.map(|x| x.as_str().to_string()),
            token: m.token,
            app: m.app.map(|(given, id)| (given, id.0)),
            user: m.user,
        };
        let json = serde_json::to_string(&stored)
            .map_err(|e| GraphError::internal_because(format!("cannot write a fault: {e}")))?;
        let Some(armed) = services.arm_fault(&json, spec.times).await? else {
            return Ok(None);
        };
        self.reload(services).await;
        let fault = Fault::load(&armed).map_err(GraphError::internal_because)?;
        Ok(Some(fault.describe()))
    }

    /// `{"data": [...]}`: every fault, armed or spent, and how often it fired on any instance.
    pub(crate) async fn list(&self, services: &Services) -> Result<Value, GraphError> {
        let stored = services.faults().await?;
        let data: Vec<Value> = loaded(&stored).iter().map(Fault::describe).collect();
        Ok(json!({ "data": data }))
    }

    /// Clears fault `id`, or every fault (`None`); false when there is no fault `id`.
    pub(crate) async fn clear(
        &self,
        services: &Services,
        id: Option<&str>,
    ) -> Result<bool, GraphError> {
        let id = match id.map(str::parse::<u64>) {
            None => None,
            Some(Ok(id)) => Some(id),
            Some(Err(_)) => return Ok(false),
        };
        let cleared = services.clear_faults(id).await?;
        self.reload(services).await;
        Ok(id.is_none() || cleared > 0)
    }
}

/// A fault's path as the matcher keeps it: the segments after the version (`/v25.0/me/accounts`
/// and `me/accounts` are the same), without the query.
pub(crate) fn path_segments(p: &str) -> Vec<String> {
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
    segs
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
        let stamped = format!("EAA000000042{}", "xyzw".repeat(16));
        assert_eq!(redact(&stamped), "EAAxyzwx…");
    }
}
