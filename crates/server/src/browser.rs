//! What the server keeps about a browser: a signed session cookie (who is signed in, since when)
//! and the CSRF token of every form, derived from it. Signing in itself (the throttle, argon2)
//! is core's (`services::signin`).

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use graphtoken_core::error::GraphError;
use graphtoken_core::model::{Unix, User, UserId};
use graphtoken_core::services::Services;
use graphtoken_core::token;

const COOKIE_NAME: &str = "gt_session";
/// The console's own cookie: which desk (the Explorer's token and history, the admin key
/// entered) is this browser's. It outlives sign-ins, which give the session a new id.
const DESK_COOKIE: &str = "gt_console";
/// The settings row holding the key that signs cookies (made once, on first start).
const KEY_SETTING: &str = "browser_key";
/// How long a sign-in lasts.
const SESSION_SECONDS: i64 = 30 * 24 * 3600;
/// How recent a sign-in must be to count as re-authentication.
const FRESH_SECONDS: i64 = 5 * 60;

/// A browser's session, as its cookie says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// A random id per browser sign-in state; CSRF tokens derive from it.
    pub browser: String,
    /// The person signed in, if any.
    pub user: Option<UserId>,
    /// When they last typed their password.
    pub auth_time: Unix,
    /// True right after the password was typed, until the next dialog uses it (so that
    /// `auth_type=reauthenticate` is met by exactly one fresh sign-in).
    pub fresh: bool,
    /// A digest of the password the person signed in with: a new password signs every browser
    /// out, as Facebook does (spec §7, 460).
    pub stamp: String,
}

impl Session {
    fn anonymous() -> Result<Self, GraphError> {
        Ok(Session {
            browser: token::random_alnum(22)?,
            user: None,
            auth_time: 0,
            fresh: false,
            stamp: "0".into(),
        })
    }
}

/// Cookie signing and CSRF.
pub struct Browser {
    key: String,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Browser").finish_non_exhaustive()
    }
}

impl Browser {
    /// Loads the cookie key from the store, making one on first start.
    pub async fn load(g: &Services) -> Result<Self, String> {
        let key = match g.setting(KEY_SETTING).await {
            Ok(Some(k)) if k.len() >= 64 => k,
            Ok(_) => {
                let k = token::random_hex(64).map_err(|e| e.to_string())?;
                g.put_setting(KEY_SETTING, &k)
                    .await
                    .map_err(|e| e.to_string())?;
                k
            }
            Err(e) => return Err(e.to_string()),
        };
        Ok(Self::with_key(key))
    }

    pub fn with_key(key: String) -> Self {
        Browser { key }
    }

    fn mac(&self, purpose: &str, payload: &str) -> String {
        token::appsecret_proof(&self.key, &format!("{purpose}:{payload}"))
    }

    /// The session in the request's cookie, if it is there, signed by us and not too old.
    pub fn session(&self, headers: &HeaderMap, now: Unix) -> Option<Session> {
        let value = cookie(headers, COOKIE_NAME)?;
        let (payload, mac) = value.rsplit_once('.')?;
        if !token::secrets_equal(mac, &self.mac("session", payload)) {
            return None;
        }
        let mut parts = payload.split('.');
        let (
            Some("v2"),
            Some(browser),
            Some(user),
            Some(auth_time),
            Some(fresh),
            Some(stamp),
            None,
        ) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        )
        else {
            return None;
        };
        let auth_time: Unix = auth_time.parse().ok()?;
        let user: u64 = user.parse().ok()?;
        let signed_in = user != 0 && now - auth_time < SESSION_SECONDS;
        Some(Session {
            browser: browser.to_string(),
            user: signed_in.then_some(UserId(user)),
            auth_time,
            fresh: signed_in && fresh == "1",
            stamp: stamp.to_string(),
        })
    }

    /// The request's session, or a new anonymous one (which the response must set).
    pub fn session_or_new(
        &self,
        headers: &HeaderMap,
        now: Unix,
    ) -> Result<(Session, bool), GraphError> {
        match self.session(headers, now) {
            Some(s) => Ok((s, false)),
            None => Ok((Session::anonymous()?, true)),
        }
    }

    /// A new session for a person who just typed their password (a new browser id, so CSRF
    /// tokens from before the sign-in stop working).
    pub fn signed_in(&self, user: &User, now: Unix) -> Result<Session, GraphError> {
        Ok(Session {
            user: Some(user.id),
            auth_time: now,
            fresh: true,
            stamp: self.stamp(user),
            ..Session::anonymous()?
        })
    }

    /// The digest of a person's password that their sessions carry.
    pub fn stamp(&self, user: &User) -> String {
        let digest = self.mac("password", user.password_hash.as_deref().unwrap_or(""));
        digest.get(..16).unwrap_or_default().to_string()
    }

    pub fn signed_out(&self) -> Result<Session, GraphError> {
        Session::anonymous()
    }

    /// The `Set-Cookie` value for a session: HttpOnly, SameSite=Lax, for the whole site.
    pub fn set_cookie(&self, s: &Session) -> String {
        let payload = format!(
            "v2.{}.{}.{}.{}.{}",
            s.browser,
            s.user.map_or(0, |u| u.0),
            s.auth_time,
            u8::from(s.fresh),
            s.stamp
        );
        let mac = self.mac("session", &payload);
        format!("{COOKIE_NAME}={payload}.{mac}; Path=/; HttpOnly; SameSite=Lax")
    }

    /// The browser's console desk id, if its cookie is there and signed by us.
    pub fn desk(&self, headers: &HeaderMap) -> Option<String> {
        let value = cookie(headers, DESK_COOKIE)?;
        let (id, mac) = value.rsplit_once('.')?;
        token::secrets_equal(mac, &self.mac("desk", id)).then(|| id.to_string())
    }

    /// A new desk id and the `Set-Cookie` value that names it (HttpOnly, SameSite=Lax: it comes
    /// back with the login dialog's redirect to the Explorer).
    pub fn new_desk(&self) -> Result<(String, String), GraphError> {
        let id = token::random_alnum(22)?;
        let mac = self.mac("desk", &id);
        Ok((
            id.clone(),
            format!("{DESK_COOKIE}={id}.{mac}; Path=/; HttpOnly; SameSite=Lax"),
        ))
    }

    /// The CSRF token every form of this session carries.
    pub fn csrf(&self, s: &Session) -> String {
        self.mac("csrf", &s.browser)
    }

    pub fn csrf_ok(&self, s: &Session, given: Option<&str>) -> bool {
        given.is_some_and(|g| token::secrets_equal(g, &self.csrf(s)))
    }

    /// Binds a consent page to what it asks about (`what`: the dialog's query, or the device
    /// login) and to the sign-in it was shown under: its Continue works for nothing else.
    pub fn consent_token(&self, s: &Session, what: &str) -> String {
        self.mac("consent", &format!("{}.{}.{what}", s.browser, s.auth_time))
    }

    pub fn consent_ok(&self, s: &Session, given: Option<&str>, what: &str) -> bool {
        given.is_some_and(|g| token::secrets_equal(g, &self.consent_token(s, what)))
    }

    /// True when the password was typed for this very dialog, a moment ago
    /// (`auth_type=reauthenticate`).
    pub fn just_signed_in(&self, s: &Session, now: Unix) -> bool {
        s.fresh && now - s.auth_time <= FRESH_SECONDS
    }
}

/// The value of the cookie `name` in a request.
fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

/// Adds a `Set-Cookie` to a response (beside any it has).
pub fn add_cookie(mut r: Response, cookie: Option<String>) -> Response {
    if let Some(v) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        r.headers_mut().append(SET_COOKIE, v);
    }
    r
}

/// An HTML page with the headers every page of ours carries.
pub fn html(status: StatusCode, body: String, cookie: Option<String>) -> Response {
    let mut r = (status, body).into_response();
    let h = r.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    set(h, cookie);
    r
}

/// A redirect (302, as Facebook's dialog answers) to `location`.
pub fn redirect(location: &str, cookie: Option<String>) -> Response {
    redirect_with(StatusCode::FOUND, location, cookie)
}

/// After a form is posted: 303, so the browser follows with a GET.
pub fn see_other(location: &str, cookie: Option<String>) -> Response {
    redirect_with(StatusCode::SEE_OTHER, location, cookie)
}

fn redirect_with(status: StatusCode, location: &str, cookie: Option<String>) -> Response {
    let Ok(loc) = HeaderValue::from_str(location) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let mut r = status.into_response();
    r.headers_mut().insert(LOCATION, loc);
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    set(r.headers_mut(), cookie);
    r
}

fn set(h: &mut HeaderMap, cookie: Option<String>) {
    if let Some(v) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        h.insert(SET_COOKIE, v);
    }
}

/// A local path to continue to after signing in: `/...`, never another site.
pub fn local_next(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control());
    ok.then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn browser() -> Browser {
        Browser::with_key("k".repeat(64))
    }

    fn headers(cookie: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(COOKIE, HeaderValue::from_str(cookie).unwrap());
        h
    }

    #[test]
    fn cookies_round_trip_and_refuse_tampering() {
        let b = browser();
        let person = User {
            id: UserId(42),
            key: None,
            name: "P".into(),
            email: None,
            password_hash: Some("h".into()),
            status: Default::default(),
            created_at: 0,
        };
        let s = b.signed_in(&person, 1000).unwrap();
        assert_eq!(s.stamp, b.stamp(&person));
        let set = b.set_cookie(&s);
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax"));
        let value = set.split(';').next().unwrap();
        let got = b.session(&headers(&format!("a=b; {value}")), 1000).unwrap();
        assert_eq!(got, s);
        let forged = value.replace(".42.", ".43.");
        assert_eq!(b.session(&headers(&forged), 1000), None);
        let other = Browser::with_key("x".repeat(64));
        assert_eq!(other.session(&headers(value), 1000), None);
        // Thirty days on, the person is signed out but the browser id (and CSRF) remain.
        let old = b.session(&headers(value), 1000 + SESSION_SECONDS).unwrap();
        assert_eq!((old.user, old.fresh), (None, false));
    }

    #[test]
    fn csrf_is_bound_to_the_browser() {
        let b = browser();
        let s1 = b.signed_out().unwrap();
        let s2 = b.signed_out().unwrap();
        assert!(b.csrf_ok(&s1, Some(&b.csrf(&s1))));
        assert!(!b.csrf_ok(&s2, Some(&b.csrf(&s1))));
        assert!(!b.csrf_ok(&s1, None));
    }

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(local_next("/dialog/oauth?x=1"), Some("/dialog/oauth?x=1"));
        assert_eq!(local_next("//evil.test/"), None);
        assert_eq!(local_next("/\\evil.test"), None);
        assert_eq!(local_next("https://evil.test/"), None);
    }
}

/// Property tests (see core's `fields::props`): any cookie header is read as a session or as
/// none, never a panic; a cookie we set reads back; one changed anywhere does not.
#[cfg(test)]
mod props {
    use axum::http::{HeaderMap, HeaderValue};
    use proptest::prelude::*;

    use super::{Browser, Session};
    use graphtoken_core::model::UserId;

    fn headers(cookie: &str) -> Option<HeaderMap> {
        let mut h = HeaderMap::new();
        h.insert("cookie", HeaderValue::from_str(cookie).ok()?);
        Some(h)
    }

    proptest! {
        #[test]
        fn any_cookie_header_is_a_session_or_none(cookie in "[ -~]{0,300}") {
            let b = Browser::with_key("k".repeat(64));
            if let Some(h) = headers(&cookie) {
                let _ = b.session(&h, 1_000);
            }
        }

        #[test]
        fn our_cookies_read_back_and_changed_ones_do_not(
            browser in "[a-zA-Z0-9]{1,22}",
            user in 1u64..u64::MAX / 2,
            at in 0i64..1_000_000,
            flip in any::<prop::sample::Index>(),
        ) {
            let b = Browser::with_key("k".repeat(64));
            let s = Session {
                browser,
                user: Some(UserId(user)),
                auth_time: at,
                fresh: false,
                stamp: "abc".into(),
            };
            let set = b.set_cookie(&s);
            let value = set.split(';').next().unwrap_or_default();
            let read = headers(value).and_then(|h| b.session(&h, at + 1));
            prop_assert_eq!(read.as_ref(), Some(&s));
            // One character of the value changed: not ours any more.
            let (name, v) = value.split_once('=').unwrap_or_default();
            let i = flip.index(v.len());
            let mut changed: Vec<u8> = v.bytes().collect();
            changed[i] = if changed[i] == b'0' { b'1' } else { b'0' };
            let changed = format!("{name}={}", String::from_utf8_lossy(&changed));
            let read = headers(&changed).and_then(|h| b.session(&h, at + 1));
            prop_assert!(read.is_none(), "a changed cookie was read: {changed}");
        }
    }
}
