//! [`SqliteStore`]: connections, threading and the [`Store`] implementation.
//!
//! SQLite allows one writer at a time, so writes go through a single connection behind a mutex
//! (no `SQLITE_BUSY` juggling between our own writers). WAL mode lets a small pool of reader
//! connections read concurrently with that writer, each seeing the last committed state.
//! rusqlite is blocking, so every call runs on tokio's blocking pool (`spawn_blocking`) and the
//! async workers never wait on disk or on a lock.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::Duration;

use graphtoken_core::codes::{AuthCode, DeviceCode, TestUser, TestUserInsert};
use graphtoken_core::content::{CallToAction, InstantArticle, PageInfo};
use graphtoken_core::content::{Comment, Post};
use graphtoken_core::messaging::{Conversation, Message};
use graphtoken_core::model::{
    AccountStatus, App, AppId, Asid, Grant, Id, Invalidation, Page, PageId, PageTasks, Psid,
    Session, SessionId, TokenHash, TokenRecord, Unix, User, UserId,
};
use graphtoken_core::store::{
    ContentStore, DeletedPerson, DeviceUpdate, DirectoryStore, GrantUpdate, LoginStore, Store,
    StoreError, StoreFuture, StoreResult, TokenEntry, TokenStore, WorldRecords,
};
use graphtoken_core::tasks::TaskSet;
use rusqlite::{Connection, TransactionBehavior};

use crate::db::Db;
use crate::error::Ctx;
use crate::{content, events, login, messaging, migrations, page_settings, psids, queries, world};

mod db;

const READERS: usize = 4;
const BUSY_TIMEOUT: Duration = Duration::from_millis(5000);
const STATEMENT_CACHE: usize = 64;

/// A SQLite-backed [`Store`]. Cloning is cheap and shares the connections.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    location: String,
    writer: Mutex<Connection>,
    /// Empty for an in-memory database: there every call uses the writer, the only connection
    /// that sees that database.
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("location", &self.inner.location)
            .field("readers", &self.inner.readers.len())
            .finish()
    }
}

enum Target {
    Memory,
    File(PathBuf),
}

fn parse_url(url: &str) -> StoreResult<Target> {
    let url = url.trim();
    if let Some(other) = crate::scheme(url).filter(|s| s != "sqlite") {
        return Err(crate::not_sqlite(&other));
    }
    let lower = url.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "sqlite::memory:" | ":memory:" | "sqlite://:memory:"
    ) {
        return Ok(Target::Memory);
    }
    // The scheme in any case; the path as written.
    let prefix = ["sqlite://", "sqlite:"]
        .into_iter()
        .find(|p| lower.starts_with(p))
        .map_or(0, str::len);
    let path = &url[prefix..];
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() {
        return Err(StoreError(format!("sqlite: no database path in {url:?}")));
    }
    Ok(Target::File(PathBuf::from(path)))
}

fn configure(conn: &Connection, file: bool, writer: bool) -> StoreResult<()> {
    conn.busy_timeout(BUSY_TIMEOUT)
        .ctx("setting busy_timeout")?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    if file && writer {
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .ctx("setting journal_mode=WAL")?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError(format!(
                "sqlite: journal_mode=WAL refused (got {mode})"
            )));
        }
    }
    conn.pragma_update(None, "synchronous", "NORMAL")
        .ctx("setting synchronous=NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .ctx("setting foreign_keys=ON")?;
    if !writer {
        conn.pragma_update(None, "query_only", "ON")
            .ctx("setting query_only=ON")?;
    }
    Ok(())
}

fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    // A panic mid-call rolled its transaction back when the guard dropped: the connection is fine.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url`: `sqlite://relative.db`,
    /// `sqlite:///abs/path.db`, a bare path, or `sqlite::memory:` (one private in-memory
    /// database, shared by every clone of this store). Does not migrate: call
    /// [`Store::migrate`].
    pub fn open(url: &str) -> Result<SqliteStore, StoreError> {
        let (writer, readers, location) = match parse_url(url)? {
            Target::Memory => {
                let conn = Connection::open_in_memory().ctx("opening in-memory database")?;
                configure(&conn, false, true)?;
                (conn, Vec::new(), ":memory:".to_string())
            }
            Target::File(path) => {
                let location = path.display().to_string();
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .ctx(&format!("creating directory {}", dir.display()))?;
                }
                let writer = Connection::open(&path).ctx(&format!("opening {location}"))?;
                configure(&writer, true, true)?;
                let mut readers = Vec::with_capacity(READERS);
                for _ in 0..READERS {
                    let conn =
                        Connection::open(&path).ctx(&format!("opening reader on {location}"))?;
                    configure(&conn, true, false)?;
                    readers.push(Mutex::new(conn));
                }
                (writer, readers, location)
            }
        };
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                location,
                writer: Mutex::new(writer),
                readers,
                next_reader: AtomicUsize::new(0),
            }),
        })
    }

    /// Runs `f` on a reader connection, on the blocking pool.
    fn read<T, F>(&self, f: F) -> StoreFuture<'static, T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Db) -> StoreResult<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        Box::pin(blocking(move || inner.with_reader(|c| f(c))))
    }

    /// Runs `f` in one transaction on the single writer connection, on the blocking pool:
    /// committed when `f` succeeds, rolled back when it fails. `IMMEDIATE` takes the write lock
    /// at the start, so what `f` reads is not changed by another process before it writes.
    fn write<T, F>(&self, f: F) -> StoreFuture<'static, T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Db) -> StoreResult<T> + Send + 'static,
    {
        self.on_writer(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .ctx("starting a write")?;
            let out = f(&*tx)?;
            tx.commit().ctx("committing a write")?;
            Ok(out)
        })
    }

    /// Runs `f` on the single writer connection itself, on the blocking pool (migrations).
    fn on_writer<T, F>(&self, f: F) -> StoreFuture<'static, T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        Box::pin(blocking(move || f(&mut lock(&inner.writer))))
    }
}

impl Inner {
    /// Takes the first idle reader (round-robin start), or waits for one.
    fn with_reader<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let n = self.readers.len();
        if n == 0 {
            return f(&lock(&self.writer));
        }
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed) % n;
        for i in 0..n {
            match self.readers[(start + i) % n].try_lock() {
                Ok(conn) => return f(&conn),
                Err(TryLockError::Poisoned(p)) => return f(&p.into_inner()),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        f(&lock(&self.readers[start]))
    }
}

/// Runs blocking work off the async workers. Outside a tokio runtime there is no worker to
/// protect, so it runs in place.
async fn blocking<T, F>(f: F) -> StoreResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> StoreResult<T> + Send + 'static,
{
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle
            .spawn_blocking(f)
            .await
            .map_err(|e| StoreError(format!("sqlite: blocking task failed: {e}")))?,
        Err(_) => f(),
    }
}

impl TokenStore for SqliteStore {
    fn create_session<'a>(
        &'a self,
        user: UserId,
        app: AppId,
        at: Unix,
    ) -> StoreFuture<'a, Session> {
        self.write(move |c| queries::create_session(c, user, app, at))
    }

    fn uninstall<'a>(
        &'a self,
        user: UserId,
        app: AppId,
        why: Invalidation,
    ) -> StoreFuture<'a, (bool, Vec<SessionId>)> {
        self.write(move |c| events::uninstall(c, user, app, why))
    }

    fn invalidate_sessions<'a>(
        &'a self,
        user: UserId,
        app: Option<AppId>,
        why: Invalidation,
    ) -> StoreFuture<'a, Vec<SessionId>> {
        self.write(move |c| events::invalidate_sessions(c, user, app, why))
    }

    fn invalidate_short_lived_tokens<'a>(
        &'a self,
        user: UserId,
        why: Invalidation,
    ) -> StoreFuture<'a, Vec<TokenHash>> {
        self.write(move |c| events::invalidate_short_lived_tokens(c, user, why))
    }

    fn insert_token<'a>(&'a self, token: &'a TokenRecord) -> StoreFuture<'a, bool> {
        let token = token.clone();
        self.write(move |c| queries::insert_token(c, &token))
    }

    fn token<'a>(&'a self, hash: TokenHash) -> StoreFuture<'a, Option<TokenRecord>> {
        self.read(move |c| queries::token(c, &hash))
    }

    fn token_entry<'a>(
        &'a self,
        hash: TokenHash,
    ) -> StoreFuture<'a, Option<(TokenEntry, Session)>> {
        self.read(move |c| queries::token_entry(c, &hash))
    }

    fn invalidate_session<'a>(
        &'a self,
        session: SessionId,
        why: Invalidation,
    ) -> StoreFuture<'a, Option<UserId>> {
        self.write(move |c| login::invalidate_session(c, session, why))
    }

    fn session<'a>(&'a self, id: SessionId) -> StoreFuture<'a, Option<Session>> {
        self.read(move |c| login::session(c, id))
    }
}

impl DirectoryStore for SqliteStore {
    fn is_empty<'a>(&'a self) -> StoreFuture<'a, bool> {
        self.read(queries::is_empty)
    }

    fn app<'a>(&'a self, id: AppId) -> StoreFuture<'a, Option<App>> {
        self.read(move |c| queries::app(c, id))
    }

    fn app_by_key<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<App>> {
        let key = key.to_owned();
        self.read(move |c| queries::app_by_key(c, &key))
    }

    fn user<'a>(&'a self, id: UserId) -> StoreFuture<'a, Option<User>> {
        self.read(move |c| queries::user(c, id))
    }

    fn user_by_key<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<User>> {
        let key = key.to_owned();
        self.read(move |c| queries::user_by_key(c, &key))
    }

    fn page<'a>(&'a self, id: PageId) -> StoreFuture<'a, Option<Page>> {
        self.read(move |c| queries::page(c, id))
    }

    fn page_by_key<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Page>> {
        let key = key.to_owned();
        self.read(move |c| queries::page_by_key(c, &key))
    }

    fn pages_of_user<'a>(&'a self, user: UserId) -> StoreFuture<'a, Vec<(Page, PageTasks)>> {
        self.read(move |c| queries::pages_of_user(c, user))
    }

    fn page_tasks<'a>(&'a self, page: PageId, user: UserId) -> StoreFuture<'a, Option<PageTasks>> {
        self.read(move |c| queries::page_tasks(c, page, user))
    }

    fn grant<'a>(&'a self, user: UserId, app: AppId) -> StoreFuture<'a, Option<Grant>> {
        self.read(move |c| queries::grant(c, user, app))
    }

    fn update_grant<'a>(
        &'a self,
        user: UserId,
        app: AppId,
        update: GrantUpdate,
    ) -> StoreFuture<'a, Option<Grant>> {
        // On the one writer connection, in one transaction: no other write can come between
        // the read and the write.
        self.write(move |db| {
            let grant = update(queries::grant(db, user, app)?);
            if let Some(g) = &grant {
                queries::put_grant(db, g, false)?;
            }
            Ok(grant)
        })
    }

    fn ensure_asid<'a>(
        &'a self,
        user: UserId,
        app: AppId,
        candidate: Asid,
    ) -> StoreFuture<'a, Option<Asid>> {
        self.write(move |c| queries::ensure_asid(c, user, app, candidate))
    }

    fn resolve_asid<'a>(&'a self, asid: Asid) -> StoreFuture<'a, Option<(UserId, AppId)>> {
        self.read(move |c| queries::resolve_asid(c, asid))
    }

    fn set_password<'a>(
        &'a self,
        user: UserId,
        hash: String,
        why: Invalidation,
    ) -> StoreFuture<'a, Option<Vec<SessionId>>> {
        self.write(move |c| events::set_password(c, user, &hash, why))
    }

    fn set_account_status<'a>(
        &'a self,
        user: UserId,
        status: AccountStatus,
    ) -> StoreFuture<'a, bool> {
        self.write(move |c| events::set_status(c, user, status))
    }

    fn set_user_name<'a>(&'a self, user: UserId, name: &'a str) -> StoreFuture<'a, bool> {
        let name = name.to_owned();
        self.write(move |c| events::set_name(c, user, &name))
    }

    fn set_app_secret<'a>(&'a self, app: AppId, secret: &'a str) -> StoreFuture<'a, bool> {
        let secret = secret.to_owned();
        self.write(move |c| events::set_secret(c, app, &secret))
    }

    fn ensure_psid<'a>(
        &'a self,
        user: UserId,
        page: PageId,
        candidate: Psid,
    ) -> StoreFuture<'a, Option<Psid>> {
        self.write(move |c| psids::ensure_psid(c, user, page, candidate))
    }

    fn resolve_psid<'a>(&'a self, psid: Psid) -> StoreFuture<'a, Option<(UserId, PageId)>> {
        self.read(move |c| psids::resolve_psid(c, psid))
    }

    fn psids_of_user<'a>(&'a self, user: UserId) -> StoreFuture<'a, Vec<(PageId, Psid)>> {
        self.read(move |c| psids::psids_of_user(c, user))
    }

    fn asids_of_user<'a>(&'a self, user: UserId) -> StoreFuture<'a, Vec<(AppId, Asid)>> {
        self.read(move |c| psids::asids_of_user(c, user))
    }

    fn people_of_page<'a>(&'a self, page: PageId) -> StoreFuture<'a, Vec<(User, PageTasks)>> {
        self.read(move |c| queries::people_of_page(c, page))
    }

    fn set_page_tasks<'a>(
        &'a self,
        page: PageId,
        user: UserId,
        tasks: TaskSet,
        now: Unix,
    ) -> StoreFuture<'a, Option<PageTasks>> {
        self.write(move |c| events::set_page_tasks(c, page, user, tasks, now))
    }

    fn setting<'a>(&'a self, name: &'a str) -> StoreFuture<'a, Option<String>> {
        let name = name.to_owned();
        self.read(move |c| queries::setting(c, &name))
    }

    fn put_setting<'a>(&'a self, name: &'a str, value: &'a str) -> StoreFuture<'a, ()> {
        let (name, value) = (name.to_owned(), value.to_owned());
        self.write(move |c| queries::put_setting(c, &name, &value))
    }

    fn apply_world<'a>(
        &'a self,
        world: &'a WorldRecords,
    ) -> StoreFuture<'a, Vec<(PageId, UserId)>> {
        let world = world.clone();
        self.write(move |c| world::apply_world(c, &world))
    }

    fn user_by_email<'a>(&'a self, email: &'a str) -> StoreFuture<'a, Option<User>> {
        let email = email.to_owned();
        self.read(move |c| login::user_by_email(c, &email))
    }

    fn insert_test_user<'a>(
        &'a self,
        user: &'a User,
        app: AppId,
        limit: u32,
    ) -> StoreFuture<'a, TestUserInsert> {
        let user = user.clone();
        self.write(move |c| login::insert_test_user(c, &user, app, limit))
    }

    fn test_users_of_app<'a>(&'a self, app: AppId) -> StoreFuture<'a, Vec<TestUser>> {
        self.read(move |c| login::test_users_of_app(c, app))
    }

    fn test_user<'a>(&'a self, user: UserId) -> StoreFuture<'a, Option<TestUser>> {
        self.read(move |c| login::test_user(c, user))
    }

    fn delete_user<'a>(&'a self, user: UserId) -> StoreFuture<'a, Option<DeletedPerson>> {
        self.write(move |c| login::delete_user(c, user))
    }
}

impl ContentStore for SqliteStore {
    fn insert_post<'a>(&'a self, post: &'a Post) -> StoreFuture<'a, Id> {
        let post = post.clone();
        self.write(move |c| content::insert_post(c, &post))
    }

    fn post<'a>(&'a self, id: Id) -> StoreFuture<'a, Option<Post>> {
        self.read(move |c| content::post(c, id))
    }

    fn posts_of_page<'a>(&'a self, page: PageId) -> StoreFuture<'a, Vec<Post>> {
        self.read(move |c| content::posts_of_page(c, page))
    }

    fn edit_post<'a>(&'a self, id: Id, message: &'a str, at: Unix) -> StoreFuture<'a, bool> {
        let message = message.to_owned();
        self.write(move |c| content::edit_post(c, id, &message, at))
    }

    fn delete_post<'a>(&'a self, id: Id) -> StoreFuture<'a, bool> {
        self.write(move |c| content::delete_post(c, id))
    }

    fn insert_comment<'a>(&'a self, comment: &'a Comment) -> StoreFuture<'a, Id> {
        let comment = comment.clone();
        self.write(move |c| content::insert_comment(c, &comment))
    }

    fn comment<'a>(&'a self, id: Id) -> StoreFuture<'a, Option<Comment>> {
        self.read(move |c| content::comment(c, id))
    }

    fn comments_of_post<'a>(&'a self, post: Id) -> StoreFuture<'a, Vec<Comment>> {
        self.read(move |c| content::comments_of_post(c, post))
    }

    fn update_comment<'a>(
        &'a self,
        id: Id,
        message: Option<&'a str>,
        hidden: Option<bool>,
    ) -> StoreFuture<'a, bool> {
        let message = message.map(str::to_owned);
        self.write(move |c| content::update_comment(c, id, message.as_deref(), hidden))
    }

    fn delete_comment<'a>(&'a self, id: Id) -> StoreFuture<'a, bool> {
        self.write(move |c| content::delete_comment(c, id))
    }

    fn ensure_conversation<'a>(
        &'a self,
        page: PageId,
        user: UserId,
        at: Unix,
    ) -> StoreFuture<'a, Id> {
        self.write(move |c| messaging::ensure_conversation(c, page, user, at))
    }

    fn conversation<'a>(&'a self, id: Id) -> StoreFuture<'a, Option<Conversation>> {
        self.read(move |c| messaging::conversation(c, id))
    }

    fn conversations_of_page<'a>(&'a self, page: PageId) -> StoreFuture<'a, Vec<Conversation>> {
        self.read(move |c| messaging::conversations_of_page(c, page))
    }

    fn insert_message<'a>(&'a self, message: &'a Message) -> StoreFuture<'a, Id> {
        let message = message.clone();
        self.write(move |c| messaging::insert_message(c, &message))
    }

    fn message<'a>(&'a self, id: Id) -> StoreFuture<'a, Option<Message>> {
        self.read(move |c| messaging::message(c, id))
    }

    fn messages_of_conversation<'a>(&'a self, conversation: Id) -> StoreFuture<'a, Vec<Message>> {
        self.read(move |c| messaging::messages_of_conversation(c, conversation))
    }

    fn page_info<'a>(&'a self, page: PageId) -> StoreFuture<'a, Option<PageInfo>> {
        self.read(move |c| page_settings::page_info(c, page))
    }

    fn set_page_info<'a>(&'a self, page: PageId, info: &'a PageInfo) -> StoreFuture<'a, bool> {
        let info = info.clone();
        self.write(move |c| page_settings::set_page_info(c, page, &info))
    }

    fn insert_call_to_action<'a>(&'a self, cta: &'a CallToAction) -> StoreFuture<'a, Id> {
        let cta = cta.clone();
        self.write(move |c| page_settings::insert_call_to_action(c, &cta))
    }

    fn call_to_actions_of_page<'a>(&'a self, page: PageId) -> StoreFuture<'a, Vec<CallToAction>> {
        self.read(move |c| page_settings::call_to_actions_of_page(c, page))
    }

    fn delete_call_to_action<'a>(&'a self, page: PageId, id: Id) -> StoreFuture<'a, bool> {
        self.write(move |c| page_settings::delete_call_to_action(c, page, id))
    }

    fn insert_instant_article<'a>(&'a self, article: &'a InstantArticle) -> StoreFuture<'a, Id> {
        let article = article.clone();
        self.write(move |c| page_settings::insert_instant_article(c, &article))
    }

    fn instant_articles_of_page<'a>(
        &'a self,
        page: PageId,
    ) -> StoreFuture<'a, Vec<InstantArticle>> {
        self.read(move |c| page_settings::instant_articles_of_page(c, page))
    }

    fn delete_instant_article<'a>(&'a self, page: PageId, id: Id) -> StoreFuture<'a, bool> {
        self.write(move |c| page_settings::delete_instant_article(c, page, id))
    }
}

impl LoginStore for SqliteStore {
    fn insert_code<'a>(&'a self, code: &'a AuthCode) -> StoreFuture<'a, ()> {
        let code = code.clone();
        self.write(move |c| login::insert_code(c, &code))
    }

    fn code<'a>(&'a self, hash: TokenHash) -> StoreFuture<'a, Option<AuthCode>> {
        self.read(move |c| login::code(c, &hash))
    }

    fn redeem_code<'a>(
        &'a self,
        hash: TokenHash,
        now: Unix,
        session: Option<SessionId>,
    ) -> StoreFuture<'a, Option<AuthCode>> {
        self.write(move |c| login::redeem_code(c, &hash, now, session))
    }

    fn insert_device_code<'a>(&'a self, code: &'a DeviceCode) -> StoreFuture<'a, bool> {
        let code = code.clone();
        self.write(move |c| login::insert_device_code(c, &code))
    }

    fn device_code<'a>(&'a self, hash: TokenHash) -> StoreFuture<'a, Option<DeviceCode>> {
        self.read(move |c| login::device_code(c, &hash))
    }

    fn device_code_by_user_code<'a>(
        &'a self,
        user_code: &'a str,
    ) -> StoreFuture<'a, Option<DeviceCode>> {
        let user_code = user_code.to_owned();
        self.read(move |c| login::device_code_by_user_code(c, &user_code))
    }

    fn update_device_code<'a>(
        &'a self,
        hash: TokenHash,
        update: DeviceUpdate,
    ) -> StoreFuture<'a, Option<DeviceCode>> {
        self.write(move |c| login::update_device_code(c, &hash, update))
    }
}

impl Store for SqliteStore {
    fn migrate<'a>(&'a self) -> StoreFuture<'a, ()> {
        self.on_writer(migrations::migrate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse() {
        assert!(matches!(parse_url("sqlite::memory:"), Ok(Target::Memory)));
        let file = |u: &str| match parse_url(u) {
            Ok(Target::File(p)) => p,
            _ => PathBuf::new(),
        };
        assert_eq!(
            file("sqlite://graphtoken.db"),
            PathBuf::from("graphtoken.db")
        );
        assert_eq!(file("sqlite:///abs/path.db"), PathBuf::from("/abs/path.db"));
        assert_eq!(file("sqlite://x.db?mode=rwc"), PathBuf::from("x.db"));
        assert_eq!(file("data/g.db"), PathBuf::from("data/g.db"));
        assert!(parse_url("sqlite://").is_err());
        // The scheme in any case.
        assert_eq!(file("SQLite://Mixed.db"), PathBuf::from("Mixed.db"));
        assert_eq!(file("SQLITE:x.db"), PathBuf::from("x.db"));
        assert!(matches!(parse_url("SQLITE::MEMORY:"), Ok(Target::Memory)));
        // Another scheme is refused here too, not read as a file name.
        assert!(parse_url("postgres://x").is_err());
        assert!(SqliteStore::open("mysql://x").is_err());
    }
}
