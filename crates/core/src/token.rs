//! Token strings: minting from the OS CSPRNG, hashing, recognising their form, and the secrets
//! derived from other secrets (app tokens, Page tokens, `appsecret_proof`).

use std::sync::atomic::{AtomicU64, Ordering};

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::model::{AppId, Id, PageId, TokenHash, Unix};

type HmacSha256 = Hmac<Sha256>;

/// Every user and Page token starts with this, like Facebook's.
pub const PREFIX: &str = "EAA";
/// Random alphanumeric characters at the end of a token: 64 × log2(62) ≈ 381 bits.
pub const BODY_LEN: usize = 64;
/// Characters of a token's stamp, between the prefix and the random body: a place in the
/// order of minting, in base 62 (see [`Stamps`]). Tokens minted before stamps have none.
pub const STAMP_LEN: usize = 9;
/// Stamps' digits in ASCII order, so that stamps compare as the numbers they write.
const STAMP_DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// A second of the clock is worth 2^20 stamps: a restart starts after the stamps taken before
/// it unless more than about a million tokens a second were minted on average.
const STAMPS_PER_SECOND_BITS: u32 = 20;
/// The opaque part of an app token (`{app-id}|{27 chars}`), as long as Facebook's.
const APP_TOKEN_LEN: usize = 27;

const ALNUM: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// The character each byte gives in a token body or a code, `0` for none: bytes from 248 up
/// are skipped, so that each of the 62 characters is equally likely (248 = 4 × 62).
const ALNUM_OF: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 248 {
        table[b] = ALNUM[b % 62];
        b += 1;
    }
    table
};

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
    fill_random(&mut b)?;
    Ok(b)
}

/// What one read of the OS CSPRNG fetches for a thread (see [`fill_random`]).
const POOL: usize = 4096;

/// Bytes of the OS CSPRNG read ahead for this thread, and how many of them were handed out.
struct Pool {
    bytes: [u8; POOL],
    used: usize,
}

thread_local! {
    static POOLED: std::cell::RefCell<Pool> = const {
        std::cell::RefCell::new(Pool { bytes: [0; POOL], used: POOL })
    };
}

/// Fills `out` from the OS CSPRNG. Small reads (a token body's 80 bytes, a code's 104) come from
/// 4 KiB read ahead for the thread, one system call for about fifty tokens instead of one each;
/// every byte handed out is wiped from the pool, so none is ever handed out twice or kept after.
fn fill_random(out: &mut [u8]) -> Result<(), RandomError> {
    let os = |buf: &mut [u8]| getrandom::getrandom(buf).map_err(|_| RandomError);
    if out.len() > POOL / 4 {
        return os(out);
    }
    POOLED.with(|pool| {
        let Ok(mut pool) = pool.try_borrow_mut() else {
            return os(out);
        };
        if POOL.saturating_sub(pool.used) < out.len() {
            os(&mut pool.bytes)?;
            pool.used = 0;
        }
        let (start, n) = (pool.used, out.len());
        let Some(taken) = pool.bytes.get_mut(start..start + n) else {
            return os(out);
        };
        out.copy_from_slice(taken);
        taken.fill(0);
        pool.used += n;
        Ok(())
    })
}

/// Bytes drawn in blocks from `next` (the OS CSPRNG); what one reader did not take stays for
/// the next.
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
                Some(b) => match ALNUM_OF[usize::from(b)] {
                    0 => {}
                    c => out.push(char::from(c)),
                },
                None => self.left = (self.next)()?.into_iter(),
            }
        }
        Ok(out)
    }
}

/// `n` random alphanumeric characters, from one read of the OS CSPRNG ([`fill_random`]) nearly
/// always: a few bytes more than `n` cover the ones skipped (1 in 32 on average).
pub fn random_alnum(n: usize) -> Result<String, RandomError> {
    Blocks::new(|| random_bytes(n + n / 8 + 8)).alnum(n)
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

/// Where new tokens go in the order of minting: a sequence that starts from the clock's second
/// (× 2^20) and counts up with every token. A token's stamp is the start of its stored key (see
/// [`hash`]), so tokens minted one after another are stored side by side: a store keyed by it
/// writes a new token into the page the last one went to, not into a random page of the whole
/// table. Only the order, and so the speed, depend on it: stamps that overlap (instances on one
/// database, a clock moved back) are no harm. A stamp carries no secret; what it tells is in
/// docs/security.md.
#[derive(Debug)]
pub struct Stamps(AtomicU64);

impl Stamps {
    /// Stamps after every stamp taken before `now`, as long as the rate stayed under 2^20 a
    /// second (a clock before 1970 counts as 1970).
    pub fn starting(now: Unix) -> Self {
        Stamps(AtomicU64::new(
            u64::try_from(now).unwrap_or(0) << STAMPS_PER_SECOND_BITS,
        ))
    }

    /// The first of `n` stamps, the next `n - 1` following it.
    fn take(&self, n: usize) -> u64 {
        self.0
            .fetch_add(u64::try_from(n).unwrap_or(u64::MAX), Ordering::Relaxed)
    }
}

/// Stamp `n` written in [`STAMP_LEN`] digits (modulo 62^9, a span of some 400 years at 2^20 a
/// second).
fn stamp(mut n: u64) -> [u8; STAMP_LEN] {
    let mut out = [b'0'; STAMP_LEN];
    for digit in out.iter_mut().rev() {
        *digit = STAMP_DIGITS[(n % 62) as usize];
        n /= 62;
    }
    out
}

/// A token of `stamp` and a random `body`.
fn stamped(stamp: &[u8; STAMP_LEN], body: &str) -> String {
    stamped_with(PREFIX, Some(stamp), body)
}

/// `prefix`, `stamp` (when there is one: Page tokens of unstamped user tokens have none) and
/// `body`: a token's, or a code's (`codes::mint_stamped`).
pub(crate) fn stamped_with(prefix: &str, stamp: Option<&[u8; STAMP_LEN]>, body: &str) -> String {
    let mut t = String::with_capacity(prefix.len() + STAMP_LEN + body.len());
    t.push_str(prefix);
    if let Some(stamp) = stamp {
        t.push_str(as_text(stamp));
    }
    t.push_str(body);
    t
}

/// A new user token: `EAA`, the next stamp, 64 random alphanumerics.
pub fn mint(stamps: &Stamps) -> Result<String, RandomError> {
    Ok(stamped(&next_stamp(stamps), &random_alnum(BODY_LEN)?))
}

/// The next stamp, written out (codes are stamped too: `codes::mint_stamped`).
pub(crate) fn next_stamp(stamps: &Stamps) -> [u8; STAMP_LEN] {
    stamp(stamps.take(1))
}

/// `n` new user tokens, as [`mint`] makes them, from the OS CSPRNG read in blocks of 4 KiB (one
/// system call for about sixty tokens instead of one each): for `graphtoken bench populate`.
pub fn mint_many(stamps: &Stamps, n: usize) -> Result<Vec<String>, RandomError> {
    let first = stamps.take(n);
    let mut random = Blocks::new(|| random_bytes(4096));
    (0..n as u64)
        .map(|i| {
            Ok(stamped(
                &stamp(first.wrapping_add(i)),
                &random.alnum(BODY_LEN)?,
            ))
        })
        .collect()
}

/// A keyed, deterministic token body: 64 alphanumerics from HMAC-SHA256(key, label ‖ counter).
/// Knowing it requires knowing `key` (a token string), which is never stored.
fn derive(key: &[u8], label: &str) -> [u8; BODY_LEN] {
    let mut labelled = hmac(key);
    labelled.update(label.as_bytes());
    expand(&labelled)
}

/// ASCII bytes as text: bodies from [`ALNUM_OF`], and stamps, which are [`STAMP_DIGITS`] or
/// checked alphanumeric by [`stamp_after`]. So the fallback, an empty string, is never reached.
fn as_text(ascii: &[u8]) -> &str {
    std::str::from_utf8(ascii).unwrap_or_default()
}

/// [`BODY_LEN`] alphanumerics, as ASCII bytes, from `labelled` (a keyed HMAC that has read its
/// label): block `i` is its MAC after the counter `i`, big-endian, and each byte below 248 gives
/// a character. Each block clones `labelled`, so the key and the label are hashed once.
fn expand(labelled: &HmacSha256) -> [u8; BODY_LEN] {
    let mut out = [0u8; BODY_LEN];
    let mut n = 0;
    let mut counter = 0u32;
    while n < BODY_LEN {
        let mut mac = labelled.clone();
        mac.update(&counter.to_be_bytes());
        counter += 1;
        let block = mac.finalize().into_bytes();
        for &b in block.iter() {
            let c = ALNUM_OF[usize::from(b)];
            if c != 0 {
                out[n] = c;
                n += 1;
                if n == BODY_LEN {
                    break;
                }
            }
        }
    }
    out
}

fn hmac(key: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length, so `new_from_slice` never fails; the fallback is unreachable.
    <HmacSha256 as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| <HmacSha256 as KeyInit>::new(&Default::default()))
}

/// The Page tokens one user token yields, keyed once: `/me/accounts` asks for one per Page, and
/// keying costs as much as the rest of a Page token (a token is longer than SHA-256's block, so
/// HMAC hashes it first, then hashes each padded half of the key).
pub struct PageTokens {
    keyed: HmacSha256,
    stamp: Option<[u8; STAMP_LEN]>,
}

impl PageTokens {
    pub fn new(user_token: &str) -> Self {
        PageTokens {
            keyed: hmac(user_token.as_bytes()),
            stamp: stamp_of(user_token).copied(),
        }
    }

    /// The Page token for `page`: the same every time it is asked for, so `/me/accounts` can
    /// be polled without minting new tokens, and new once the person lost every task on the
    /// Page and got one back (`since` changes).
    ///
    /// A Page token carries its user token's stamp (when it has one), so it is stored beside it.
    pub fn token(&self, page: PageId, since: i64) -> String {
        let mut labelled = self.keyed.clone();
        // The label `page:{page}:{since}`, written without a `String`.
        labelled.update(b"page:");
        labelled.update(itoa::Buffer::new().format(page.0).as_bytes());
        labelled.update(b":");
        labelled.update(itoa::Buffer::new().format(since).as_bytes());
        stamped_with(PREFIX, self.stamp.as_ref(), as_text(&expand(&labelled)))
    }
}

/// Not the key: a `Debug` that cannot show it.
impl std::fmt::Debug for PageTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PageTokens(..)")
    }
}

/// The Page token `user_token` yields for `page` ([`PageTokens::token`]).
pub fn page_token(user_token: &str, page: PageId, since: i64) -> String {
    PageTokens::new(user_token).token(page, since)
}

/// The app token `client_credentials` returns: `{app-id}|{27 chars}`, derived from the secret,
/// so resetting the secret retires it.
pub fn app_token(app: AppId, secret: &str) -> String {
    let body = derive(secret.as_bytes(), &format!("app:{app}"));
    format!(
        "{app}|{}",
        as_text(body.get(..APP_TOKEN_LEN).unwrap_or(&body))
    )
}

/// The key a token string is stored under, the only form stored. A stamped token's is its stamp
/// then the first 23 bytes of its SHA-256 (184 bits; the stamp is no secret); any other
/// string's, its SHA-256.
pub fn hash(token: &str) -> TokenHash {
    key(stamp_of(token), token)
}

/// `s`'s key: `stamp` then the first 23 bytes of its SHA-256 when it has one, else its SHA-256.
pub(crate) fn key(stamp: Option<&[u8; STAMP_LEN]>, s: &str) -> TokenHash {
    let digest: TokenHash = Sha256::digest(s.as_bytes()).into();
    let Some(stamp) = stamp else {
        return digest;
    };
    let mut key = [0u8; 32];
    key[..STAMP_LEN].copy_from_slice(stamp);
    key[STAMP_LEN..].copy_from_slice(&digest[..32 - STAMP_LEN]);
    key
}

/// `token` without its stamp, when it has one: `EAA` and the random part, which tells tokens
/// minted at about the same time apart (their stamps differ only in the last digits).
pub fn unstamped(token: &str) -> std::borrow::Cow<'_, str> {
    match stamp_of(token).and_then(|_| token.get(PREFIX.len() + STAMP_LEN..)) {
        Some(random) => std::borrow::Cow::Owned(format!("{PREFIX}{random}")),
        None => std::borrow::Cow::Borrowed(token),
    }
}

/// The stamp of a token of the stamped form (`EAA`, 9 + 64 characters, the stamp's
/// alphanumeric); the rest is not checked, as an unknown key is simply not found.
fn stamp_of(token: &str) -> Option<&[u8; STAMP_LEN]> {
    stamp_after(token, PREFIX, BODY_LEN)
}

/// The stamp of `s` when it is `prefix`, an alphanumeric stamp and `body` more characters.
pub(crate) fn stamp_after<'a>(
    s: &'a str,
    prefix: &str,
    body: usize,
) -> Option<&'a [u8; STAMP_LEN]> {
    let rest = s.strip_prefix(prefix)?;
    if rest.len() != STAMP_LEN + body {
        return None;
    }
    let stamp: &[u8; STAMP_LEN] = rest.as_bytes()[..STAMP_LEN].try_into().ok()?;
    stamp.iter().all(u8::is_ascii_alphanumeric).then_some(stamp)
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
    // With a stamp or without (tokens minted before stamps).
    match token.strip_prefix(PREFIX) {
        Some(rest)
            if (rest.len() == BODY_LEN || rest.len() == STAMP_LEN + BODY_LEN)
                // Every byte, without stopping at the first bad one: the loop vectorizes, and
                // it runs on every request.
                && rest.bytes().fold(true, |ok, b| ok & b.is_ascii_alphanumeric()) =>
        {
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
        let stamps = Stamps::starting(1_700_000_000);
        let a = mint(&stamps).unwrap();
        let b = mint(&stamps).unwrap();
        assert_ne!(a, b);
        assert_eq!(form(&a), Form::Stored);
        assert!(a.starts_with("EAA") && a.len() == 76 && !a.contains('|'));
        // Tokens minted before stamps are still recognised.
        assert_eq!(form(&("EAA".to_string() + &"a".repeat(64))), Form::Stored);
        assert_eq!(form(&("EAA".to_string() + &"a".repeat(70))), Form::Garbage);
    }

    /// Keys sort in the order tokens were minted, across many at once and a restart.
    #[test]
    fn stamped_keys_sort_in_the_order_of_minting() {
        let stamps = Stamps::starting(1_700_000_000);
        let mut minted = vec![mint(&stamps).unwrap()];
        minted.extend(mint_many(&stamps, 70).unwrap_or_default());
        minted.push(mint(&stamps).unwrap());
        // A restart a second later, after fewer than 2^20 tokens.
        minted.push(mint(&Stamps::starting(1_700_000_001)).unwrap());
        let keys: Vec<TokenHash> = minted.iter().map(|t| hash(t)).collect();
        assert_eq!(keys.len(), 73);
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{minted:?}");
        // The key: the stamp, then SHA-256 cut to what is left.
        let t = &minted[0];
        let digest: TokenHash = Sha256::digest(t.as_bytes()).into();
        assert_eq!(&keys[0][..STAMP_LEN], &t.as_bytes()[3..3 + STAMP_LEN]);
        assert_eq!(&keys[0][STAMP_LEN..], &digest[..32 - STAMP_LEN]);
        // 62 stamps apart: the second-to-last digit moved, the order holds across it.
        assert_eq!(stamp(61), *b"00000000z");
        assert_eq!(stamp(62), *b"000000010");
    }

    /// A token minted before stamps keeps its key (its SHA-256), and so does its Page token:
    /// databases from before stamps need no change.
    #[test]
    fn tokens_without_a_stamp_keep_their_keys() {
        let old = "EAA".to_string() + &"a".repeat(64);
        let digest: TokenHash = Sha256::digest(old.as_bytes()).into();
        assert_eq!(hash(&old), digest);
        let page = page_token(&old, PageId(5), 1);
        assert_eq!(page.len(), 67);
        let digest: TokenHash = Sha256::digest(page.as_bytes()).into();
        assert_eq!(hash(&page), digest);
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
    fn pooled_randomness_is_handed_out_once_and_wiped() {
        let mut seen = std::collections::HashSet::new();
        // Past one pool's worth, so that it is read again.
        for _ in 0..2 * POOL / 72 {
            let mut b = [0u8; 72];
            fill_random(&mut b).unwrap();
            assert!(seen.insert(b), "no two reads alike");
            POOLED.with(|p| {
                let p = p.borrow();
                assert!(
                    p.bytes[..p.used].iter().all(|&x| x == 0),
                    "taken bytes wiped"
                );
                let rest = &p.bytes[p.used..];
                assert!(
                    rest.is_empty() || rest.iter().any(|&x| x != 0),
                    "the rest kept"
                );
            });
        }
        // Large reads go to the OS directly and leave the pool as it was.
        let before = POOLED.with(|p| p.borrow().used);
        let big = random_bytes(POOL).unwrap();
        assert!(big.iter().any(|&x| x != 0));
        assert_eq!(POOLED.with(|p| p.borrow().used), before);
    }

    #[test]
    fn derived_tokens_are_the_ones_already_given_out() {
        // Page and app tokens are stored (hashed) and handed out again on every call: what a
        // user or app token yields must never change, or a client's saved token stops working.
        let plain = "EAA".to_string() + &"a".repeat(64);
        let stamped = "EAA0AbCdEfGh".to_string() + &"Zy9".repeat(21) + "x";
        assert_eq!(
            page_token(&plain, PageId(5), 1),
            "EAAxqq6JKICLdIJaqtxXukyRxKeh0ieCfgwx1A3TQST3l1PlxPRvUSqzRu9MewZDUKg"
        );
        assert_eq!(
            page_token(&stamped, PageId(123456789012345), 1_764_000_000),
            "EAA0AbCdEfGhqRnSvcMj9j0bHgJS8T3OoAG3b7wKmeVHn3jnOU1Vfmab69ly0n9ZxQ60AVcHh1Uj"
        );
        let keyed = PageTokens::new(&stamped);
        assert_eq!(
            keyed.token(PageId(7), -3),
            "EAA0AbCdEfGhpdPkUYKFZl4mU2DMiKMMQzXCT5a6gBHAOLMTKHm9v15CN6oykFONHFzMOlRGulxO"
        );
        assert_eq!(
            keyed.token(PageId(5), 1),
            page_token(&stamped, PageId(5), 1)
        );
        assert_eq!(
            app_token(AppId(42), "secret"),
            "42|D7w7T3blpoNLa8rj2gmR5UUYdxs"
        );
        assert_eq!(format!("{keyed:?}"), "PageTokens(..)");
    }

    #[test]
    fn derived_tokens_are_stable_and_keyed() {
        let t = "EAA".to_string() + &"a".repeat(64);
        assert_eq!(page_token(&t, PageId(5), 1), page_token(&t, PageId(5), 1));
        assert_ne!(page_token(&t, PageId(5), 1), page_token(&t, PageId(5), 2));
        assert_ne!(page_token(&t, PageId(5), 1), page_token(&t, PageId(6), 1));
        assert_eq!(form(&page_token(&t, PageId(5), 1)), Form::Stored);
        // A stamped user token's Page tokens carry its stamp, so they are stored beside it.
        let user = mint(&Stamps::starting(1_700_000_000)).unwrap();
        let page = page_token(&user, PageId(5), 1);
        assert_eq!(form(&page), Form::Stored);
        assert_eq!(page[..3 + STAMP_LEN], user[..3 + STAMP_LEN]);
        assert_eq!(hash(&page)[..STAMP_LEN], hash(&user)[..STAMP_LEN]);
        assert_ne!(page, page_token(&user, PageId(6), 1));
        assert_eq!(unstamped(&user), format!("EAA{}", &user[3 + STAMP_LEN..]));
        assert_eq!(unstamped(&t), t);
        let app = app_token(AppId(42), "secret");
        assert!(app.starts_with("42|") && app.len() == 3 + 27);
        assert_ne!(app, app_token(AppId(42), "secret2"));
    }

    #[test]
    fn tokens_minted_many_at_once_have_the_form_of_one() {
        let many = mint_many(&Stamps::starting(0), 300).unwrap_or_default();
        assert_eq!(many.len(), 300);
        assert!(many.iter().all(|t| form(t) == Form::Stored), "{many:?}");
        let distinct: std::collections::HashSet<_> = many.iter().collect();
        assert_eq!(distinct.len(), 300);
    }

    /// Every byte gives the character it gave as `b % 62`, and the bytes from 248 up none: the
    /// same tokens from the same streams.
    #[test]
    fn the_table_gives_each_byte_its_character() {
        for b in 0..=255u8 {
            let expected = if b < 248 {
                ALNUM[usize::from(b) % 62]
            } else {
                0
            };
            assert_eq!(ALNUM_OF[usize::from(b)], expected, "byte {b}");
        }
        assert!(ALNUM.iter().all(|&c| c != 0), "0 marks a skipped byte only");
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
