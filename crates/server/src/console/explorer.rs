//! The Graph API Explorer (`/tools/explorer/`), as on Facebook's developer site: choose an app,
//! tick permissions, "Generate Access Token" (the real login dialog, back to the Explorer with
//! PKCE), "Get Page Access Token" from the person's Pages, and a request bar whose answers are
//! the Graph API's own (the request goes through the same handler as any client's), pretty-
//! printed, with errors explained, "copy as curl", and the session's history.
//!
//! The token lives in the browser's desk (server memory) and in the page's form, never in a
//! URL; every form that changes something carries the session's CSRF token.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::Extension;
use maud::{html, Markup};
use serde_json::Value;

use graphtoken_core::graph::catalogue;
use graphtoken_core::model::PageId;
use graphtoken_core::permissions;
use graphtoken_core::services::dialog::CONSOLE_CALLBACK;
use graphtoken_core::token;

use super::{
    broken, call_graph, code_in_words, field as get, graph_answer, in_words, visit, with_cookies,
    Desk, St, Visit,
};
use crate::browser;
use crate::pages::{self, hidden, wide_console_document};
use crate::AppState;

/// The Explorer's path, as on Facebook's developer site.
pub const EXPLORER: &str = "/tools/explorer/";

/// The longest token, path or fields list the Explorer takes (and keeps on a desk).
const MAX_INPUT: usize = 4096;

/// How many requests the history keeps.
const HISTORY: usize = 20;

/// The largest answer shown (bigger ones are cut, with a note).
const SHOWN: usize = 256 * 1024;

/// One request of the history.
#[derive(Clone, Debug)]
pub struct Ran {
    pub method: String,
    pub path: String,
    /// `200`, or the error's code (and subcode).
    pub outcome: String,
}

/// What a request returned, for the page.
struct Answered {
    status: u16,
    pretty: String,
    error: Option<String>,
    curl: String,
}

/// A posted form, its CSRF token checked (`Err`: the page again, saying the form expired).
async fn form(
    st: &Arc<AppState>,
    headers: &HeaderMap,
    bytes: &Bytes,
) -> Result<(Visit, Vec<(String, String)>), Box<Response>> {
    let v = visit(st, headers)?;
    let form: Vec<(String, String)> = form_urlencoded::parse(bytes).into_owned().collect();
    let given = form
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str());
    if !st.browser.csrf_ok(&v.session, given) {
        let page = render(
            st,
            &v,
            None,
            Some("This form has expired. Please try again."),
        )
        .await;
        return Err(Box::new(with_cookies(
            browser::html(StatusCode::FORBIDDEN, page, None),
            v.cookies,
        )));
    }
    Ok((v, form))
}

/// `GET /tools/explorer/`.
pub async fn page(State(st): St, headers: HeaderMap) -> Response {
    let v = match visit(&st, &headers) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let body = render(&st, &v, None, None).await;
    with_cookies(browser::html(StatusCode::OK, body, None), v.cookies)
}

/// `POST /tools/explorer/`: runs the request bar's request with the form's token.
pub(crate) async fn run(
    State(st): St,
    https: Option<Extension<crate::Https>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let (v, f) = match form(&st, &headers, &bytes).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let token = get(&f, "token").unwrap_or("").trim().to_string();
    let method = match get(&f, "method").unwrap_or("GET") {
        m @ ("GET" | "POST" | "DELETE") => m.to_string(),
        _ => "GET".to_string(),
    };
    let path = get(&f, "path").unwrap_or("").trim().to_string();
    let fields = get(&f, "fields").unwrap_or("").trim().to_string();
    // What the desk keeps is bounded: a token, a path and its fields of a sane size.
    if token.len() > MAX_INPUT || path.len() > MAX_INPUT || fields.len() > MAX_INPUT {
        let why = format!(
            "The token, the path and the fields may be at most {MAX_INPUT} characters each."
        );
        let body = render(&st, &v, None, Some(&why)).await;
        return with_cookies(
            browser::html(StatusCode::BAD_REQUEST, body, None),
            v.cookies,
        );
    }
    st.console.with(&v.desk, |d| {
        if d.token.as_deref() != Some(token.as_str()) {
            d.user_token = None;
        }
        d.token = (!token.is_empty()).then(|| token.clone());
    });
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_string();
    let answered = match target(&path, &fields) {
        Ok(uri) => {
            let scheme = if https.is_some() { "https" } else { "http" };
            ask(&st, &method, &uri, &host, &token, scheme).await
        }
        Err(why) => {
            let body = render(&st, &v, None, Some(&why)).await;
            return with_cookies(
                browser::html(StatusCode::BAD_REQUEST, body, None),
                v.cookies,
            );
        }
    };
    st.console.with(&v.desk, |d| {
        d.history.push_front(Ran {
            method: method.clone(),
            path: with_fields(&path, &fields),
            outcome: answered.error.clone().map_or_else(
                || answered.status.to_string(),
                |e| e.split(':').next().unwrap_or("").to_string(),
            ),
        });
        d.history.truncate(HISTORY);
    });
    let body = render(&st, &v, Some((&method, &path, &fields, &answered)), None).await;
    with_cookies(browser::html(StatusCode::OK, body, None), v.cookies)
}

/// `path` with `fields=` added (unless it names fields already).
fn with_fields(path: &str, fields: &str) -> String {
    if fields.is_empty() || path.contains("fields=") {
        return path.to_string();
    }
    let sep = if path.contains('?') { '&' } else { '?' };
    let enc: String = form_urlencoded::byte_serialize(fields.as_bytes()).collect();
    format!("{path}{sep}fields={enc}")
}

/// The request URI for the request bar's path (`me`, `/v25.0/me/accounts?limit=2`).
fn target(path: &str, fields: &str) -> Result<Uri, String> {
    if path.is_empty() {
        return Err("Type a path to request, such as me or me/accounts.".into());
    }
    if path.contains("://") || path.starts_with("//") {
        return Err(
            "Type a path on this Graph API, such as me?fields=id,name, not a full URL.".into(),
        );
    }
    let full = with_fields(path, fields);
    let full = if full.starts_with('/') {
        full
    } else {
        format!("/{full}")
    };
    full.parse::<Uri>()
        .map_err(|_| format!("{path} is not a path this Graph API can take."))
}

/// Sends the request through the Graph API's own handler (faults, versions and all) and reads
/// its answer.
/// `scheme` (`http` or `https`, as the browser came) begins the curl line's URL.
async fn ask(
    st: &Arc<AppState>,
    method: &str,
    uri: &Uri,
    host: &str,
    token: &str,
    scheme: &str,
) -> Answered {
    let method = match method {
        "POST" => Method::POST,
        "DELETE" => Method::DELETE,
        _ => Method::GET,
    };
    let curl = format!(
        "curl -s -X {method} {}{}",
        if token.is_empty() {
            String::new()
        } else {
            format!(
                "-H {} ",
                shell_quote(&format!("Authorization: OAuth {token}"))
            )
        },
        shell_quote(&format!("{scheme}://{host}{uri}"))
    );
    let token = Some(token).filter(|t| !t.is_empty());
    let uri = uri.to_string();
    let Some((status, bytes)) = graph_answer(st, method, &uri, host, token, &[]).await else {
        return Answered {
            status: 400,
            pretty: String::new(),
            error: Some(
                "This request cannot be sent (a header has characters it cannot carry).".into(),
            ),
            curl,
        };
    };
    let (pretty, error) = match serde_json::from_slice::<Value>(&bytes) {
        Ok(v) => {
            let error = v.get("error").map(explain);
            let mut pretty = serde_json::to_string_pretty(&v).unwrap_or_default();
            if pretty.len() > SHOWN {
                let mut cut = SHOWN;
                while !pretty.is_char_boundary(cut) {
                    cut -= 1;
                }
                pretty.truncate(cut);
                pretty.push_str("\n… (cut: the answer is longer than 256 KiB)");
            }
            (pretty, error)
        }
        Err(_) => (String::from_utf8_lossy(&bytes).into_owned(), None),
    };
    Answered {
        status,
        pretty,
        error,
        curl,
    }
}

/// `s` in single quotes for a POSIX shell (a `'` inside becomes `'\''`).
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// An error's code and subcode in words: `190/463: the token expired`.
fn explain(e: &Value) -> String {
    let code = e.get("code").and_then(Value::as_u64).unwrap_or(0);
    let sub = e.get("error_subcode").and_then(Value::as_u64);
    let head = match sub {
        Some(s) => format!("{code}/{s}"),
        None => code.to_string(),
    };
    let words = sub
        .filter(|_| code == 190)
        .and_then(in_words)
        .or_else(|| code_in_words(code))
        .unwrap_or("see the message");
    format!("{head}: {words}")
}

/// `POST /tools/explorer/generate`: the login dialog for the chosen app and permissions,
/// coming back to the Explorer with a code (PKCE S256, so no secret is needed to redeem it).
pub async fn generate(State(st): St, headers: HeaderMap, bytes: Bytes) -> Response {
    let (v, f) = match form(&st, &headers, &bytes).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let app = get(&f, "app").unwrap_or("").trim().to_string();
    if app.is_empty() || app.len() > 20 || !app.bytes().all(|b| b.is_ascii_digit()) {
        let body = render(&st, &v, None, Some("Choose an app.")).await;
        return with_cookies(
            browser::html(StatusCode::BAD_REQUEST, body, None),
            v.cookies,
        );
    }
    let scopes: Vec<&str> = f
        .iter()
        .filter(|(k, _)| k == "scope")
        .map(|(_, v)| v.as_str())
        .filter(|s| permissions::is_known(s))
        .collect();
    let (Ok(state), Ok(verifier)) = (token::random_alnum(24), token::random_alnum(48)) else {
        return broken(&graphtoken_core::error::GraphError::internal());
    };
    let challenge = graphtoken_core::codes::s256(&verifier);
    st.console.with(&v.desk, |d| {
        d.app = Some(app.clone());
        d.login = Some((state.clone(), verifier, app.clone()));
    });
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", &app)
        .append_pair("redirect_uri", CONSOLE_CALLBACK)
        .append_pair("state", &state)
        .append_pair("scope", &scopes.join(","))
        .append_pair("response_type", "code")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .finish();
    with_cookies(
        browser::see_other(&format!("/dialog/oauth?{query}"), None),
        v.cookies,
    )
}

/// `GET /tools/explorer/callback`: redeems the code (with the PKCE verifier) for the person's
/// token, keeps it on the desk, and goes back to the Explorer (so a reload redeems nothing).
pub async fn callback(State(st): St, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let v = match visit(&st, &headers) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    // Read by hand: a malformed query is a login that did not come back, not a JSON error.
    let back: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    let given = get(&back, "state").unwrap_or("").to_string();
    // The pending login is taken only by its own `state`: a stray visit cancels nothing.
    let pending = st.console.with(&v.desk, |d| {
        let ours = d
            .login
            .as_ref()
            .is_some_and(|(state, _, _)| token::secrets_equal(state, &given));
        if ours {
            d.login.take()
        } else {
            None
        }
    });
    let notice = match (pending, get(&back, "code")) {
        (Some((_, verifier, app)), code) => match code {
            Some(code) => redeem(&st, &app, code, &verifier).await,
            None => Err(format!(
                "The login did not happen: {}",
                get(&back, "error_description")
                    .or(get(&back, "error_message"))
                    .unwrap_or("no code came back.")
            )),
        },
        _ => Err(
            "That login was not started here (or was already used): generate the token again."
                .into(),
        ),
    };
    st.console.with(&v.desk, |d| match notice {
        Ok((token, words)) => {
            d.token = Some(token);
            d.user_token = None;
            d.notice = Some(words);
        }
        Err(words) => d.notice = Some(words),
    });
    with_cookies(browser::see_other(EXPLORER, None), v.cookies)
}

/// The dialog's code, redeemed through the token endpoint: the token, and words for the page.
async fn redeem(
    st: &Arc<AppState>,
    app: &str,
    code: &str,
    verifier: &str,
) -> Result<(String, String), String> {
    let form: Vec<(String, String)> = [
        ("client_id", app),
        ("redirect_uri", CONSOLE_CALLBACK),
        ("code", code),
        ("code_verifier", verifier),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let (_, v) = call_graph(st, Method::POST, "/oauth/access_token", None, &form).await;
    match v.get("access_token").and_then(Value::as_str) {
        Some(t) => Ok((
            t.to_string(),
            "A new user access token, from the login dialog.".into(),
        )),
        None => Err(format!(
            "The code could not be redeemed: {}",
            v["error"]["message"]
                .as_str()
                .unwrap_or("no token came back")
        )),
    }
}

/// `POST /tools/explorer/page`: the Page token of the chosen Page (or the person's token
/// again), taken with the desk's user token.
pub async fn choose_page(State(st): St, headers: HeaderMap, bytes: Bytes) -> Response {
    let (v, f) = match form(&st, &headers, &bytes).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let page = get(&f, "page").unwrap_or("").to_string();
    let (token, user_token) = st
        .console
        .with(&v.desk, |d| (d.token.clone(), d.user_token.clone()));
    let user = user_token.or(token).unwrap_or_default();
    if page.is_empty() {
        st.console.with(&v.desk, |d| {
            d.token = Some(user.clone()).filter(|t| !t.is_empty());
            d.user_token = None;
            d.notice = Some("Back to the user access token.".into());
        });
        return with_cookies(browser::see_other(EXPLORER, None), v.cookies);
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_string();
    let answered = match target(&format!("{page}?fields=access_token,name"), "") {
        // Only the answer is read here: no curl line is shown, so its scheme does not matter.
        Ok(uri) => ask(&st, "GET", &uri, &host, &user, "http").await,
        Err(why) => {
            st.console.with(&v.desk, |d| d.notice = Some(why));
            return with_cookies(browser::see_other(EXPLORER, None), v.cookies);
        }
    };
    let v_json: Value = serde_json::from_str(&answered.pretty).unwrap_or(Value::Null);
    st.console.with(&v.desk, |d| {
        match v_json.get("access_token").and_then(Value::as_str) {
            Some(t) => {
                d.user_token = Some(user.clone());
                d.token = Some(t.to_string());
                d.notice = Some(format!(
                    "The Page access token of {}.",
                    v_json["name"].as_str().unwrap_or(&page)
                ));
            }
            None => {
                d.notice = Some(format!(
                    "No Page token: {}",
                    answered
                        .error
                        .unwrap_or_else(|| "the Page gave none".into())
                ))
            }
        }
    });
    with_cookies(browser::see_other(EXPLORER, None), v.cookies)
}

/// The node type a path names, for the `fields` suggestions.
async fn known_fields(
    st: &AppState,
    path: &str,
    token_type: Option<&str>,
) -> &'static [&'static str] {
    let path = path.split('?').next().unwrap_or("");
    let mut parts = path
        .trim_start_matches('/')
        .split('/')
        .filter(|p| !p.is_empty());
    let mut first = parts.next().unwrap_or("me");
    if first.starts_with('v') && first.contains('.') {
        first = parts.next().unwrap_or("me");
    }
    match parts.next() {
        Some("accounts") => return catalogue::PAGE,
        Some("feed" | "posts" | "published_posts") => return catalogue::POST,
        Some("comments") => return catalogue::COMMENT,
        Some("conversations") => return catalogue::CONVERSATION,
        Some(_) => return &[],
        None => {}
    }
    if first == "me" {
        return if token_type == Some("PAGE") {
            catalogue::PAGE
        } else {
            catalogue::USER
        };
    }
    if let Ok(id) = first.parse::<u64>() {
        if matches!(st.services.page(PageId(id)).await, Ok(Some(_))) {
            return catalogue::PAGE;
        }
        if matches!(
            st.services.app(graphtoken_core::model::AppId(id)).await,
            Ok(Some(_))
        ) {
            return catalogue::APPLICATION;
        }
    }
    catalogue::USER
}

/// The whole Explorer page.
async fn render(
    st: &Arc<AppState>,
    v: &Visit,
    answered: Option<(&str, &str, &str, &Answered)>,
    problem: Option<&str>,
) -> String {
    let desk: Desk = st.console.with(&v.desk, |d| {
        let copy = d.clone();
        d.notice = None;
        copy
    });
    let token = desk.token.clone().unwrap_or_default();
    // What the token is, and the person's Pages when it is a user token.
    let info = if token.is_empty() {
        None
    } else {
        graphtoken_core::graph::debug_data(&st.services, &token)
            .await
            .ok()
    };
    let kind = info
        .as_ref()
        .and_then(|d| d.get("type"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let valid = info
        .as_ref()
        .and_then(|d| d.get("is_valid"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    // A session info token reads nothing: no Pages are asked for with it.
    let session_info = info.is_some() && token::is_session_info(&token);
    // The person's Pages: from the token itself, or from the user token a Page token was
    // taken with (so one Page token can be swapped for another in one step).
    let user_token = valid && kind.as_deref() == Some("USER") && !session_info;
    let pages = match (&desk.user_token, user_token) {
        (Some(user), _) => accounts(st, user).await,
        (None, true) => accounts(st, &token).await,
        (None, false) => Vec::new(),
    };
    let apps = st
        .services
        .overview(super::LISTED)
        .await
        .map(|o| o.apps)
        .unwrap_or_default();
    let chosen_app = desk.app.clone().or_else(|| {
        info.as_ref()
            .and_then(|d| d.get("app_id"))
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    let (method, path, fields) = match answered {
        Some((m, p, f, _)) => (m.to_string(), p.to_string(), f.to_string()),
        None => ("GET".into(), "me".into(), "id,name".into()),
    };
    let suggestions = known_fields(st, &path, kind.as_deref()).await;
    let token_words = match (&info, kind.as_deref()) {
        (None, _) if token.is_empty() => "No token yet: generate one, or paste one.".to_string(),
        (None, _) => "graphtoken does not know this token.".to_string(),
        (Some(_), k) if session_info => format!(
            "A session info token of {}, {}: it is for debug_token only, and every Graph call \
             with it is refused (Debug only access token).",
            if k == Some("PAGE") {
                "a Page"
            } else {
                "a person"
            },
            if valid { "valid" } else { "not valid" }
        ),
        (Some(_), k) => format!(
            "{} token, {}",
            match k {
                Some("USER") => "A user",
                Some("PAGE") => "A Page",
                Some("APP") => "An app",
                _ => "A",
            },
            if valid { "valid" } else { "not valid" }
        ),
    };
    let csrf = &v.csrf;
    let content = html! {
        h1 { "Graph API Explorer" }
        p class="lede" { "Get a token the way your app's users give one, then call the Graph API with it." }
        @if let Some(n) = &desk.notice { p class="notice" role="status" { (n) } }
        (pages::error(problem))
        div class="explorer" {
            section class="panel" aria-labelledby="token-h" {
                h2 id="token-h" { "Access token" }
                form method="post" action="/tools/explorer/generate" {
                    (hidden("csrf", csrf))
                    div class="field" {
                        label for="app" { "App" }
                        select id="app" name="app" {
                            @for a in &apps {
                                option value=(a.id.to_string()) selected[chosen_app.as_deref() == Some(a.id.to_string().as_str())] {
                                    (a.name) " (" (a.id) ")"
                                }
                            }
                        }
                    }
                    fieldset class="scopes" {
                        legend { "Permissions" }
                        div class="scope-grid" {
                            @for p in permissions::KNOWN.iter().filter(|p| **p != permissions::PUBLIC_PROFILE) {
                                label class="scope" {
                                    input type="checkbox" name="scope" value=(p) checked[*p == "pages_show_list"];
                                    " " (p)
                                }
                            }
                        }
                    }
                    div class="actions inline" {
                        button type="submit" id="generate" class="primary" { "Generate Access Token" }
                    }
                }
                p class="note" id="token-kind" { (token_words) }
                @if !pages.is_empty() || desk.user_token.is_some() {
                    form method="post" action="/tools/explorer/page" {
                        (hidden("csrf", csrf))
                        div class="field" {
                            label for="page" { "Get Page Access Token" }
                            select id="page" name="page" {
                                option value="" { "User token" }
                                @for (id, name) in &pages {
                                    option value=(id) { (name) " (" (id) ")" }
                                }
                            }
                        }
                        div class="actions inline" {
                            button type="submit" id="get-page" class="secondary" { "Use this token" }
                        }
                    }
                }
                @if !token.is_empty() {
                    form method="post" action="/tools/debug/accesstoken/" {
                        (hidden("csrf", csrf))
                        (hidden("token", &token))
                        div class="actions inline" {
                            button type="submit" id="open-debugger" class="secondary" { "Open in Access Token Debugger" }
                        }
                    }
                }
            }
            section class="panel" aria-labelledby="request-h" {
                h2 id="request-h" { "Request" }
                form method="post" action="/tools/explorer/" {
                    (hidden("csrf", csrf))
                    (pages::token_area(&token))
                    div class="request-bar" {
                        div class="field method" {
                            label for="method" { "Method" }
                            select id="method" name="method" {
                                @for m in ["GET", "POST", "DELETE"] {
                                    option value=(m) selected[method == m] { (m) }
                                }
                            }
                        }
                        div class="field path" {
                            label for="path" { "Path" }
                            input id="path" name="path" type="text" value=(path) spellcheck="false" autocomplete="off" placeholder="me/accounts";
                        }
                    }
                    div class="field" {
                        label for="fields" { "Fields" }
                        input id="fields" name="fields" type="text" value=(fields) list="known-fields" spellcheck="false" autocomplete="off";
                        datalist id="known-fields" {
                            @for f in suggestions { option value=(f) {} }
                        }
                        p class="hint" { "Comma separated; the box offers this node's known fields (" (suggestions.len()) ")." }
                    }
                    div class="actions inline" {
                        button type="submit" id="submit" class="primary" { "Submit" }
                    }
                }
                @if let Some((_, _, _, a)) = answered {
                    (answer(a))
                }
            }
        }
        @if !desk.history.is_empty() {
            section aria-labelledby="history-h" {
                h2 id="history-h" { "History" }
                table {
                    thead { tr { th scope="col" { "Method" } th scope="col" { "Path" } th scope="col" { "Result" } th scope="col" { span class="visually-hidden" { "Again" } } } }
                    tbody {
                        @for r in &desk.history {
                            tr {
                                td { (r.method) }
                                td { code { (r.path) } }
                                td { (r.outcome) }
                                td {
                                    form method="post" action="/tools/explorer/" {
                                        (hidden("csrf", csrf))
                                        (hidden("token", &token))
                                        (hidden("method", &r.method))
                                        (hidden("path", &r.path))
                                        button type="submit" class="link" { "Run again" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        p class="note" { a href="/" { "← Console" } }
    };
    wide_console_document("Graph API Explorer", content)
}

/// The answer: status, the JSON pretty-printed (an error highlighted and explained), and the
/// request as curl.
fn answer(a: &Answered) -> Markup {
    html! {
        section class=(if a.error.is_some() { "answer failed" } else { "answer" }) aria-labelledby="answer-h" {
            h3 id="answer-h" { "Response " span class="status" { "HTTP " (a.status) } }
            @if let Some(e) = &a.error {
                p class="error" role="alert" { "Error " (e) }
            }
            pre class="json" tabindex="0" { code { (a.pretty) } }
            details {
                summary { "Copy as curl" }
                label for="curl" class="visually-hidden" { "The request as a curl command" }
                textarea id="curl" readonly rows="3" spellcheck="false" { (a.curl) }
            }
        }
    }
}

/// The person's Pages (`/me/accounts`) for the Page token menu: id and name.
async fn accounts(st: &Arc<AppState>, token: &str) -> Vec<(String, String)> {
    let (_, v) = call_graph(
        st,
        Method::GET,
        "/me/accounts?fields=id,name&limit=100",
        Some(token),
        &[],
    )
    .await;
    v.get("data")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| {
            Some((
                p.get("id")?.as_str()?.to_string(),
                p.get("name")?.as_str()?.to_string(),
            ))
        })
        .collect()
}
