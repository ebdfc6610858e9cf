//! The Graph API as the keeper uses it: a few calls, each with `appsecret_proof`, against any
//! base URL (`https://graph.facebook.com` or a graphtoken server).

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::Value;

use crate::Secret;

/// The Graph API version the keeper asks for unless told otherwise.
pub const DEFAULT_VERSION: &str = "v24.0";

/// The app a kept token belongs to: its id and secret.
#[derive(Clone, Debug)]
pub struct App {
    pub id: String,
    pub secret: Secret,
}

impl App {
    /// The app token every SDK builds offline: `{app-id}|{app-secret}`.
    pub fn token(&self) -> Secret {
        Secret::new(format!("{}|{}", self.id, self.secret.expose()))
    }

    /// `appsecret_proof` for `token`: the hex HMAC-SHA256 of the token keyed with the secret.
    pub fn proof(&self, token: &str) -> String {
        let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(self.secret.expose().as_bytes())
        else {
            return String::new();
        };
        mac.update(token.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// A Graph error as Facebook sends it (`{"error":{…}}`), or as `debug_token` reports one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphError {
    pub code: i64,
    pub subcode: Option<i64>,
    pub message: String,
    pub kind: String,
    pub is_transient: bool,
}

impl GraphError {
    /// Reads an `error` object (`error_subcode`, or `subcode` as `debug_token` writes it).
    pub fn from_json(e: &Value) -> GraphError {
        GraphError {
            code: e["code"].as_i64().unwrap_or(0),
            subcode: e["error_subcode"]
                .as_i64()
                .or_else(|| e["subcode"].as_i64()),
            message: e["message"].as_str().unwrap_or("").to_string(),
            kind: e["type"].as_str().unwrap_or("").to_string(),
            is_transient: e["is_transient"].as_bool().unwrap_or(false),
        }
    }
}

impl std::fmt::Display for GraphError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.subcode {
            Some(s) => write!(f, "{} (code {}, subcode {s})", self.message, self.code),
            None => write!(f, "{} (code {})", self.message, self.code),
        }
    }
}

/// Why a Graph call gave no answer.
#[derive(Clone, Debug)]
pub enum Failure {
    /// The server could not be reached (or the connection broke).
    Network(String),
    /// The server answered with a Graph error.
    Graph(GraphError),
    /// The server answered something that is not Graph JSON.
    Unreadable(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Network(m) => write!(f, "cannot reach the Graph API: {m}"),
            Failure::Graph(e) => write!(f, "the Graph API refused: {e}"),
            Failure::Unreadable(m) => write!(f, "the Graph API's answer is unreadable: {m}"),
        }
    }
}

/// An answer: its JSON body and the server's `Date` (unix seconds), the server's now.
#[derive(Clone, Debug)]
pub struct Answer {
    pub body: Value,
    pub date: Option<i64>,
}

/// A Graph API endpoint.
#[derive(Clone)]
pub struct Graph {
    base: String,
    version: String,
    agent: ureq::Agent,
}

impl std::fmt::Debug for Graph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Graph")
            .field("base", &self.base)
            .field("version", &self.version)
            .finish()
    }
}

/// What `debug_token` says of a token.
#[derive(Clone, Debug, Default)]
pub struct Inspection {
    pub is_valid: bool,
    pub kind: String,
    pub app_id: String,
    pub application: String,
    pub user_id: String,
    pub profile_id: Option<String>,
    /// 0: never.
    pub expires_at: i64,
    pub data_access_expires_at: Option<i64>,
    pub issued_at: Option<i64>,
    pub scopes: Vec<String>,
    pub error: Option<GraphError>,
    /// The server's now when it answered (its `Date`), or this machine's.
    pub now: i64,
}

/// A Page of `/me/accounts`, with its token.
#[derive(Clone, Debug)]
pub struct PageAccess {
    pub id: String,
    pub name: String,
    pub token: Secret,
    pub tasks: Vec<String>,
}

/// A device login under way (`POST /device/login`).
#[derive(Clone, Debug)]
pub struct DeviceStart {
    pub code: Secret,
    pub user_code: String,
    pub verification_uri: String,
    pub expires_in: i64,
    pub interval: i64,
}

/// A device login's state (`POST /device/login_status`).
#[derive(Clone, Debug)]
pub enum DeviceStatus {
    Pending,
    SlowDown,
    Done(Secret),
}

impl Graph {
    /// `base`: `https://graph.facebook.com` or a graphtoken server; `version`: `v24.0`.
    pub fn new(base: &str, version: &str) -> Graph {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("graphtoken-keeper/", env!("CARGO_PKG_VERSION")))
            .build();
        Graph {
            base: base.trim_end_matches('/').to_string(),
            version: version.to_string(),
            agent,
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    /// Where the person logs in: Facebook's dialogs live on www.facebook.com, graphtoken's on
    /// its own address.
    pub fn dialog_base(&self) -> String {
        match self.base.strip_prefix("https://graph.") {
            Some(rest) => format!("https://www.{rest}"),
            None => self.base.clone(),
        }
    }

    /// One call: `token` goes in the `Authorization` header (never in a URL), with its
    /// `appsecret_proof` when an app is given; `params` go in the query (GET, DELETE) or the
    /// form body (POST).
    fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<(&str, Option<&App>)>,
        params: &[(&str, &str)],
    ) -> Result<Answer, Failure> {
        let url = format!(
            "{}/{}/{}",
            self.base,
            self.version,
            path.trim_start_matches('/')
        );
        let mut all: Vec<(&str, String)> =
            params.iter().map(|(k, v)| (*k, v.to_string())).collect();
        let mut req = self.agent.request(method, &url);
        if let Some((token, app)) = token {
            req = req.set("Authorization", &format!("OAuth {token}"));
            if let Some(app) = app {
                all.push(("appsecret_proof", app.proof(token)));
            }
        }
        let pairs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let res = if method == "POST" {
            req.send_form(&pairs)
        } else {
            for (k, v) in &pairs {
                req = req.query(k, v);
            }
            req.call()
        };
        let res = match res {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            // Only the kind and the library's words: a transport error's own text starts with
            // the URL, whose query may hold the token being checked.
            Err(ureq::Error::Transport(t)) => {
                let words = t
                    .message()
                    .filter(|m| !m.contains('?') && !m.contains("token"))
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default();
                return Err(Failure::Network(format!(
                    "{} ({}{words})",
                    self.base,
                    t.kind()
                )));
            }
        };
        let date = res.header("date").and_then(parse_http_date);
        let status = res.status();
        let text = res
            .into_string()
            .map_err(|e| Failure::Network(format!("{} ({})", self.base, e.kind())))?;
        let body: Value = serde_json::from_str(&text).map_err(|_| {
            let start: String = text.chars().take(120).collect();
            Failure::Unreadable(format!("HTTP {status} from {}: {start}", self.base))
        })?;
        if let Some(e) = body.get("error").filter(|e| e.is_object()) {
            return Err(Failure::Graph(GraphError::from_json(e)));
        }
        if status >= 400 {
            return Err(Failure::Unreadable(format!(
                "HTTP {status} from {} without a Graph error",
                self.base
            )));
        }
        Ok(Answer { body, date })
    }

    /// `GET /debug_token` about `input`, asked with the app token and its proof.
    pub fn debug_token(&self, app: &App, input: &str) -> Result<Inspection, Failure> {
        let app_token = app.token();
        let a = self.call(
            "GET",
            "debug_token",
            Some((app_token.expose(), Some(app))),
            &[("input_token", input)],
        )?;
        let d = &a.body["data"];
        if !d.is_object() {
            return Err(Failure::Unreadable("debug_token: no data".into()));
        }
        let text = |k: &str| match &d[k] {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => String::new(),
        };
        Ok(Inspection {
            is_valid: d["is_valid"].as_bool().unwrap_or(false),
            kind: text("type"),
            app_id: text("app_id"),
            application: text("application"),
            user_id: text("user_id"),
            profile_id: Some(text("profile_id")).filter(|p| !p.is_empty()),
            expires_at: d["expires_at"].as_i64().unwrap_or(0),
            data_access_expires_at: d["data_access_expires_at"].as_i64(),
            issued_at: d["issued_at"].as_i64(),
            scopes: strings(&d["scopes"]),
            error: d
                .get("error")
                .filter(|e| e.is_object())
                .map(GraphError::from_json),
            now: a.date.unwrap_or_else(system_now),
        })
    }

    /// `fb_exchange_token`: a long-lived token for a short-lived one (POSTed: the secret stays
    /// out of URLs). Returns the token and its `expires_in`.
    pub fn exchange(&self, app: &App, token: &str) -> Result<(Secret, Option<i64>), Failure> {
        let a = self.call(
            "POST",
            "oauth/access_token",
            None,
            &[
                ("grant_type", "fb_exchange_token"),
                ("client_id", &app.id),
                ("client_secret", app.secret.expose()),
                ("fb_exchange_token", token),
            ],
        )?;
        let t = a.body["access_token"]
            .as_str()
            .ok_or_else(|| Failure::Unreadable("the exchange answered no access_token".into()))?;
        Ok((Secret::new(t.to_string()), a.body["expires_in"].as_i64()))
    }

    /// `GET /me?fields=id,name`.
    pub fn me(&self, app: &App, token: &str) -> Result<(String, String), Failure> {
        let a = self.call(
            "GET",
            "me",
            Some((token, Some(app))),
            &[("fields", "id,name")],
        )?;
        let id = a.body["id"]
            .as_str()
            .filter(|id| !id.is_empty())
            .ok_or_else(|| Failure::Unreadable("/me answered no id".into()))?;
        let name = a.body["name"].as_str().unwrap_or("").to_string();
        Ok((id.to_string(), name))
    }

    /// Every Page of `GET /me/accounts`, each with its Page token (following `paging.next`'s
    /// cursor).
    pub fn accounts(&self, app: &App, token: &str) -> Result<Vec<PageAccess>, Failure> {
        let mut pages = Vec::new();
        let mut after: Option<String> = None;
        // A hundred Pages a call; at most a hundred calls.
        for _ in 0..100 {
            let mut params = vec![("fields", "id,name,access_token,tasks"), ("limit", "100")];
            if let Some(a) = after.as_deref() {
                params.push(("after", a));
            }
            let a = self.call("GET", "me/accounts", Some((token, Some(app))), &params)?;
            for p in a.body["data"].as_array().into_iter().flatten() {
                let (Some(id), Some(t)) = (p["id"].as_str(), p["access_token"].as_str()) else {
                    continue;
                };
                pages.push(PageAccess {
                    id: id.to_string(),
                    name: p["name"].as_str().unwrap_or("").to_string(),
                    token: Secret::new(t.to_string()),
                    tasks: strings(&p["tasks"]),
                });
            }
            let next = a.body["paging"]["next"].is_string();
            after = a.body["paging"]["cursors"]["after"]
                .as_str()
                .map(str::to_string);
            if !next || after.is_none() {
                return Ok(pages);
            }
        }
        Ok(pages)
    }

    /// `DELETE /{user-id}/permissions`: the person's access to the app ends (every token).
    /// `token`: the person's, or the app token (which works when the person's has expired).
    pub fn revoke(&self, app: &App, user_id: &str, token: &str) -> Result<(), Failure> {
        self.call(
            "DELETE",
            &format!("{user_id}/permissions"),
            Some((token, Some(app))),
            &[],
        )
        .map(|_| ())
    }

    /// `POST /device/login` with the app's client token.
    pub fn device_login(
        &self,
        app_id: &str,
        client_token: &str,
        scope: &str,
    ) -> Result<DeviceStart, Failure> {
        let token = format!("{app_id}|{client_token}");
        let a = self.call(
            "POST",
            "device/login",
            Some((&token, None)),
            &[("scope", scope)],
        )?;
        let b = &a.body;
        let (Some(code), Some(user_code), Some(uri)) = (
            b["code"].as_str(),
            b["user_code"].as_str(),
            b["verification_uri"].as_str(),
        ) else {
            return Err(Failure::Unreadable(
                "device/login answered without code, user_code or verification_uri".into(),
            ));
        };
        Ok(DeviceStart {
            code: Secret::new(code.to_string()),
            user_code: user_code.to_string(),
            verification_uri: uri.to_string(),
            expires_in: b["expires_in"].as_i64().unwrap_or(420),
            interval: b["interval"].as_i64().unwrap_or(5),
        })
    }

    /// `POST /device/login_status`: still pending, too fast, or the token.
    pub fn device_status(
        &self,
        app_id: &str,
        client_token: &str,
        code: &str,
    ) -> Result<DeviceStatus, Failure> {
        let token = format!("{app_id}|{client_token}");
        match self.call(
            "POST",
            "device/login_status",
            Some((&token, None)),
            &[("code", code)],
        ) {
            Ok(a) => a.body["access_token"]
                .as_str()
                .map(|t| DeviceStatus::Done(Secret::new(t.to_string())))
                .ok_or_else(|| Failure::Unreadable("login_status answered no access_token".into())),
            Err(Failure::Graph(e)) if e.code == 31 && e.subcode == Some(1_349_174) => {
                Ok(DeviceStatus::Pending)
            }
            Err(Failure::Graph(e)) if e.code == 31 && e.subcode == Some(1_349_172) => {
                Ok(DeviceStatus::SlowDown)
            }
            Err(e) => Err(e),
        }
    }

    /// The code exchange at the end of a browser login (with PKCE's verifier).
    pub fn redeem_code(
        &self,
        app: &App,
        code: &str,
        redirect_uri: &str,
        verifier: &str,
    ) -> Result<Secret, Failure> {
        let a = self.call(
            "POST",
            "oauth/access_token",
            None,
            &[
                ("client_id", &app.id),
                ("client_secret", app.secret.expose()),
                ("redirect_uri", redirect_uri),
                ("code", code),
                ("code_verifier", verifier),
            ],
        )?;
        a.body["access_token"]
            .as_str()
            .map(|t| Secret::new(t.to_string()))
            .ok_or_else(|| Failure::Unreadable("the code exchange answered no access_token".into()))
    }
}

/// A JSON array's strings (none when it is not an array).
fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// This machine's now, when a server sent no `Date`.
pub fn system_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// An HTTP `Date` header (`Tue, 01 Dec 2026 14:05:00 GMT`), in unix seconds.
fn parse_http_date(s: &str) -> Option<i64> {
    jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(s)
        .ok()
        .map(|t| t.as_second())
}
