//! The service every face of graphtoken calls: it resolves tokens (through the cache), mints
//! them, and keeps the store and the cache consistent.

use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;

use crate::cache::{Cache, ShardKey};
use crate::clock::{Clock, VirtualClock};
use crate::error::GraphError;
use crate::model::{
    AccountStatus, App, Grant, Id, Page, PageTasks, Session, StoredKind, TokenHash, TokenRecord,
    Unix, User,
};
use crate::permissions::{self, PUBLIC_PROFILE};
use crate::store::{Store, StoreError, StoreResult, TokenEntry};
use crate::token::{self, Form, RandomError};

/// A short-lived user token lives one hour (spec §1).
pub const SHORT_LIVED: i64 = 3600;
/// A long-lived user token lives 60 days (spec §1).
pub const LONG_LIVED: i64 = 60 * 86_400;
/// The setting that keeps the virtual clock's offset across restarts.
pub const CLOCK_OFFSET: &str = "clock_offset";

impl From<StoreError> for GraphError {
    fn from(e: StoreError) -> Self {
        GraphError::internal_because(format!("store: {e}"))
    }
}

impl From<RandomError> for GraphError {
    fn from(e: RandomError) -> Self {
        GraphError::internal_because(e)
    }
}

/// A stored token with everything needed to judge and use it, assembled from the caches: the
/// parts that many tokens share (the app, the person, the grant, the Page) are shared.
/// Its `token`, `session` and `asid` are those of the [`TokenEntry`] it derefs to.
#[derive(Clone, Debug)]
pub struct LoadedToken {
    pub entry: Arc<TokenEntry>,
    pub app: Arc<App>,
    pub user: Arc<User>,
    /// The person's grant to the app; `None` once the app was removed.
    pub grant: Option<Arc<Grant>>,
    /// For Page tokens: the Page and the person's current tasks on it (`None`: no task left).
    pub page: Option<(Arc<Page>, Option<PageTasks>)>,
}

impl std::ops::Deref for LoadedToken {
    type Target = TokenEntry;
    fn deref(&self) -> &TokenEntry {
        &self.entry
    }
}

/// Who a token speaks for.
#[derive(Clone, Debug)]
pub enum Principal {
    /// A user token, with everything it was loaded with.
    User(Arc<LoadedToken>),
    /// A Page token (`LoadedToken::page` is set).
    Page(Arc<LoadedToken>),
    /// An app token or the `{app-id}|{app-secret}` literal.
    App(Arc<App>),
    /// `{app-id}|{client-token}`.
    Client(Arc<App>),
}

impl Principal {
    pub fn app(&self) -> &App {
        match self {
            Principal::User(t) | Principal::Page(t) => &t.app,
            Principal::App(a) | Principal::Client(a) => a,
        }
    }
    pub fn loaded(&self) -> Option<&LoadedToken> {
        match self {
            Principal::User(t) | Principal::Page(t) => Some(t),
            _ => None,
        }
    }
}

/// A token that authenticated: its string (Page tokens derive from it) and whom it speaks for.
#[derive(Clone)]
pub struct Caller {
    pub token: String,
    pub principal: Principal,
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("token", &"<redacted>")
            .field("principal", &self.principal)
            .finish()
    }
}

/// What is known about a token, valid or not (for `debug_token`).
#[derive(Clone, Debug)]
pub enum Inspection {
    /// Nothing is known: not a token of ours.
    Unknown(GraphError),
    /// A token of a known app; `error` says why it does not work, if it does not.
    Known {
        principal: Principal,
        error: Option<GraphError>,
    },
}

/// A freshly minted user token.
#[derive(Clone)]
pub struct Issued {
    pub access_token: String,
    pub expires_in: i64,
    pub record: TokenRecord,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued")
            .field("access_token", &"<redacted>")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// Reads through a cache: the cached value, or the store's (cached for next time).
async fn through<K, V, Fut>(
    cache: &Cache<K, V>,
    key: K,
    load: impl FnOnce() -> Fut,
) -> Result<Option<Arc<V>>, GraphError>
where
    K: Hash + Eq + Clone + ShardKey,
    Fut: Future<Output = StoreResult<Option<V>>>,
{
    if let Some(v) = cache.get(&key) {
        return Ok(Some(v));
    }
    let ticket = cache.ticket(&key);
    Ok(load().await?.map(|v| {
        let v = Arc::new(v);
        cache.put(key, Arc::clone(&v), ticket);
        v
    }))
}

pub struct Graph<S> {
    store: S,
    clock: Arc<dyn Clock>,
    tokens: Cache<TokenHash, TokenEntry>,
    apps: Cache<Id, App>,
    users: Cache<Id, User>,
    /// `(user, app)` → the grant, or none (absence is cached too).
    grants: Cache<(Id, Id), Option<Arc<Grant>>>,
    pages: Cache<Id, Page>,
    /// `(page, user)` → the person's tasks on the Page, or none.
    tasks: Cache<(Id, Id), Option<PageTasks>>,
    /// Call counters for rate limits (`crate::ratelimit`), in memory.
    pub(crate) limiter: crate::ratelimit::RateLimiter,
}

impl<S: Store> Graph<S> {
    pub fn new(store: S, clock: Arc<dyn Clock>) -> Self {
        Graph {
            store,
            clock,
            tokens: Cache::new(1 << 20),
            apps: Cache::new(1 << 14),
            users: Cache::new(1 << 18),
            grants: Cache::new(1 << 18),
            pages: Cache::new(1 << 16),
            tasks: Cache::new(1 << 18),
            limiter: Default::default(),
        }
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn now(&self) -> Unix {
        self.clock.now()
    }

    /// Forget everything cached: call after a change that could touch anything (a seed).
    pub fn invalidate(&self) {
        self.tokens.invalidate_all();
        self.apps.invalidate_all();
        self.users.invalidate_all();
        self.grants.invalidate_all();
        self.pages.invalidate_all();
        self.tasks.invalidate_all();
    }

    // Precise forgetting, for the events that change one thing (see `events`). Token entries
    // carry their session's state, and no index maps a session to its tokens: ending sessions
    // forgets every token entry (they are re-read, one query each, on next use).
    pub(crate) fn forget_grant(&self, user: Id, app: Id) {
        self.grants.remove(&(user, app));
    }
    pub(crate) fn forget_user(&self, user: Id) {
        self.users.remove(&user);
    }
    pub(crate) fn forget_app(&self, app: Id) {
        self.apps.remove(&app);
    }
    pub(crate) fn forget_page(&self, page: Id) {
        self.pages.remove(&page);
    }
    pub(crate) fn forget_tasks(&self, page: Id, user: Id) {
        self.tasks.remove(&(page, user));
    }
    pub(crate) fn forget_tokens(&self) {
        self.tokens.invalidate_all();
    }

    /// An app by id, through the cache.
    pub async fn app(&self, id: Id) -> Result<Option<Arc<App>>, GraphError> {
        through(&self.apps, id, || self.store.app(id)).await
    }

    /// A person by id, through the cache.
    pub async fn user(&self, id: Id) -> Result<Option<Arc<User>>, GraphError> {
        through(&self.users, id, || self.store.user(id)).await
    }

    /// A Page by id, through the cache.
    pub async fn page(&self, id: Id) -> Result<Option<Arc<Page>>, GraphError> {
        through(&self.pages, id, || self.store.page(id)).await
    }

    /// The person's grant to the app, through the cache.
    pub async fn grant(&self, user: Id, app: Id) -> Result<Option<Arc<Grant>>, GraphError> {
        let g = through(&self.grants, (user, app), || async move {
            Ok(Some(self.store.grant(user, app).await?.map(Arc::new)))
        })
        .await?;
        Ok(g.and_then(|g| (*g).clone()))
    }

    /// The person's tasks on the Page, through the cache.
    pub async fn page_tasks(&self, page: Id, user: Id) -> Result<Option<PageTasks>, GraphError> {
        let t = through(&self.tasks, (page, user), || async move {
            Ok(Some(self.store.page_tasks(page, user).await?))
        })
        .await?;
        Ok(t.and_then(|t| (*t).clone()))
    }

    /// A stored token with its context, assembled from the caches (one query on a miss, more
    /// only when the shared parts are not cached either).
    pub async fn load(&self, hash: TokenHash) -> Result<Option<Arc<LoadedToken>>, GraphError> {
        let Some(entry) = through(&self.tokens, hash, || self.store.token_entry(hash)).await?
        else {
            return Ok(None);
        };
        let t = &entry.token;
        let missing =
            |what: &str| GraphError::internal_because(format!("token refers to a missing {what}"));
        let app = self.app(t.app_id).await?.ok_or_else(|| missing("app"))?;
        let user = self.user(t.user_id).await?.ok_or_else(|| missing("user"))?;
        let grant = self.grant(t.user_id, t.app_id).await?;
        let page = match t.page_id {
            Some(p) => Some((
                self.page(p).await?.ok_or_else(|| missing("page"))?,
                self.page_tasks(p, t.user_id).await?,
            )),
            None => None,
        };
        Ok(Some(Arc::new(LoadedToken {
            entry,
            app,
            user,
            grant,
            page,
        })))
    }

    /// Everything known about a token string, and why it does not work if it does not.
    pub async fn inspect(&self, token: &str) -> Result<Inspection, GraphError> {
        match token::form(token) {
            Form::Garbage => Ok(Inspection::Unknown(GraphError::cannot_parse())),
            Form::Pipe { app, rest } => {
                let Some(app) = self.app(app).await? else {
                    return Ok(Inspection::Unknown(GraphError::unknown_app_in_token()));
                };
                let principal = if token::secrets_equal(rest, &app.secret)
                    || token::secrets_equal(token, &token::app_token(app.id, &app.secret))
                {
                    Principal::App(app)
                } else if token::secrets_equal(rest, &app.client_token) {
                    Principal::Client(app)
                } else {
                    return Ok(Inspection::Unknown(GraphError::bad_signature()));
                };
                Ok(Inspection::Known {
                    principal,
                    error: None,
                })
            }
            Form::Stored => {
                let Some(loaded) = self.load(token::hash(token)).await? else {
                    return Ok(Inspection::Unknown(GraphError::not_decrypted()));
                };
                let error = self.validity(&loaded);
                let principal = match loaded.token.kind {
                    StoredKind::User => Principal::User(loaded),
                    StoredKind::Page => Principal::Page(loaded),
                };
                Ok(Inspection::Known { principal, error })
            }
        }
    }

    /// The caller behind a token that must work.
    pub async fn authenticate(&self, token: &str) -> Result<Caller, GraphError> {
        match self.inspect(token).await? {
            Inspection::Unknown(e) => Err(e),
            Inspection::Known { error: Some(e), .. } => Err(e),
            Inspection::Known {
                principal,
                error: None,
            } => Ok(Caller {
                token: token.to_string(),
                principal,
            }),
        }
    }

    /// Why a stored token does not work now, or `None` if it does. Reasons are checked from the
    /// most specific (the token itself) to the most general (the clock).
    pub fn validity(&self, t: &LoadedToken) -> Option<GraphError> {
        let (app, user) = (t.app.id, t.asid);
        if let Some(inv) = t.token.invalidated.or(t.session.invalidated) {
            return Some(GraphError::invalidated(inv.subcode, app, user));
        }
        if t.grant.is_none() {
            return Some(GraphError::invalidated(458, app, user));
        }
        if let Some((_, tasks)) = &t.page {
            // The tasks the token was minted under must still be held: a removal followed by a
            // new assignment gives a new `since`, and so a new Page token.
            let holds = tasks
                .as_ref()
                .is_some_and(|pt| !pt.tasks.is_empty() && Some(pt.since) == t.token.tasks_since);
            if !holds {
                return Some(GraphError::invalidated(492, app, user));
            }
        }
        match t.user.status {
            AccountStatus::Active => {}
            AccountStatus::Checkpointed => return Some(GraphError::invalidated(459, app, user)),
            AccountStatus::Unconfirmed => return Some(GraphError::invalidated(464, app, user)),
        }
        let now = self.now();
        if t.token.expires_at != 0 && now >= t.token.expires_at {
            return Some(GraphError::expired(t.token.expires_at, now));
        }
        None
    }

    /// Why a working token may not read data now: the person has not used the app for 90 days
    /// (190/493). The token still authenticates (`debug_token` says it is valid, and it can be
    /// exchanged); a new login renews data access.
    pub fn data_access(&self, t: &LoadedToken) -> Option<GraphError> {
        let expires = t.grant.as_ref()?.data_access_expires_at();
        (self.now() >= expires).then(|| GraphError::invalidated(493, t.app.id, t.asid))
    }

    // ---- lookups by seed key or id ----------------------------------------------------------

    /// An app by key, or by id when the reference is numeric.
    pub async fn find_app(&self, r: &str) -> Result<Option<App>, GraphError> {
        if let Ok(id) = r.parse::<Id>() {
            if let Some(x) = self.store.app(id).await? {
                return Ok(Some(x));
            }
        }
        Ok(self.store.app_by_key(r).await?)
    }

    /// A person by key, or by id when the reference is numeric.
    pub async fn find_user(&self, r: &str) -> Result<Option<User>, GraphError> {
        if let Ok(id) = r.parse::<Id>() {
            if let Some(x) = self.store.user(id).await? {
                return Ok(Some(x));
            }
        }
        Ok(self.store.user_by_key(r).await?)
    }

    /// A Page by key, or by id when the reference is numeric.
    pub async fn find_page(&self, r: &str) -> Result<Option<Page>, GraphError> {
        if let Ok(id) = r.parse::<Id>() {
            if let Some(x) = self.store.page(id).await? {
                return Ok(Some(x));
            }
        }
        Ok(self.store.page_by_key(r).await?)
    }

    /// The person's app-scoped id for the app, created on first need. A candidate that is
    /// already some app's or Page's id, or another person's app-scoped id, is drawn again, so
    /// `/{id}` always names one thing.
    pub async fn asid(&self, user: Id, app: Id) -> Result<Id, GraphError> {
        for _ in 0..8 {
            let candidate = token::random_id()?;
            if self.store.app(candidate).await?.is_some()
                || self.store.page(candidate).await?.is_some()
            {
                continue;
            }
            if let Some(id) = self.store.ensure_asid(user, app, candidate).await? {
                return Ok(id);
            }
        }
        Err(GraphError::internal_because(
            "could not allocate an app-scoped id in 8 draws",
        ))
    }

    /// The person's page-scoped id for the Page, created on first need, never an id that
    /// already names an app, a Page or anyone's app-scoped id.
    pub async fn psid(&self, user: Id, page: Id) -> Result<Id, GraphError> {
        for _ in 0..8 {
            let candidate = token::random_id()?;
            if self.store.app(candidate).await?.is_some()
                || self.store.page(candidate).await?.is_some()
                || self.store.resolve_asid(candidate).await?.is_some()
            {
                continue;
            }
            if let Some(id) = self.store.ensure_psid(user, page, candidate).await? {
                return Ok(id);
            }
        }
        Err(GraphError::internal_because(
            "could not allocate a page-scoped id in 8 draws",
        ))
    }

    // ---- minting --------------------------------------------------------------------------

    /// A login: the person consents to `scopes` for the app (they join the grant), a session
    /// starts, and a user token comes out — short-lived, or long-lived as mobile SDKs get.
    pub async fn login(
        &self,
        user: &User,
        app: &App,
        scopes: &[String],
        long_lived: bool,
    ) -> Result<Issued, GraphError> {
        if let Some(bad) = scopes.iter().find(|s| !permissions::is_known(s)) {
            return Err(GraphError::invalid_scope(bad));
        }
        let now = self.now();
        let (user_id, app_id, scopes) = (user.id, app.id, scopes.to_vec());
        self.store
            .update_grant(user.id, app.id, move |old| {
                let mut grant = old.unwrap_or(Grant {
                    user_id,
                    app_id,
                    granted: vec![PUBLIC_PROFILE.to_string()],
                    declined: Vec::new(),
                    last_login_at: now,
                    created_at: now,
                });
                for s in scopes {
                    grant.declined.retain(|d| *d != s);
                    if !grant.has(&s) {
                        grant.granted.push(s);
                    }
                }
                if !grant.has(PUBLIC_PROFILE) {
                    grant.granted.insert(0, PUBLIC_PROFILE.to_string());
                }
                grant.last_login_at = now;
                Some(grant)
            })
            .await?;
        self.grants.remove(&(user.id, app.id));
        self.open_session(user.id, app.id, long_lived).await
    }

    /// A new session of the person with the app (their grant is already in place) and its
    /// first user token; the person gets an app-scoped id if they had none.
    pub async fn open_session(
        &self,
        user: Id,
        app: Id,
        long_lived: bool,
    ) -> Result<Issued, GraphError> {
        self.asid(user, app).await?;
        let session = self.store.create_session(user, app, self.now()).await?;
        self.mint_user_token(&session, long_lived).await
    }

    /// A new user token in an existing session.
    pub async fn mint_user_token(
        &self,
        session: &Session,
        long_lived: bool,
    ) -> Result<Issued, GraphError> {
        let now = self.now();
        let expires_in = if long_lived { LONG_LIVED } else { SHORT_LIVED };
        let access_token = token::mint()?;
        let record = TokenRecord {
            hash: token::hash(&access_token),
            kind: StoredKind::User,
            app_id: session.app_id,
            user_id: session.user_id,
            page_id: None,
            session_id: session.id,
            parent: None,
            long_lived,
            issued_at: now,
            expires_at: now.saturating_add(expires_in),
            invalidated: None,
            tasks_since: None,
        };
        self.store.insert_token(&record).await?;
        Ok(Issued {
            access_token,
            expires_in,
            record,
        })
    }

    /// The Page token a user token yields for a Page the person has tasks on (spec §1): it
    /// inherits the user token's expiry, and never expires when the user token is long-lived.
    /// The same user token always yields the same Page token, so nothing is minted twice.
    pub async fn page_token(
        &self,
        user_token: &str,
        parent: &LoadedToken,
        page: Id,
        tasks_since: Unix,
    ) -> Result<String, GraphError> {
        let page_token = token::page_token(user_token, page, tasks_since);
        let record = TokenRecord {
            hash: token::hash(&page_token),
            kind: StoredKind::Page,
            app_id: parent.app.id,
            user_id: parent.user.id,
            page_id: Some(page),
            session_id: parent.token.session_id,
            parent: Some(parent.token.hash),
            long_lived: parent.token.long_lived,
            issued_at: self.now(),
            expires_at: if parent.token.long_lived {
                0
            } else {
                parent.token.expires_at
            },
            invalidated: None,
            tasks_since: Some(tasks_since),
        };
        if self.load(record.hash).await?.is_none() {
            self.store.insert_token(&record).await?;
        }
        Ok(page_token)
    }

    // ---- the virtual clock ------------------------------------------------------------------

    /// Loads the persisted offset into the clock (at start).
    pub async fn restore_clock(&self, clock: &VirtualClock) -> Result<(), GraphError> {
        if let Some(v) = self.store.setting(CLOCK_OFFSET).await? {
            clock.set_offset(v.trim().parse().unwrap_or(0));
        }
        Ok(())
    }

    /// Moves the virtual clock to `target` (1970 … 9999) and persists the offset.
    pub async fn set_clock(&self, clock: &VirtualClock, target: Unix) -> Result<Unix, GraphError> {
        const LATEST: Unix = 253_402_300_799; // 9999-12-31T23:59:59Z
        if !(0..=LATEST).contains(&target) {
            return Err(GraphError::param(format!(
                "the clock can be set between 1970 and 9999, not to {target}"
            )));
        }
        let offset = clock.offset_for(target);
        self.store
            .put_setting(CLOCK_OFFSET, &offset.to_string())
            .await?;
        clock.set_offset(offset);
        Ok(clock.now())
    }
}
