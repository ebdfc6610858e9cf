//! The services: the only code that writes. Each change of state is one method here that writes
//! to the store and then publishes one [`Event`] on the bus; the caches (and whatever else
//! subscribes) follow the events. Reads go through the caches where the hot path needs them.
//!
//! The Graph protocol layer (`crate::graph`) and the server call these methods; neither can
//! reach the store, which is a private field of [`Services`].
//!
//! | module | what it owns |
//! |---|---|
//! | `tokens` | loading and judging tokens, logins, sessions, minting user and Page tokens |
//! | `sessions` | the events that end or narrow tokens (spec §7): uninstall, resets, logout, … |
//! | `pages` | Page tasks, who holds them, Page settings and authorization of Page operations |
//! | `content` | posts and comments, and development-mode visibility |
//! | `messaging` | conversations and messages |
//! | `page_settings` | call-to-action buttons and Instant Articles |
//! | `codes` | dialog, client and device codes |
//! | `test_users` | test users |
//! | `dialog` | the login dialog's rules, its writes and its device-login answers |
//! | `signin` | signing in with a password (throttled), password hashing off the async workers |
//! | `world` | applying seed worlds |
//! | `limits` | rate-limit accounting of calls |

mod caches;
pub use caches::DEFAULT_CACHE_BYTES;
pub mod codes;
pub mod content;
pub mod dialog;
pub mod faults;
pub mod limits;
pub mod messaging;
pub mod outbox;
pub mod page_settings;
pub mod pages;
pub mod sessions;
pub mod signin;
pub mod test_users;
pub mod tokens;
pub mod world;

use std::sync::{Arc, OnceLock};

use crate::clock::{Clock, VirtualClock};
use crate::error::GraphError;
use crate::events::{Bus, Event, Subscriber};
use crate::exec::{Blocking, Inline};
use crate::model::{
    App, AppId, Asid, Grant, Page, PageId, PageTasks, Psid, Session, SessionId, Unix, User, UserId,
};
use crate::ratelimit::RateLimiter;
use crate::store::{Changed, Store, StoreError};
use crate::token::{self, RandomError};

pub use crate::store::{KeptAnswer, KeptDebug};
use caches::{through, Caches};

pub use tokens::Issued;

/// A short-lived user token lives one hour (spec §1).
pub const SHORT_LIVED: i64 = 3600;
/// A long-lived user token lives 60 days (spec §1).
pub const LONG_LIVED: i64 = 60 * 86_400;
/// The setting that keeps the virtual clock's offset across restarts (and shares it between
/// the instances on one database).
pub const CLOCK_OFFSET: &str = "clock_offset";
/// The setting that holds the key of user tokens' claims ([`Services::token_key`]); the store
/// keeps it sealed.
pub const TOKEN_KEY: &str = "token_key";

/// The offset a stored `clock_offset` holds (none or unreadable: 0), within ten thousand
/// years: the clock can be set to the years 1970 to 9999 only, and times on it are added to.
fn clock_offset(value: Option<&str>) -> i64 {
    const FAR: i64 = 10_000 * 366 * 86_400;
    value
        .and_then(|v| v.trim().parse::<i64>().ok())
        .map_or(0, |o| o.clamp(-FAR, FAR))
}

impl From<StoreError> for GraphError {
    /// Code 2, transient; with HTTP 503 when the database is out of reach (the service is
    /// unavailable until it is back).
    fn from(e: StoreError) -> Self {
        let unavailable = e.unavailable;
        let g = GraphError::internal_because(format!("store: {e}"));
        if unavailable {
            g.with_status(503)
        } else {
            g
        }
    }
}

impl From<RandomError> for GraphError {
    fn from(e: RandomError) -> Self {
        GraphError::internal_because(e)
    }
}

pub struct Services {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    caches: Arc<Caches>,
    bus: Bus,
    /// Call counters for rate limits (`crate::ratelimit`), in memory.
    limiter: RateLimiter,
    /// Where argon2 runs (see [`crate::exec`]).
    blocking: Arc<dyn Blocking>,
    /// A hash verified when no account matches, so both answers take as long; made on first use.
    decoy: OnceLock<String>,
    /// The virtual clock that follows the offset other instances set (see `restore_clock`).
    clock_followed: Arc<OnceLock<Arc<VirtualClock>>>,
    /// The console is served: the dialog takes the Explorer's redirect for every app.
    console: bool,
    /// Where new tokens go in the order of minting (see [`token::Stamps`]).
    stamps: token::Stamps,
    /// The key that tags user tokens' claims ([`token::Claims`]), read from the store (made
    /// there on first need) once.
    token_key: OnceLock<token::TokenKey>,
    /// User tokens are minted without claims ([`Services::with_plain_tokens`]).
    plain_tokens: bool,
}

impl Services {
    /// The services on `store`, reading `clock`. CPU-heavy work runs in place until
    /// [`Services::with_blocking`] gives them an executor.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Services::within(store, clock, caches::DEFAULT_CACHE_BYTES)
    }

    /// As [`Services::new`], with caches that hold about `cache_bytes` at most.
    pub fn within(store: Arc<dyn Store>, clock: Arc<dyn Clock>, cache_bytes: usize) -> Self {
        let caches = Arc::new(Caches::within(cache_bytes));
        let bus = Bus::default();
        bus.subscribe(Arc::clone(&caches) as Arc<dyn Subscriber>);
        // What other instances on a shared database change reaches these caches too, and the
        // clock they move moves this one (once `restore_clock` named it).
        let feed = Arc::clone(&caches);
        let clock_followed: Arc<OnceLock<Arc<VirtualClock>>> = Arc::default();
        let follows = Arc::clone(&clock_followed);
        let heard = bus.clone();
        store.watch(Arc::new(move |changes| {
            feed.drop_changed(changes);
            let mut faults = false;
            for c in changes {
                match c {
                    Changed::Setting { name, value } if name == CLOCK_OFFSET => {
                        if let Some(clock) = follows.get() {
                            clock.follow(clock_offset(value.as_deref()));
                        }
                    }
                    Changed::Faults | Changed::Everything => faults = true,
                    _ => {}
                }
            }
            if faults {
                heard.publish(&Event::FaultsChanged);
            }
        }));
        Services {
            store,
            caches,
            bus,
            limiter: RateLimiter::default(),
            blocking: Arc::new(Inline),
            decoy: OnceLock::new(),
            clock_followed,
            console: false,
            stamps: token::Stamps::starting(clock.now()),
            token_key: OnceLock::new(),
            plain_tokens: false,
            clock,
        }
    }

    /// User tokens are minted without claims, in the form versions before claims read (for a
    /// rolling upgrade from such a version); tokens with claims are still read.
    pub fn with_plain_tokens(mut self) -> Self {
        self.plain_tokens = true;
        self
    }

    /// The key new user tokens' claims are tagged with; `None` when they are minted without.
    pub(crate) async fn minting_key(&self) -> Result<Option<&token::TokenKey>, GraphError> {
        if self.plain_tokens {
            return Ok(None);
        }
        Ok(Some(self.token_key().await?))
    }

    /// The console is served (emulator mode): the login dialog takes the Graph API Explorer's
    /// redirect ([`dialog::CONSOLE_CALLBACK`]) for every app.
    pub fn with_console(mut self) -> Self {
        self.console = true;
        self
    }

    pub fn console(&self) -> bool {
        self.console
    }

    /// Runs CPU-heavy work (argon2) on `blocking` from now on.
    pub fn with_blocking(mut self, blocking: Arc<dyn Blocking>) -> Self {
        self.blocking = blocking;
        self
    }

    /// Hears every event from now on (after the caches, which subscribe first).
    pub fn subscribe(&self, subscriber: Arc<dyn Subscriber>) {
        self.bus.subscribe(subscriber);
    }

    /// Tells every subscriber about a change just written.
    fn publish(&self, event: Event) {
        self.bus.publish(&event);
    }

    pub fn now(&self) -> Unix {
        self.clock.now()
    }

    /// The stamps new user tokens and codes are minted with (`token::Stamps`).
    pub(crate) fn stamps(&self) -> &token::Stamps {
        &self.stamps
    }

    /// The virtual clock has been moved away from the machine's: answers then carry its time
    /// in their `Date` header, where clients look for the server's now.
    pub fn clock_shifted(&self) -> bool {
        self.clock_followed.get().is_some_and(|c| c.offset() != 0)
    }

    /// Each cache in front of the store by name, with its hits, misses and entries (metrics).
    pub fn cache_stats(&self) -> Vec<(&'static str, crate::cache::CacheStats)> {
        self.caches.stats()
    }

    /// The store's connections and change feed, for the metrics.
    pub fn store_stats(&self) -> crate::stats::StoreStats {
        self.store.stats()
    }

    /// Whether the database answers and its schema is the one this graphtoken needs; why not.
    pub async fn ready(&self) -> Result<(), String> {
        match self.store.schema().await {
            Ok(s) if s.serves() => Ok(()),
            Ok(s) => Err(format!(
                "the database is at schema version {}, this graphtoken needs {}",
                s.found, s.wanted
            )),
            Err(e) => Err(format!("the database does not answer: {e}")),
        }
    }

    /// The world at a glance: the first `limit` apps, people and Pages, and how many there are.
    pub async fn overview(&self, limit: u32) -> Result<crate::model::Overview, GraphError> {
        Ok(self.store.overview(limit).await?)
    }

    /// True when the store holds no app, user or Page (a fresh database).
    pub async fn is_empty(&self) -> Result<bool, GraphError> {
        Ok(self.store.is_empty().await?)
    }

    /// A setting, as stored (`None` when unset).
    pub async fn setting(&self, name: &str) -> Result<Option<String>, GraphError> {
        Ok(self.store.setting(name).await?)
    }

    /// Stores a setting that only the server keeps (such as its cookie key); no cache holds
    /// settings, so nothing is published.
    pub async fn put_setting(&self, name: &str, value: &str) -> Result<(), GraphError> {
        Ok(self.store.put_setting(name, value).await?)
    }

    /// The key that tags user tokens' claims: the store's (setting [`TOKEN_KEY`], sealed like
    /// every secret the store keeps), drawn and stored on first need; instances that start at
    /// once on a new database all take the one stored first.
    pub(crate) async fn token_key(&self) -> Result<&token::TokenKey, GraphError> {
        if let Some(key) = self.stored_token_key().await? {
            return Ok(key);
        }
        let drawn = self
            .store
            .first_setting(TOKEN_KEY, &token::TokenKey::new_hex()?)
            .await?;
        self.keep_token_key(&drawn)
    }

    /// The token key when the store has one (none: no token with claims was minted on it, so
    /// none can check out), read once; for reading claims, which never draws one.
    pub(crate) async fn stored_token_key(&self) -> Result<Option<&token::TokenKey>, GraphError> {
        if let Some(key) = self.token_key.get() {
            return Ok(Some(key));
        }
        match self.store.setting(TOKEN_KEY).await? {
            Some(text) => self.keep_token_key(&text).map(Some),
            None => Ok(None),
        }
    }

    /// The token key as the store keeps it, kept here from now on.
    fn keep_token_key(&self, text: &str) -> Result<&token::TokenKey, GraphError> {
        let key = token::TokenKey::from_hex(text)
            .ok_or_else(|| GraphError::internal_because("the stored token key does not read"))?;
        Ok(self.token_key.get_or_init(|| key))
    }

    // ---- reads through the caches -----------------------------------------------------------

    /// An app by id, through the cache.
    pub async fn app(&self, id: AppId) -> Result<Option<Arc<App>>, GraphError> {
        through(&self.caches.apps, id, || self.store.app(id)).await
    }

    /// A person by id, through the cache.
    pub async fn user(&self, id: UserId) -> Result<Option<Arc<User>>, GraphError> {
        through(&self.caches.users, id, || self.store.user(id)).await
    }

    /// A Page by id, through the cache.
    pub async fn page(&self, id: PageId) -> Result<Option<Arc<Page>>, GraphError> {
        through(&self.caches.pages, id, || self.store.page(id)).await
    }

    /// A login session by id, through the cache.
    pub async fn session(&self, id: SessionId) -> Result<Option<Arc<Session>>, GraphError> {
        through(&self.caches.sessions, id, || self.store.session(id)).await
    }

    /// The person's grant to the app, through the cache.
    pub async fn grant(&self, user: UserId, app: AppId) -> Result<Option<Arc<Grant>>, GraphError> {
        let g = through(&self.caches.grants, (user, app), || async move {
            Ok(Some(self.store.grant(user, app).await?.map(Arc::new)))
        })
        .await?;
        Ok(g.and_then(|g| (*g).clone()))
    }

    /// The person's tasks on the Page, through the cache.
    pub async fn page_tasks(
        &self,
        page: PageId,
        user: UserId,
    ) -> Result<Option<PageTasks>, GraphError> {
        let t = through(&self.caches.tasks, (page, user), || async move {
            Ok(Some(self.store.page_tasks(page, user).await?))
        })
        .await?;
        Ok(t.and_then(|t| (*t).clone()))
    }

    // ---- lookups by seed key or id ----------------------------------------------------------

    /// An app by key, or by id when the reference is numeric.
    pub async fn find_app(&self, r: &str) -> Result<Option<App>, GraphError> {
        if let Ok(id) = r.parse::<AppId>() {
            if let Some(x) = self.store.app(id).await? {
                return Ok(Some(x));
            }
        }
        Ok(self.store.app_by_key(r).await?)
    }

    /// A person by key, or by id when the reference is numeric.
    pub async fn find_user(&self, r: &str) -> Result<Option<User>, GraphError> {
        if let Ok(id) = r.parse::<UserId>() {
            if let Some(x) = self.store.user(id).await? {
                return Ok(Some(x));
            }
        }
        Ok(self.store.user_by_key(r).await?)
    }

    /// A Page by key, or by id when the reference is numeric.
    pub async fn find_page(&self, r: &str) -> Result<Option<Page>, GraphError> {
        if let Ok(id) = r.parse::<PageId>() {
            if let Some(x) = self.store.page(id).await? {
                return Ok(Some(x));
            }
        }
        Ok(self.store.page_by_key(r).await?)
    }

    // ---- app- and page-scoped ids -------------------------------------------------------------

    /// The person and app an app-scoped id belongs to.
    pub async fn resolve_asid(&self, asid: Asid) -> Result<Option<(UserId, AppId)>, GraphError> {
        Ok(self.store.resolve_asid(asid).await?)
    }

    /// The person and Page a page-scoped id belongs to.
    pub async fn resolve_psid(&self, psid: Psid) -> Result<Option<(UserId, PageId)>, GraphError> {
        Ok(self.store.resolve_psid(psid).await?)
    }

    /// The person's app-scoped ids, `(app, asid)`, ordered by app id.
    pub async fn asids_of_user(&self, user: UserId) -> Result<Vec<(AppId, Asid)>, GraphError> {
        Ok(self.store.asids_of_user(user).await?)
    }

    /// The person's page-scoped ids, `(page, psid)`, ordered by Page id.
    pub async fn psids_of_user(&self, user: UserId) -> Result<Vec<(PageId, Psid)>, GraphError> {
        Ok(self.store.psids_of_user(user).await?)
    }

    /// The person's app-scoped id for the app, drawn on first need. A candidate that is already
    /// some app's or Page's id, or another person's app-scoped id, is drawn again, so `/{id}`
    /// always names one thing. (Drawing an id is not an event: an id never changes once drawn,
    /// so nothing derived from the store can go stale.)
    pub async fn asid(&self, user: UserId, app: AppId) -> Result<Asid, GraphError> {
        self.asid_or(user, app, None).await
    }

    /// [`Services::asid`], trying `preferred` first (a test user's id doubles as their
    /// app-scoped id for the app that made them).
    async fn asid_or(
        &self,
        user: UserId,
        app: AppId,
        preferred: Option<Asid>,
    ) -> Result<Asid, GraphError> {
        // Drawn once, read ever after: no draw, no write.
        if let Some(id) = self.store.asid_of(user, app).await? {
            return Ok(id);
        }
        if let Some(id) = preferred {
            if let Some(id) = self.store.ensure_asid(user, app, id).await? {
                return Ok(id);
            }
        }
        for _ in 0..8 {
            let candidate = token::random_id()?;
            if !self.id_is_free(candidate).await? {
                continue;
            }
            if let Some(id) = self.store.ensure_asid(user, app, Asid(candidate)).await? {
                return Ok(id);
            }
        }
        Err(GraphError::internal_because(
            "could not allocate an app-scoped id in 8 draws",
        ))
    }

    /// The person's page-scoped id for the Page, drawn on first need, never an id that already
    /// names an app, a Page or anyone's app-scoped id.
    pub async fn psid(&self, user: UserId, page: PageId) -> Result<Psid, GraphError> {
        if let Some(id) = self.store.psid_of(user, page).await? {
            return Ok(id);
        }
        for _ in 0..8 {
            let candidate = token::random_id()?;
            if !self.id_is_free(candidate).await? {
                continue;
            }
            if let Some(id) = self.store.ensure_psid(user, page, Psid(candidate)).await? {
                return Ok(id);
            }
        }
        Err(GraphError::internal_because(
            "could not allocate a page-scoped id in 8 draws",
        ))
    }

    /// Whether a freshly drawn id names nothing yet: no app, Page or app-scoped id has it.
    pub(crate) async fn id_is_free(&self, n: u64) -> Result<bool, GraphError> {
        Ok(self.store.app(AppId(n)).await?.is_none()
            && self.store.page(PageId(n)).await?.is_none()
            && self.store.resolve_asid(Asid(n)).await?.is_none())
    }

    // ---- the virtual clock ------------------------------------------------------------------

    /// Loads the persisted offset into the clock (at start).
    pub async fn restore_clock(&self, clock: &Arc<VirtualClock>) -> Result<(), GraphError> {
        // Followed first: a move by another instance from now on is not missed.
        let _ = self.clock_followed.set(Arc::clone(clock));
        if let Some(v) = self.store.setting(CLOCK_OFFSET).await? {
            clock.set_offset(clock_offset(Some(&v)));
        }
        Ok(())
    }

    /// Moves the virtual clock to `target` (1970 … 9999) and persists the offset.
    pub async fn set_clock(&self, clock: &VirtualClock, target: Unix) -> Result<Unix, GraphError> {
        if !(0..=crate::timefmt::LAST_SECOND).contains(&target) {
            return Err(GraphError::param(format!(
                "the clock can be set between 1970 and 9999, not to {target}"
            )));
        }
        let offset = clock.offset_for(target);
        clock.writing(offset);
        if let Err(e) = self
            .store
            .put_setting(CLOCK_OFFSET, &offset.to_string())
            .await
        {
            clock.not_written(offset);
            return Err(e.into());
        }
        clock.set_offset(offset);
        let now = clock.now();
        self.publish(Event::ClockMoved { now, offset });
        Ok(now)
    }
}

#[cfg(test)]
mod tests {
    /// A stored offset is read within ten thousand years, whatever the row holds: times on
    /// the clock are added to.
    #[test]
    fn a_stored_clock_offset_is_read_within_the_calendar() {
        let far = 10_000 * 366 * 86_400;
        assert_eq!(super::clock_offset(Some(" 3600 ")), 3600);
        assert_eq!(super::clock_offset(Some("soon")), 0);
        assert_eq!(super::clock_offset(None), 0);
        assert_eq!(super::clock_offset(Some(&i64::MAX.to_string())), far);
        assert_eq!(super::clock_offset(Some(&i64::MIN.to_string())), -far);
    }
}
