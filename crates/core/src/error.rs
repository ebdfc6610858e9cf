//! The catalogue of every error graphtoken answers with (spec §6), and its Graph envelope.
//!
//! Messages are copied from Facebook where the spec has them; see `docs/compatibility.md`.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{json, Map, Value};

use crate::model::{AppId, Asid, Reason, Unix};
use crate::timefmt;

/// A Graph API error: what the server renders as `{"error":{...}}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphError {
    /// HTTP status (400 unless the spec says otherwise).
    pub status: u16,
    pub code: u32,
    pub subcode: Option<u32>,
    /// `OAuthException`, `GraphMethodException`, ...
    pub kind: &'static str,
    pub message: String,
    pub is_transient: Option<bool>,
    /// The error token of `WWW-Authenticate: OAuth "Facebook Platform" "<err>" "<message>"`.
    pub www_authenticate: Option<&'static str>,
    /// Rarely set parts, boxed so that `Result<_, GraphError>` stays small on the hot path.
    pub more: Option<Box<More>>,
}

/// The parts of an error most errors do not have.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct More {
    pub user_title: Option<String>,
    pub user_msg: Option<String>,
    /// What went wrong inside, for the log; never rendered to clients.
    pub detail: Option<String>,
    /// Rendered as `error_data` (an object).
    pub data: Option<Value>,
}

const OAUTH: &str = "OAuthException";
const METHOD: &str = "GraphMethodException";

impl GraphError {
    pub fn new(code: u32, kind: &'static str, message: impl Into<String>) -> Self {
        GraphError {
            status: 400,
            code,
            subcode: None,
            kind,
            message: message.into(),
            is_transient: None,
            www_authenticate: (kind == OAUTH).then_some(if code == 190 {
                "invalid_token"
            } else {
                "invalid_request"
            }),
            more: None,
        }
    }

    pub fn with_subcode(mut self, subcode: u32) -> Self {
        self.subcode = Some(subcode);
        self
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// Adds `error_data` (an object) to the envelope.
    pub fn with_data(mut self, data: Value) -> Self {
        self.more.get_or_insert_with(Default::default).data = Some(data);
        self
    }

    fn token(message: impl Into<String>) -> Self {
        GraphError::new(190, OAUTH, message)
    }

    // ---- tokens -------------------------------------------------------------------------

    /// Not a token graphtoken could ever have issued.
    pub fn cannot_parse() -> Self {
        Self::token("Invalid OAuth access token - Cannot parse access token")
    }
    /// A session info token used as the caller's token (spec §2.4: HTTP 400 on `debug_token`).
    pub fn debug_only() -> Self {
        Self::token("Invalid OAuth access token - Debug only access token")
    }
    /// Well-formed, but no such token exists.
    pub fn not_decrypted() -> Self {
        Self::token("The access token could not be decrypted")
    }
    /// `{app-id}|x` where x is neither the secret nor an app token of that app.
    pub fn bad_signature() -> Self {
        Self::token("Invalid OAuth access token signature.")
    }
    /// `{app-id}|x` for an app that does not exist.
    pub fn unknown_app_in_token() -> Self {
        Self::token(
            "Error validating application. Cannot get application info due to a system error.",
        )
    }
    /// 190/463.
    pub fn expired(expires_at: Unix, now: Unix) -> Self {
        Self::token(format!(
            "Error validating access token: Session has expired on {}. The current time is {}.",
            timefmt::pacific(expires_at),
            timefmt::pacific(now)
        ))
        .with_subcode(463)
    }
    /// A token or its session was invalidated for `reason` (spec §6, §7): code 190 with the
    /// reason's subcode and Facebook's message for it. `user` is the app-scoped id.
    pub fn invalidated(reason: Reason, app: AppId, user: Asid) -> Self {
        let message = match reason {
            Reason::AppNotAuthorized => format!(
                "Error validating access token: The user has not authorized application {app}."
            ),
            Reason::Checkpoint => "Error validating access token: The user is enrolled in a blocking, logged-in checkpoint".into(),
            Reason::PasswordChanged => "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.".into(),
            Reason::Unconfirmed => format!("Error validating access token: Sessions for the user {user} are not allowed because the user is not a confirmed user."),
            Reason::RevokedByApi => "Error validating access token: The session was invalidated explicitly using an API call.".into(),
            Reason::LoggedOut => "Error validating access token: The session is invalid because the user logged out.".into(),
            Reason::PageTaskLost => "The user must be an administrator, editor, or moderator of the page in order to impersonate it. If the page business requires Two Factor Authentication, the user also needs to enable Two Factor Authentication.".into(),
            Reason::DataAccessExpired => "The access token is invalid since the user hasn't engaged the app in longer than 90 days.".into(),
        };
        Self::token(message).with_subcode(reason.subcode())
    }
    /// `/me` without a user or Page token (code 2500).
    pub fn active_token_required() -> Self {
        GraphError::new(
            2500,
            OAUTH,
            "An active access token must be used to query information about the current user.",
        )
    }
    /// Any other call without a token (code 104).
    pub fn token_required() -> Self {
        GraphError::new(
            104,
            OAUTH,
            "An access token is required to request this resource.",
        )
    }

    // ---- objects and parameters -----------------------------------------------------------

    /// 100/33: the object does not exist, or this token may not see it.
    pub fn unknown_object(id: &str, method: &str) -> Self {
        GraphError::new(100, METHOD, format!(
            "Unsupported {method} request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"
        ))
        .with_subcode(33)
    }
    pub fn unknown_field(field: &str, node_type: &str) -> Self {
        GraphError::new(
            100,
            OAUTH,
            format!(
                "(#100) Tried accessing nonexisting field ({field}) on node type ({node_type})"
            ),
        )
    }
    /// Code 2500 for path segments nothing answers to.
    pub fn unknown_path(rest: &str) -> Self {
        GraphError::new(2500, OAUTH, format!("Unknown path components: {rest}"))
    }
    /// `(#100) <text>`: an invalid parameter.
    pub fn param(text: impl std::fmt::Display) -> Self {
        GraphError::new(100, OAUTH, format!("(#100) {text}"))
    }
    /// `(#200) Permissions error`: the token may not read this (another person's edge).
    pub fn permission_denied() -> Self {
        GraphError::new(200, OAUTH, "(#200) Permissions error")
    }

    // ---- appsecret_proof (spec §5) ----------------------------------------------------------

    pub fn proof_missing() -> Self {
        GraphError::new(
            100,
            METHOD,
            "API calls from the server require an appsecret_proof argument",
        )
    }
    pub fn proof_invalid() -> Self {
        GraphError::new(
            100,
            METHOD,
            "Invalid appsecret_proof provided in the API argument",
        )
    }

    // ---- rate limits (spec §6) ----------------------------------------------------------------

    /// A rate-limit error: HTTP 400 (the spec's default; 403 was seen once for code 4 [T]),
    /// `is_transient`, and `error_data.estimated_time_to_regain_access` in minutes.
    fn rate_limited(code: u32, message: &str, regain_minutes: u32) -> Self {
        let mut e = GraphError::new(code, OAUTH, message);
        e.is_transient = Some(true);
        e.more = Some(Box::new(More {
            data: Some(json!({ "estimated_time_to_regain_access": regain_minutes })),
            ..More::default()
        }));
        e
    }
    /// The app's hourly budget is spent (code 4).
    pub fn app_rate_limited(regain_minutes: u32) -> Self {
        Self::rate_limited(4, "(#4) Application request limit reached", regain_minutes)
    }
    /// The person's hourly budget with the app is spent (code 17).
    pub fn user_rate_limited(regain_minutes: u32) -> Self {
        Self::rate_limited(17, "(#17) User request limit reached", regain_minutes)
    }
    /// The Page's hourly budget is spent, for a call with a user token (code 32).
    pub fn page_rate_limited(regain_minutes: u32) -> Self {
        Self::rate_limited(32, "(#32) Page request limit reached", regain_minutes)
    }
    /// The Page's hourly budget is spent, for a call with a Page token (business use case, 80001).
    pub fn page_business_rate_limited(regain_minutes: u32) -> Self {
        Self::rate_limited(
            80001,
            "(#80001) There have been too many calls to this Page account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting.",
            regain_minutes,
        )
    }

    // ---- the token endpoint -------------------------------------------------------------

    pub fn missing_client_id() -> Self {
        GraphError::new(101, OAUTH, "Missing client_id parameter.")
    }
    pub fn invalid_client_id() -> Self {
        GraphError::new(101, OAUTH, "Invalid Client ID")
    }
    pub fn missing_client_secret() -> Self {
        GraphError::new(1, OAUTH, "Missing client_secret parameter.")
    }
    pub fn bad_client_secret() -> Self {
        GraphError::new(1, OAUTH, "Error validating client secret.")
    }
    pub fn missing_exchange_token() -> Self {
        GraphError::new(1, OAUTH, "fb_exchange_token parameter not specified")
    }
    /// A token request with neither a grant type graphtoken knows nor a code. [U] wording.
    pub fn missing_code() -> Self {
        GraphError::param("Missing code parameter.")
    }
    /// `fb_exchange_token` names a Page or app token. [U] wording.
    pub fn exchange_needs_user_token() -> Self {
        GraphError::param("fb_exchange_token must be a user access token")
    }
    /// `fb_exchange_token` for a session info token names an app token. [U] wording.
    pub fn attenuate_needs_user_or_page_token() -> Self {
        GraphError::param("fb_exchange_token must be a user or Page access token")
    }
    /// `fb_exchange_token` is a token of another app than `client_id`. [U] wording.
    pub fn exchange_other_app() -> Self {
        GraphError::param("fb_exchange_token was issued to another app than client_id")
    }
    /// A permission name graphtoken does not know, in a token request or test-user creation.
    pub fn invalid_scope(name: &str) -> Self {
        GraphError::param(format!("Invalid scope: {name}"))
    }
    pub fn unsupported_grant_type(grant: &str) -> Self {
        GraphError::param(format!("Unsupported grant_type: {grant}"))
    }
    pub fn bad_verification_code_format() -> Self {
        let mut e = GraphError::new(100, OAUTH, "Invalid verification code format.");
        e.www_authenticate = Some("invalid_code");
        e
    }

    /// A dialog code redeemed a second time (the tokens issued from it are revoked too).
    pub fn code_used() -> Self {
        Self::code_error("This authorization code has been used.", 36009)
    }
    /// A dialog or client code past its ten minutes. Subcode [U] (spec §10.1).
    pub fn code_expired() -> Self {
        Self::code_error("This authorization code has expired.", 36007)
    }
    /// The `redirect_uri` differs from the dialog's. Subcode [U] (spec §10.1).
    pub fn redirect_mismatch() -> Self {
        Self::code_error(
            "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request",
            36008,
        )
    }
    /// PKCE: the code has a challenge and `code_verifier` is missing or does not answer it.
    /// [U] wording.
    pub fn bad_code_verifier() -> Self {
        let mut e = GraphError::new(100, OAUTH, "Invalid code verifier.");
        e.www_authenticate = Some("invalid_code");
        e
    }
    fn code_error(message: &str, subcode: u32) -> Self {
        let mut e = GraphError::new(100, OAUTH, message).with_subcode(subcode);
        e.www_authenticate = Some("invalid_code");
        e
    }
    /// `/oauth/client_code` for a token that is not a long-lived user token of the app. [U]
    pub fn client_code_needs_long_lived() -> Self {
        GraphError::param("access_token must be a long-lived user access token of this app")
    }

    // ---- device login (spec §2.14; subcodes as Facebook's SDKs know them) ----------------------

    /// `/device/login` and `/device/login_status` want `{app-id}|{client-token}`.
    pub fn client_token_required() -> Self {
        Self::token("(#190) This method must be called with a client access token")
    }
    /// The person has not answered yet: keep polling.
    pub fn device_pending() -> Self {
        Self::device(
            1349174,
            "Device Login Authorization Pending",
            "User has not yet authorized your application. Continue polling.",
        )
    }
    /// Polled faster than `interval`.
    pub fn device_slow_down() -> Self {
        Self::device(
            1349172,
            "Device Login Polling Too Frequently",
            "You are polling too frequently. Wait the interval you were given between polls.",
        )
    }
    /// The person cancelled.
    pub fn device_declined() -> Self {
        Self::device(
            1349173,
            "Device Login Declined",
            "The user declined to authorize your application.",
        )
    }
    /// The code is past its `expires_in`, spent, or unknown: start again.
    pub fn device_expired() -> Self {
        Self::device(
            1349152,
            "Device Login Code Expired",
            "Your device code has expired. Please start the login again.",
        )
    }
    fn device(subcode: u32, title: &str, msg: &str) -> Self {
        let mut e = GraphError::new(
            31,
            OAUTH,
            "This request requires the user to take a pending action",
        )
        .with_subcode(subcode);
        e.is_transient = Some(false);
        e.more = Some(Box::new(More {
            user_title: Some(title.into()),
            user_msg: Some(msg.into()),
            ..More::default()
        }));
        e
    }

    // ---- debug_token ------------------------------------------------------------------------

    pub fn debug_token_needs_token() -> Self {
        GraphError::param("You must provide an app access token, or a user access token that is an owner or developer of the app")
    }
    pub fn debug_token_app_mismatch() -> Self {
        GraphError::param("The App_id in the input_token did not match the Viewing App")
    }

    // ---- the server ---------------------------------------------------------------------------

    /// Something broke inside graphtoken. Details go to the log, never to the client.
    pub fn internal() -> Self {
        let mut e = GraphError::new(
            2,
            OAUTH,
            "An unexpected error has occurred. Please retry your request later.",
        )
        .with_status(500);
        e.is_transient = Some(true);
        e.www_authenticate = None;
        e
    }

    /// [`GraphError::internal`], remembering the cause for the log.
    pub fn internal_because(detail: impl std::fmt::Display) -> Self {
        let mut e = Self::internal();
        e.more = Some(Box::new(More {
            detail: Some(detail.to_string()),
            ..More::default()
        }));
        e
    }

    /// The Graph envelope: `{"error":{message,type,code,error_subcode,...,fbtrace_id}}`.
    pub fn to_json(&self, fbtrace_id: &str) -> Value {
        let mut e = Map::new();
        e.insert("message".into(), json!(self.message));
        e.insert("type".into(), json!(self.kind));
        e.insert("code".into(), json!(self.code));
        if let Some(s) = self.subcode {
            e.insert("error_subcode".into(), json!(s));
        }
        if let Some(t) = self.is_transient {
            e.insert("is_transient".into(), json!(t));
        }
        if let Some(more) = &self.more {
            if let Some(t) = &more.user_title {
                e.insert("error_user_title".into(), json!(t));
            }
            if let Some(t) = &more.user_msg {
                e.insert("error_user_msg".into(), json!(t));
            }
            if let Some(d) = &more.data {
                e.insert("error_data".into(), d.clone());
            }
        }
        e.insert("fbtrace_id".into(), json!(fbtrace_id));
        json!({ "error": e })
    }

    /// The `error` object inside a `debug_token` answer: note `subcode`, not `error_subcode`.
    pub fn to_debug_json(&self) -> Value {
        let mut e = Map::new();
        e.insert("code".into(), json!(self.code));
        e.insert("message".into(), json!(self.message));
        if let Some(s) = self.subcode {
            e.insert("subcode".into(), json!(s));
        }
        Value::Object(e)
    }

    /// `OAuth "Facebook Platform" "<err>" "<message>"`, when this error carries one.
    pub fn www_authenticate_header(&self) -> Option<String> {
        self.www_authenticate.map(|err| {
            format!(
                "OAuth \"Facebook Platform\" \"{err}\" \"{}\"",
                self.message.replace('"', "'")
            )
        })
    }
}

impl std::fmt::Display for GraphError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (code {}", self.message, self.code)?;
        if let Some(s) = self.subcode {
            write!(f, ", subcode {s}")?;
        }
        f.write_str(")")
    }
}

impl std::error::Error for GraphError {}

impl GraphError {
    /// The internal cause, if any, for the log.
    pub fn detail(&self) -> Option<&str> {
        self.more.as_ref().and_then(|m| m.detail.as_deref())
    }
}

impl GraphError {
    // ---- test users (spec §2.10) ----------------------------------------------------------------

    /// `(#15)`: an app-level edge (test users) called without an app token. Facebook's code and
    /// wording, as reported for `/{app-id}/roles` and `/{app-id}/subscriptions`.
    pub fn app_token_required() -> Self {
        GraphError::new(
            15,
            OAUTH,
            "(#15) This method must be called with an app access_token.",
        )
    }
    /// `(#2900) Too many test accounts`: the app already has as many test users as it may
    /// (code and description from Facebook's `/{app-id}/accounts` reference).
    pub fn too_many_test_accounts() -> Self {
        GraphError::new(2900, OAUTH, "(#2900) Too many test accounts")
    }
}

/// An 11-character trace id for `fbtrace_id` and `x-fb-trace-id`. Not a secret: a counter run
/// through a mixer (splitmix64), so ids look random and never repeat within a run. The counter
/// starts at a random place, so that two runs (or two instances on one database, whose logs are
/// read together) do not hand out the same ids in the same order.
///
/// Each thread counts through a block of 2^32 values of its own, taken from a shared counter
/// when it needs one: a counter every request bumped was a cache line the cores passed back and
/// forth.
pub fn trace_id() -> TraceId {
    const BLOCK: u64 = 1 << 32;
    static BLOCKS: AtomicU64 = AtomicU64::new(0);
    static START: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    thread_local! {
        /// The next value of this thread's block, and where the block ends.
        static OWN: std::cell::Cell<(u64, u64)> = const { std::cell::Cell::new((0, 0)) };
    }
    let start = *START.get_or_init(|| {
        crate::token::random_bytes(8)
            .ok()
            .and_then(|b| b.try_into().ok())
            .map_or(0, u64::from_le_bytes)
    });
    let n = OWN.with(|own| {
        let (mut next, mut end) = own.get();
        if next == end {
            next = BLOCKS.fetch_add(BLOCK, Ordering::Relaxed);
            end = next.wrapping_add(BLOCK);
        }
        own.set((next.wrapping_add(1), end));
        next
    });
    let mut z = start.wrapping_add(n.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    let mut id = [0; 11];
    for (i, c) in id.iter_mut().enumerate() {
        *c = A[((z >> (i * 6)) & 63) as usize];
    }
    TraceId(id)
}

/// A trace id (see [`trace_id`]): 11 characters of the URL-safe base64 alphabet, held in place
/// rather than in an allocation of its own.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceId([u8; 11]);

impl TraceId {
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
    /// Its characters, as they go in a header (without `as_str`'s check for UTF-8, which costs
    /// more than the header's own check of 11 bytes).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::ops::Deref for TraceId {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Debug for TraceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_ids_of_several_threads_never_repeat() {
        let per_thread: Vec<Vec<TraceId>> = std::thread::scope(|s| {
            let runs: Vec<_> = (0..4)
                .map(|_| s.spawn(|| (0..2000).map(|_| trace_id()).collect::<Vec<_>>()))
                .collect();
            runs.into_iter().filter_map(|r| r.join().ok()).collect()
        });
        assert_eq!(per_thread.len(), 4);
        let all: std::collections::HashSet<&TraceId> = per_thread.iter().flatten().collect();
        assert_eq!(all.len(), 8000);
        assert!(all.iter().all(|id| id.as_str().len() == 11));
    }

    #[test]
    fn envelope_omits_absent_keys_and_keeps_order() {
        let e = GraphError::expired(1_668_613_551, 1_668_749_403);
        let s = e.to_json("AbC").to_string();
        assert_eq!(
            s,
            r#"{"error":{"message":"Error validating access token: Session has expired on Wednesday, 16-Nov-22 07:45:51 PST. The current time is Thursday, 17-Nov-22 21:30:03 PST.","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"AbC"}}"#
        );
        assert_eq!(
            e.to_debug_json().to_string(),
            r#"{"code":190,"message":"Error validating access token: Session has expired on Wednesday, 16-Nov-22 07:45:51 PST. The current time is Thursday, 17-Nov-22 21:30:03 PST.","subcode":463}"#
        );
    }

    #[test]
    fn unknown_object_is_a_method_exception_with_subcode_33() {
        let e = GraphError::unknown_object("42", "get");
        assert_eq!(
            (e.code, e.subcode, e.kind),
            (100, Some(33), "GraphMethodException")
        );
        assert!(e
            .message
            .starts_with("Unsupported get request. Object with ID '42'"));
        assert_eq!(e.www_authenticate_header(), None);
    }

    #[test]
    fn rate_limit_errors_are_transient_with_a_regain_estimate() {
        let e = GraphError::user_rate_limited(12);
        assert_eq!(
            e.to_json("AbC").to_string(),
            r#"{"error":{"message":"(#17) User request limit reached","type":"OAuthException","code":17,"is_transient":true,"error_data":{"estimated_time_to_regain_access":12},"fbtrace_id":"AbC"}}"#
        );
        assert_eq!(GraphError::app_rate_limited(1).status, 400);
        assert_eq!(GraphError::page_rate_limited(1).code, 32);
        assert_eq!(GraphError::page_business_rate_limited(1).code, 80001);
    }

    #[test]
    fn oauth_errors_carry_www_authenticate() {
        let h = GraphError::bad_client_secret().www_authenticate_header();
        assert_eq!(
            h.as_deref(),
            Some(
                r#"OAuth "Facebook Platform" "invalid_request" "Error validating client secret.""#
            )
        );
    }
}
