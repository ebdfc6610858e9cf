//! [`SqlStore`]: the [`Store`] implementation, written once over a [`Backend`] (SQLite or
//! PostgreSQL) that runs each read on a connection and each write in one transaction.

use graphtoken_core::codes::{AuthCode, DeviceCode, TestUser, TestUserInsert};
use graphtoken_core::content::{CallToAction, InstantArticle, PageInfo};
use graphtoken_core::content::{Comment, Post};
use graphtoken_core::events::Callback;
use graphtoken_core::faults::StoredFault;
use graphtoken_core::messaging::{Conversation, Message};
use graphtoken_core::model::{
    AccountStatus, App, AppId, Asid, BudgetChange, Grant, Id, Invalidation, Overview, Page, PageId,
    PageTasks, Psid, RateLimits, Session, SessionId, TokenHash, TokenRecord, Unix, User, UserId,
};
use graphtoken_core::outbox::{Attempt, Outgoing};
use graphtoken_core::seal::Sealer;
use graphtoken_core::stats::StoreStats;
use graphtoken_core::store::{
    ChangeSink, CodeCheck, ContentStore, DeletedPerson, DeviceUpdate, DirectoryStore, FaultStore,
    GrantUpdate, LoginStore, OutboxStore, Redeemed, Schema, SessionToken, Store, StoreError,
    StoreFuture, StoreResult, ThrottleUpdate, TokenEntry, TokenStore, WorldRecords,
};
use graphtoken_core::tasks::TaskSet;
use std::sync::Arc;

use crate::db::Db;
use crate::sealing::Seals;
use crate::{
    browser_sessions, content, events, faults, login, messaging, outbox, page_settings, psids,
    queries, world,
};

/// Where a [`SqlStore`]'s statements run: connections, threads and transactions.
pub(crate) trait Backend: Send + Sync + 'static {
    /// Runs `f` on a connection that reads.
    fn read<T, F>(&self, f: F) -> StoreFuture<'static, T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Db) -> StoreResult<T> + Send + 'static;

    /// Runs `f`, a read of a few rows by key on the hot path, where it costs least: by default
    /// as [`read`](Backend::read).
    fn lookup<T, F>(&self, f: F) -> StoreFuture<'static, T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Db) -> StoreResult<T> + Send + 'static,
    {
        self.read(f)
    }

    /// Runs `f` in one transaction: committed when `f` succeeds, rolled back when it fails. `f`
    /// may run more than once (SQLite's writer starts a group over when one of its writes
    /// fails), so it must do nothing outside the transaction but return what it found.
    fn write<T, F>(&self, f: F) -> StoreFuture<'static, T>
    where
        T: Send + 'static,
        F: Fn(&dyn Db) -> StoreResult<T> + Send + 'static;

    /// Brings the schema up to date.
    fn migrate(&self) -> StoreFuture<'static, ()>;

    /// The last version of this backend's migrations.
    fn latest_schema(&self) -> i64;

    /// Whether other processes may share the database (see `Store::shared`).
    fn shared(&self) -> bool {
        false
    }

    /// Its connections and change feed (see `Store::stats`); nothing by default.
    fn stats(&self) -> StoreStats {
        StoreStats::default()
    }

    /// Reports what other processes change (see `Store::watch`); nothing by default.
    fn watch(&self, sink: ChangeSink) {
        let _ = sink;
    }
}

/// The [`Store`] on a SQL database.
#[derive(Clone, Debug)]
pub(crate) struct SqlStore<B> {
    pub(crate) backend: B,
    /// The key the secrets are sealed under (see `sealing`).
    pub(crate) seals: Seals,
}

impl<B> SqlStore<B> {
    pub(crate) fn new(backend: B) -> Self {
        SqlStore {
            backend,
            seals: Seals::default(),
        }
    }

    /// The store, sealing its secrets under `sealer` from now on.
    pub(crate) fn sealed_with(mut self, sealer: Option<Arc<Sealer>>) -> Self {
        self.seals = Seals(sealer);
        self
    }
}

impl<B: Backend> TokenStore for SqlStore<B> {
    fn create_session<'a>(
        &'a self,
        user: UserId,
        app: AppId,
        at: Unix,
    ) -> StoreFuture<'a, Session> {
        self.backend
            .write(move |c| queries::create_session(c, user, app, at))
    }

    fn uninstall<'a>(
        &'a self,
        user: UserId,
        app: AppId,
        why: Invalidation,
        notify: Option<&'a Callback>,
    ) -> StoreFuture<'a, (bool, Vec<SessionId>, Option<u64>)> {
        let notify = notify.cloned();
        self.backend
            .write(move |c| events::uninstall(c, user, app, why, notify.as_ref()))
    }

    fn invalidate_sessions<'a>(
        &'a self,
        user: UserId,
        app: Option<AppId>,
        why: Invalidation,
    ) -> StoreFuture<'a, Vec<SessionId>> {
        self.backend
            .write(move |c| events::invalidate_sessions(c, user, app, why))
    }

    fn invalidate_short_lived_tokens<'a>(
        &'a self,
        user: UserId,
        why: Invalidation,
    ) -> StoreFuture<'a, Vec<TokenHash>> {
        self.backend
            .write(move |c| events::invalidate_short_lived_tokens(c, user, why))
    }

    fn insert_token<'a>(&'a self, token: &'a TokenRecord) -> StoreFuture<'a, bool> {
        let token = token.clone();
        self.backend
            .write(move |c| queries::insert_token(c, &token))
    }

    fn insert_tokens(&self, tokens: Vec<TokenRecord>) -> StoreFuture<'_, u64> {
        self.backend
            .write(move |c| queries::insert_tokens(c, &tokens))
    }

    fn token<'a>(&'a self, hash: TokenHash) -> StoreFuture<'a, Option<TokenRecord>> {
        self.backend.read(move |c| queries::token(c, &hash))
    }

    fn token_entry<'a>(
        &'a self,
        hash: TokenHash,
    ) -> StoreFuture<'a, Option<(TokenEntry, Session)>> {
        self.backend.lookup(move |c| queries::token_entry(c, &hash))
    }

    fn invalidate_session<'a>(
        &'a self,
        session: SessionId,
        why: Invalidation,
    ) -> StoreFuture<'a, Option<UserId>> {
        self.backend
            .write(move |c| login::invalidate_session(c, session, why))
    }

    fn session<'a>(&'a self, id: SessionId) -> StoreFuture<'a, Option<Session>> {
        self.backend.lookup(move |c| queries::session(c, id))
    }
}

impl<B: Backend> DirectoryStore for SqlStore<B> {
    fn is_empty<'a>(&'a self) -> StoreFuture<'a, bool> {
        self.backend.read(queries::is_empty)
    }

    fn overview<'a>(&'a self, limit: u32) -> StoreFuture<'a, Overview> {
        let seals = self.seals.clone();
        self.backend.read(move |c| {
            let mut o = queries::overview(c, limit)?;
            o.apps = o
                .apps
                .into_iter()
                .map(|a| seals.open_app(a))
                .collect::<StoreResult<_>>()?;
            Ok(o)
        })
    }

    fn app<'a>(&'a self, id: AppId) -> StoreFuture<'a, Option<App>> {
        let seals = self.seals.clone();
        self.backend
            .read(move |c| queries::app(c, id)?.map(|a| seals.open_app(a)).transpose())
    }

    fn app_by_key<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<App>> {
        let key = key.to_owned();
        let seals = self.seals.clone();
        self.backend.read(move |c| {
            queries::app_by_key(c, &key)?
                .map(|a| seals.open_app(a))
                .transpose()
        })
    }

    fn user<'a>(&'a self, id: UserId) -> StoreFuture<'a, Option<User>> {
        self.backend.read(move |c| queries::user(c, id))
    }

    fn user_by_key<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<User>> {
        let key = key.to_owned();
        self.backend.read(move |c| queries::user_by_key(c, &key))
    }

    fn page<'a>(&'a self, id: PageId) -> StoreFuture<'a, Option<Page>> {
        self.backend.read(move |c| queries::page(c, id))
    }

    fn page_by_key<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Page>> {
        let key = key.to_owned();
        self.backend.read(move |c| queries::page_by_key(c, &key))
    }

    fn pages_of_user<'a>(&'a self, user: UserId) -> StoreFuture<'a, Vec<(Page, PageTasks)>> {
        self.backend.read(move |c| queries::pages_of_user(c, user))
    }

    fn page_tasks<'a>(&'a self, page: PageId, user: UserId) -> StoreFuture<'a, Option<PageTasks>> {
        self.backend
            .read(move |c| queries::page_tasks(c, page, user))
    }

    fn grant<'a>(&'a self, user: UserId, app: AppId) -> StoreFuture<'a, Option<Grant>> {
        self.backend.read(move |c| queries::grant(c, user, app))
    }

    fn grants_of_user<'a>(&'a self, user: UserId) -> StoreFuture<'a, Vec<Grant>> {
        self.backend.read(move |c| queries::grants_of_user(c, user))
    }

    fn update_grant<'a>(
        &'a self,
        user: UserId,
        app: AppId,
        update: GrantUpdate,
    ) -> StoreFuture<'a, Option<Grant>> {
        // On the one writer connection, in one transaction: no other write can come between
        // the read and the write.
        self.backend.write(move |db| {
            let grant = update(queries::grant(db, user, app)?);
            if let Some(g) = &grant {
                queries::put_grant(db, g, false)?;
            }
            Ok(grant)
        })
    }

    fn asid_of<'a>(&'a self, user: UserId, app: AppId) -> StoreFuture<'a, Option<Asid>> {
        self.backend.lookup(move |c| queries::asid_of(c, user, app))
    }

    fn psid_of<'a>(&'a self, user: UserId, page: PageId) -> StoreFuture<'a, Option<Psid>> {
        self.backend.read(move |c| psids::psid_of(c, user, page))
    }

    fn ensure_asid<'a>(
        &'a self,
        user: UserId,
        app: AppId,
        candidate: Asid,
    ) -> StoreFuture<'a, Option<Asid>> {
        self.backend
            .write(move |c| queries::ensure_asid(c, user, app, candidate))
    }

    fn resolve_asid<'a>(&'a self, asid: Asid) -> StoreFuture<'a, Option<(UserId, AppId)>> {
        self.backend.read(move |c| queries::resolve_asid(c, asid))
    }

    fn set_password<'a>(
        &'a self,
        user: UserId,
        hash: String,
        why: Invalidation,
    ) -> StoreFuture<'a, Option<Vec<SessionId>>> {
        self.backend
            .write(move |c| events::set_password(c, user, &hash, why))
    }

    fn set_account_status<'a>(
        &'a self,
        user: UserId,
        status: AccountStatus,
    ) -> StoreFuture<'a, bool> {
        self.backend
            .write(move |c| events::set_status(c, user, status))
    }

    fn set_user_name<'a>(&'a self, user: UserId, name: &'a str) -> StoreFuture<'a, bool> {
        let name = name.to_owned();
        self.backend
            .write(move |c| events::set_name(c, user, &name))
    }

    fn change_app_rate_limits(
        &self,
        app: AppId,
        change: BudgetChange,
    ) -> StoreFuture<'_, Option<RateLimits>> {
        self.backend
            .write(move |c| events::change_rate_limits(c, app, change))
    }

    fn set_app_secret<'a>(&'a self, app: AppId, secret: &'a str) -> StoreFuture<'a, bool> {
        let secret = secret.to_owned();
        let seals = self.seals.clone();
        self.backend
            .write(move |c| events::set_secret(c, app, &seals.seal_secret(app, &secret)?))
    }

    fn ensure_psid<'a>(
        &'a self,
        user: UserId,
        page: PageId,
        candidate: Psid,
    ) -> StoreFuture<'a, Option<Psid>> {
        self.backend
            .write(move |c| psids::ensure_psid(c, user, page, candidate))
    }

    fn resolve_psid<'a>(&'a self, psid: Psid) -> StoreFuture<'a, Option<(UserId, PageId)>> {
        self.backend.read(move |c| psids::resolve_psid(c, psid))
    }

    fn psids_of_user<'a>(&'a self, user: UserId) -> StoreFuture<'a, Vec<(PageId, Psid)>> {
        self.backend.read(move |c| psids::psids_of_user(c, user))
    }

    fn asids_of_user<'a>(&'a self, user: UserId) -> StoreFuture<'a, Vec<(AppId, Asid)>> {
        self.backend.read(move |c| psids::asids_of_user(c, user))
    }

    fn people_of_page<'a>(&'a self, page: PageId) -> StoreFuture<'a, Vec<(User, PageTasks)>> {
        self.backend.read(move |c| queries::people_of_page(c, page))
    }

    fn set_page_tasks<'a>(
        &'a self,
        page: PageId,
        user: UserId,
        tasks: TaskSet,
        now: Unix,
    ) -> StoreFuture<'a, Option<PageTasks>> {
        self.backend
            .write(move |c| events::set_page_tasks(c, page, user, tasks, now))
    }

    fn setting<'a>(&'a self, name: &'a str) -> StoreFuture<'a, Option<String>> {
        let name = name.to_owned();
        let seals = self.seals.clone();
        self.backend
            .read(move |c| seals.open_setting(&name, queries::setting(c, &name)?))
    }

    fn put_setting<'a>(&'a self, name: &'a str, value: &'a str) -> StoreFuture<'a, ()> {
        let (name, value) = (name.to_owned(), value.to_owned());
        let seals = self.seals.clone();
        self.backend
            .write(move |c| queries::put_setting(c, &name, &seals.seal_setting(&name, &value)?))
    }

    fn first_setting<'a>(&'a self, name: &'a str, value: &'a str) -> StoreFuture<'a, String> {
        let (name, value) = (name.to_owned(), value.to_owned());
        let seals = self.seals.clone();
        self.backend.write(move |c| {
            queries::add_setting(c, &name, &seals.seal_setting(&name, &value)?)?;
            seals
                .open_setting(&name, queries::setting(c, &name)?)?
                .ok_or_else(|| StoreError::new(format!("setting {name} vanished as it was added")))
        })
    }

    fn apply_world<'a>(
        &'a self,
        world: &'a WorldRecords,
    ) -> StoreFuture<'a, Vec<(PageId, UserId)>> {
        let world = world.clone();
        let seals = self.seals.clone();
        self.backend.write(move |c| {
            let apps = world
                .apps
                .iter()
                .map(|a| seals.seal_app(c, a))
                .collect::<StoreResult<_>>()?;
            world::apply_world(
                c,
                &WorldRecords {
                    apps,
                    ..world.clone()
                },
            )
        })
    }

    fn user_by_email<'a>(&'a self, email: &'a str) -> StoreFuture<'a, Option<User>> {
        let email = email.to_owned();
        self.backend.read(move |c| login::user_by_email(c, &email))
    }

    fn insert_test_user<'a>(
        &'a self,
        user: &'a User,
        app: AppId,
        limit: u32,
    ) -> StoreFuture<'a, TestUserInsert> {
        let user = user.clone();
        self.backend
            .write(move |c| login::insert_test_user(c, &user, app, limit))
    }

    fn test_users_of_app<'a>(&'a self, app: AppId) -> StoreFuture<'a, Vec<TestUser>> {
        self.backend.read(move |c| login::test_users_of_app(c, app))
    }

    fn test_user<'a>(&'a self, user: UserId) -> StoreFuture<'a, Option<TestUser>> {
        self.backend.read(move |c| login::test_user(c, user))
    }

    fn delete_user<'a>(&'a self, user: UserId) -> StoreFuture<'a, Option<DeletedPerson>> {
        self.backend.write(move |c| login::delete_user(c, user))
    }
}

impl<B: Backend> ContentStore for SqlStore<B> {
    fn insert_post<'a>(&'a self, post: &'a Post) -> StoreFuture<'a, Id> {
        let post = post.clone();
        self.backend.write(move |c| content::insert_post(c, &post))
    }

    fn post<'a>(&'a self, id: Id) -> StoreFuture<'a, Option<Post>> {
        self.backend.read(move |c| content::post(c, id))
    }

    fn posts_of_page<'a>(&'a self, page: PageId) -> StoreFuture<'a, Vec<Post>> {
        self.backend.read(move |c| content::posts_of_page(c, page))
    }

    fn edit_post<'a>(&'a self, id: Id, message: &'a str, at: Unix) -> StoreFuture<'a, bool> {
        let message = message.to_owned();
        self.backend
            .write(move |c| content::edit_post(c, id, &message, at))
    }

    fn delete_post<'a>(&'a self, id: Id) -> StoreFuture<'a, bool> {
        self.backend.write(move |c| content::delete_post(c, id))
    }

    fn insert_comment<'a>(&'a self, comment: &'a Comment) -> StoreFuture<'a, Id> {
        let comment = comment.clone();
        self.backend
            .write(move |c| content::insert_comment(c, &comment))
    }

    fn comment<'a>(&'a self, id: Id) -> StoreFuture<'a, Option<Comment>> {
        self.backend.read(move |c| content::comment(c, id))
    }

    fn comments_of_post<'a>(&'a self, post: Id) -> StoreFuture<'a, Vec<Comment>> {
        self.backend
            .read(move |c| content::comments_of_post(c, post))
    }

    fn update_comment<'a>(
        &'a self,
        id: Id,
        message: Option<&'a str>,
        hidden: Option<bool>,
    ) -> StoreFuture<'a, bool> {
        let message = message.map(str::to_owned);
        self.backend
            .write(move |c| content::update_comment(c, id, message.as_deref(), hidden))
    }

    fn delete_comment<'a>(&'a self, id: Id) -> StoreFuture<'a, bool> {
        self.backend.write(move |c| content::delete_comment(c, id))
    }

    fn ensure_conversation<'a>(
        &'a self,
        page: PageId,
        user: UserId,
        at: Unix,
    ) -> StoreFuture<'a, Id> {
        self.backend
            .write(move |c| messaging::ensure_conversation(c, page, user, at))
    }

    fn conversation<'a>(&'a self, id: Id) -> StoreFuture<'a, Option<Conversation>> {
        self.backend.read(move |c| messaging::conversation(c, id))
    }

    fn conversations_of_page<'a>(&'a self, page: PageId) -> StoreFuture<'a, Vec<Conversation>> {
        self.backend
            .read(move |c| messaging::conversations_of_page(c, page))
    }

    fn insert_message<'a>(&'a self, message: &'a Message) -> StoreFuture<'a, Id> {
        let message = message.clone();
        self.backend
            .write(move |c| messaging::insert_message(c, &message))
    }

    fn message<'a>(&'a self, id: Id) -> StoreFuture<'a, Option<Message>> {
        self.backend.read(move |c| messaging::message(c, id))
    }

    fn messages_of_conversation<'a>(&'a self, conversation: Id) -> StoreFuture<'a, Vec<Message>> {
        self.backend
            .read(move |c| messaging::messages_of_conversation(c, conversation))
    }

    fn page_info<'a>(&'a self, page: PageId) -> StoreFuture<'a, Option<PageInfo>> {
        self.backend
            .read(move |c| page_settings::page_info(c, page))
    }

    fn set_page_info<'a>(&'a self, page: PageId, info: &'a PageInfo) -> StoreFuture<'a, bool> {
        let info = info.clone();
        self.backend
            .write(move |c| page_settings::set_page_info(c, page, &info))
    }

    fn insert_call_to_action<'a>(&'a self, cta: &'a CallToAction) -> StoreFuture<'a, Id> {
        let cta = cta.clone();
        self.backend
            .write(move |c| page_settings::insert_call_to_action(c, &cta))
    }

    fn call_to_actions_of_page<'a>(&'a self, page: PageId) -> StoreFuture<'a, Vec<CallToAction>> {
        self.backend
            .read(move |c| page_settings::call_to_actions_of_page(c, page))
    }

    fn delete_call_to_action<'a>(&'a self, page: PageId, id: Id) -> StoreFuture<'a, bool> {
        self.backend
            .write(move |c| page_settings::delete_call_to_action(c, page, id))
    }

    fn insert_instant_article<'a>(&'a self, article: &'a InstantArticle) -> StoreFuture<'a, Id> {
        let article = article.clone();
        self.backend
            .write(move |c| page_settings::insert_instant_article(c, &article))
    }

    fn instant_articles_of_page<'a>(
        &'a self,
        page: PageId,
    ) -> StoreFuture<'a, Vec<InstantArticle>> {
        self.backend
            .read(move |c| page_settings::instant_articles_of_page(c, page))
    }

    fn delete_instant_article<'a>(&'a self, page: PageId, id: Id) -> StoreFuture<'a, bool> {
        self.backend
            .write(move |c| page_settings::delete_instant_article(c, page, id))
    }
}

impl<B: Backend> LoginStore for SqlStore<B> {
    fn insert_code<'a>(&'a self, code: &'a AuthCode) -> StoreFuture<'a, ()> {
        let code = code.clone();
        self.backend.write(move |c| login::insert_code(c, &code))
    }

    fn code<'a>(&'a self, hash: TokenHash) -> StoreFuture<'a, Option<AuthCode>> {
        self.backend.lookup(move |c| login::code(c, &hash))
    }

    fn redeem_code<'a>(&'a self, hash: TokenHash, now: Unix) -> StoreFuture<'a, Option<AuthCode>> {
        self.backend
            .write(move |c| login::redeem_code(c, &hash, now))
    }

    fn redeem_code_into_session<'a>(
        &'a self,
        hash: TokenHash,
        now: Unix,
        accept: CodeCheck,
        token: SessionToken,
    ) -> StoreFuture<'a, (Option<AuthCode>, Option<Redeemed>)> {
        self.backend
            .write(move |c| login::redeem_code_into_session(c, &hash, now, &accept, &token))
    }

    fn insert_device_code<'a>(&'a self, code: &'a DeviceCode) -> StoreFuture<'a, bool> {
        let code = code.clone();
        self.backend
            .write(move |c| login::insert_device_code(c, &code))
    }

    fn device_code<'a>(&'a self, hash: TokenHash) -> StoreFuture<'a, Option<DeviceCode>> {
        self.backend.read(move |c| login::device_code(c, &hash))
    }

    fn device_code_by_user_code<'a>(
        &'a self,
        user_code: &'a str,
    ) -> StoreFuture<'a, Option<DeviceCode>> {
        let user_code = user_code.to_owned();
        self.backend
            .read(move |c| login::device_code_by_user_code(c, &user_code))
    }

    fn start_browser_session<'a>(
        &'a self,
        hash: TokenHash,
        user: UserId,
        at: Unix,
        forget_before: Unix,
    ) -> StoreFuture<'a, ()> {
        self.backend
            .write(move |c| browser_sessions::start(c, hash, user, at, forget_before))
    }

    fn browser_session_live<'a>(&'a self, hash: TokenHash, user: UserId) -> StoreFuture<'a, bool> {
        self.backend
            .read(move |c| browser_sessions::live(c, hash, user))
    }

    fn end_browser_sessions<'a>(
        &'a self,
        hash: Option<TokenHash>,
        user: Option<UserId>,
        at: Unix,
    ) -> StoreFuture<'a, u64> {
        self.backend
            .write(move |c| browser_sessions::end(c, hash, user, at))
    }

    fn update_throttle<'a>(
        &'a self,
        keys: &'a [String],
        now: Unix,
        stale_before: Unix,
        update: ThrottleUpdate,
    ) -> StoreFuture<'a, Result<(), i64>> {
        let keys = keys.to_vec();
        self.backend
            .write(move |c| login::update_throttle(c, &keys, now, stale_before, &update))
    }

    fn update_device_code<'a>(
        &'a self,
        hash: TokenHash,
        update: DeviceUpdate,
    ) -> StoreFuture<'a, Option<DeviceCode>> {
        self.backend
            .write(move |c| login::update_device_code(c, &hash, &update))
    }
}

impl<B: Backend> OutboxStore for SqlStore<B> {
    fn enqueue_callback<'a>(&'a self, callback: &'a Callback, at: Unix) -> StoreFuture<'a, u64> {
        let callback = callback.clone();
        self.backend
            .write(move |c| outbox::enqueue(c, &callback, at))
    }

    fn claim_callbacks<'a>(
        &'a self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> StoreFuture<'a, Vec<Outgoing>> {
        self.backend
            .write(move |c| outbox::claim(c, now_ms, lease_ms, limit))
    }

    fn record_callback<'a>(&'a self, id: u64, attempt: &'a Attempt) -> StoreFuture<'a, ()> {
        let attempt = attempt.clone();
        self.backend.write(move |c| outbox::record(c, id, &attempt))
    }

    fn callbacks<'a>(&'a self, limit: u32) -> StoreFuture<'a, Vec<Outgoing>> {
        self.backend.read(move |c| outbox::list(c, limit))
    }
}

impl<B: Backend> FaultStore for SqlStore<B> {
    fn arm_fault<'a>(
        &'a self,
        spec: &'a str,
        times: u64,
        max: u32,
    ) -> StoreFuture<'a, Option<StoredFault>> {
        let spec = spec.to_string();
        self.backend
            .write(move |c| faults::arm(c, &spec, times, max))
    }

    fn faults<'a>(&'a self) -> StoreFuture<'a, Vec<StoredFault>> {
        self.backend.read(faults::list)
    }

    fn fire_fault<'a>(&'a self, id: u64) -> StoreFuture<'a, Option<u64>> {
        self.backend.write(move |c| faults::fire(c, id))
    }

    fn clear_faults<'a>(&'a self, id: Option<u64>) -> StoreFuture<'a, u64> {
        self.backend.write(move |c| faults::clear(c, id))
    }
}

impl<B: Backend> Store for SqlStore<B> {
    fn check_seals<'a>(&'a self) -> StoreFuture<'a, ()> {
        let seals = self.seals.clone();
        self.backend
            .write(move |c| crate::sealing::check(c, &seals))
    }

    fn reseal<'a>(&'a self, from: Option<Arc<Sealer>>) -> StoreFuture<'a, u64> {
        let (from, to) = (Seals(from), self.seals.clone());
        self.backend
            .write(move |c| crate::sealing::reseal(c, &from, &to))
    }

    fn migrate<'a>(&'a self) -> StoreFuture<'a, ()> {
        self.backend.migrate()
    }

    fn schema<'a>(&'a self) -> StoreFuture<'a, Schema> {
        let wanted = self.backend.latest_schema();
        self.backend.read(move |db| {
            Ok(Schema {
                found: crate::migrations::schema_version(db)?,
                wanted,
            })
        })
    }

    fn watch(&self, sink: ChangeSink) {
        self.backend.watch(sink);
    }

    fn stats(&self) -> StoreStats {
        self.backend.stats()
    }

    fn shared(&self) -> bool {
        self.backend.shared()
    }

    fn exchange_rate_counts<'a>(
        &'a self,
        calls: &'a [(String, i64, u32)],
        active: &'a [String],
        since_minute: i64,
    ) -> StoreFuture<'a, Vec<(String, i64, u64)>> {
        let (calls, active) = (calls.to_vec(), active.to_vec());
        if calls.is_empty() {
            // Nothing to add: a read, which takes no write lock.
            return self
                .backend
                .read(move |c| crate::limits::counts(c, &active, since_minute));
        }
        self.backend
            .write(move |c| crate::limits::exchange(c, &calls, &active, since_minute))
    }
}

/// Runs blocking work off the async workers. Outside a tokio runtime there is no worker to
/// protect, so it runs in place.
pub(crate) async fn blocking<T, F>(f: F) -> StoreResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> StoreResult<T> + Send + 'static,
{
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle
            .spawn_blocking(f)
            .await
            .map_err(|e| StoreError::new(format!("store: blocking task failed: {e}")))?,
        Err(_) => f(),
    }
}
