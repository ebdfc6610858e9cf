//! The storage boundary. `core` states what it needs; `graphtoken-store` implements it per backend.
//!
//! Every method is async and `Send`, so a backend may run blocking drivers on a thread pool
//! (SQLite) or talk to a server (PostgreSQL). Writes that belong together are one method, so a
//! backend can make them one transaction.

use std::sync::Arc;

use crate::events::Callback;
use crate::exec::BoxFuture;
use crate::faults::StoredFault;
use crate::outbox::{Attempt, Outgoing};
use crate::signin::Entry as ThrottleEntry;
use crate::stats::StoreStats;
use crate::written::Written;

use crate::codes::{AuthCode, DeviceCode, TestUser, TestUserInsert};
use crate::content::{Comment, Post};
use crate::messaging::{Conversation, Message};
use crate::model::{
    AccountStatus, App, AppId, Asid, BudgetChange, Grant, Id, Invalidation, Overview, Page, PageId,
    PageTasks, Psid, RateLimits, Session, SessionId, TokenHash, TokenRecord, Unix, User, UserId,
};
use crate::tasks::TaskSet;

/// A storage failure. Its text is for logs only; clients see a catalogued Graph error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError {
    pub message: String,
    /// The database could not be reached, or the connection to it was lost: worth retrying,
    /// and the service is unavailable until it is back.
    pub unavailable: bool,
}

impl StoreError {
    pub fn new(message: impl Into<String>) -> Self {
        StoreError {
            message: message.into(),
            unavailable: false,
        }
    }

    /// The same error, as one of a database out of reach.
    pub fn unavailable(mut self) -> Self {
        self.unavailable = true;
        self
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for StoreError {}

pub type StoreResult<T> = Result<T, StoreError>;

/// What every store method returns: a boxed future, so that `Store` can be a trait object.
pub type StoreFuture<'a, T> = BoxFuture<'a, StoreResult<T>>;

// The callbacks below run inside a store's write, which may run more than once (a SQLite writer
// starts its group over when one write of it fails): they must not act outside their arguments.

/// How [`DirectoryStore::update_grant`] changes a grant (see there).
pub type GrantUpdate = Box<dyn Fn(Option<Grant>) -> Option<Grant> + Send>;

/// How [`LoginStore::update_throttle`] changes the sign-in throttle's entries of some keys
/// (`None`: nothing remembered); its `Err(seconds)` is passed back.
pub type ThrottleUpdate = Box<dyn Fn(&mut [Option<ThrottleEntry>]) -> Result<(), i64> + Send>;

/// How [`LoginStore::update_device_code`] changes a device login.
pub type DeviceUpdate = Box<dyn Fn(&mut DeviceCode) + Send>;

/// Whether [`LoginStore::redeem_code_into_session`] may spend an unused code.
pub type CodeCheck = Box<dyn Fn(&AuthCode) -> bool + Send>;

/// The token [`LoginStore::redeem_code_into_session`] stores for the session it opened.
pub type SessionToken = Box<dyn Fn(&Session) -> TokenRecord + Send>;

/// What [`LoginStore::redeem_code_into_session`] opened: the session, and the person's
/// app-scoped id for its app when they have one already (read in the same write, so handing out
/// the token needs no read after it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redeemed {
    pub session: Session,
    pub asid: Option<Asid>,
}

/// A stored token, the person's app-scoped id for its app and which of its Page tokens are known
/// to be stored (with their texts, room permitting): what the token cache holds, with a copy of
/// its session as last seen.
#[derive(Clone, Debug)]
pub struct TokenEntry {
    pub token: TokenRecord,
    pub asid: Asid,
    /// A user token's Page tokens known to be stored, and their texts while there is room, kept
    /// with its cached entry.
    pub pages_stored: PagesStored,
    /// The token's session when the entry was cached (the store leaves it empty).
    pub session: Option<SessionSeen>,
}

impl TokenEntry {
    pub fn new(token: TokenRecord, asid: Asid) -> Self {
        TokenEntry {
            token,
            asid,
            pages_stored: PagesStored::default(),
            session: None,
        }
    }
}

/// A copy of a token's session kept in the token's cached entry, with the sessions cache's
/// ticket taken before it was read: good while no session of its shard of that cache was
/// dropped since ([`Cache::unchanged`](crate::cache::Cache::unchanged)). Sessions are cached on
/// their own too, so ending one drops one entry; the copy saves a cached token the lookup in
/// that second map, as large as the tokens', whose every step is a cold line of memory.
#[derive(Clone, Debug)]
pub struct SessionSeen {
    pub session: Session,
    pub ticket: crate::cache::Ticket,
}

/// The Page tokens (by Page and the start of the person's tasks there, which name one) that a
/// user token is known to have stored, so that `/me/accounts` asks after each only once while
/// the user token stays cached; and, while its [`PageTokenRoom`] has room, each one's text, so
/// that it is not derived again (an HMAC of the user token for each Page, about a twentieth of
/// the answer's time; docs/benchmarks.md), or, in their place, the token's last `/me/accounts`
/// answer, written out, which holds them ([`KeptAnswer`]; the texts are derived again when
/// that answer is made anew). A token's row goes only with its person, whose tokens then stop
/// working, and a Page token is the same whenever it is derived, so what this says of Page
/// tokens stays true; the answer says what it was made from, and is used only while that is
/// unchanged. It remembers [`PagesStored::MOST`] Pages at most (Pages past those are looked up
/// and derived each time; a Page whose tasks started again takes its old place): 40 bytes in
/// the entry, and up to 64 more on the heap for a token whose Pages it remembers, which the
/// caches' budget does not count; the texts and the answer are counted in their room, and
/// given back to it when the entry goes. The same room keeps the token's last `debug_token`
/// answer ([`KeptDebug`]).
#[derive(Default)]
pub struct PagesStored(std::sync::Mutex<Known>);

#[derive(Default)]
struct Known {
    /// Each Page and the start of the person's tasks there.
    pages: Vec<(PageId, Unix)>,
    /// The texts of their tokens and the kept answer, once one is remembered.
    texts: Option<Box<Texts>>,
}

/// Page tokens' texts, by their place in [`Known::pages`], the last `/me/accounts` answer kept,
/// the last `debug_token` answer kept, and the room they are counted in.
#[derive(Clone)]
struct Texts {
    room: Arc<PageTokenRoom>,
    texts: [Option<Box<str>>; PagesStored::MOST],
    answer: Option<Arc<KeptAnswer>>,
    debug: Option<Arc<KeptDebug>>,
}

impl PagesStored {
    pub const MOST: usize = 4;

    pub fn knows(&self, page: PageId, since: Unix) -> bool {
        self.0.lock().is_ok_and(|k| k.at(page, since).is_some())
    }

    /// The Page token for `page` (tasks since `since`), when it is known to be stored and its
    /// text was remembered.
    pub fn token(&self, page: PageId, since: Unix) -> Option<String> {
        let known = self.0.lock().ok()?;
        let at = known.at(page, since)?;
        let text = known.texts.as_ref()?.texts.get(at)?;
        text.as_deref().map(String::from)
    }

    /// Records that the Page token `token` of `page` is stored, and remembers its text when
    /// `room` has room for it (the texts of one entry are counted in the room of its first).
    pub fn add(&self, page: PageId, since: Unix, token: &str, room: &Arc<PageTokenRoom>) {
        let Ok(mut known) = self.0.lock() else {
            return;
        };
        let known = &mut *known;
        let at = match known.pages.iter().position(|(p, _)| *p == page) {
            Some(at) => {
                // Tasks that started again name a new token, in the old one's place.
                if let Some(entry) = known.pages.get_mut(at).filter(|(_, s)| *s != since) {
                    entry.1 = since;
                    known.forget(at);
                }
                at
            }
            None if known.pages.len() < Self::MOST => {
                known.pages.push((page, since));
                known.pages.len() - 1
            }
            None => return,
        };
        known.remember(at, token, room);
    }

    /// The `/me/accounts` answer kept last, current or not ([`KeptAnswer`] says).
    pub fn answer(&self) -> Option<Arc<KeptAnswer>> {
        let known = self.0.lock().ok()?;
        known.texts.as_ref()?.answer.clone()
    }

    /// Keeps `answer` in place of the one kept before, when the room has room for it. It is
    /// counted with the texts, in their allocation, made when a first text or `debug_token`
    /// answer found room: none is kept for a token that has none. An answer that holds its
    /// Page tokens ([`KeptAnswer::holds_tokens`]) takes the place of their texts, which give
    /// their room back (a call that needs one derives it and remembers it again).
    pub fn keep(&self, answer: Arc<KeptAnswer>) {
        let Ok(mut known) = self.0.lock() else {
            return;
        };
        let Some(Texts {
            room,
            texts,
            answer: kept,
            ..
        }) = known.texts.as_deref_mut()
        else {
            return;
        };
        if answer.holds_tokens {
            for text in texts.iter_mut().filter_map(Option::take) {
                room.give_back(PageTokenRoom::cost(text.len()));
            }
        }
        if let Some(old) = kept.take() {
            room.give_back(old.cost());
        }
        if room.take(answer.cost()) {
            *kept = Some(answer);
        }
    }

    /// The `debug_token` answer kept last, current or not ([`KeptDebug`] says).
    pub fn debug(&self) -> Option<Arc<KeptDebug>> {
        let known = self.0.lock().ok()?;
        known.texts.as_ref()?.debug.clone()
    }

    /// Keeps `answer` in place of the `debug_token` answer kept before, when `room` has room
    /// for it (and for the allocation the texts are kept in, if none was made yet).
    pub fn keep_debug(&self, answer: Arc<KeptDebug>, room: &Arc<PageTokenRoom>) {
        let Ok(mut known) = self.0.lock() else {
            return;
        };
        let Some(Texts {
            room, debug: kept, ..
        }) = known.texts_in(room)
        else {
            return;
        };
        if let Some(old) = kept.take() {
            room.give_back(old.cost());
        }
        if room.take(answer.cost()) {
            *kept = Some(answer);
        }
    }
}

impl Known {
    /// The room the texts' own allocation takes, counted with the first text.
    const TEXTS: usize = std::mem::size_of::<Texts>().next_multiple_of(16);

    fn at(&self, page: PageId, since: Unix) -> Option<usize> {
        self.pages.iter().position(|k| *k == (page, since))
    }

    /// The texts' allocation, made in `room` if it has room and none was made yet.
    fn texts_in(&mut self, room: &Arc<PageTokenRoom>) -> Option<&mut Texts> {
        if self.texts.is_none() && room.take(Self::TEXTS) {
            self.texts = Some(Box::new(Texts {
                room: Arc::clone(room),
                texts: Default::default(),
                answer: None,
                debug: None,
            }));
        }
        self.texts.as_deref_mut()
    }

    fn remember(&mut self, at: usize, token: &str, room: &Arc<PageTokenRoom>) {
        let Some(Texts { room, texts, .. }) = self.texts_in(room) else {
            return;
        };
        if let Some(slot @ None) = texts.get_mut(at) {
            if room.take(PageTokenRoom::cost(token.len())) {
                *slot = Some(token.into());
            }
        }
    }

    fn forget(&mut self, at: usize) {
        let Some(Texts { room, texts, .. }) = self.texts.as_deref_mut() else {
            return;
        };
        if let Some(text) = texts.get_mut(at).and_then(Option::take) {
            room.give_back(PageTokenRoom::cost(text.len()));
        }
    }

    /// What the texts and the answer take in their room.
    fn taken(&self) -> usize {
        self.texts.as_ref().map_or(0, |t| {
            let each: usize = t
                .texts
                .iter()
                .flatten()
                .map(|t| PageTokenRoom::cost(t.len()))
                .sum();
            Self::TEXTS
                + each
                + t.answer.as_ref().map_or(0, |a| a.cost())
                + t.debug.as_ref().map_or(0, |a| a.cost())
        })
    }
}

/// A copy remembers the texts too if the room has room for them once more, else none of them.
impl Clone for PagesStored {
    fn clone(&self) -> Self {
        let Ok(known) = self.0.lock() else {
            return PagesStored::default();
        };
        let texts = known
            .texts
            .as_ref()
            .filter(|t| t.room.take(known.taken()))
            .cloned();
        PagesStored(std::sync::Mutex::new(Known {
            pages: known.pages.clone(),
            texts,
        }))
    }
}

impl Drop for PagesStored {
    fn drop(&mut self) {
        let known = self
            .0
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(t) = &known.texts {
            t.room.give_back(known.taken());
        }
    }
}

/// Pages and whether their token's text is remembered; never the text (a secret).
impl std::fmt::Debug for PagesStored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Ok(known) = self.0.lock() else {
            return f.write_str("PagesStored(poisoned)");
        };
        let remembered = |at: usize| {
            let texts = known
                .texts
                .as_ref()
                .map(|t| &t.texts[..])
                .unwrap_or_default();
            texts.get(at).is_some_and(Option::is_some)
        };
        let answer = known.texts.as_ref().and_then(|t| t.answer.as_ref());
        let debug = known.texts.as_ref().and_then(|t| t.debug.as_ref());
        f.debug_list()
            .entries(
                known
                    .pages
                    .iter()
                    .enumerate()
                    .map(|(at, (p, s))| (p, s, remembered(at).then_some("remembered"))),
            )
            .entries(answer.map(|_| "answer kept"))
            .entries(debug.map(|_| "debug_token answer kept"))
            .finish()
    }
}

/// A user token's `/me/accounts` answer with its default fields or some of them (no window),
/// written out, and what says it is still the answer: the `fields` asked for, the grant it was
/// made under ([`MadeFrom`]) and the caches' tickets, taken before the reads, for the
/// person's Page list and for each Page shown and the person's tasks there. An event that
/// changes any of them removes it from its cache, which moves the ticket of its shard on; the
/// Page tokens in it are the same whenever they are derived. Kept only for an answer whole on
/// one page (no `previous` or `next`: those carry the request's own URL).
pub struct KeptAnswer {
    pub body: Written,
    /// The request's `fields`, as sent.
    pub fields: Option<Box<str>>,
    /// Whether it shows the Page tokens (`access_token`, a default field).
    pub holds_tokens: bool,
    pub grant: Option<MadeFrom<Grant>>,
    pub seen: PagesSeen,
}

/// The tickets a [`KeptAnswer`] was made under.
#[derive(Clone, Debug)]
pub struct PagesSeen {
    /// The person's Page list (`user_pages`).
    pub list: crate::cache::Ticket,
    /// Each Page shown, with the tickets of the Page (`pages`) and of its tasks (`tasks`).
    pub pages: Vec<(PageId, crate::cache::Ticket, crate::cache::Ticket)>,
}

impl KeptAnswer {
    /// What it takes in its room: the body, rounded up for the allocator's size classes, and
    /// the answer's own allocations (its `Arc`, its list of Pages, its grant's).
    fn cost(&self) -> usize {
        let own = std::mem::size_of::<KeptAnswer>() + 16 + MadeFrom::<Grant>::COST;
        let pages = std::mem::size_of_val(&self.seen.pages[..]).next_multiple_of(16);
        let fields = self
            .fields
            .as_ref()
            .map_or(0, |f| f.len().next_multiple_of(16));
        self.body.cost() + own + pages + fields
    }
}

/// A token's `debug_token` answer (`{"data":{…}}`, whole) written out, and what it was made from:
/// the app and the grant ([`MadeFrom`]) and, when it names the person's Pages, the ticket of
/// their Page list (`user_pages`), taken before it was read. Kept only for a token that works,
/// and given again only while it works: that is judged anew on each call. All else the answer
/// shows is the cached entry's own, which holds it.
pub struct KeptDebug {
    pub body: Written,
    pub app: MadeFrom<App>,
    pub grant: Option<MadeFrom<Grant>>,
    pub pages: Option<crate::cache::Ticket>,
}

impl KeptDebug {
    /// What it takes in its room: the body ([`Written::cost`]), its `Arc`, and its grant's
    /// allocation. Not its app's: an app's is one for all its tokens' answers, and apps are few.
    fn cost(&self) -> usize {
        self.body.cost() + std::mem::size_of::<KeptDebug>() + 16 + MadeFrom::<Grant>::COST
    }
}

impl std::fmt::Debug for KeptDebug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeptDebug")
            .field("bytes", &self.body.len())
            .field("pages", &self.pages)
            .finish_non_exhaustive()
    }
}

/// A record a kept answer was made from, held weakly: the record goes with its last `Arc` (its
/// cache's: a secret reset does not leave the old secret in memory), but the allocation it was
/// in stays while this is held, so no other record takes its address, and [`MadeFrom::is`]
/// tells whether a record is that very one. An event that changes a record drops it from its
/// cache, and the record read again is another `Arc`.
pub struct MadeFrom<T>(std::sync::Weak<T>);

impl<T> MadeFrom<T> {
    /// What the allocation held takes: the record's own size (not what it owns, which goes
    /// with it) and the two counts, rounded up for the allocator's size classes.
    const COST: usize = (std::mem::size_of::<T>() + 16).next_multiple_of(16);

    pub fn new(record: &Arc<T>) -> Self {
        MadeFrom(Arc::downgrade(record))
    }

    pub fn is(&self, record: &Arc<T>) -> bool {
        std::ptr::eq(self.0.as_ptr(), Arc::as_ptr(record))
    }

    /// Whether a record (or none, as a token without a grant has) is the one an answer was made
    /// from (or none).
    pub fn same(made: Option<&Self>, now: Option<&Arc<T>>) -> bool {
        match (made, now) {
            (Some(made), Some(now)) => made.is(now),
            (None, None) => true,
            _ => false,
        }
    }
}

impl<T> Clone for MadeFrom<T> {
    fn clone(&self) -> Self {
        MadeFrom(std::sync::Weak::clone(&self.0))
    }
}

/// The answer's shape; never its body (it holds Page tokens).
impl std::fmt::Debug for KeptAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeptAnswer")
            .field("bytes", &self.body.len())
            .field("fields", &self.fields)
            .field("seen", &self.seen)
            .finish_non_exhaustive()
    }
}

/// The memory every [`PagesStored`] of one set of caches may give to Page tokens' texts and
/// the answers made with them: what they take now, and the most (a share of the caches'
/// budget).
#[derive(Debug)]
pub struct PageTokenRoom {
    taken: std::sync::atomic::AtomicUsize,
    most: usize,
}

impl PageTokenRoom {
    pub fn new(most: usize) -> Arc<Self> {
        Arc::new(PageTokenRoom {
            taken: std::sync::atomic::AtomicUsize::new(0),
            most,
        })
    }

    /// What a text of `len` bytes costs: its characters, rounded up for the allocator's size
    /// classes (an estimate; the pointer that holds it is in its list's count).
    fn cost(len: usize) -> usize {
        len.next_multiple_of(16)
    }

    /// The bytes the texts and the answers take now.
    pub fn taken(&self) -> usize {
        self.taken.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Takes `bytes` of room, if there is that much left.
    fn take(&self, bytes: usize) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        self.taken
            .fetch_update(Relaxed, Relaxed, |t| {
                t.checked_add(bytes).filter(|&after| after <= self.most)
            })
            .is_ok()
    }

    fn give_back(&self, bytes: usize) {
        self.taken
            .fetch_sub(bytes, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A whole seed world, resolved to records, to be written in one transaction.
/// For each Page, `page_tasks` holds the complete set of people with tasks on it.
#[derive(Clone, Debug, Default)]
pub struct WorldRecords {
    pub apps: Vec<App>,
    pub users: Vec<User>,
    pub pages: Vec<Page>,
    pub page_tasks: Vec<(PageId, Vec<PageTasks>)>,
    /// What seeds say of Pages (`about`, `emails`, a cover…): only what they set.
    pub page_info: Vec<(PageId, crate::content::PageInfo)>,
    pub grants: Vec<Grant>,
    /// `(user, app, asid)`: app-scoped ids to create where the person has none for the app.
    pub asids: Vec<(UserId, AppId, Asid)>,
    /// Seeded posts, each created once: a key already recorded is left as it is.
    pub posts: Vec<SeedPost>,
    /// Seeded incoming messages, each created once by key.
    pub messages: Vec<SeedMessage>,
}

/// A seeded post (its `id` is assigned on insert) with its comments, each under a seed key.
#[derive(Clone, Debug)]
pub struct SeedPost {
    pub key: String,
    pub post: Post,
    /// `(key, comment)`; the comment's `id` and `post_id` are assigned on insert.
    pub comments: Vec<(String, Comment)>,
}

/// A seeded message from a person to a Page. The conversation and the person's page-scoped id
/// (`psid`, a candidate used only when they have none for the Page) are created when missing.
#[derive(Clone, Debug)]
pub struct SeedMessage {
    pub key: String,
    pub page_id: PageId,
    pub user_id: UserId,
    pub psid: Psid,
    pub text: String,
    pub created_at: Unix,
}

/// Login sessions and the tokens minted in them: the hot path's reads and every invalidation.
/// An invalidation reports exactly what it ended, so the caches can drop just that.
pub trait TokenStore: Send + Sync {
    fn create_session<'a>(&'a self, user: UserId, app: AppId, at: Unix)
        -> StoreFuture<'a, Session>;

    /// Stores a token record; a record with the same hash already there is left as it is. A
    /// Page token (with a `parent`) is stored only while its parent user token still works.
    /// True when the record was stored.
    fn insert_token<'a>(&'a self, token: &'a TokenRecord) -> StoreFuture<'a, bool>;

    /// Stores many token records in one write, as [`TokenStore::insert_token`] stores each
    /// (for load tests: `graphtoken bench populate`). The number stored.
    fn insert_tokens(&self, tokens: Vec<TokenRecord>) -> StoreFuture<'_, u64>;

    fn token<'a>(&'a self, hash: TokenHash) -> StoreFuture<'a, Option<TokenRecord>>;

    /// The token with its app-scoped id (see [`TokenEntry`]) and its session, in one read: what
    /// a cache miss on the hot path costs.
    fn token_entry<'a>(&'a self, hash: TokenHash)
        -> StoreFuture<'a, Option<(TokenEntry, Session)>>;

    /// Uninstalls the app for the person, in one transaction: removes the grant and invalidates
    /// every session with the app that still works. Returns whether there was a grant, and the
    /// sessions it ended.
    /// Returns whether there was a grant, the sessions it ended, and the number of `notify` in
    /// the outbox: put there, in the same transaction, only when there was a grant.
    fn uninstall<'a>(
        &'a self,
        user: UserId,
        app: AppId,
        why: Invalidation,
        notify: Option<&'a Callback>,
    ) -> StoreFuture<'a, (bool, Vec<SessionId>, Option<u64>)>;

    /// Invalidates the person's sessions that still work — with `app`, or with every app — and
    /// so every token derived from them. Returns the sessions it ended.
    fn invalidate_sessions<'a>(
        &'a self,
        user: UserId,
        app: Option<AppId>,
        why: Invalidation,
    ) -> StoreFuture<'a, Vec<SessionId>>;

    /// Invalidates the person's short-lived tokens that still work (user tokens and the Page
    /// tokens derived from them), in every app. Returns their hashes.
    fn invalidate_short_lived_tokens<'a>(
        &'a self,
        user: UserId,
        why: Invalidation,
    ) -> StoreFuture<'a, Vec<TokenHash>>;

    /// Invalidates one session (if it still works) and so every token derived from it.
    /// Returns the session's person when it was working, `None` when there was nothing to end.
    fn invalidate_session<'a>(
        &'a self,
        session: SessionId,
        why: Invalidation,
    ) -> StoreFuture<'a, Option<UserId>>;

    /// A session by id.
    fn session<'a>(&'a self, id: SessionId) -> StoreFuture<'a, Option<Session>>;
}

/// The world's directory: apps, people, Pages, grants, Page tasks, app- and page-scoped ids,
/// settings, seed worlds and test users.
pub trait DirectoryStore: Send + Sync {
    /// True when the store holds no app, user or Page (a fresh database).
    fn is_empty<'a>(&'a self) -> StoreFuture<'a, bool>;

    /// The first `limit` apps, people and Pages by id, and how many there are.
    fn overview<'a>(&'a self, limit: u32) -> StoreFuture<'a, Overview>;

    fn app<'a>(&'a self, id: AppId) -> StoreFuture<'a, Option<App>>;

    fn app_by_key<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<App>>;

    fn user<'a>(&'a self, id: UserId) -> StoreFuture<'a, Option<User>>;

    fn user_by_key<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<User>>;

    fn page<'a>(&'a self, id: PageId) -> StoreFuture<'a, Option<Page>>;

    fn page_by_key<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Page>>;

    /// The Pages a person has tasks on, ordered by Page id, with the Page records.
    fn pages_of_user<'a>(&'a self, user: UserId) -> StoreFuture<'a, Vec<(Page, PageTasks)>>;

    /// The people with tasks on a Page, ordered by person id.
    fn people_of_page<'a>(&'a self, page: PageId) -> StoreFuture<'a, Vec<(User, PageTasks)>>;

    fn page_tasks<'a>(&'a self, page: PageId, user: UserId) -> StoreFuture<'a, Option<PageTasks>>;

    fn grant<'a>(&'a self, user: UserId, app: AppId) -> StoreFuture<'a, Option<Grant>>;

    /// Every grant of `user` (the apps the person has installed), by app id.
    fn grants_of_user<'a>(&'a self, user: UserId) -> StoreFuture<'a, Vec<Grant>>;

    /// Reads the grant of `user` × `app` (if any), stores what `update` makes of it (nothing
    /// when it returns `None`) and returns that, atomically: two concurrent updates of one grant
    /// never lose each other's changes.
    fn update_grant<'a>(
        &'a self,
        user: UserId,
        app: AppId,
        update: GrantUpdate,
    ) -> StoreFuture<'a, Option<Grant>>;

    /// The person's app-scoped id for the app, if one was drawn.
    fn asid_of<'a>(&'a self, user: UserId, app: AppId) -> StoreFuture<'a, Option<Asid>>;

    /// The person's page-scoped id for the Page, if one was drawn.
    fn psid_of<'a>(&'a self, user: UserId, page: PageId) -> StoreFuture<'a, Option<Psid>>;

    /// The person's app-scoped id for the app, creating it from `candidate` when there is none.
    /// Returns the id in force (the existing one, if any), or `None` when `candidate` is already
    /// another person's or app's id (draw another).
    fn ensure_asid<'a>(
        &'a self,
        user: UserId,
        app: AppId,
        candidate: Asid,
    ) -> StoreFuture<'a, Option<Asid>>;

    /// The person and app an app-scoped id belongs to.
    fn resolve_asid<'a>(&'a self, asid: Asid) -> StoreFuture<'a, Option<(UserId, AppId)>>;

    /// A new password hash, and the person's sessions that still work end for `why`, in one
    /// transaction. Returns the sessions it ended; `None` (and nothing changed) when there is
    /// no such person.
    fn set_password<'a>(
        &'a self,
        user: UserId,
        hash: String,
        why: Invalidation,
    ) -> StoreFuture<'a, Option<Vec<SessionId>>>;

    fn set_account_status<'a>(
        &'a self,
        user: UserId,
        status: AccountStatus,
    ) -> StoreFuture<'a, bool>;

    /// A new name for a person, and nothing else of theirs changed. False when there is no
    /// such person.
    fn set_user_name<'a>(&'a self, user: UserId, name: &'a str) -> StoreFuture<'a, bool>;

    /// False when there is no such app.
    fn set_app_secret<'a>(&'a self, app: AppId, secret: &'a str) -> StoreFuture<'a, bool>;

    /// Changes an app's call budgets in one write (budgets the change leaves out stay); the
    /// budgets now, or `None` when there is no such app.
    fn change_app_rate_limits(
        &self,
        app: AppId,
        change: BudgetChange,
    ) -> StoreFuture<'_, Option<RateLimits>>;

    /// Sets a person's tasks on a Page; an empty set removes them. Returns what is in force.
    fn set_page_tasks<'a>(
        &'a self,
        page: PageId,
        user: UserId,
        tasks: TaskSet,
        now: Unix,
    ) -> StoreFuture<'a, Option<PageTasks>>;

    /// The person's page-scoped id for the Page, creating it from `candidate` when there is
    /// none; `None` when `candidate` is already another person's or Page's PSID.
    fn ensure_psid<'a>(
        &'a self,
        user: UserId,
        page: PageId,
        candidate: Psid,
    ) -> StoreFuture<'a, Option<Psid>>;

    /// The person and Page a page-scoped id belongs to.
    fn resolve_psid<'a>(&'a self, psid: Psid) -> StoreFuture<'a, Option<(UserId, PageId)>>;

    /// The person's page-scoped ids, `(page, psid)`, ordered by Page id.
    fn psids_of_user<'a>(&'a self, user: UserId) -> StoreFuture<'a, Vec<(PageId, Psid)>>;

    /// The person's app-scoped ids, `(app, asid)`, ordered by app id.
    fn asids_of_user<'a>(&'a self, user: UserId) -> StoreFuture<'a, Vec<(AppId, Asid)>>;

    fn setting<'a>(&'a self, name: &'a str) -> StoreFuture<'a, Option<String>>;

    fn put_setting<'a>(&'a self, name: &'a str, value: &'a str) -> StoreFuture<'a, ()>;

    /// Stores `value` as the setting unless one is stored already, and returns the one stored
    /// either way, in one write: callers at once, in one process or many, all get the same.
    fn first_setting<'a>(&'a self, name: &'a str, value: &'a str) -> StoreFuture<'a, String>;

    /// Writes a resolved seed world in one transaction (upserts; see [`WorldRecords`]). Returns
    /// the `(page, person)` pairs whose tasks it replaced (each Page's list replaces the whole
    /// set): those people's tasks changed too.
    fn apply_world<'a>(&'a self, world: &'a WorldRecords)
        -> StoreFuture<'a, Vec<(PageId, UserId)>>;

    /// The person whose email is `email`, compared without regard to ASCII case.
    fn user_by_email<'a>(&'a self, email: &'a str) -> StoreFuture<'a, Option<User>>;

    /// Stores a new test user of `app`: the person (with their id) and the ownership, in one
    /// transaction, unless the app already has `limit` test users or the id is taken.
    fn insert_test_user<'a>(
        &'a self,
        user: &'a User,
        app: AppId,
        limit: u32,
    ) -> StoreFuture<'a, TestUserInsert>;

    /// The app's test users, oldest first.
    fn test_users_of_app<'a>(&'a self, app: AppId) -> StoreFuture<'a, Vec<TestUser>>;

    /// The test-user record of a person, if they are one.
    fn test_user<'a>(&'a self, user: UserId) -> StoreFuture<'a, Option<TestUser>>;

    /// Deletes a person and everything of theirs (grants, sessions, tokens, ids, tasks, roles,
    /// content). Returns what they were part of, read in the same transaction as the delete;
    /// `None` when there was no such person.
    fn delete_user<'a>(&'a self, user: UserId) -> StoreFuture<'a, Option<DeletedPerson>>;
}

/// What a deleted person was part of: the records that changed with them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeletedPerson {
    /// The apps they had a grant or an app-scoped id with, in id order.
    pub apps: Vec<AppId>,
    /// The Pages they had tasks on, in id order.
    pub pages: Vec<PageId>,
    /// The apps whose roles they held (those apps' records changed), in id order.
    pub roles: Vec<AppId>,
}

/// What Pages hold (spec §3, §8): posts and comments, conversations and messages, Page
/// information, call-to-action buttons and Instant Articles.
pub trait ContentStore: Send + Sync {
    /// Stores a new post (its `id` is ignored) and returns its number: larger than every post
    /// number before it.
    fn insert_post<'a>(&'a self, post: &'a Post) -> StoreFuture<'a, Id>;

    fn post<'a>(&'a self, id: Id) -> StoreFuture<'a, Option<Post>>;

    /// Every post on the Page, oldest first.
    fn posts_of_page<'a>(&'a self, page: PageId) -> StoreFuture<'a, Vec<Post>>;

    /// Replaces a post's message. False when there is no such post.
    fn edit_post<'a>(&'a self, id: Id, message: &'a str, at: Unix) -> StoreFuture<'a, bool>;

    /// Deletes a post and its comments. False when there is no such post.
    fn delete_post<'a>(&'a self, id: Id) -> StoreFuture<'a, bool>;

    /// Stores a new comment (its `id` is ignored) and returns its number, larger than every
    /// comment number before it.
    fn insert_comment<'a>(&'a self, comment: &'a Comment) -> StoreFuture<'a, Id>;

    fn comment<'a>(&'a self, id: Id) -> StoreFuture<'a, Option<Comment>>;

    /// Every comment on the post, oldest first.
    fn comments_of_post<'a>(&'a self, post: Id) -> StoreFuture<'a, Vec<Comment>>;

    /// Changes a comment's message and/or hidden flag. False when there is no such comment.
    fn update_comment<'a>(
        &'a self,
        id: Id,
        message: Option<&'a str>,
        hidden: Option<bool>,
    ) -> StoreFuture<'a, bool>;

    /// False when there is no such comment.
    fn delete_comment<'a>(&'a self, id: Id) -> StoreFuture<'a, bool>;

    /// The conversation between the Page and the person, started at `at` when there is none.
    fn ensure_conversation<'a>(
        &'a self,
        page: PageId,
        user: UserId,
        at: Unix,
    ) -> StoreFuture<'a, Id>;

    fn conversation<'a>(&'a self, id: Id) -> StoreFuture<'a, Option<Conversation>>;

    /// The Page's conversations, most recently updated first.
    fn conversations_of_page<'a>(&'a self, page: PageId) -> StoreFuture<'a, Vec<Conversation>>;

    /// Stores a message (its `id` is ignored), bumps its conversation's `updated_at`, and
    /// returns its number, larger than every message number before it.
    fn insert_message<'a>(&'a self, message: &'a Message) -> StoreFuture<'a, Id>;

    fn message<'a>(&'a self, id: Id) -> StoreFuture<'a, Option<Message>>;

    /// The conversation's messages, oldest first.
    fn messages_of_conversation<'a>(&'a self, conversation: Id) -> StoreFuture<'a, Vec<Message>>;

    /// The Page's about/description/website/phone; `None` when there is no such Page.
    fn page_info<'a>(&'a self, page: PageId) -> StoreFuture<'a, Option<crate::content::PageInfo>>;

    /// Sets the fields that are `Some` (an empty string clears one). False when there is no such
    /// Page.
    fn set_page_info<'a>(
        &'a self,
        page: PageId,
        info: &'a crate::content::PageInfo,
    ) -> StoreFuture<'a, bool>;

    /// Stores a new button (its `id` is ignored) and returns its number (never reused).
    fn insert_call_to_action<'a>(
        &'a self,
        cta: &'a crate::content::CallToAction,
    ) -> StoreFuture<'a, Id>;

    /// The Page's buttons, oldest first.
    fn call_to_actions_of_page<'a>(
        &'a self,
        page: PageId,
    ) -> StoreFuture<'a, Vec<crate::content::CallToAction>>;

    /// False when the Page has no such button.
    fn delete_call_to_action<'a>(&'a self, page: PageId, id: Id) -> StoreFuture<'a, bool>;

    /// Stores a new article (its `id` is ignored) and returns its number (never reused).
    fn insert_instant_article<'a>(
        &'a self,
        article: &'a crate::content::InstantArticle,
    ) -> StoreFuture<'a, Id>;

    /// The Page's articles, oldest first.
    fn instant_articles_of_page<'a>(
        &'a self,
        page: PageId,
    ) -> StoreFuture<'a, Vec<crate::content::InstantArticle>>;

    /// False when the Page has no such article.
    fn delete_instant_article<'a>(&'a self, page: PageId, id: Id) -> StoreFuture<'a, bool>;
}

/// The callbacks to apps waiting to be delivered, and those delivered or given up (spec §7): a
/// durable outbox, shared by every instance on one database. Each callback is claimed for a
/// while (a lease) by the instance that tries it, so one instance at a time tries it; a
/// lease that runs out (the instance died mid-try) makes it due again.
pub trait OutboxStore: Send + Sync {
    /// Puts a callback in the outbox, due now; its number.
    fn enqueue_callback<'a>(&'a self, callback: &'a Callback, at: Unix) -> StoreFuture<'a, u64>;

    /// Claims up to `limit` callbacks that are due at `now_ms` (waiting, or retrying with their
    /// next try due) and not claimed, until `now_ms + lease_ms`.
    fn claim_callbacks<'a>(
        &'a self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> StoreFuture<'a, Vec<Outgoing>>;

    /// Records a try of callback `id` and releases it.
    fn record_callback<'a>(&'a self, id: u64, attempt: &'a Attempt) -> StoreFuture<'a, ()>;

    /// The newest `limit` callbacks, newest first.
    fn callbacks<'a>(&'a self, limit: u32) -> StoreFuture<'a, Vec<Outgoing>>;
}

/// Armed faults (an emulator control, see `graphtoken_server::faults`), kept in the database so
/// that every instance on one fires the same faults and counts their firings together. The
/// store keeps each fault's spec as the server wrote it and does not read it.
pub trait FaultStore: Send + Sync {
    /// Arms a fault that fires `times` times (0: until cleared); `None` (and nothing stored)
    /// when `max` faults, spent ones included, are kept already.
    fn arm_fault<'a>(
        &'a self,
        spec: &'a str,
        times: u64,
        max: u32,
    ) -> StoreFuture<'a, Option<StoredFault>>;

    /// Every fault, armed or spent, oldest first.
    fn faults<'a>(&'a self) -> StoreFuture<'a, Vec<StoredFault>>;

    /// Counts one firing of fault `id`, in one statement: its firings so far, this one
    /// included; `None` (and nothing counted) when it is spent or gone.
    fn fire_fault<'a>(&'a self, id: u64) -> StoreFuture<'a, Option<u64>>;

    /// Clears fault `id`, or every fault; how many were cleared.
    fn clear_faults<'a>(&'a self, id: Option<u64>) -> StoreFuture<'a, u64>;
}

/// The login flows' one-time records (spec §2.1–§2.3, §2.14): dialog and client codes, device
/// logins.
pub trait LoginStore: Send + Sync {
    /// Stores a new dialog or client code.
    fn insert_code<'a>(&'a self, code: &'a AuthCode) -> StoreFuture<'a, ()>;

    /// A code by hash (used or not).
    fn code<'a>(&'a self, hash: TokenHash) -> StoreFuture<'a, Option<AuthCode>>;

    /// Redeems a code, in one transaction: returns it as it was before this call (so `used_at`
    /// tells whether it had been redeemed already) and, when it was unused, sets `used_at` to
    /// `now`. `None` when no code has that hash. A client code's session is its own; a dialog
    /// code's is recorded by [`LoginStore::redeem_code_into_session`].
    fn redeem_code<'a>(&'a self, hash: TokenHash, now: Unix) -> StoreFuture<'a, Option<AuthCode>>;

    /// Redeems a code into a new session, in one transaction: reads the code and, when it is
    /// unused and `accept` takes it, opens a session for its person and app at `now`, stores
    /// the token `token` makes for that session, and marks the code used at `now` with that
    /// session (so a later reuse can end it). Returns the code as it was before this call
    /// (`None` when no code has that hash) and the session, when one was opened.
    fn redeem_code_into_session<'a>(
        &'a self,
        hash: TokenHash,
        now: Unix,
        accept: CodeCheck,
        token: SessionToken,
    ) -> StoreFuture<'a, (Option<AuthCode>, Option<Redeemed>)>;

    /// Stores a new device login. False (and nothing stored) when its `user_code` is already
    /// taken by a device login that has not expired at `created_at` (draw another).
    fn insert_device_code<'a>(&'a self, code: &'a DeviceCode) -> StoreFuture<'a, bool>;

    fn device_code<'a>(&'a self, hash: TokenHash) -> StoreFuture<'a, Option<DeviceCode>>;

    /// The newest device login with this `user_code` (exact match; see
    /// [`crate::codes::normalize_user_code`]).
    fn device_code_by_user_code<'a>(
        &'a self,
        user_code: &'a str,
    ) -> StoreFuture<'a, Option<DeviceCode>>;

    /// Reads the sign-in throttle's entries of `keys`, lets `update` change them and writes them
    /// back, in one transaction (attempts at once cannot slip between a check and a count);
    /// entries last failed before `stale_before` and not waiting at `now` are forgotten.
    fn update_throttle<'a>(
        &'a self,
        keys: &'a [String],
        now: Unix,
        stale_before: Unix,
        update: ThrottleUpdate,
    ) -> StoreFuture<'a, Result<(), i64>>;

    /// Records a browser's sign-in (the hash of its session id) for `user` at `at`; sign-ins
    /// older than `forget_before` are forgotten on the way.
    fn start_browser_session<'a>(
        &'a self,
        hash: TokenHash,
        user: UserId,
        at: Unix,
        forget_before: Unix,
    ) -> StoreFuture<'a, ()>;

    /// Whether the browser sign-in `hash` of `user` is still on (not signed out or ended).
    fn browser_session_live<'a>(&'a self, hash: TokenHash, user: UserId) -> StoreFuture<'a, bool>;

    /// Ends one browser sign-in (`hash`), or every one of `user`, at `at`; how many ended.
    fn end_browser_sessions<'a>(
        &'a self,
        hash: Option<TokenHash>,
        user: Option<UserId>,
        at: Unix,
    ) -> StoreFuture<'a, u64>;

    /// Changes a device login in one transaction; returns it as changed (`None`: no such code).
    fn update_device_code<'a>(
        &'a self,
        hash: TokenHash,
        update: DeviceUpdate,
    ) -> StoreFuture<'a, Option<DeviceCode>>;
}

/// A storage backend: every part above, and its migrations. Services hold it as
/// `Arc<dyn Store>`, so the backend is chosen at run time (from the database URL) and the code
/// above it is compiled once.
pub trait Store:
    TokenStore + DirectoryStore + ContentStore + LoginStore + OutboxStore + FaultStore + 'static
{
    /// Runs pending migrations. Called once at start, unless the operator migrates apart.
    fn migrate<'a>(&'a self) -> StoreFuture<'a, ()>;

    /// The schema version the database is at, and the one this graphtoken needs.
    fn schema<'a>(&'a self) -> StoreFuture<'a, Schema>;

    /// Seals again, under this store's key, every secret that `from` opens (`None`: values
    /// kept as they are, from before sealing); all or nothing. How many values changed.
    fn reseal<'a>(&'a self, from: Option<Arc<crate::seal::Sealer>>) -> StoreFuture<'a, u64>;

    /// Whether this store's key opens every sealed secret of the database; the first time, a
    /// value sealed under it is stored to check later keys against.
    fn check_seals<'a>(&'a self) -> StoreFuture<'a, ()>;

    /// Whether other processes may share this database (so that, for one, rate-limit counts
    /// are exchanged through it). A backend only one process uses says no.
    fn shared(&self) -> bool {
        false
    }

    /// Adds `calls` (`(counter, minute, calls)`, counted by this instance since the last
    /// exchange) to the counts every instance shares, and returns those counts, for the
    /// counters in `active`, from `since_minute` on; counts older than two hours are forgotten.
    fn exchange_rate_counts<'a>(
        &'a self,
        calls: &'a [(String, i64, u32)],
        active: &'a [String],
        since_minute: i64,
    ) -> StoreFuture<'a, Vec<(String, i64, u64)>>;

    /// Its connections and its change feed, for the metrics (none, for a backend without them).
    fn stats(&self) -> StoreStats {
        StoreStats::default()
    }

    /// From now on, tells `sink` about the changes other processes make to a database they
    /// share with this one, so that every instance drops what it caches of them. A backend
    /// that only one process uses has nothing to tell.
    fn watch(&self, sink: ChangeSink) {
        let _ = sink;
    }
}

/// Where a database's schema stands (see [`Store::schema`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schema {
    /// The version of the database (0: a new, empty one).
    pub found: i64,
    /// The version this graphtoken migrates to.
    pub wanted: i64,
}

impl Schema {
    /// Exactly the schema this graphtoken migrates to (what a start without migrating and a
    /// copy's source need).
    pub fn is_current(&self) -> bool {
        self.found == self.wanted
    }

    /// A schema a running instance serves: its own, or a newer one (migrated for the next
    /// version, which only adds, while that version is rolled out).
    pub fn serves(&self) -> bool {
        self.found >= self.wanted
    }
}

/// A record that changed in a shared database, named as the caches key it (see
/// [`Store::watch`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Changed {
    Token(TokenHash),
    Session(SessionId),
    App(AppId),
    User(UserId),
    /// A grant, or its absence.
    Grant(UserId, AppId),
    Page(PageId),
    /// A person's tasks on a Page, or their absence.
    Tasks(PageId, UserId),
    /// A setting, with its new value (`None`: removed): the virtual clock's offset, say.
    Setting {
        name: String,
        value: Option<String>,
    },
    /// A fault was armed, cleared or spent.
    Faults,
    /// Changes may have been missed (the feed was out of reach for too long): nothing cached
    /// can be trusted.
    Everything,
}

/// Where [`Store::watch`] reports changes.
pub type ChangeSink = Arc<dyn Fn(&[Changed]) + Send + Sync>;

#[cfg(test)]
mod tests {
    use super::{KeptAnswer, KeptDebug, Known, PageId, PageTokenRoom, PagesSeen, PagesStored};
    use crate::cache::Cache;
    use std::sync::Arc;

    fn clone_of(a: &KeptAnswer) -> KeptAnswer {
        KeptAnswer {
            body: a.body.clone(),
            fields: a.fields.clone(),
            holds_tokens: a.holds_tokens,
            grant: a.grant.clone(),
            seen: a.seen.clone(),
        }
    }

    fn written(text: &str) -> crate::written::Written {
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        crate::written::Written::of(&value).unwrap()
    }

    fn answer(body: &str) -> Arc<KeptAnswer> {
        let ticket = Cache::<u64, u64>::new(64).ticket(&1);
        Arc::new(KeptAnswer {
            body: written(body),
            fields: None,
            holds_tokens: true,
            grant: None,
            seen: PagesSeen {
                list: ticket,
                pages: vec![(PageId(1), ticket, ticket)],
            },
        })
    }

    /// A kept `debug_token` answer makes the texts' allocation if none was made, is counted in
    /// the room with it, replaces the one before, and is given back when the entry goes.
    #[test]
    fn a_kept_debug_answer_is_counted_in_the_room_of_the_texts() {
        let app = Arc::new(crate::model::App::for_tests(crate::model::AppId(1)));
        let debug = |body: &str| {
            Arc::new(KeptDebug {
                body: written(body),
                app: super::MadeFrom::new(&app),
                grant: None,
                pages: None,
            })
        };
        let (small, large) = (
            debug(r#"{"a":1}"#),
            debug(&format!(r#"{{"a":"{}"}}"#, "x".repeat(200))),
        );
        let tight = PageTokenRoom::new(Known::TEXTS + small.cost());
        let known = PagesStored::default();
        known.keep_debug(Arc::clone(&large), &tight);
        assert!(known.debug().is_none(), "no room for it");
        assert_eq!(
            tight.taken(),
            Known::TEXTS,
            "the texts' allocation stays made"
        );
        known.keep_debug(Arc::clone(&small), &tight);
        assert_eq!(known.debug().unwrap().body.as_str(), r#"{"a":1}"#);
        assert_eq!(tight.taken(), Known::TEXTS + small.cost());
        assert!(format!("{known:?}").contains("debug_token answer kept"));
        drop(known);
        assert_eq!(tight.taken(), 0);
        let room = PageTokenRoom::new(4 * (Known::TEXTS + large.cost()));
        let known = PagesStored::default();
        known.keep_debug(Arc::clone(&small), &room);
        known.keep_debug(Arc::clone(&large), &room);
        assert_eq!(
            room.taken(),
            Known::TEXTS + large.cost(),
            "the old one gave its room"
        );
        let copy = known.clone();
        assert!(copy.debug().is_some());
        assert_eq!(room.taken(), 2 * (Known::TEXTS + large.cost()));
        drop((known, copy));
        assert_eq!(room.taken(), 0);
    }

    /// An answer is kept only where texts are remembered and while the room has room, in place
    /// of the texts when it holds them; one kept in its place gives the old one's room back, a
    /// copy counts it again, and the entry gives it all back when it goes.
    #[test]
    fn a_kept_answer_is_counted_in_the_room_of_the_texts() {
        let text = Known::TEXTS + PageTokenRoom::cost("EAAtext".len());
        let small = answer(r#"{"data":[]}"#);
        let large = answer(&format!(r#"{{"data":["{}"]}}"#, "x".repeat(300)));
        let room = PageTokenRoom::new(text + large.cost());
        let known = PagesStored::default();
        known.keep(Arc::clone(&small));
        assert!(known.answer().is_none(), "no texts, no answer");
        known.add(PageId(1), 10, "EAAtext", &room);
        known.keep(Arc::clone(&small));
        assert_eq!(known.answer().unwrap().body.as_str(), r#"{"data":[]}"#);
        assert_eq!(
            room.taken(),
            Known::TEXTS + small.cost(),
            "the text gave its room"
        );
        assert_eq!(known.token(PageId(1), 10), None);
        assert!(known.knows(PageId(1), 10), "still known stored");
        known.add(PageId(1), 10, "EAAtext", &room);
        assert_eq!(known.token(PageId(1), 10).as_deref(), Some("EAAtext"));
        known.keep(Arc::clone(&large));
        let kept = Known::TEXTS + large.cost();
        assert_eq!(
            room.taken(),
            kept,
            "the old answer and the text gave their room"
        );
        assert!(format!("{known:?}").contains("answer kept"));
        assert!(
            !format!("{large:?}").contains("xxx"),
            "a body is never shown"
        );
        let copy = known.clone();
        assert!(copy.answer().is_none(), "no room for the copy's answer");
        assert_eq!(room.taken(), kept);
        drop(known);
        assert_eq!(room.taken(), 0);
        drop(copy);
        assert_eq!(room.taken(), 0);
        // With room, a copy keeps the answer too, counted again.
        let wide = PageTokenRoom::new(4 * kept);
        let known = PagesStored::default();
        known.add(PageId(1), 10, "EAAtext", &wide);
        known.keep(Arc::clone(&large));
        let copy = known.clone();
        assert!(copy.answer().is_some());
        assert_eq!(wide.taken(), 2 * kept);
        drop((known, copy));
        assert_eq!(wide.taken(), 0);
        // An answer without the Page tokens leaves their texts where they are.
        let known = PagesStored::default();
        known.add(PageId(1), 10, "EAAtext", &wide);
        let names = Arc::new(KeptAnswer {
            holds_tokens: false,
            ..clone_of(&small)
        });
        known.keep(Arc::clone(&names));
        assert_eq!(known.token(PageId(1), 10).as_deref(), Some("EAAtext"));
        assert_eq!(wide.taken(), text + names.cost());
        drop(known);
        let bigger = answer(&format!(r#"{{"data":["{}"]}}"#, "x".repeat(400)));
        let known = PagesStored::default();
        known.add(PageId(1), 10, "EAAtext", &room);
        known.keep(bigger);
        assert!(known.answer().is_none(), "past its room no answer is kept");
        assert_eq!(room.taken(), Known::TEXTS);
    }

    #[test]
    fn pages_stored_knows_what_it_was_told_up_to_its_bound() {
        let room = PageTokenRoom::new(1 << 20);
        let known = PagesStored::default();
        assert!(!known.knows(PageId(1), 10));
        known.add(PageId(1), 10, "EAAone", &room);
        known.add(PageId(1), 10, "EAAone", &room);
        assert!(known.knows(PageId(1), 10));
        assert_eq!(known.token(PageId(1), 10).as_deref(), Some("EAAone"));
        let one = Known::TEXTS + PageTokenRoom::cost("EAAone".len());
        assert_eq!(room.taken(), one, "a text told twice is counted once");
        assert!(!known.knows(PageId(1), 11));
        assert_eq!(known.token(PageId(1), 11), None);
        for p in 2..200 {
            known.add(PageId(p), 10, "EAAmore", &room);
        }
        let most = PagesStored::MOST as u64;
        assert!((1..=most).all(|p| known.knows(PageId(p), 10)));
        assert!(!known.knows(PageId(most + 1), 10));
        assert_eq!(known.token(PageId(most + 1), 10), None);
        let all = one + (PagesStored::MOST - 1) * PageTokenRoom::cost("EAAmore".len());
        assert_eq!(room.taken(), all);
        // A copy knows the same and, as there is room, remembers the texts in room of its own.
        let copy = known.clone();
        assert!((1..=most).all(|p| copy.knows(PageId(p), 10)));
        assert_eq!(copy.token(PageId(2), 10).as_deref(), Some("EAAmore"));
        assert_eq!(room.taken(), 2 * all);
        // The texts are not shown, and take no room in the entry itself.
        assert!(!format!("{known:?}").contains("EAA"));
        assert!(std::mem::size_of::<PagesStored>() <= 40);
        drop(copy);
        assert_eq!(room.taken(), all);
        // Tasks that started again name a new token, in the old one's place.
        known.add(PageId(1), 11, "EAAnew!", &room);
        assert!(!known.knows(PageId(1), 10));
        assert_eq!(known.token(PageId(1), 11).as_deref(), Some("EAAnew!"));
        let renewed =
            all - PageTokenRoom::cost("EAAone".len()) + PageTokenRoom::cost("EAAnew!".len());
        assert_eq!(room.taken(), renewed);
        drop(known);
        assert_eq!(room.taken(), 0);
    }

    /// Texts, and the list that holds them, are remembered while their room has room; a Page
    /// known stored without its text gets it once there is room again, and each entry gives
    /// its room back when it goes.
    #[test]
    fn page_tokens_are_remembered_only_in_their_room() {
        let one = Known::TEXTS + PageTokenRoom::cost("EAAtext".len());
        let room = PageTokenRoom::new(one);
        let first = PagesStored::default();
        first.add(PageId(1), 10, "EAAtext", &room);
        first.add(PageId(2), 10, "EAAtext", &room);
        assert_eq!(room.taken(), one);
        assert!(first.knows(PageId(2), 10));
        assert_eq!(first.token(PageId(2), 10), None);
        // No room for another entry's list of texts: it still knows its Page stored.
        let second = PagesStored::default();
        second.add(PageId(3), 10, "EAAtext", &room);
        assert!(second.knows(PageId(3), 10));
        assert_eq!(second.token(PageId(3), 10), None);
        // Nor for a copy's texts.
        let copy = first.clone();
        assert!(copy.knows(PageId(1), 10));
        assert_eq!(copy.token(PageId(1), 10), None);
        assert_eq!(room.taken(), one);
        drop(first);
        assert_eq!(room.taken(), 0);
        drop(copy);
        assert_eq!(room.taken(), 0);
        second.add(PageId(3), 10, "EAAtext", &room);
        assert_eq!(second.token(PageId(3), 10).as_deref(), Some("EAAtext"));
        assert_eq!(room.taken(), one);
        drop(second);
        assert_eq!(room.taken(), 0);
    }
}
