//! Token strings: minting from the OS CSPRNG, hashing, recognising their form, and the secrets
//! derived from other secrets (app tokens, Page tokens, `appsecret_proof`).

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::model::{AppId, Id, PageId, TokenHash};

type HmacSha256 = Hmac<Sha256>;

/// Every user and Page token starts with this, like Facebook's.
pub const PREFIX: &str = "EAA";
/// Alphanumeric characters after the prefix: 64 × log2(62) ≈ 381 bits.
pub const BODY_LEN: usize = 64;
/// The opaque part of an app token (`{app-id}|{27 chars}`), as long as Facebook's.
const APP_TOKEN_LEN: usize = 27;

const ALNUM: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A failure of the operating system's random source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RandomError;

impl std::fmt::Display for RandomError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the operating system's random source failed")
    }
}

impl std::error::Error for RandomError {}

/// `n` bytes from the OS CSPRNG.
pub fn random_bytes(n: usize) -> Result<Vec<u8>, RandomError> {
    let mut b = vec![0u8; n];
    getrandom::getrandom(&mut b).map_err(|_| RandomError)?;
    Ok(b)
}

/// Bytes drawn in blocks from `next` (the OS CSPRNG, or an HMAC stream); what one reader did
/// not take stays for the next.
struct Blocks<F> {
    next: F,
    left: std::vec::IntoIter<u8>,
}

impl<F: FnMut() -> Result<Vec<u8>, RandomError>> Blocks<F> {
    fn new(next: F) -> Self {
        Blocks {
            next,
            left: Vec::new().into_iter(),
        }
    }

    /// `n` alphanumeric characters without bias (bytes ≥ 248 are skipped).
    fn alnum(&mut self, n: usize) -> Result<String, RandomError> {
        let mut out = String::with_capacity(n);
        while out.len() < n {
            match self.left.next() {
                Some(b) if b < 248 => out.push(ALNUM[(b % 62) as usize] as char),
                Some(_) => {}
                None => self.left = (self.next)()?.into_iter(),
            }
        }
        Ok(out)
    }
}

/// `n` random alphanumeric characters.
pub fn random_alnum(n: usize) -> Result<String, RandomError> {
    Blocks::new(|| random_bytes(64)).alnum(n)
}

/// `n` random lowercase hex characters (app secrets and client tokens look like this).
pub fn random_hex(n: usize) -> Result<String, RandomError> {
    Ok(hex(&random_bytes(n.div_ceil(2))?)[..n].to_string())
}

/// A random numeric id of 15 digits, the shape of Facebook's app-scoped ids.
pub fn random_id() -> Result<Id, RandomError> {
    let b = random_bytes(8)?;
    let n = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
    Ok(100_000_000_000_000 + n % 900_000_000_000_000)
}

/// A new user token: `EAA` + 64 random alphanumerics.
pub fn mint() -> Result<String, RandomError> {
    Ok(format!("{PREFIX}{}", random_alnum(BODY_LEN)?))
}

/// `n` new user tokens, as [`mint`] makes them, from the OS CSPRNG read in blocks of 4 KiB (one
/// system call for about sixty tokens instead of one each): for `graphtoken bench populate`.
pub fn mint_many(n: usize) -> Result<Vec<String>, RandomError> {
    let mut random = Blocks::new(|| random_bytes(4096));
    (0..n)
        .map(|_| Ok(format!("{PREFIX}{}", random.alnum(BODY_LEN)?)))
        .collect()
}

/// A keyed, deterministic token: `EAA` + 64 alphanumerics from HMAC-SHA256(key, label ‖ counter).
/// Knowing it requires knowing `key` (a token string), which is never stored.
fn derive(key: &[u8], label: &str) -> String {
    // Keyed once (a key longer than a block is hashed first): each block clones that state.
    let keyed = hmac(key);
    let mut counter = 0u32;
    let mut stream = Blocks::new(|| {
        let mut mac = keyed.clone();
        mac.update(label.as_bytes());
        mac.update(&counter.to_be_bytes());
        counter += 1;
        Ok(mac.finalize().into_bytes().to_vec())
    });
    // The stream never fails; fall back to an empty body if it somehow did.
    format!("{PREFIX}{}", stream.alnum(BODY_LEN).unwrap_or_default())
}

fn hmac(key: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length, so `new_from_slice` never fails; the fallback is unreachable.
    <HmacSha256 as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| <HmacSha256 as KeyInit>::new(&Default::default()))
}

/// The Page token a user token yields for a Page: the same every time it is asked for, so
/// `/me/accounts` can be polled without minting new tokens, and new once the person lost every
/// task on the Page and got one back (`since` changes).
pub fn page_token(user_token: &str, page: PageId, since: i64) -> String {
    derive(user_token.as_bytes(), &format!("page:{page}:{since}"))
}

/// The app token `client_credentials` returns: `{app-id}|{27 chars}`, derived from the secret,
/// so resetting the secret retires it.
pub fn app_token(app: AppId, secret: &str) -> String {
    let body = derive(secret.as_bytes(), &format!("app:{app}"));
    format!(
        "{app}|{}",
        &body[PREFIX.len()..PREFIX.len() + APP_TOKEN_LEN]
    )
}

/// SHA-256 of a token string: the only form stored.
pub fn hash(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

pub fn hex(bytes: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(H[(b >> 4) as usize] as char);
        s.push(H[(b & 15) as usize] as char);
    }
    s
}

/// Compares two secrets in constant time (for equal lengths).
pub fn secrets_equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// `appsecret_proof`: lowercase hex of HMAC-SHA256(app secret, message) (spec §5).
pub fn appsecret_proof(secret: &str, message: &str) -> String {
    let mut mac = hmac(secret.as_bytes());
    mac.update(message.as_bytes());
    hex(&mac.finalize().into_bytes())
}

/// What a token string looks like, before anything is looked up.
#[derive(Debug, PartialEq, Eq)]
pub enum Form<'a> {
    /// `EAA…`: a user or Page token, to be found by its hash.
    Stored,
    /// `{app-id}|{rest}`: an app token, the app id|secret literal, or a client token.
    Pipe { app: AppId, rest: &'a str },
    /// Nothing graphtoken issues looks like this.
    Garbage,
}

pub fn form(token: &str) -> Form<'_> {
    if let Some((app, rest)) = token.split_once('|') {
        return match app.parse::<AppId>() {
            Ok(app) if !rest.is_empty() => Form::Pipe { app, rest },
            _ => Form::Garbage,
        };
    }
    match token.strip_prefix(PREFIX) {
        Some(body) if body.len() == BODY_LEN && body.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            Form::Stored
        }
        _ => Form::Garbage,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AppId, PageId};

    #[test]
    fn minted_tokens_are_recognised_and_distinct() {
        let a = mint().unwrap();
        let b = mint().unwrap();
        assert_ne!(a, b);
        assert_eq!(form(&a), Form::Stored);
        assert!(a.starts_with("EAA") && a.len() == 67 && !a.contains('|'));
    }

    #[test]
    fn forms() {
        assert_eq!(
            form("123|abc"),
            Form::Pipe {
                app: AppId(123),
                rest: "abc"
            }
        );
        assert_eq!(form("x|abc"), Form::Garbage);
        assert_eq!(form("123|"), Form::Garbage);
        assert_eq!(form("EAAshort"), Form::Garbage);
        assert_eq!(form("garbage"), Form::Garbage);
        assert_eq!(form(""), Form::Garbage);
    }

    #[test]
    fn derived_tokens_are_stable_and_keyed() {
        let t = "EAA".to_string() + &"a".repeat(64);
        assert_eq!(page_token(&t, PageId(5), 1), page_token(&t, PageId(5), 1));
        assert_ne!(page_token(&t, PageId(5), 1), page_token(&t, PageId(5), 2));
        assert_ne!(page_token(&t, PageId(5), 1), page_token(&t, PageId(6), 1));
        assert_eq!(form(&page_token(&t, PageId(5), 1)), Form::Stored);
        let app = app_token(AppId(42), "secret");
        assert!(app.starts_with("42|") && app.len() == 3 + 27);
        assert_ne!(app, app_token(AppId(42), "secret2"));
    }

    #[test]
    fn tokens_minted_many_at_once_have_the_form_of_one() {
        let many = mint_many(300).unwrap_or_default();
        assert_eq!(many.len(), 300);
        assert!(many.iter().all(|t| form(t) == Form::Stored), "{many:?}");
        let distinct: std::collections::HashSet<_> = many.iter().collect();
        assert_eq!(distinct.len(), 300);
    }

    /// Derived tokens are pinned (computed apart, with Python's hmac): a change to how they
    /// are computed must not change them, or every stored Page token would be derived anew.
    #[test]
    fn derived_tokens_are_pinned() {
        let t = "EAA".to_string() + &"a".repeat(64);
        assert_eq!(
            page_token(&t, PageId(5), 1),
            "EAAxqq6JKICLdIJaqtxXukyRxKeh0ieCfgwx1A3TQST3l1PlxPRvUSqzRu9MewZDUKg"
        );
        assert_eq!(
            app_token(AppId(42), "secret"),
            "42|D7w7T3blpoNLa8rj2gmR5UUYdxs"
        );
    }

    #[test]
    fn appsecret_proof_matches_the_spec_vector() {
        assert_eq!(
            appsecret_proof("xyz789", "abc123"),
            "4dad02ff1693df832f9c183fe400fc4f601360be06514acb4a73edb783eec345"
        );
    }

    #[test]
    fn hashes_and_comparisons() {
        assert_eq!(
            hex(&hash("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(secrets_equal("abc", "abc"));
        assert!(!secrets_equal("abc", "abd"));
        assert!(!secrets_equal("abc", "ab"));
        let id = random_id().unwrap();
        assert_eq!(id.to_string().len(), 15);
        assert_eq!(random_hex(32).unwrap().len(), 32);
    }
}

/// Property tests (see `fields::props`): any token string has a form, and comparing never panics.
#[cfg(test)]
mod props {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_token_has_a_form(t in "\\PC{0,200}", other in "\\PC{0,50}") {
            let _ = super::form(&t);
            let _ = super::secrets_equal(&t, &other);
            prop_assert!(super::secrets_equal(&t, &t));
        }
    }
}
