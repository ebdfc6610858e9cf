//! The storage boundary. `core` states what it needs; `graphtoken-store` implements it per backend.
//!
//! Every method is async and `Send`, so a backend may run blocking drivers on a thread pool
//! (SQLite) or talk to a server (PostgreSQL). Writes that belong together are one method, so a
//! backend can make them one transaction.

use std::future::Future;

use crate::codes::{AuthCode, DeviceCode, TestUser, TestUserInsert};
use crate::content::{Comment, Post};
use crate::messaging::{Conversation, Message};
use crate::model::{
    AccountStatus, App, Grant, Id, Invalidation, Page, PageTasks, Session, TokenHash, TokenRecord,
    Unix, User,
};
use crate::tasks::TaskSet;

/// A storage failure. Its text is for logs only; clients see a catalogued Graph error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

pub type StoreResult<T> = Result<T, StoreError>;

/// A stored token and the person's app-scoped id for its app: what the token cache holds. It
/// carries no session state (sessions are cached on their own, so ending one drops one entry).
#[derive(Clone, Debug)]
pub struct TokenEntry {
    pub token: TokenRecord,
    pub asid: Id,
}

/// A whole seed world, resolved to records, to be written in one transaction.
/// For each Page, `page_tasks` holds the complete set of people with tasks on it.
#[derive(Clone, Debug, Default)]
pub struct WorldRecords {
    pub apps: Vec<App>,
    pub users: Vec<User>,
    pub pages: Vec<Page>,
    pub page_tasks: Vec<(Id, Vec<PageTasks>)>,
    pub grants: Vec<Grant>,
    /// `(user, app, asid)`: app-scoped ids to create where the person has none for the app.
    pub asids: Vec<(Id, Id, Id)>,
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
    pub page_id: Id,
    pub user_id: Id,
    pub psid: Id,
    pub text: String,
    pub created_at: Unix,
}

pub trait Store: Send + Sync + 'static {
    /// Runs pending migrations. Called once at start.
    fn migrate(&self) -> impl Future<Output = StoreResult<()>> + Send;

    /// True when the store holds no app, user or Page (a fresh database).
    fn is_empty(&self) -> impl Future<Output = StoreResult<bool>> + Send;

    fn app(&self, id: Id) -> impl Future<Output = StoreResult<Option<App>>> + Send;
    fn app_by_key(&self, key: &str) -> impl Future<Output = StoreResult<Option<App>>> + Send;
    fn user(&self, id: Id) -> impl Future<Output = StoreResult<Option<User>>> + Send;
    fn user_by_key(&self, key: &str) -> impl Future<Output = StoreResult<Option<User>>> + Send;
    fn page(&self, id: Id) -> impl Future<Output = StoreResult<Option<Page>>> + Send;
    fn page_by_key(&self, key: &str) -> impl Future<Output = StoreResult<Option<Page>>> + Send;

    /// The Pages a person has tasks on, ordered by Page id, with the Page records.
    fn pages_of_user(
        &self,
        user: Id,
    ) -> impl Future<Output = StoreResult<Vec<(Page, PageTasks)>>> + Send;
    /// The people with tasks on a Page, ordered by person id.
    fn people_of_page(
        &self,
        page: Id,
    ) -> impl Future<Output = StoreResult<Vec<(User, PageTasks)>>> + Send;
    fn page_tasks(
        &self,
        page: Id,
        user: Id,
    ) -> impl Future<Output = StoreResult<Option<PageTasks>>> + Send;

    fn grant(&self, user: Id, app: Id) -> impl Future<Output = StoreResult<Option<Grant>>> + Send;
    /// Reads the grant of `user` × `app` (if any), stores what `update` makes of it (nothing
    /// when it returns `None`) and returns that, atomically: two concurrent updates of one grant
    /// never lose each other's changes.
    fn update_grant<F>(
        &self,
        user: Id,
        app: Id,
        update: F,
    ) -> impl Future<Output = StoreResult<Option<Grant>>> + Send
    where
        F: FnOnce(Option<Grant>) -> Option<Grant> + Send + 'static;

    /// The person's app-scoped id for the app, creating it from `candidate` when there is none.
    /// Returns the id in force (the existing one, if any), or `None` when `candidate` is already
    /// another person's or app's id (draw another).
    fn ensure_asid(
        &self,
        user: Id,
        app: Id,
        candidate: Id,
    ) -> impl Future<Output = StoreResult<Option<Id>>> + Send;
    /// The person and app an app-scoped id belongs to.
    fn resolve_asid(&self, asid: Id) -> impl Future<Output = StoreResult<Option<(Id, Id)>>> + Send;

    fn create_session(
        &self,
        user: Id,
        app: Id,
        at: Unix,
    ) -> impl Future<Output = StoreResult<Session>> + Send;

    /// Stores a token record; a record with the same hash already there is left as it is. A
    /// Page token (with a `parent`) is stored only while its parent user token still works.
    fn insert_token(&self, token: &TokenRecord) -> impl Future<Output = StoreResult<()>> + Send;
    fn token(
        &self,
        hash: TokenHash,
    ) -> impl Future<Output = StoreResult<Option<TokenRecord>>> + Send;
    /// The token with its app-scoped id (see [`TokenEntry`]) and its session, in one read: what
    /// a cache miss on the hot path costs.
    fn token_entry(
        &self,
        hash: TokenHash,
    ) -> impl Future<Output = StoreResult<Option<(TokenEntry, Session)>>> + Send;

    // ---- events (spec §7) -------------------------------------------------------------------

    /// Uninstalls the app for the person, in one transaction: removes the grant and invalidates
    /// every session with the app that still works. Returns whether there was a grant, and the
    /// sessions it ended.
    fn uninstall(
        &self,
        user: Id,
        app: Id,
        why: Invalidation,
    ) -> impl Future<Output = StoreResult<(bool, Vec<i64>)>> + Send;

    /// Invalidates the person's sessions that still work — with `app`, or with every app — and
    /// so every token derived from them. Returns the sessions it ended.
    fn invalidate_sessions(
        &self,
        user: Id,
        app: Option<Id>,
        why: Invalidation,
    ) -> impl Future<Output = StoreResult<Vec<i64>>> + Send;

    /// Invalidates the person's short-lived tokens that still work (user tokens and the Page
    /// tokens derived from them), in every app. Returns their hashes.
    fn invalidate_short_lived_tokens(
        &self,
        user: Id,
        why: Invalidation,
    ) -> impl Future<Output = StoreResult<Vec<TokenHash>>> + Send;

    /// False when there is no such person.
    fn set_password(
        &self,
        user: Id,
        hash: Option<String>,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    fn set_account_status(
        &self,
        user: Id,
        status: AccountStatus,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// False when there is no such app.
    fn set_app_secret(
        &self,
        app: Id,
        secret: &str,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Sets a person's tasks on a Page; an empty set removes them. Returns what is in force.
    fn set_page_tasks(
        &self,
        page: Id,
        user: Id,
        tasks: TaskSet,
        now: Unix,
    ) -> impl Future<Output = StoreResult<Option<PageTasks>>> + Send;

    // ---- page-scoped ids (spec §2.12) -------------------------------------------------------

    /// The person's page-scoped id for the Page, creating it from `candidate` when there is
    /// none; `None` when `candidate` is already another person's or Page's PSID.
    fn ensure_psid(
        &self,
        user: Id,
        page: Id,
        candidate: Id,
    ) -> impl Future<Output = StoreResult<Option<Id>>> + Send;
    /// The person and Page a page-scoped id belongs to.
    fn resolve_psid(&self, psid: Id) -> impl Future<Output = StoreResult<Option<(Id, Id)>>> + Send;
    /// The person's page-scoped ids, `(page, psid)`, ordered by Page id.
    fn psids_of_user(&self, user: Id) -> impl Future<Output = StoreResult<Vec<(Id, Id)>>> + Send;
    /// The person's app-scoped ids, `(app, asid)`, ordered by app id.
    fn asids_of_user(&self, user: Id) -> impl Future<Output = StoreResult<Vec<(Id, Id)>>> + Send;

    fn setting(&self, name: &str) -> impl Future<Output = StoreResult<Option<String>>> + Send;
    fn put_setting(&self, name: &str, value: &str) -> impl Future<Output = StoreResult<()>> + Send;

    /// Writes a resolved seed world in one transaction (upserts; see [`WorldRecords`]).
    fn apply_world(&self, world: &WorldRecords) -> impl Future<Output = StoreResult<()>> + Send;

    // ---- Page content (spec §8; see `crate::content`) -----------------------------------------

    /// Stores a new post (its `id` is ignored) and returns its number: larger than every post
    /// number before it.
    fn insert_post(&self, post: &Post) -> impl Future<Output = StoreResult<Id>> + Send;
    fn post(&self, id: Id) -> impl Future<Output = StoreResult<Option<Post>>> + Send;
    /// Every post on the Page, oldest first.
    fn posts_of_page(&self, page: Id) -> impl Future<Output = StoreResult<Vec<Post>>> + Send;
    /// Replaces a post's message. False when there is no such post.
    fn edit_post(
        &self,
        id: Id,
        message: &str,
        at: Unix,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Deletes a post and its comments. False when there is no such post.
    fn delete_post(&self, id: Id) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Stores a new comment (its `id` is ignored) and returns its number, larger than every
    /// comment number before it.
    fn insert_comment(&self, comment: &Comment) -> impl Future<Output = StoreResult<Id>> + Send;
    fn comment(&self, id: Id) -> impl Future<Output = StoreResult<Option<Comment>>> + Send;
    /// Every comment on the post, oldest first.
    fn comments_of_post(&self, post: Id) -> impl Future<Output = StoreResult<Vec<Comment>>> + Send;
    /// Changes a comment's message and/or hidden flag. False when there is no such comment.
    fn update_comment(
        &self,
        id: Id,
        message: Option<&str>,
        hidden: Option<bool>,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// False when there is no such comment.
    fn delete_comment(&self, id: Id) -> impl Future<Output = StoreResult<bool>> + Send;

    // ---- messaging (spec §3; see `crate::messaging`) ---------------------------------------

    /// The conversation between the Page and the person, started at `at` when there is none.
    fn ensure_conversation(
        &self,
        page: Id,
        user: Id,
        at: Unix,
    ) -> impl Future<Output = StoreResult<Id>> + Send;
    fn conversation(
        &self,
        id: Id,
    ) -> impl Future<Output = StoreResult<Option<Conversation>>> + Send;
    /// The Page's conversations, most recently updated first.
    fn conversations_of_page(
        &self,
        page: Id,
    ) -> impl Future<Output = StoreResult<Vec<Conversation>>> + Send;
    /// Stores a message (its `id` is ignored), bumps its conversation's `updated_at`, and
    /// returns its number, larger than every message number before it.
    fn insert_message(&self, message: &Message) -> impl Future<Output = StoreResult<Id>> + Send;
    fn message(&self, id: Id) -> impl Future<Output = StoreResult<Option<Message>>> + Send;
    /// The conversation's messages, oldest first.
    fn messages_of_conversation(
        &self,
        conversation: Id,
    ) -> impl Future<Output = StoreResult<Vec<Message>>> + Send;

    // ---- Page settings (spec §3; see `crate::graph::page_settings`) ------------------------

    /// The Page's about/description/website/phone; `None` when there is no such Page.
    fn page_info(
        &self,
        page: Id,
    ) -> impl Future<Output = StoreResult<Option<crate::content::PageInfo>>> + Send;
    /// Sets the fields that are `Some` (an empty string clears one). False when there is no such
    /// Page.
    fn set_page_info(
        &self,
        page: Id,
        info: &crate::content::PageInfo,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Stores a new button (its `id` is ignored) and returns its number (never reused).
    fn insert_call_to_action(
        &self,
        cta: &crate::content::CallToAction,
    ) -> impl Future<Output = StoreResult<Id>> + Send;
    /// The Page's buttons, oldest first.
    fn call_to_actions_of_page(
        &self,
        page: Id,
    ) -> impl Future<Output = StoreResult<Vec<crate::content::CallToAction>>> + Send;
    /// False when the Page has no such button.
    fn delete_call_to_action(
        &self,
        page: Id,
        id: Id,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Stores a new article (its `id` is ignored) and returns its number (never reused).
    fn insert_instant_article(
        &self,
        article: &crate::content::InstantArticle,
    ) -> impl Future<Output = StoreResult<Id>> + Send;
    /// The Page's articles, oldest first.
    fn instant_articles_of_page(
        &self,
        page: Id,
    ) -> impl Future<Output = StoreResult<Vec<crate::content::InstantArticle>>> + Send;
    /// False when the Page has no such article.
    fn delete_instant_article(
        &self,
        page: Id,
        id: Id,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    // ---- login flows (spec §2.1–§2.3, §2.10, §2.14; see `crate::codes`) ----------------------

    /// The person whose email is `email`, compared without regard to ASCII case.
    fn user_by_email(&self, email: &str) -> impl Future<Output = StoreResult<Option<User>>> + Send;

    /// Stores a new dialog or client code.
    fn insert_code(&self, code: &AuthCode) -> impl Future<Output = StoreResult<()>> + Send;
    /// A code by hash (used or not).
    fn code(&self, hash: TokenHash) -> impl Future<Output = StoreResult<Option<AuthCode>>> + Send;
    /// Redeems a code, in one transaction: returns it as it was before this call (so `used_at`
    /// tells whether it had been redeemed already) and, when it was unused, sets `used_at` to
    /// `now` and, when `session` is given, `session_id` to it (the session its token went
    /// into, recorded at once so a later reuse can end it). `None` when no code has that hash.
    fn redeem_code(
        &self,
        hash: TokenHash,
        now: Unix,
        session: Option<i64>,
    ) -> impl Future<Output = StoreResult<Option<AuthCode>>> + Send;
    /// Invalidates one session (if it still works) and so every token derived from it. True
    /// when it was working.
    fn invalidate_session(
        &self,
        session: i64,
        why: Invalidation,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// A session by id.
    fn session(&self, id: i64) -> impl Future<Output = StoreResult<Option<Session>>> + Send;

    /// Stores a new device login. False (and nothing stored) when its `user_code` is already
    /// taken by a device login that has not expired at `created_at` (draw another).
    fn insert_device_code(
        &self,
        code: &DeviceCode,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    fn device_code(
        &self,
        hash: TokenHash,
    ) -> impl Future<Output = StoreResult<Option<DeviceCode>>> + Send;
    /// The newest device login with this `user_code` (exact match; see
    /// [`crate::codes::normalize_user_code`]).
    fn device_code_by_user_code(
        &self,
        user_code: &str,
    ) -> impl Future<Output = StoreResult<Option<DeviceCode>>> + Send;
    /// Changes a device login in one transaction; returns it as changed (`None`: no such code).
    fn update_device_code<F>(
        &self,
        hash: TokenHash,
        update: F,
    ) -> impl Future<Output = StoreResult<Option<DeviceCode>>> + Send
    where
        F: FnOnce(&mut DeviceCode) + Send + 'static;

    /// Stores a new test user of `app`: the person (with their id) and the ownership, in one
    /// transaction, unless the app already has `limit` test users or the id is taken.
    fn insert_test_user(
        &self,
        user: &User,
        app: Id,
        limit: u32,
    ) -> impl Future<Output = StoreResult<TestUserInsert>> + Send;
    /// The app's test users, oldest first.
    fn test_users_of_app(&self, app: Id)
        -> impl Future<Output = StoreResult<Vec<TestUser>>> + Send;
    /// The test-user record of a person, if they are one.
    fn test_user(&self, user: Id) -> impl Future<Output = StoreResult<Option<TestUser>>> + Send;
    /// Deletes a person and everything of theirs (grants, sessions, tokens, ids, tasks, roles,
    /// content). False when there was no such person.
    fn delete_user(&self, user: Id) -> impl Future<Output = StoreResult<bool>> + Send;
}
