//! Token strings: minting from the OS CSPRNG, hashing, recognising their form, and the secrets
//! derived from other secrets (app tokens, Page tokens, `appsecret_proof`).

use std::sync::atomic::{AtomicU64, Ordering};

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::model::{AppId, Asid, Id, PageId, Session, SessionId, TokenHash, TokenRecord, Unix};

type HmacSha256 = Hmac<Sha256>;

/// Every user and Page token starts with this, like Facebook's.
pub const PREFIX: &str = "EAA";
/// A session info token starts with this instead, like Facebook's (Auth0's guide to native
/// Facebook login shows one: `XAAGgR4b…`).
pub const SESSION_INFO_PREFIX: &str = "XAA";
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

/// A new session info token: `XAA`, the next stamp, 64 random alphanumerics, stored under its
/// stamp as a user token is.
pub fn mint_session_info(stamps: &Stamps) -> Result<String, RandomError> {
    Ok(stamped_with(
        SESSION_INFO_PREFIX,
        Some(&next_stamp(stamps)),
        &random_alnum(BODY_LEN)?,
    ))
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

/// `token` without its stamp, when it has one: its prefix (`EAA`, or `XAA`) and the random
/// part, which tells tokens minted at about the same time apart (their stamps differ only in
/// the last digits).
pub fn unstamped(token: &str) -> std::borrow::Cow<'_, str> {
    let prefix = token.get(..PREFIX.len()).unwrap_or(PREFIX);
    match stamp_of(token).and_then(|_| token.get(PREFIX.len() + STAMP_LEN..)) {
        Some(random) => std::borrow::Cow::Owned(format!("{prefix}{random}")),
        None => std::borrow::Cow::Borrowed(token),
    }
}

/// The stamp of a token of the stamped form (`EAA`, 9 + 64 characters, the stamp's
/// alphanumeric, and the [`Claims`] when it carries them; or a session info token's `XAA`,
/// 9 + 64); the rest is not checked, as an unknown key is simply not found.
fn stamp_of(token: &str) -> Option<&[u8; STAMP_LEN]> {
    stamp_after(token, PREFIX, BODY_LEN)
        .or_else(|| stamp_after(token, PREFIX, BODY_LEN + CLAIMS_LEN))
        .or_else(|| stamp_after(token, SESSION_INFO_PREFIX, BODY_LEN))
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
    let mut s = String::with_capacity(bytes.len() * 2);
    push_hex(&mut s, bytes);
    s
}

/// `bytes` in lowercase hex, after what `out` holds.
fn push_hex(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
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

/// Bytes of a user token's [`Claims`], and of the tag that seals them.
const CLAIMS_BYTES: usize = 34;
const TAG_BYTES: usize = 16;
/// Characters a user token's claims and their tag take after its random body, in lowercase hex.
pub const CLAIMS_LEN: usize = 2 * (CLAIMS_BYTES + TAG_BYTES);
/// What follows the prefix and the random body of a token with claims: its stamp and them.
const CLAIMED: usize = STAMP_LEN + CLAIMS_LEN;
/// The layout of the claims below; claims of another layout are not read (the token is looked
/// up instead).
const CLAIMS_LAYOUT: u8 = 1;

/// What a user token says of itself, after its random body, under a tag only the
/// [`TokenKey`] of its database makes: its session, its person's app-scoped id, whether it is
/// long-lived, when it was issued and when it expires, exactly as its stored record has them
/// (the session names the person and the app; the person's own id, which apps never see, is
/// not in it). A token whose tag checks out, for the session as stored, was minted here and
/// stored before it was handed out, so a long-lived one (which nothing ends alone: only its
/// session, grant, person or app end it) needs no lookup of its own (`Services::claimed`). The
/// claims carry no secret; what they tell is in docs/security.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Claims {
    pub session: SessionId,
    pub asid: Asid,
    pub long_lived: bool,
    pub issued_at: Unix,
    pub expires_at: Unix,
}

impl Claims {
    /// The claims of a user token's `record`, whose person has `asid` in its app.
    pub fn of(record: &TokenRecord, asid: Asid) -> Claims {
        Claims {
            session: record.session_id,
            asid,
            long_lived: record.long_lived,
            issued_at: record.issued_at,
            expires_at: record.expires_at,
        }
    }

    /// The layout, a flag byte (1: long-lived), then each field in 8 bytes, big-endian.
    fn to_bytes(self) -> [u8; CLAIMS_BYTES] {
        let mut b = [0u8; CLAIMS_BYTES];
        b[0] = CLAIMS_LAYOUT;
        b[1] = u8::from(self.long_lived);
        let fields = [
            self.session.0.to_be_bytes(),
            self.asid.0.to_be_bytes(),
            self.issued_at.to_be_bytes(),
            self.expires_at.to_be_bytes(),
        ];
        for (chunk, field) in b[2..].chunks_exact_mut(8).zip(fields) {
            chunk.copy_from_slice(&field);
        }
        b
    }

    fn from_bytes(b: &[u8; CLAIMS_BYTES]) -> Option<Claims> {
        if b[0] != CLAIMS_LAYOUT || b[1] > 1 {
            return None;
        }
        let mut fields = b[2..].chunks_exact(8).map(|c| {
            let mut f = [0u8; 8];
            f.copy_from_slice(c);
            f
        });
        let mut next = || fields.next().unwrap_or_default();
        Some(Claims {
            session: SessionId(i64::from_be_bytes(next())),
            asid: Asid(u64::from_be_bytes(next())),
            long_lived: b[1] == 1,
            issued_at: i64::from_be_bytes(next()),
            expires_at: i64::from_be_bytes(next()),
        })
    }
}

/// The key that tags [`Claims`]: 32 random bytes a database keeps (sealed, like the other
/// secrets it keeps), keyed into HMAC-SHA256 once.
pub struct TokenKey(HmacSha256);

impl TokenKey {
    pub fn new(secret: &[u8]) -> TokenKey {
        TokenKey(hmac(secret))
    }

    /// A new key from the OS CSPRNG, as 64 lowercase hex digits (how a database keeps it).
    pub fn new_hex() -> Result<String, RandomError> {
        random_hex(64)
    }

    /// The key written as 64 lowercase hex digits ([`TokenKey::new_hex`]).
    pub fn from_hex(text: &str) -> Option<TokenKey> {
        if text.len() != 64 {
            return None;
        }
        let bytes: Option<Vec<u8>> = text
            .as_bytes()
            .chunks_exact(2)
            .map(|pair| Some((nibble(pair[0])? << 4) | nibble(pair[1])?))
            .collect();
        Some(TokenKey::new(&bytes?))
    }

    /// The first [`TAG_BYTES`] of HMAC-SHA256(key, `head` ‖ `claims` ‖ the session's person,
    /// app and start): the tag binds the claims to the token they follow, and to the session
    /// they name as it was stored, so that a session of the same number and another person (a
    /// number drawn again after a lost commit, or in a copy of the database) refuses it.
    fn tag(&self, head: &[u8], claims: &[u8; CLAIMS_BYTES], session: &Session) -> [u8; TAG_BYTES] {
        let mut mac = self.0.clone();
        mac.update(head);
        mac.update(claims);
        mac.update(&session.user_id.0.to_be_bytes());
        mac.update(&session.app_id.0.to_be_bytes());
        mac.update(&session.created_at.to_be_bytes());
        let full = mac.finalize().into_bytes();
        let mut tag = [0u8; TAG_BYTES];
        tag.copy_from_slice(&full[..TAG_BYTES]);
        tag
    }
}

/// Not the key: a `Debug` that cannot show it.
impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

/// A minted token (`EAA`, its stamp, its random body: [`mint`]) followed by `claims` (of a token
/// of `session`) and their tag under `key`, in lowercase hex.
pub fn with_claims(mut token: String, key: &TokenKey, claims: Claims, session: &Session) -> String {
    let bytes = claims.to_bytes();
    let tag = key.tag(token.as_bytes(), &bytes, session);
    token.reserve(CLAIMS_LEN);
    push_hex(&mut token, &bytes);
    push_hex(&mut token, &tag);
    token
}

/// A token's claims as read, not yet checked: their tag takes the session they name
/// ([`Unchecked::check`]).
pub struct Unchecked<'a> {
    pub claims: Claims,
    head: &'a str,
    raw: [u8; CLAIMS_BYTES],
    tag: [u8; TAG_BYTES],
}

/// The claims a token carries, of a known layout, to be checked; `None` for any other token (an
/// older one, one cut short). Only lowercase hex is read, so that a token has one spelling.
pub fn claims_of(token: &str) -> Option<Unchecked<'_>> {
    let (head, tail) = token.split_at_checked(token.len().checked_sub(CLAIMS_LEN)?)?;
    if head.len() != PREFIX.len() + STAMP_LEN + BODY_LEN {
        return None;
    }
    let mut raw = [0u8; CLAIMS_BYTES];
    let mut tag = [0u8; TAG_BYTES];
    let digits = tail.as_bytes().chunks_exact(2);
    for (out, pair) in raw.iter_mut().chain(tag.iter_mut()).zip(digits) {
        *out = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(Unchecked {
        claims: Claims::from_bytes(&raw)?,
        head,
        raw,
        tag,
    })
}

impl Unchecked<'_> {
    /// The claims, when their tag is `key`'s for them and `session`, the session they name as it
    /// is stored; `None` otherwise (another database's key, a character changed, a session of
    /// that number that is not the one the token was minted in).
    pub fn check(&self, key: &TokenKey, session: &Session) -> Option<Claims> {
        let expected = key.tag(self.head.as_bytes(), &self.raw, session);
        (session.id == self.claims.session && bool::from(expected.ct_eq(&self.tag)))
            .then_some(self.claims)
    }
}

/// A lowercase hex digit's value.
fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// What a token string looks like, before anything is looked up.
#[derive(Debug, PartialEq, Eq)]
pub enum Form<'a> {
    /// `EAA…`: a user or Page token, or `XAA…`: a session info token, to be found by its hash.
    Stored,
    /// `{app-id}|{rest}`: an app token, the app id|secret literal, or a client token.
    Pipe { app: AppId, rest: &'a str },
    /// Nothing graphtoken issues looks like this.
    Garbage,
}

pub fn form(token: &str) -> Form<'_> {
    // With a stamp or without (tokens minted before stamps), with claims or without. Looked at
    // first: it holds no `|`, and looking for one is a scan of its own.
    if let Some(rest) = token.strip_prefix(PREFIX) {
        if matches!(
            rest.len().checked_sub(BODY_LEN),
            Some(0 | STAMP_LEN | CLAIMED)
        ) && alphanumeric(rest)
        {
            return Form::Stored;
        }
    }
    if let Some((app, rest)) = token.split_once('|') {
        return match app.parse::<AppId>() {
            Ok(app) if !rest.is_empty() => Form::Pipe { app, rest },
            _ => Form::Garbage,
        };
    }
    if is_session_info(token) {
        Form::Stored
    } else {
        Form::Garbage
    }
}

/// `XAA`, a stamp and 64 alphanumerics: the form of [`mint_session_info`]'s tokens, and of no
/// other (a known token of this form is a session info token).
pub fn is_session_info(token: &str) -> bool {
    token
        .strip_prefix(SESSION_INFO_PREFIX)
        .is_some_and(|rest| rest.len() == STAMP_LEN + BODY_LEN && alphanumeric(rest))
}

/// Whether `s` is ASCII letters and digits only. Every byte is looked at, without stopping at
/// the first bad one and without branches, so that the loop runs on whole vectors of bytes: it
/// runs on every request, where `bytes().all(is_ascii_alphanumeric)` took some 7 instructions a
/// byte.
fn alphanumeric(s: &str) -> bool {
    let bad = |b: u8| {
        let letter = (b | 0x20).wrapping_sub(b'a') < 26;
        let digit = b.wrapping_sub(b'0') < 10;
        u8::from(!(letter | digit))
    };
    s.bytes().fold(0, |any, b| any | bad(b)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AppId, PageId};

    #[test]
    fn alphanumeric_agrees_with_the_standard_check_for_every_byte() {
        for b in 0..=u8::MAX {
            let mut s = vec![b'a'; 40];
            s[17] = b;
            let s = String::from_utf8_lossy(&s).into_owned();
            let expected = s.bytes().all(|b| b.is_ascii_alphanumeric());
            assert_eq!(alphanumeric(&s), expected, "byte {b:#04x}");
        }
        assert!(alphanumeric(""));
    }

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

    #[test]
    fn session_info_tokens_have_their_own_prefix_and_are_recognised() {
        let stamps = Stamps::starting(1_700_000_000);
        let t = mint_session_info(&stamps).unwrap();
        assert!(t.starts_with("XAA") && t.len() == 76, "{t}");
        assert_eq!(form(&t), Form::Stored);
        assert_ne!(hash(&t), hash(&mint_session_info(&stamps).unwrap()));
        // Stored under its stamp, as a user token; shown without it, with its own prefix.
        assert_eq!(&hash(&t)[..STAMP_LEN], &t.as_bytes()[3..3 + STAMP_LEN]);
        assert_eq!(unstamped(&t), format!("XAA{}", &t[3 + STAMP_LEN..]));
        // Only the minted form: no other length, no other prefix, nothing but alphanumerics.
        for bad in [
            "XAA".to_string() + &"a".repeat(64),
            "XAA".to_string() + &"a".repeat(74),
            "XAA".to_string() + &"a".repeat(72) + "-",
            "YAA".to_string() + &"a".repeat(73),
        ] {
            assert_eq!(form(&bad), Form::Garbage, "{bad}");
        }
    }

    /// A user token's claims come back under their key and with their session only, from the
    /// one spelling minted; a change of any character, another key, another session of that
    /// number or a token without claims gives none.
    #[test]
    fn claims_come_back_only_under_their_key_and_session() {
        let stamps = Stamps::starting(1_700_000_000);
        let (key, other) = (TokenKey::new(b"one key"), TokenKey::new(b"another"));
        let session = Session {
            id: SessionId(7),
            user_id: crate::model::UserId(41),
            app_id: AppId(1001),
            created_at: 1_699_999_000,
            invalidated: None,
        };
        let claims = Claims {
            session: session.id,
            asid: Asid(123_456_789_012_345),
            long_lived: true,
            issued_at: 1_700_000_000,
            expires_at: 1_705_184_000,
        };
        let checked = |t: &str, key: &TokenKey, session: &Session| {
            claims_of(t).and_then(|u| u.check(key, session))
        };
        let t = with_claims(mint(&stamps).unwrap(), &key, claims, &session);
        assert_eq!(t.len(), PREFIX.len() + STAMP_LEN + BODY_LEN + CLAIMS_LEN);
        assert_eq!(form(&t), Form::Stored);
        assert_eq!(checked(&t, &key, &session), Some(claims));
        assert_eq!(checked(&t, &other, &session), None);
        // A session of the same number, of another person, app or start, or another number.
        for changed in [
            Session {
                user_id: crate::model::UserId(42),
                ..session.clone()
            },
            Session {
                app_id: AppId(1002),
                ..session.clone()
            },
            Session {
                created_at: session.created_at + 1,
                ..session.clone()
            },
            Session {
                id: SessionId(8),
                ..session.clone()
            },
        ] {
            assert_eq!(checked(&t, &key, &changed), None, "{changed:?}");
        }
        // Stored beside the tokens minted before and after it.
        assert_eq!(&hash(&t)[..STAMP_LEN], &t.as_bytes()[3..3 + STAMP_LEN]);
        for i in 0..t.len() {
            let mut changed = t.clone().into_bytes();
            changed[i] = if changed[i] == b'a' { b'b' } else { b'a' };
            let changed = String::from_utf8(changed).unwrap();
            assert_eq!(checked(&changed, &key, &session), None, "character {i}");
        }
        let upper = format!("{}{}", &t[..76], t[76..].to_uppercase());
        assert_ne!(upper, t);
        assert!(claims_of(&upper).is_none());
        assert!(claims_of(&mint(&stamps).unwrap()).is_none());
        assert!(claims_of(&t[..t.len() - 2]).is_none());
        // A two-byte character in the claims, and across where they start.
        assert!(claims_of(&format!("{}é{}", &t[..80], &t[82..])).is_none());
        assert!(claims_of(&format!("{}é{}", &t[..75], &t[77..])).is_none());
        let short = Claims {
            long_lived: false,
            ..claims
        };
        let s = with_claims(mint(&stamps).unwrap(), &key, short, &session);
        assert_eq!(checked(&s, &key, &session), Some(short));
        // The key reads back from how a database keeps it.
        let text = TokenKey::new_hex().unwrap();
        let kept = TokenKey::from_hex(&text).unwrap();
        let k = with_claims(mint(&stamps).unwrap(), &kept, claims, &session);
        let again = TokenKey::from_hex(&text).unwrap();
        assert_eq!(checked(&k, &again, &session), Some(claims));
        assert!(TokenKey::from_hex(&text.to_uppercase()).is_none());
        assert!(TokenKey::from_hex(&text[..62]).is_none());
        assert_eq!(format!("{kept:?}"), "TokenKey(..)");
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
        // A token's length with a `|` in it is neither stored nor an app's.
        let piped = format!("EAA{}|{}", "a".repeat(40), "b".repeat(23));
        assert_eq!(form(&piped), Form::Garbage);
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
