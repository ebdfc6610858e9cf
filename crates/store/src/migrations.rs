//! The schema, as an ordered list of migration steps.
//!
//! Applied versions are recorded in `schema_version` (a table rather than SQLite's
//! `PRAGMA user_version`, so the PostgreSQL backend can share the bookkeeping). Each step runs in
//! its own transaction together with its `schema_version` row, so a failed step leaves nothing
//! behind. Never edit a released step: append a new one.
//!
//! The SQL sticks to what PostgreSQL also accepts where it can: `INTEGER`/`TEXT`/`BLOB` columns
//! (read `BIGINT`/`BYTEA` there), `ON CONFLICT` upserts, deferred foreign keys. Ids are `u64` in
//! the model and stored as `INTEGER` (i64) by bit-casting (`as i64` / `as u64`); Facebook-style
//! ids fit in 63 bits, so they also compare and sort correctly.

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use crate::db::Db;
use crate::error::Ctx;
use graphtoken_core::store::StoreResult;

/// `(version, sql)`, in the order they apply.
pub(crate) const MIGRATIONS: &[(i64, &str)] = &[
    (1, V1_INITIAL),
    (2, V2_PAGE_SCOPED_IDS),
    (3, V3_CONTENT),
    (4, V4_MESSAGING),
    (5, V5_PAGE_SETTINGS),
    (6, V6_SEED_KEYS),
    (7, V7_PAGE_ITEM_APPS),
    (8, V8_LOGIN_FLOWS),
    (9, V9_CHANGE_FEED),
    (10, V10_OUTBOX),
    (11, V11_SIGNIN_THROTTLE),
    (12, V12_RATE_COUNTS),
    (13, V13_FAULTS),
    (14, V14_PAGE_PROFILE),
    (15, V15_CHOSEN_PAGES),
    (16, V16_BROWSER_SESSIONS),
    (17, V17_TOKENS_BY_HASH),
    (18, V18_TOKENS_BY_USER),
    (19, V19_TOKENS_APPENDED),
    (20, V20_CODES_BY_HASH),
];

/// Dialog and client codes kept in the order of their hash (`WITHOUT ROWID`), as tokens are
/// since step 17: redeeming a code read it through the hash's index, then its row, on the
/// writer, which every redemption waits for (docs/benchmarks.md). New codes carry a stamp, so
/// they are stored side by side. The table is copied, as SQLite cannot change it in place: one
/// transaction over every code kept (codes stay after they are used). The index by person now
/// ends in the 32-byte key instead of a rowid.
const V20_CODES_BY_HASH: &str = r#"
CREATE TABLE auth_codes_by_hash (
    hash BLOB PRIMARY KEY,
    kind TEXT NOT NULL,
    app_id INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    redirect_uri TEXT NOT NULL,
    pkce_method TEXT,
    pkce_challenge TEXT,
    session_id INTEGER,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
) WITHOUT ROWID;
INSERT INTO auth_codes_by_hash SELECT hash, kind, app_id, user_id, redirect_uri, pkce_method,
    pkce_challenge, session_id, created_at, expires_at, used_at
    FROM auth_codes ORDER BY hash;
DROP TABLE auth_codes;
ALTER TABLE auth_codes_by_hash RENAME TO auth_codes;
CREATE INDEX auth_codes_by_user ON auth_codes (user_id);
"#;

/// Tokens without an index by session, nor a foreign key to it: new tokens carry a stamp at the
/// start of their key (see `graphtoken_core::token::Stamps`) and are stored side by side, but
/// an entry of `tokens_session` went to its session's place, a random page of the index for
/// every token (a minted token wrote two 4 KiB pages to the WAL; now about one in twenty). No
/// query needs it: a session's end is read from `sessions` with every token, and deleting a
/// person deletes their tokens (a scan, as before) before their sessions go. The table is copied,
/// as SQLite cannot drop a foreign key in place: one transaction, as for `V17_TOKENS_BY_HASH`.
/// A token is stored only into a session that is there (`queries::insert_token`).
const V19_TOKENS_APPENDED: &str = r#"
CREATE TABLE tokens_appended (
    hash BLOB PRIMARY KEY,
    kind TEXT NOT NULL,
    app_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    page_id INTEGER,
    session_id INTEGER NOT NULL,
    parent BLOB,
    long_lived INTEGER NOT NULL,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    invalidated_at INTEGER,
    invalid_subcode INTEGER,
    tasks_since INTEGER
) WITHOUT ROWID;
INSERT INTO tokens_appended SELECT hash, kind, app_id, user_id, page_id, session_id, parent,
    long_lived, issued_at, expires_at, invalidated_at, invalid_subcode, tasks_since
    FROM tokens ORDER BY hash;
DROP TABLE tokens;
ALTER TABLE tokens_appended RENAME TO tokens;
CREATE INDEX tokens_user ON tokens (user_id) WHERE long_lived = 0 AND invalidated_at IS NULL;
"#;

/// A person's working short-lived tokens found by an index, not a scan of every token: a
/// logout ends them (`WHERE user_id = … AND long_lived = 0 AND invalidated_at IS NULL`), which
/// took half a second with ten million tokens, the writer held all the while. The index holds
/// only those tokens, so storing a long-lived one costs it nothing (a bulk load of long-lived
/// tokens ran at half the speed with every token in it). `tokens_parent` served no query, and
/// goes.
const V18_TOKENS_BY_USER: &str = r#"
DROP INDEX tokens_parent;
CREATE INDEX tokens_user ON tokens (user_id) WHERE long_lived = 0 AND invalidated_at IS NULL;
"#;

/// Tokens kept in the order of their hash (`WITHOUT ROWID`): finding one by its hash is one
/// B-tree descent instead of two (the hash's index, then the row). The other two indexes now
/// end in the 32-byte hash instead of a rowid, so a token takes more room (174 bytes against
/// 153 for ten million). The table is copied, as SQLite cannot change it in place: one
/// transaction, about 26 s and the table's size again in WAL for ten million tokens.
const V17_TOKENS_BY_HASH: &str = r#"
CREATE TABLE tokens_by_hash (
    hash BLOB PRIMARY KEY,
    kind TEXT NOT NULL,
    app_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    page_id INTEGER,
    session_id INTEGER NOT NULL
        REFERENCES sessions(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    parent BLOB,
    long_lived INTEGER NOT NULL,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    invalidated_at INTEGER,
    invalid_subcode INTEGER,
    tasks_since INTEGER
) WITHOUT ROWID;
INSERT INTO tokens_by_hash SELECT hash, kind, app_id, user_id, page_id, session_id, parent,
    long_lived, issued_at, expires_at, invalidated_at, invalid_subcode, tasks_since
    FROM tokens ORDER BY hash;
DROP TABLE tokens;
ALTER TABLE tokens_by_hash RENAME TO tokens;
CREATE INDEX tokens_session ON tokens (session_id);
CREATE INDEX tokens_parent ON tokens (parent);
"#;

/// Browser sign-ins, so that signing out, a logout, a new password, a security reset or a
/// locked account ends them at once (the cookie holds the session id; this, its SHA-256).
const V16_BROWSER_SESSIONS: &str = r#"
CREATE TABLE browser_sessions (
    hash BLOB PRIMARY KEY,
    user_id INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER
);
CREATE INDEX browser_sessions_by_user ON browser_sessions (user_id);
CREATE INDEX browser_sessions_by_start ON browser_sessions (started_at);
"#;

/// The Pages a person chose at login for an app's Page permissions (a JSON array of ids; NULL:
/// every Page, no choice made).
const V15_CHOSEN_PAGES: &str = "ALTER TABLE grants ADD COLUMN pages TEXT;";

/// What a seed may say of a Page besides `about`, `description`, `website` and `phone`: its
/// e-mail addresses (a JSON array), user name, fan count and cover photo URL.
const V14_PAGE_PROFILE: &str = r#"
ALTER TABLE pages ADD COLUMN emails TEXT;
ALTER TABLE pages ADD COLUMN username TEXT;
ALTER TABLE pages ADD COLUMN fan_count INTEGER;
ALTER TABLE pages ADD COLUMN cover TEXT;
"#;

/// Armed faults (see `graphtoken_core::store::FaultStore`): each with its spec as the server
/// wrote it, how many calls it fires on (0: until cleared) and how many it fired on.
const V13_FAULTS: &str = r#"
CREATE TABLE faults (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    spec TEXT NOT NULL,
    times INTEGER NOT NULL,
    fired INTEGER NOT NULL
);
"#;

/// The rate-limit counts instances share: calls per counter (`app:…`, `user:…:…`,
/// `page:…:…`) and minute of the virtual clock.
const V12_RATE_COUNTS: &str = r#"
CREATE TABLE rate_counts (
    key TEXT NOT NULL,
    minute INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (key, minute)
);
CREATE INDEX rate_counts_by_minute ON rate_counts (minute);
"#;

/// The sign-in throttle's failures per account and per address (`account:…`, `address:…`),
/// kept in the database so that every instance on one counts the same attempts.
const V11_SIGNIN_THROTTLE: &str = r#"
CREATE TABLE signin_throttle (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_failure INTEGER NOT NULL,
    wait_until INTEGER NOT NULL
);
CREATE INDEX signin_throttle_stale ON signin_throttle (last_failure);
"#;

/// The outbox of callbacks to apps (deauthorize, data deletion): each is written with the
/// change it tells of and kept until it is delivered or given up, across restarts.
/// `next_at` and `lease_until` are wall-clock milliseconds: when a retry is due, and until
/// when an instance that took the callback is trying it. `form` is a JSON array of pairs.
const V10_OUTBOX: &str = r#"
CREATE TABLE callbacks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    url TEXT NOT NULL,
    app_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    form TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    last_error TEXT,
    answer TEXT,
    next_at INTEGER NOT NULL,
    lease_until INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX callbacks_due ON callbacks (status, next_at);
"#;

/// PostgreSQL's change feed, which tells the instances sharing a database what changed. One
/// process uses a SQLite file, so there is nothing to do here; the step keeps the versions of
/// the two backends the same schema.
const V9_CHANGE_FEED: &str = "";

/// The seed keys of seeded content (`post`, `comment`, `message`) and the row each created, so
/// that re-applying a seed file creates nothing twice.
const V6_SEED_KEYS: &str = r#"
CREATE TABLE seed_keys (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    id INTEGER NOT NULL,
    PRIMARY KEY (kind, key)
);
"#;

/// Page settings (about, description, website, phone on `pages`), call-to-action buttons and
/// Instant Articles, numbered from two more `content_ids` counters (never reused).
const V5_PAGE_SETTINGS: &str = r#"
ALTER TABLE pages ADD COLUMN about TEXT;
ALTER TABLE pages ADD COLUMN description TEXT;
ALTER TABLE pages ADD COLUMN website TEXT;
ALTER TABLE pages ADD COLUMN phone TEXT;
INSERT INTO content_ids (name, last) VALUES ('cta', 1500000000000000), ('instant_article', 1600000000000000);
CREATE TABLE call_to_actions (
    id INTEGER PRIMARY KEY,
    page_id INTEGER NOT NULL REFERENCES pages(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    type TEXT NOT NULL,
    web_url TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX call_to_actions_by_page ON call_to_actions (page_id, id);
CREATE TABLE instant_articles (
    id INTEGER PRIMARY KEY,
    page_id INTEGER NOT NULL REFERENCES pages(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    html_source TEXT NOT NULL,
    published INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX instant_articles_by_page ON instant_articles (page_id, id);
"#;

/// Page messaging: one conversation per Page × person, and its messages (`from_page` 1 when the
/// Page sent it through the Send API).
const V4_MESSAGING: &str = r#"
CREATE TABLE conversations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    page_id INTEGER NOT NULL REFERENCES pages(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    updated_at INTEGER NOT NULL,
    UNIQUE (page_id, user_id)
);
CREATE INDEX conversations_by_page ON conversations (page_id, updated_at);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL
        REFERENCES conversations(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    from_page INTEGER NOT NULL,
    app_id INTEGER REFERENCES apps(id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
    message TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX messages_by_conversation ON messages (conversation_id, id);
"#;

/// The Page content store: posts as the Page, comments on them (a `NULL` `user_id` is the Page
/// itself), and the counters that number both (never reused).
const V3_CONTENT: &str = r#"
CREATE TABLE content_ids (
    name TEXT PRIMARY KEY,
    last INTEGER NOT NULL
);
INSERT INTO content_ids (name, last) VALUES ('post', 122100000000000000), ('comment', 1100000000000000);
CREATE TABLE posts (
    id INTEGER PRIMARY KEY,
    page_id INTEGER NOT NULL REFERENCES pages(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    app_id INTEGER REFERENCES apps(id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
    message TEXT NOT NULL,
    link TEXT,
    published INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX posts_by_page ON posts (page_id, id);
CREATE TABLE comments (
    id INTEGER PRIMARY KEY,
    post_id INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    app_id INTEGER REFERENCES apps(id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
    user_id INTEGER REFERENCES users(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    message TEXT NOT NULL,
    hidden INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE INDEX comments_by_post ON comments (post_id, id);
"#;

/// Page-scoped ids (PSIDs) and when an app passed App Review (for the ASID → PSID migration
/// API's 180-day window).
const V2_PAGE_SCOPED_IDS: &str = r#"
CREATE TABLE psids (
    psid INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    page_id INTEGER NOT NULL REFERENCES pages(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    UNIQUE (user_id, page_id)
);
ALTER TABLE apps ADD COLUMN review_approved_at INTEGER;
"#;

const V1_INITIAL: &str = r#"
CREATE TABLE apps (
    id INTEGER PRIMARY KEY,
    key TEXT UNIQUE,
    name TEXT NOT NULL,
    secret TEXT NOT NULL,
    client_token TEXT NOT NULL,
    mode TEXT NOT NULL,
    platform TEXT NOT NULL,
    require_appsecret_proof INTEGER NOT NULL,
    redirect_uris TEXT NOT NULL,
    advanced_access TEXT NOT NULL,
    deauthorize_callback_url TEXT,
    created_at INTEGER NOT NULL,
    rate_limit_app INTEGER,
    rate_limit_user INTEGER,
    rate_limit_page INTEGER,
    data_deletion_url TEXT
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    key TEXT UNIQUE,
    name TEXT NOT NULL,
    email TEXT,
    password_hash TEXT,
    created_at INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'active'
);

CREATE TABLE app_roles (
    app_id INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    role TEXT NOT NULL,
    PRIMARY KEY (app_id, user_id, role)
);

CREATE TABLE pages (
    id INTEGER PRIMARY KEY,
    key TEXT UNIQUE,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE page_tasks (
    page_id INTEGER NOT NULL REFERENCES pages(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    tasks TEXT NOT NULL,
    since INTEGER NOT NULL,
    PRIMARY KEY (page_id, user_id)
);
CREATE INDEX page_tasks_user ON page_tasks (user_id, page_id);

CREATE TABLE grants (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    app_id INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    granted TEXT NOT NULL,
    declined TEXT NOT NULL,
    last_login_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, app_id)
);

CREATE TABLE asids (
    asid INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    app_id INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    UNIQUE (user_id, app_id)
);

CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    app_id INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    created_at INTEGER NOT NULL,
    invalidated_at INTEGER,
    invalid_subcode INTEGER
);

CREATE TABLE tokens (
    hash BLOB PRIMARY KEY,
    kind TEXT NOT NULL,
    app_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    page_id INTEGER,
    session_id INTEGER NOT NULL
        REFERENCES sessions(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    parent BLOB,
    long_lived INTEGER NOT NULL,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    invalidated_at INTEGER,
    invalid_subcode INTEGER,
    tasks_since INTEGER
);
CREATE INDEX tokens_session ON tokens (session_id);
CREATE INDEX tokens_parent ON tokens (parent);

CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"#;

/// A database as an older graphtoken left it: the steps up to `last`, recorded (for tests of
/// what a migration does to data already there).
#[cfg(test)]
pub(crate) fn apply_up_to(conn: &Connection, last: i64) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
    )?;
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v <= last) {
        conn.execute_batch(sql)?;
        conn.execute("INSERT INTO schema_version VALUES (?1, 0)", [version])?;
    }
    Ok(())
}

/// Applies every step newer than the recorded version, one transaction each.
pub(crate) fn migrate(conn: &mut Connection) -> StoreResult<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_version (
            version INTEGER PRIMARY KEY,
            applied_at INTEGER NOT NULL
        )",
    )
    .ctx("creating schema_version")?;
    let current: i64 = conn
        .query_row("SELECT MAX(version) FROM schema_version", [], |r| {
            r.get::<_, Option<i64>>(0)
        })
        .optional()
        .ctx("reading schema_version")?
        .flatten()
        .unwrap_or(0);
    if current > latest() {
        return Err(crate::newer_schema(current, latest()));
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx(&format!("starting migration {version}"))?;
        tx.execute_batch(sql)
            .ctx(&format!("applying migration {version}"))?;
        tx.execute(
            "INSERT INTO schema_version (version, applied_at) VALUES (?1, ?2)",
            params![version, now()],
        )
        .ctx(&format!("recording migration {version}"))?;
        tx.commit()
            .ctx(&format!("committing migration {version}"))?;
    }
    Ok(())
}

/// The version a database is at (0: no `schema_version` table yet), on either backend.
pub(crate) fn schema_version(db: &dyn Db) -> StoreResult<i64> {
    let exists = match db.dialect() {
        "sqlite" => {
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
        }
        _ => {
            "SELECT COUNT(*) FROM information_schema.tables \
              WHERE table_schema = current_schema() AND table_name = 'schema_version'"
        }
    };
    let what = "reading the schema version";
    if db.required(exists, &[], |r| r.get::<i64>(0), what)? == 0 {
        return Ok(0);
    }
    db.required(
        "SELECT COALESCE(MAX(version), 0) FROM schema_version",
        &[],
        |r| r.get(0),
        what,
    )
}

/// The last step of SQLite's migrations.
pub(crate) fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |(v, _)| *v)
}

/// Wall-clock seconds, for bookkeeping only (the model's times come from the caller's clock).
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The app a call-to-action button or Instant Article was made through (development-mode
/// visibility, spec §4). Rows made before this step have none and are visible to everyone.
const V7_PAGE_ITEM_APPS: &str = r#"
ALTER TABLE call_to_actions ADD COLUMN app_id INTEGER;
ALTER TABLE instant_articles ADD COLUMN app_id INTEGER;
"#;

/// The login flows (spec §2.1–§2.3, §2.10, §2.14): dialog and client codes and device logins
/// (stored by the SHA-256 hash of the code; `scopes` is a JSON array; `state` is `pending`,
/// `approved` with `approved_user_id`, `denied` or `redeemed`), the test users an app owns and
/// its limit of them, an index for finding a person by email without regard to case, and
/// indexes on the `user_id` columns a person's deletion reaches that had none.
const V8_LOGIN_FLOWS: &str = r#"
CREATE TABLE auth_codes (
    hash BLOB PRIMARY KEY,
    kind TEXT NOT NULL,
    app_id INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    redirect_uri TEXT NOT NULL,
    pkce_method TEXT,
    pkce_challenge TEXT,
    session_id INTEGER,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);
CREATE INDEX auth_codes_by_user ON auth_codes (user_id);
CREATE TABLE device_codes (
    hash BLOB PRIMARY KEY,
    user_code TEXT NOT NULL,
    app_id INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    scopes TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    state TEXT NOT NULL,
    approved_user_id INTEGER
        REFERENCES users(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    last_poll_at INTEGER
);
CREATE INDEX device_codes_by_user_code ON device_codes (user_code, created_at);
CREATE INDEX device_codes_by_user ON device_codes (approved_user_id);
CREATE TABLE test_users (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL UNIQUE
        REFERENCES users(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    app_id INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    created_at INTEGER NOT NULL
);
CREATE INDEX test_users_by_app ON test_users (app_id, seq);
ALTER TABLE apps ADD COLUMN test_user_limit INTEGER NOT NULL DEFAULT 10;
CREATE INDEX users_by_email ON users (lower(email));
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX app_roles_by_user ON app_roles (user_id);
CREATE INDEX conversations_by_user ON conversations (user_id);
CREATE INDEX comments_by_user ON comments (user_id);
"#;
