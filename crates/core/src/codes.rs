//! One-time codes of the login flows: authorization codes from the dialog (spec §2.1, §2.2),
//! client codes (§2.3) and device-login codes (§2.14). Only keys of codes are stored, like
//! tokens' (a stamp and 23 bytes of SHA-256, or a SHA-256: [`hash`]); a device login's
//! `user_code` is short, typed by a person, and kept as it is.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::model::{AppId, SessionId, TokenHash, Unix, UserId};
use crate::token::{self, RandomError, Stamps, STAMP_LEN};

/// How long a dialog or client code can be redeemed (spec §2.2: about ten minutes).
pub const CODE_SECONDS: i64 = 600;
/// How long a device code waits for the person (spec §2.14 `expires_in`).
pub const DEVICE_SECONDS: i64 = 420;
/// The polling interval a device is told (spec §2.14 `interval`).
pub const DEVICE_INTERVAL: i64 = 5;

/// Every dialog and client code starts with this, like Facebook's.
pub const CODE_PREFIX: &str = "AQ";
/// Alphanumerics after the prefix.
const CODE_BODY_LEN: usize = 86;
/// Letters and digits of a device `user_code`, without look-alikes (0/O, 1/I/L).
const USER_CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
pub const USER_CODE_LEN: usize = 8;

/// A new device code: `AQ` and 86 random alphanumerics.
pub fn mint() -> Result<String, RandomError> {
    Ok(format!(
        "{CODE_PREFIX}{}",
        token::random_alnum(CODE_BODY_LEN)?
    ))
}

/// A new dialog or client code: `AQ`, the next stamp (as a user token's) and 86 random
/// alphanumerics. Its key starts with the stamp ([`hash`]), so codes are stored in the order
/// they were made: a new code goes into the page the last one went to, and a code redeemed
/// soon after is found among the pages just written, not on a random page of the table.
pub fn mint_stamped(stamps: &Stamps) -> Result<String, RandomError> {
    Ok(token::stamped_with(
        CODE_PREFIX,
        Some(&token::next_stamp(stamps)),
        &token::random_alnum(CODE_BODY_LEN)?,
    ))
}

/// True when `code` has the shape of a code graphtoken mints, stamped or not (anything else is
/// "malformed").
pub fn well_formed(code: &str) -> bool {
    let len = code.len().saturating_sub(CODE_PREFIX.len());
    (len == CODE_BODY_LEN || len == STAMP_LEN + CODE_BODY_LEN)
        && code.starts_with(CODE_PREFIX)
        && code.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A new device `user_code`: eight characters a person can read off a screen and type.
pub fn mint_user_code() -> Result<String, RandomError> {
    let mut out = String::with_capacity(USER_CODE_LEN);
    let n = USER_CODE_ALPHABET.len();
    // Rejection sampling keeps every character equally likely.
    let limit = (256 / n * n) as u8;
    while out.len() < USER_CODE_LEN {
        for b in token::random_bytes(32)? {
            if b < limit && out.len() < USER_CODE_LEN {
                out.push(USER_CODE_ALPHABET[b as usize % n] as char);
            }
        }
    }
    Ok(out)
}

/// A `user_code` as a person typed it: upper-cased, spaces and dashes dropped.
pub fn normalize_user_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

/// The stored form of a code: a stamped code's stamp, then the first 23 bytes of its SHA-256;
/// any other string's SHA-256 (device codes, and codes minted before stamps).
pub fn hash(code: &str) -> TokenHash {
    token::key(token::stamp_after(code, CODE_PREFIX, CODE_BODY_LEN), code)
}

/// PKCE (RFC 7636) as the dialog accepts it: `code_challenge_method` `S256` or `plain`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PkceMethod {
    S256,
    Plain,
}

impl PkceMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            PkceMethod::S256 => "S256",
            PkceMethod::Plain => "plain",
        }
    }
    /// The method named in the dialog; RFC 7636 makes `plain` the default.
    pub fn parse(s: Option<&str>) -> Option<Self> {
        match s {
            None | Some("") | Some("plain") => Some(PkceMethod::Plain),
            Some("S256") | Some("s256") => Some(PkceMethod::S256),
            Some(_) => None,
        }
    }
}

/// A code's PKCE challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pkce {
    pub method: PkceMethod,
    pub challenge: String,
}

impl Pkce {
    /// True when `verifier` answers the challenge (compared in constant time).
    pub fn verify(&self, verifier: &str) -> bool {
        let expected = match self.method {
            PkceMethod::Plain => verifier.to_string(),
            PkceMethod::S256 => s256(verifier),
        };
        expected.as_bytes().ct_eq(self.challenge.as_bytes()).into()
    }
}

/// What a one-time code was made by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeKind {
    /// The login dialog's `code` (redeemed with the app secret, or a PKCE verifier).
    Dialog,
    /// `GET /oauth/client_code`: a long-lived token's session handed to a device.
    Client,
}

impl CodeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CodeKind::Dialog => "dialog",
            CodeKind::Client => "client",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "dialog" => Some(CodeKind::Dialog),
            "client" => Some(CodeKind::Client),
            _ => None,
        }
    }
}

/// A dialog or client code, as stored. Never holds the code itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthCode {
    pub hash: TokenHash,
    pub kind: CodeKind,
    pub app_id: AppId,
    pub user_id: UserId,
    /// The exact `redirect_uri` it was issued for; redemption must send the same.
    pub redirect_uri: String,
    pub pkce: Option<Pkce>,
    /// The session the code's token belongs to: for client codes, the long-lived token's; for
    /// dialog codes, the one started when the code was first redeemed (so a reuse can end it).
    pub session_id: Option<SessionId>,
    pub created_at: Unix,
    pub expires_at: Unix,
    /// When it was first redeemed; a second redemption is refused (and ends `session_id`).
    pub used_at: Option<Unix>,
}

impl AuthCode {
    /// A new, unused code of `kind` for the person and app, good for [`CODE_SECONDS`]: the
    /// string to hand out and its record (without PKCE or session; set them as needed).
    pub fn issue(
        kind: CodeKind,
        app_id: AppId,
        user_id: UserId,
        redirect_uri: &str,
        now: Unix,
        stamps: &Stamps,
    ) -> Result<(String, AuthCode), RandomError> {
        let code = mint_stamped(stamps)?;
        let record = AuthCode {
            hash: hash(&code),
            kind,
            app_id,
            user_id,
            redirect_uri: redirect_uri.to_string(),
            pkce: None,
            session_id: None,
            created_at: now,
            expires_at: now + CODE_SECONDS,
            used_at: None,
        };
        Ok((code, record))
    }
}

/// A device login waiting for, or answered by, a person (spec §2.14).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceCode {
    /// Hash of the `code` the device polls with.
    pub hash: TokenHash,
    /// What the person types at `/device` (stored as it is: short-lived and single use).
    pub user_code: String,
    pub app_id: AppId,
    pub scopes: Vec<String>,
    pub created_at: Unix,
    pub expires_at: Unix,
    pub state: DeviceState,
    /// When the device last polled (polling faster than the interval is refused).
    pub last_poll_at: Option<Unix>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceState {
    /// Nobody has answered yet.
    Pending,
    /// The person approved; the next poll gets the token.
    Approved { user_id: UserId },
    /// The person cancelled.
    Denied,
    /// The token was handed out; the code is spent.
    Redeemed,
}

/// A test user (spec §2.10): a person owned by one app, made through the Graph API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestUser {
    pub user_id: UserId,
    pub app_id: AppId,
    pub created_at: Unix,
}

/// What storing a new test user came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TestUserInsert {
    Inserted,
    /// The id is already a person's: draw another.
    IdTaken,
    /// The app has as many test users as it may.
    AtLimit,
}

/// The S256 PKCE challenge of `verifier`: base64url (no padding) of its SHA-256.
pub fn s256(verifier: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_their_shape() {
        let c = mint().unwrap();
        assert!(well_formed(&c), "{c}");
        assert!(!well_formed("AQshort"));
        assert!(!well_formed(&c.replacen("AQ", "EA", 1)));
        assert_ne!(c, mint().unwrap());
    }

    #[test]
    fn stamped_codes_are_kept_in_the_order_they_were_made() {
        let stamps = Stamps::starting(1_700_000_000);
        let (a, b) = (
            mint_stamped(&stamps).unwrap(),
            mint_stamped(&stamps).unwrap(),
        );
        assert!(well_formed(&a) && well_formed(&b), "{a} {b}");
        assert_eq!(a.len(), CODE_PREFIX.len() + STAMP_LEN + CODE_BODY_LEN);
        assert!(hash(&a) < hash(&b));
        // The key: the stamp, then the code's SHA-256 cut to fit.
        let digest: TokenHash = Sha256::digest(a.as_bytes()).into();
        assert_eq!(&hash(&a)[..STAMP_LEN], &a.as_bytes()[2..2 + STAMP_LEN]);
        assert_eq!(hash(&a)[STAMP_LEN..], digest[..32 - STAMP_LEN]);
        // A code without a stamp (a device code, or one made before stamps) keeps its SHA-256,
        // and a stamped code one character short is no code.
        let plain = mint().unwrap();
        assert_eq!(
            hash(&plain),
            <TokenHash>::from(Sha256::digest(plain.as_bytes()))
        );
        assert!(!well_formed(&a[..a.len() - 1]));
        assert!(!well_formed(&format!("{a}x")));
        assert!(!well_formed(""));
    }

    #[test]
    fn user_codes_are_readable() {
        let u = mint_user_code().unwrap();
        assert_eq!(u.len(), USER_CODE_LEN);
        assert!(u.bytes().all(|b| USER_CODE_ALPHABET.contains(&b)), "{u}");
        assert_eq!(normalize_user_code(" abcd-efgh "), "ABCDEFGH");
    }

    #[test]
    fn pkce_s256_matches_rfc7636_appendix_b() {
        let p = Pkce {
            method: PkceMethod::S256,
            challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
        };
        assert!(p.verify("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
        assert!(!p.verify("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl"));
        let plain = Pkce {
            method: PkceMethod::Plain,
            challenge: "abc".into(),
        };
        assert!(plain.verify("abc") && !plain.verify("abd"));
        assert_eq!(PkceMethod::parse(None), Some(PkceMethod::Plain));
        assert_eq!(PkceMethod::parse(Some("S256")), Some(PkceMethod::S256));
        assert_eq!(PkceMethod::parse(Some("md5")), None);
    }
}
