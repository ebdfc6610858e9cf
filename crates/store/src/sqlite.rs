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
    AccountStatus, App, Grant, Id, Invalidation, Page, PageTasks, Session, TokenHash, TokenRecord,
    Unix, User,
};
use graphtoken_core::store::{Store, StoreError, StoreResult, TokenEntry, WorldRecords};
use graphtoken_core::tasks::TaskSet;
use rusqlite::{Connection, TransactionBehavior};

use crate::error::Ctx;
use crate::{content, events, login, messaging, migrations, page_settings, psids, queries, world};

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
    if matches!(url, "sqlite::memory:" | ":memory:" | "sqlite://:memory:") {
        return Ok(Target::Memory);
    }
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
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
    async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        blocking(move || inner.with_reader(f)).await
    }

    /// Runs `f` on the single writer connection, on the blocking pool.
    async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        blocking(move || f(&mut lock(&inner.writer))).await
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

impl Store for SqliteStore {
    async fn migrate(&self) -> StoreResult<()> {
        self.write(migrations::migrate).await
    }

    async fn is_empty(&self) -> StoreResult<bool> {
        self.read(queries::is_empty).await
    }

    async fn app(&self, id: Id) -> StoreResult<Option<App>> {
        self.read(move |c| queries::app(c, id)).await
    }

    async fn app_by_key(&self, key: &str) -> StoreResult<Option<App>> {
        let key = key.to_owned();
        self.read(move |c| queries::app_by_key(c, &key)).await
    }

    async fn user(&self, id: Id) -> StoreResult<Option<User>> {
        self.read(move |c| queries::user(c, id)).await
    }

    async fn user_by_key(&self, key: &str) -> StoreResult<Option<User>> {
        let key = key.to_owned();
        self.read(move |c| queries::user_by_key(c, &key)).await
    }

    async fn page(&self, id: Id) -> StoreResult<Option<Page>> {
        self.read(move |c| queries::page(c, id)).await
    }

    async fn page_by_key(&self, key: &str) -> StoreResult<Option<Page>> {
        let key = key.to_owned();
        self.read(move |c| queries::page_by_key(c, &key)).await
    }

    async fn pages_of_user(&self, user: Id) -> StoreResult<Vec<(Page, PageTasks)>> {
        self.read(move |c| queries::pages_of_user(c, user)).await
    }

    async fn page_tasks(&self, page: Id, user: Id) -> StoreResult<Option<PageTasks>> {
        self.read(move |c| queries::page_tasks(c, page, user)).await
    }

    async fn grant(&self, user: Id, app: Id) -> StoreResult<Option<Grant>> {
        self.read(move |c| queries::grant(c, user, app)).await
    }

    async fn update_grant<F>(&self, user: Id, app: Id, update: F) -> StoreResult<Option<Grant>>
    where
        F: FnOnce(Option<Grant>) -> Option<Grant> + Send + 'static,
    {
        // On the one writer connection, in one transaction: no other write can come between
        // the read and the write.
        self.write(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .ctx("starting grant update")?;
            let grant = update(queries::grant(&tx, user, app)?);
            if let Some(g) = &grant {
                queries::put_grant(&tx, g, false)?;
            }
            tx.commit().ctx("committing grant update")?;
            Ok(grant)
        })
        .await
    }

    async fn ensure_asid(&self, user: Id, app: Id, candidate: Id) -> StoreResult<Option<Id>> {
        self.write(move |c| queries::ensure_asid(c, user, app, candidate))
            .await
    }

    async fn resolve_asid(&self, asid: Id) -> StoreResult<Option<(Id, Id)>> {
        self.read(move |c| queries::resolve_asid(c, asid)).await
    }

    async fn create_session(&self, user: Id, app: Id, at: Unix) -> StoreResult<Session> {
        self.write(move |c| queries::create_session(c, user, app, at))
            .await
    }

    async fn uninstall(
        &self,
        user: Id,
        app: Id,
        why: Invalidation,
    ) -> StoreResult<(bool, Vec<i64>)> {
        self.write(move |c| events::uninstall(c, user, app, why))
            .await
    }

    async fn invalidate_sessions(
        &self,
        user: Id,
        app: Option<Id>,
        why: Invalidation,
    ) -> StoreResult<Vec<i64>> {
        self.write(move |c| events::invalidate_sessions(c, user, app, why))
            .await
    }

    async fn invalidate_short_lived_tokens(
        &self,
        user: Id,
        why: Invalidation,
    ) -> StoreResult<Vec<TokenHash>> {
        self.write(move |c| events::invalidate_short_lived_tokens(c, user, why))
            .await
    }

    async fn set_password(&self, user: Id, hash: Option<String>) -> StoreResult<bool> {
        self.write(move |c| events::set_password(c, user, hash.as_deref()))
            .await
    }

    async fn set_account_status(&self, user: Id, status: AccountStatus) -> StoreResult<bool> {
        self.write(move |c| events::set_status(c, user, status))
            .await
    }

    async fn set_app_secret(&self, app: Id, secret: &str) -> StoreResult<bool> {
        let secret = secret.to_owned();
        self.write(move |c| events::set_secret(c, app, &secret))
            .await
    }

    async fn ensure_psid(&self, user: Id, page: Id, candidate: Id) -> StoreResult<Option<Id>> {
        self.write(move |c| psids::ensure_psid(c, user, page, candidate))
            .await
    }

    async fn resolve_psid(&self, psid: Id) -> StoreResult<Option<(Id, Id)>> {
        self.read(move |c| psids::resolve_psid(c, psid)).await
    }

    async fn psids_of_user(&self, user: Id) -> StoreResult<Vec<(Id, Id)>> {
        self.read(move |c| psids::psids_of_user(c, user)).await
    }

    async fn asids_of_user(&self, user: Id) -> StoreResult<Vec<(Id, Id)>> {
        self.read(move |c| psids::asids_of_user(c, user)).await
    }

    async fn people_of_page(&self, page: Id) -> StoreResult<Vec<(User, PageTasks)>> {
        self.read(move |c| queries::people_of_page(c, page)).await
    }

    async fn set_page_tasks(
        &self,
        page: Id,
        user: Id,
        tasks: TaskSet,
        now: Unix,
    ) -> StoreResult<Option<PageTasks>> {
        self.write(move |c| events::set_page_tasks(c, page, user, tasks, now))
            .await
    }

    async fn insert_token(&self, token: &TokenRecord) -> StoreResult<()> {
        let token = token.clone();
        self.write(move |c| queries::insert_token(c, &token)).await
    }

    async fn token(&self, hash: TokenHash) -> StoreResult<Option<TokenRecord>> {
        self.read(move |c| queries::token(c, &hash)).await
    }

    async fn token_entry(&self, hash: TokenHash) -> StoreResult<Option<(TokenEntry, Session)>> {
        self.read(move |c| queries::token_entry(c, &hash)).await
    }

    async fn setting(&self, name: &str) -> StoreResult<Option<String>> {
        let name = name.to_owned();
        self.read(move |c| queries::setting(c, &name)).await
    }

    async fn put_setting(&self, name: &str, value: &str) -> StoreResult<()> {
        let (name, value) = (name.to_owned(), value.to_owned());
        self.write(move |c| queries::put_setting(c, &name, &value))
            .await
    }

    async fn apply_world(&self, world: &WorldRecords) -> StoreResult<()> {
        let world = world.clone();
        self.write(move |c| world::apply_world(c, &world)).await
    }

    // ---- Page content ----

    async fn insert_post(&self, post: &Post) -> StoreResult<Id> {
        let post = post.clone();
        self.write(move |c| content::insert_post(c, &post)).await
    }

    async fn post(&self, id: Id) -> StoreResult<Option<Post>> {
        self.read(move |c| content::post(c, id)).await
    }

    async fn posts_of_page(&self, page: Id) -> StoreResult<Vec<Post>> {
        self.read(move |c| content::posts_of_page(c, page)).await
    }

    async fn edit_post(&self, id: Id, message: &str, at: Unix) -> StoreResult<bool> {
        let message = message.to_owned();
        self.write(move |c| content::edit_post(c, id, &message, at))
            .await
    }

    async fn delete_post(&self, id: Id) -> StoreResult<bool> {
        self.write(move |c| content::delete_post(c, id)).await
    }

    async fn insert_comment(&self, comment: &Comment) -> StoreResult<Id> {
        let comment = comment.clone();
        self.write(move |c| content::insert_comment(c, &comment))
            .await
    }

    async fn comment(&self, id: Id) -> StoreResult<Option<Comment>> {
        self.read(move |c| content::comment(c, id)).await
    }

    async fn comments_of_post(&self, post: Id) -> StoreResult<Vec<Comment>> {
        self.read(move |c| content::comments_of_post(c, post)).await
    }

    async fn update_comment(
        &self,
        id: Id,
        message: Option<&str>,
        hidden: Option<bool>,
    ) -> StoreResult<bool> {
        let message = message.map(str::to_owned);
        self.write(move |c| content::update_comment(c, id, message.as_deref(), hidden))
            .await
    }

    async fn delete_comment(&self, id: Id) -> StoreResult<bool> {
        self.write(move |c| content::delete_comment(c, id)).await
    }

    // ---- messaging ----

    async fn ensure_conversation(&self, page: Id, user: Id, at: Unix) -> StoreResult<Id> {
        self.write(move |c| messaging::ensure_conversation(c, page, user, at))
            .await
    }

    async fn conversation(&self, id: Id) -> StoreResult<Option<Conversation>> {
        self.read(move |c| messaging::conversation(c, id)).await
    }

    async fn conversations_of_page(&self, page: Id) -> StoreResult<Vec<Conversation>> {
        self.read(move |c| messaging::conversations_of_page(c, page))
            .await
    }

    async fn insert_message(&self, message: &Message) -> StoreResult<Id> {
        let message = message.clone();
        self.write(move |c| messaging::insert_message(c, &message))
            .await
    }

    async fn message(&self, id: Id) -> StoreResult<Option<Message>> {
        self.read(move |c| messaging::message(c, id)).await
    }

    async fn messages_of_conversation(&self, conversation: Id) -> StoreResult<Vec<Message>> {
        self.read(move |c| messaging::messages_of_conversation(c, conversation))
            .await
    }

    // ---- Page settings ----

    async fn page_info(&self, page: Id) -> StoreResult<Option<PageInfo>> {
        self.read(move |c| page_settings::page_info(c, page)).await
    }

    async fn set_page_info(&self, page: Id, info: &PageInfo) -> StoreResult<bool> {
        let info = info.clone();
        self.write(move |c| page_settings::set_page_info(c, page, &info))
            .await
    }

    async fn insert_call_to_action(&self, cta: &CallToAction) -> StoreResult<Id> {
        let cta = cta.clone();
        self.write(move |c| page_settings::insert_call_to_action(c, &cta))
            .await
    }

    async fn call_to_actions_of_page(&self, page: Id) -> StoreResult<Vec<CallToAction>> {
        self.read(move |c| page_settings::call_to_actions_of_page(c, page))
            .await
    }

    async fn delete_call_to_action(&self, page: Id, id: Id) -> StoreResult<bool> {
        self.write(move |c| page_settings::delete_call_to_action(c, page, id))
            .await
    }

    async fn insert_instant_article(&self, article: &InstantArticle) -> StoreResult<Id> {
        let article = article.clone();
        self.write(move |c| page_settings::insert_instant_article(c, &article))
            .await
    }

    async fn instant_articles_of_page(&self, page: Id) -> StoreResult<Vec<InstantArticle>> {
        self.read(move |c| page_settings::instant_articles_of_page(c, page))
            .await
    }

    async fn delete_instant_article(&self, page: Id, id: Id) -> StoreResult<bool> {
        self.write(move |c| page_settings::delete_instant_article(c, page, id))
            .await
    }

    // ---- login flows ----

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        let email = email.to_owned();
        self.read(move |c| login::user_by_email(c, &email)).await
    }

    async fn insert_code(&self, code: &AuthCode) -> StoreResult<()> {
        let code = code.clone();
        self.write(move |c| login::insert_code(c, &code)).await
    }

    async fn code(&self, hash: TokenHash) -> StoreResult<Option<AuthCode>> {
        self.read(move |c| login::code(c, &hash)).await
    }

    async fn redeem_code(
        &self,
        hash: TokenHash,
        now: Unix,
        session: Option<i64>,
    ) -> StoreResult<Option<AuthCode>> {
        self.write(move |c| login::redeem_code(c, &hash, now, session))
            .await
    }

    async fn invalidate_session(&self, session: i64, why: Invalidation) -> StoreResult<bool> {
        self.write(move |c| login::invalidate_session(c, session, why))
            .await
    }

    async fn session(&self, id: i64) -> StoreResult<Option<Session>> {
        self.read(move |c| login::session(c, id)).await
    }

    async fn insert_device_code(&self, code: &DeviceCode) -> StoreResult<bool> {
        let code = code.clone();
        self.write(move |c| login::insert_device_code(c, &code))
            .await
    }

    async fn device_code(&self, hash: TokenHash) -> StoreResult<Option<DeviceCode>> {
        self.read(move |c| login::device_code(c, &hash)).await
    }

    async fn device_code_by_user_code(&self, user_code: &str) -> StoreResult<Option<DeviceCode>> {
        let user_code = user_code.to_owned();
        self.read(move |c| login::device_code_by_user_code(c, &user_code))
            .await
    }

    async fn update_device_code<F>(
        &self,
        hash: TokenHash,
        update: F,
    ) -> StoreResult<Option<DeviceCode>>
    where
        F: FnOnce(&mut DeviceCode) + Send + 'static,
    {
        self.write(move |c| login::update_device_code(c, &hash, update))
            .await
    }

    async fn insert_test_user(
        &self,
        user: &User,
        app: Id,
        limit: u32,
    ) -> StoreResult<TestUserInsert> {
        let user = user.clone();
        self.write(move |c| login::insert_test_user(c, &user, app, limit))
            .await
    }

    async fn test_users_of_app(&self, app: Id) -> StoreResult<Vec<TestUser>> {
        self.read(move |c| login::test_users_of_app(c, app)).await
    }

    async fn test_user(&self, user: Id) -> StoreResult<Option<TestUser>> {
        self.read(move |c| login::test_user(c, user)).await
    }

    async fn delete_user(&self, user: Id) -> StoreResult<bool> {
        self.write(move |c| login::delete_user(c, user)).await
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
    }
}
