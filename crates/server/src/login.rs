//! The browser side of Facebook Login (spec §2.1, §2.14): the dialog, sign-in, consent, sign-out
//! and the device page. Handlers translate HTTP and pages; the rules and the writes are core's
//! (`services::dialog`, `services::signin`).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;

use graphtoken_core::codes;
use graphtoken_core::error::GraphError;
use graphtoken_core::model::{AppId, User};
use graphtoken_core::permissions::{self, PUBLIC_PROFILE};
use graphtoken_core::request::Params;
use graphtoken_core::services::dialog::{self, AuthType, Dialog, Next, Refusal};
use graphtoken_core::services::signin::SignIn;

use crate::browser::{self, Session};
use crate::pages;
use crate::AppState;

type St = State<Arc<AppState>>;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/dialog/oauth", get(dialog_page))
        .route("/{version}/dialog/oauth", get(versioned_dialog))
        .route("/dialog/oauth/confirm", post(confirm))
        .route("/login", post(sign_in))
        .route("/logout", post(sign_out))
        .route("/device", get(device_page).post(device_code))
        .route("/device/confirm", post(device_confirm))
}

/// What a page handler answers when something inside broke.
fn broken(e: GraphError) -> Response {
    tracing::error!(error = ?e, "login page failed");
    error_page(&Refusal {
        status: 500,
        title: "Sorry, something went wrong",
        message: "We're working on getting this fixed as soon as we can. Please try again.".into(),
        detail: None,
    })
}

fn error_page(r: &Refusal) -> Response {
    let body = pages::error_page(&pages::ErrorPage {
        title: r.title,
        message: &r.message,
        detail: r.detail,
    });
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_REQUEST);
    browser::html(status, body, None)
}

fn expired_form() -> Response {
    error_page(&Refusal {
        status: 403,
        title: "This page has expired",
        message: "The form was open too long or came from another window. Go back, reload the \
                  page and try again."
            .into(),
        detail: None,
    })
}

fn query_params(req: &Request) -> Params {
    Params(
        form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
            .into_owned()
            .collect(),
    )
}

fn form(bytes: &Bytes) -> Params {
    Params(form_urlencoded::parse(bytes).into_owned().collect())
}

fn all<'a>(p: &'a Params, name: &'a str) -> impl Iterator<Item = &'a str> {
    p.0.iter()
        .filter(move |(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

// ---- the dialog ---------------------------------------------------------------------------

async fn versioned_dialog(st: St, req: Request) -> Response {
    let version = req.uri().path().split('/').nth(1).unwrap_or("");
    if graphtoken_core::request::version(version).is_none() {
        return crate::graph_request(st, req).await;
    }
    dialog_page(st, req).await
}

/// `GET /dialog/oauth`: checks the app and redirect, then signs the person in, asks, or
/// goes straight back.
async fn dialog_page(State(st): St, req: Request) -> Response {
    let params = query_params(&req);
    let d = match dialog::open(&st.services, &params).await {
        Ok(d) => d,
        Err(r) => return error_page(&r),
    };
    let now = st.services.now();
    let (session, new) = match st.browser.session_or_new(req.headers(), now) {
        Ok(s) => s,
        Err(e) => return broken(e),
    };
    let here = format!("/dialog/oauth?{}", dialog::query_of(&params));
    let user = match signed_in_user(&st, &session).await {
        Ok(u) => u,
        Err(e) => return broken(e),
    };
    let Some(user) = user else {
        return sign_in_page(
            &st,
            &session,
            new,
            Some(&d.app.name),
            "",
            None,
            &here,
            false,
        );
    };
    if d.auth_type == AuthType::Reauthenticate && !st.browser.just_signed_in(&session, now) {
        let email = user.email.as_deref().unwrap_or("");
        return sign_in_page(
            &st,
            &session,
            new,
            Some(&d.app.name),
            email,
            None,
            &here,
            true,
        );
    }
    // A fresh sign-in is used up by this dialog.
    let session = Session {
        fresh: false,
        ..session
    };
    let cookie = Some(st.browser.set_cookie(&session));
    match dialog::next(&st.services, &d, user.id).await {
        Err(e) => broken(e),
        Ok(Next::Refuse(r)) => error_page(&r),
        Ok(Next::Return) => finish(&st, &d, &user, &dialog::Answer::default(), cookie).await,
        Ok(Next::Ask(ask)) => {
            let query = dialog::query_of(&params);
            let hidden = [("dialog", query.as_str())];
            consent_page(
                &st,
                &session,
                &d,
                &user,
                &ask,
                &hidden,
                "/dialog/oauth/confirm",
                &here,
                &format!("dialog:{query}"),
                cookie,
            )
        }
    }
}

/// The person behind a signed-in session (`None` when signed out or the person is gone).
pub(crate) async fn signed_in_user(
    st: &AppState,
    session: &Session,
) -> Result<Option<User>, GraphError> {
    let Some(id) = session.user else {
        return Ok(None);
    };
    // The sign-in must still be on in the store (signing out, a logout, a reset, a new
    // password or a locked account ends it), and the password the same.
    if !st
        .services
        .browser_sign_in_live(&session.browser, id)
        .await?
    {
        return Ok(None);
    }
    Ok(st
        .services
        .user(id)
        .await?
        .filter(|u| st.browser.stamp(u) == session.stamp)
        .map(|u| (*u).clone()))
}

#[allow(clippy::too_many_arguments)]
fn sign_in_page(
    st: &AppState,
    session: &Session,
    set_cookie: bool,
    app_name: Option<&str>,
    email: &str,
    error: Option<&str>,
    next: &str,
    reauthenticate: bool,
) -> Response {
    let csrf = st.browser.csrf(session);
    let body = pages::sign_in(&pages::SignIn {
        app_name,
        email,
        error,
        next,
        csrf: &csrf,
        reauthenticate,
    });
    let cookie = set_cookie.then(|| st.browser.set_cookie(session));
    let status = if error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    browser::html(status, body, cookie)
}

#[allow(clippy::too_many_arguments)]
fn consent_page(
    st: &AppState,
    session: &Session,
    d: &Dialog,
    user: &User,
    ask: &dialog::Ask,
    hidden: &[(&str, &str)],
    action: &str,
    here: &str,
    bound: &str,
    cookie: Option<String>,
) -> Response {
    let csrf = st.browser.csrf(session);
    let consent = st.browser.consent_token(session, bound);
    let mut hidden = hidden.to_vec();
    hidden.push(("consent", &consent));
    let mut perms = vec![pages::Permission {
        name: PUBLIC_PROFILE,
        description: permissions::describe(PUBLIC_PROFILE),
        checked: true,
        locked: true,
    }];
    perms.extend(ask.toggles.iter().map(|p| pages::Permission {
        name: p,
        description: permissions::describe(p),
        checked: true,
        locked: false,
    }));
    let page_options: Vec<pages::PageOption> = ask
        .pages
        .iter()
        .map(|p| pages::PageOption {
            id: p.id.to_string(),
            name: &p.name,
            chosen: p.chosen,
        })
        .collect();
    let body = pages::consent(&pages::Consent {
        action,
        hidden: &hidden,
        csrf: &csrf,
        app_name: &d.app.name,
        user_name: &user.name,
        permissions: &perms,
        rerequest: ask.rerequest,
        logout_next: here,
        pages: &page_options,
    });
    browser::html(StatusCode::OK, body, cookie)
}

/// The person's answer on a consent form: the permissions and, when the form had a Page step,
/// the Pages left ticked (a Page id that is not a number is no Page).
fn answer(f: &Params) -> dialog::Answer {
    let pages = f.get("pages_offered").is_some().then(|| {
        all(f, "page")
            .filter_map(|p| p.parse().ok().map(graphtoken_core::model::PageId))
            .collect()
    });
    dialog::Answer {
        scopes: all(f, "scope").map(str::to_string).collect(),
        pages,
    }
}

/// Records the answer and sends the browser back to the app.
async fn finish(
    st: &AppState,
    d: &Dialog,
    user: &User,
    answer: &dialog::Answer,
    cookie: Option<String>,
) -> Response {
    match st.services.approve(d, user, answer).await {
        Ok(location) => browser::redirect(&location, cookie),
        Err(e) => broken(e),
    }
}

/// `POST /dialog/oauth/confirm`: Continue or Cancel on the consent page.
async fn confirm(State(st): St, headers: HeaderMap, bytes: Bytes) -> Response {
    let f = form(&bytes);
    let now = st.services.now();
    let Some(session) = st.browser.session(&headers, now) else {
        return expired_form();
    };
    if !st.browser.csrf_ok(&session, f.get("csrf")) {
        return expired_form();
    }
    let query = f.get("dialog").unwrap_or("");
    if !st
        .browser
        .consent_ok(&session, f.get("consent"), &format!("dialog:{query}"))
    {
        return expired_form();
    }
    let params = Params(
        form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect(),
    );
    let d = match dialog::open(&st.services, &params).await {
        Ok(d) => d,
        Err(r) => return error_page(&r),
    };
    let user = match signed_in_user(&st, &session).await {
        Ok(Some(u)) => u,
        Ok(None) => return browser::see_other(&format!("/dialog/oauth?{query}"), None),
        Err(e) => return broken(e),
    };
    if f.get("action") == Some("cancel") {
        return browser::redirect(&dialog::cancel(&d), None);
    }
    match dialog::next(&st.services, &d, user.id).await {
        Err(e) => broken(e),
        Ok(Next::Refuse(r)) => error_page(&r),
        Ok(_) => finish(&st, &d, &user, &answer(&f), None).await,
    }
}

// ---- signing in and out -------------------------------------------------------------------

/// `POST /login`: email and password, then on to `next`.
async fn sign_in(State(st): St, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return expired_form();
    };
    let f = form(&bytes);
    let now = st.services.now();
    let Some(session) = st.browser.session(&parts.headers, now) else {
        return expired_form();
    };
    if !st.browser.csrf_ok(&session, f.get("csrf")) {
        return expired_form();
    }
    let next = browser::local_next(f.get("next").unwrap_or("")).unwrap_or("/device");
    let email = f.get("email").unwrap_or("").trim();
    let typed = f.get("pass").unwrap_or("");
    let app_name = app_name_of(&st, next).await;
    let reauthenticate = next.contains("auth_type=reauthenticate");
    let retry = |error: &str| {
        sign_in_page(
            &st,
            &session,
            false,
            app_name.as_deref(),
            email,
            Some(error),
            next,
            reauthenticate,
        )
    };
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_canonical());
    // The proxy appends to the last line (or adds one): that is the one to read.
    let forwarded = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .next_back()
        .and_then(|v| v.to_str().ok());
    let address = client_address(peer, forwarded, &st.trusted_proxies);
    let user = match st.services.sign_in(email, typed, &address).await {
        Ok(SignIn::Person(user)) => user,
        Ok(SignIn::Refused { message, throttled }) => {
            let mut r = retry(&message);
            if throttled {
                *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            }
            return r;
        }
        Err(e) => return broken(e),
    };
    let session = match st.browser.signed_in(&user, now) {
        Ok(s) => s,
        Err(e) => return broken(e),
    };
    if let Err(e) = st
        .services
        .start_browser_sign_in(&session.browser, user.id)
        .await
    {
        return broken(e);
    }
    browser::see_other(next, Some(st.browser.set_cookie(&session)))
}

/// The address a sign-in attempt comes from, for the throttle: the peer's, or, when the peer is
/// a trusted proxy (`--trusted-proxy`), the last address it added to `X-Forwarded-For` (the
/// one it saw; earlier entries are the client's to make up).
pub(crate) fn client_address(
    peer: Option<std::net::IpAddr>,
    forwarded: Option<&str>,
    trusted: &[std::net::IpAddr],
) -> String {
    let Some(peer) = peer else {
        return String::new();
    };
    if trusted.contains(&peer) {
        let last = forwarded
            .and_then(|f| f.rsplit(',').next())
            .map(str::trim)
            .and_then(|a| a.parse::<std::net::IpAddr>().ok());
        if let Some(client) = last {
            return client.to_string();
        }
    }
    peer.to_string()
}

/// The app a `next` dialog URL names, for the sign-in page's heading.
async fn app_name_of(st: &AppState, next: &str) -> Option<String> {
    let (_, query) = next.split_once('?')?;
    let id: AppId = form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "client_id")?
        .1
        .trim()
        .parse()
        .ok()?;
    st.services.app(id).await.ok()?.map(|a| a.name.clone())
}

/// `POST /logout`: "Not you?" signs the person out and goes back to `next`.
async fn sign_out(State(st): St, headers: HeaderMap, bytes: Bytes) -> Response {
    let f = form(&bytes);
    let Some(session) = st.browser.session(&headers, st.services.now()) else {
        return expired_form();
    };
    if !st.browser.csrf_ok(&session, f.get("csrf")) {
        return expired_form();
    }
    let next = browser::local_next(f.get("next").unwrap_or("")).unwrap_or("/device");
    if let Some(user) = session.user {
        if let Err(e) = st
            .services
            .end_browser_sign_in(&session.browser, user)
            .await
        {
            return broken(e);
        }
    }
    match st.browser.signed_out() {
        Ok(s) => browser::see_other(next, Some(st.browser.set_cookie(&s))),
        Err(e) => broken(e),
    }
}

// ---- the device page (spec §2.14) ---------------------------------------------------------

/// `GET /device`: the person types the code their device shows.
async fn device_page(State(st): St, req: Request) -> Response {
    let typed = query_params(&req)
        .get("user_code")
        .unwrap_or("")
        .to_string();
    let now = st.services.now();
    let (session, new) = match st.browser.session_or_new(req.headers(), now) {
        Ok(s) => s,
        Err(e) => return broken(e),
    };
    let here = if typed.is_empty() {
        "/device".to_string()
    } else {
        let q = form_urlencoded::Serializer::new(String::new())
            .append_pair("user_code", &typed)
            .finish();
        format!("/device?{q}")
    };
    match signed_in_user(&st, &session).await {
        Err(e) => broken(e),
        Ok(None) => sign_in_page(&st, &session, new, None, "", None, &here, false),
        Ok(Some(user)) => {
            let cookie = new.then(|| st.browser.set_cookie(&session));
            device_entry(&st, &session, &user, &typed, None, cookie)
        }
    }
}

fn device_entry(
    st: &AppState,
    session: &Session,
    user: &User,
    typed: &str,
    error: Option<&str>,
    cookie: Option<String>,
) -> Response {
    let csrf = st.browser.csrf(session);
    let body = pages::device_entry(&pages::DeviceEntry {
        csrf: &csrf,
        user_code: typed,
        error,
        user_name: &user.name,
    });
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    browser::html(status, body, cookie)
}

/// The signed-in person of a device form, with its CSRF checked.
async fn device_form(
    st: &AppState,
    headers: &HeaderMap,
    f: &Params,
) -> Result<(Session, User), Response> {
    let session = st
        .browser
        .session(headers, st.services.now())
        .filter(|s| st.browser.csrf_ok(s, f.get("csrf")))
        .ok_or_else(expired_form)?;
    match signed_in_user(st, &session).await {
        Ok(Some(u)) => Ok((session, u)),
        Ok(None) => Err(browser::see_other("/device", None)),
        Err(e) => Err(broken(e)),
    }
}

/// A device login that can still be answered.
async fn pending_device(
    st: &AppState,
    typed: &str,
) -> Result<Option<codes::DeviceCode>, GraphError> {
    let code = codes::normalize_user_code(typed);
    st.services.pending_device_code(&code).await
}

/// A device form's person and the pending device login its `user_code` names; an unknown or
/// expired code shows the entry page again.
async fn device_request(
    st: &AppState,
    headers: &HeaderMap,
    f: &Params,
) -> Result<(Session, User, codes::DeviceCode), Response> {
    let (session, user) = device_form(st, headers, f).await?;
    let typed = f.get("user_code").unwrap_or("");
    match pending_device(st, typed).await {
        Ok(Some(d)) => Ok((session, user, d)),
        Ok(None) => Err(device_entry(
            st,
            &session,
            &user,
            typed,
            Some(BAD_USER_CODE),
            None,
        )),
        Err(e) => Err(broken(e)),
    }
}

const BAD_USER_CODE: &str =
    "That code isn't valid or has expired. Check the code on your device and try again.";

/// `POST /device`: a code was typed; ask the person about the app behind it.
async fn device_code(State(st): St, headers: HeaderMap, bytes: Bytes) -> Response {
    let f = form(&bytes);
    let (session, user, device) = match device_request(&st, &headers, &f).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let d = match device_dialog(&st, &device).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let ask = match dialog::next(&st.services, &d, user.id).await {
        Err(e) => return broken(e),
        Ok(Next::Refuse(r)) => return error_page(&r),
        Ok(Next::Ask(ask)) => ask,
        // Even with nothing new to grant, the person confirms which device they log in.
        Ok(Next::Return) => dialog::Ask {
            toggles: Vec::new(),
            rerequest: false,
            pages: Vec::new(),
        },
    };
    let hidden = [("user_code", device.user_code.as_str())];
    consent_page(
        &st,
        &session,
        &d,
        &user,
        &ask,
        &hidden,
        "/device/confirm",
        "/device",
        &device_binding(&device),
        None,
    )
}

fn device_binding(device: &codes::DeviceCode) -> String {
    format!("device:{}", graphtoken_core::token::hex(&device.hash))
}

/// The dialog a device login amounts to (see `Services::device_dialog`).
async fn device_dialog(st: &AppState, device: &codes::DeviceCode) -> Result<Dialog, Response> {
    match st.services.device_dialog(device).await {
        Ok(Ok(d)) => Ok(d),
        Ok(Err(r)) => Err(error_page(&r)),
        Err(e) => Err(broken(e)),
    }
}

/// `POST /device/confirm`: Continue or Cancel for a device.
async fn device_confirm(State(st): St, headers: HeaderMap, bytes: Bytes) -> Response {
    let f = form(&bytes);
    let (session, user, device) = match device_request(&st, &headers, &f).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    // The page was shown for this very device login (a user code can be drawn again later).
    if !st
        .browser
        .consent_ok(&session, f.get("consent"), &device_binding(&device))
    {
        return expired_form();
    }
    let d = match device_dialog(&st, &device).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let approved = f.get("action") != Some("cancel");
    let answered = st
        .services
        .answer_device(&device, &d, &user, approved, &answer(&f))
        .await;
    match answered {
        Ok(None) => {}
        Ok(Some(r)) => return error_page(&r),
        Err(e) => return broken(e),
    }
    let body = pages::device_done(&pages::DeviceDone {
        app_name: &d.app.name,
        approved,
    });
    browser::html(StatusCode::OK, body, None)
}

#[cfg(test)]
mod address_tests {
    use super::client_address;
    use std::net::IpAddr;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    #[test]
    fn a_trusted_proxy_names_the_client() {
        let proxy = [ip("127.0.0.1")];
        let from = |peer: &str, xff: Option<&str>| client_address(Some(ip(peer)), xff, &proxy);
        // Through the proxy: the address it saw, not what the client wrote before it.
        assert_eq!(
            from("127.0.0.1", Some("6.6.6.6, 203.0.113.9")),
            "203.0.113.9"
        );
        assert_eq!(from("127.0.0.1", Some(" 2001:db8::1 ")), "2001:db8::1");
        // A proxy that sent nothing usable: the proxy itself.
        assert_eq!(from("127.0.0.1", None), "127.0.0.1");
        assert_eq!(from("127.0.0.1", Some("not an address")), "127.0.0.1");
        // Anyone else's header is not believed.
        assert_eq!(from("198.51.100.4", Some("203.0.113.9")), "198.51.100.4");
        assert_eq!(client_address(None, Some("203.0.113.9"), &proxy), "");
    }
}
