//! The schema on PostgreSQL, as its own list of migration steps (SQLite's are in
//! `crate::migrations`). Versions mean the same schema on both: PostgreSQL starts at 8, SQLite's
//! eighth step, written in one step with PostgreSQL's types (`BIGINT`, `BYTEA`, identity
//! columns where SQLite numbers rows itself). A later change appends a step with the same
//! version to each list.
//!
//! Every step runs in its own transaction under an advisory lock, with its `schema_version`
//! row, so instances that start together migrate once; a database written by a newer
//! graphtoken is refused.

use deadpool_postgres::Object;
use graphtoken_core::store::StoreResult;
use tokio::runtime::Handle;

use super::fail;

/// `(version, sql)`, in the order they apply.
const MIGRATIONS: &[(i64, &str)] = &[
    (8, V8_SCHEMA),
    (9, V9_CHANGE_FEED),
    (10, V10_OUTBOX),
    (11, V11_SIGNIN_THROTTLE),
    (12, V12_RATE_COUNTS),
    (13, V13_FAULTS),
    (14, V14_PAGE_PROFILE),
    (15, V15_CHOSEN_PAGES),
    (16, V16_BROWSER_SESSIONS),
    (17, V17_NOTHING),
    (18, V18_TOKENS_BY_USER),
    (19, V19_TOKENS_APPENDED),
    (20, V20_NOTHING),
];

/// SQLite's step 20 keeps codes in hash order (`WITHOUT ROWID`), as step 17 did tokens: nothing
/// to do here, and the numbers stay the same on both.
const V20_NOTHING: &str = "";

/// As SQLite's step 19: no index of tokens by session, nor a foreign key to it (stamped keys
/// store new tokens side by side; an entry by session went to a random page for each). Deleting
/// a person deletes their tokens before their sessions go.
const V19_TOKENS_APPENDED: &str = r#"
ALTER TABLE tokens DROP CONSTRAINT IF EXISTS tokens_session_id_fkey;
DROP INDEX IF EXISTS tokens_session;
"#;

/// SQLite's step 17 keeps tokens in hash order (`WITHOUT ROWID`); PostgreSQL's tables have no
/// such choice, so the step is empty here and the numbers stay the same on both.
const V17_NOTHING: &str = "";

/// As SQLite's step 18: a person's working short-lived tokens by an index (a logout), and no
/// index on `parent`, which no query reads.
const V18_TOKENS_BY_USER: &str = r#"
DROP INDEX tokens_parent;
CREATE INDEX tokens_user ON tokens (user_id) WHERE long_lived = 0 AND invalidated_at IS NULL;
"#;

/// The last step of PostgreSQL's migrations.
pub(super) fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |(v, _)| *v)
}

/// The advisory lock migrations take (`gtmigrat` in ASCII).
const MIGRATE_LOCK: i64 = 0x6774_6d69_6772_6174;

/// Applies every step newer than the recorded version, one transaction each.
pub(super) fn migrate(rt: &Handle, conn: &mut Object) -> StoreResult<()> {
    // Most starts find the schema current: one read, no lock.
    let current: Option<i64> = rt
        .block_on(conn.query_opt(
            "SELECT MAX(version) FROM schema_version WHERE to_regclass('schema_version') IS NOT NULL",
            &[],
        ))
        .ok()
        .flatten()
        .and_then(|r| r.try_get(0).ok());
    if current == Some(latest()) {
        return Ok(());
    }
    for (version, sql) in MIGRATIONS {
        let tx = rt
            .block_on(conn.transaction())
            .map_err(|e| fail("starting a migration", e))?;
        rt.block_on(tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATE_LOCK]))
            .map_err(|e| fail("taking the migration lock", e))?;
        rt.block_on(tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_version (
                version BIGINT PRIMARY KEY,
                applied_at BIGINT NOT NULL
            )",
        ))
        .map_err(|e| fail("creating schema_version", e))?;
        let current: i64 = rt
            .block_on(tx.query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[]))
            .and_then(|r| r.try_get(0))
            .map_err(|e| fail("reading schema_version", e))?;
        if current > latest() {
            return Err(crate::newer_schema(current, latest()));
        }
        if current >= *version {
            continue;
        }
        rt.block_on(tx.batch_execute(sql))
            .map_err(|e| fail(&format!("applying migration {version}"), e))?;
        rt.block_on(tx.execute(
            "INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)",
            &[version, &crate::migrations::now()],
        ))
        .map_err(|e| fail(&format!("recording migration {version}"), e))?;
        rt.block_on(tx.commit())
            .map_err(|e| fail(&format!("committing migration {version}"), e))?;
    }
    Ok(())
}

/// The schema of SQLite's migrations 1 to 8, in PostgreSQL's types.
const V8_SCHEMA: &str = r#"
CREATE TABLE apps (
    id BIGINT PRIMARY KEY,
    key TEXT UNIQUE,
    name TEXT NOT NULL,
    secret TEXT NOT NULL,
    client_token TEXT NOT NULL,
    mode TEXT NOT NULL,
    platform TEXT NOT NULL,
    require_appsecret_proof BIGINT NOT NULL,
    redirect_uris TEXT NOT NULL,
    advanced_access TEXT NOT NULL,
    deauthorize_callback_url TEXT,
    created_at BIGINT NOT NULL,
    rate_limit_app BIGINT,
    rate_limit_user BIGINT,
    rate_limit_page BIGINT,
    data_deletion_url TEXT,
    review_approved_at BIGINT, test_user_limit BIGINT NOT NULL DEFAULT 10);
CREATE TABLE users (
    id BIGINT PRIMARY KEY,
    key TEXT UNIQUE,
    name TEXT NOT NULL,
    email TEXT,
    password_hash TEXT,
    created_at BIGINT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active'
);
CREATE TABLE app_roles (
    app_id BIGINT NOT NULL REFERENCES apps(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    role TEXT NOT NULL,
    PRIMARY KEY (app_id, user_id, role)
);
CREATE TABLE pages (
    id BIGINT PRIMARY KEY,
    key TEXT UNIQUE,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    about TEXT, description TEXT, website TEXT, phone TEXT);
CREATE TABLE page_tasks (
    page_id BIGINT NOT NULL REFERENCES pages(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    tasks TEXT NOT NULL,
    since BIGINT NOT NULL,
    PRIMARY KEY (page_id, user_id)
);
CREATE INDEX page_tasks_user ON page_tasks (user_id, page_id);
CREATE TABLE grants (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    app_id BIGINT NOT NULL REFERENCES apps(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    granted TEXT NOT NULL,
    declined TEXT NOT NULL,
    last_login_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, app_id)
);
CREATE TABLE asids (
    asid BIGINT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    app_id BIGINT NOT NULL REFERENCES apps(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    UNIQUE (user_id, app_id)
);
CREATE TABLE sessions (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    app_id BIGINT NOT NULL REFERENCES apps(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    created_at BIGINT NOT NULL,
    invalidated_at BIGINT,
    invalid_subcode BIGINT
);
CREATE TABLE tokens (
    hash BYTEA PRIMARY KEY,
    kind TEXT NOT NULL,
    app_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    page_id BIGINT,
    session_id BIGINT NOT NULL
        REFERENCES sessions(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    parent BYTEA,
    long_lived BIGINT NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    invalidated_at BIGINT,
    invalid_subcode BIGINT,
    tasks_since BIGINT
);
CREATE INDEX tokens_session ON tokens (session_id);
CREATE INDEX tokens_parent ON tokens (parent);
CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE psids (
    psid BIGINT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    page_id BIGINT NOT NULL REFERENCES pages(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    UNIQUE (user_id, page_id)
);
CREATE TABLE content_ids (
    name TEXT PRIMARY KEY,
    last BIGINT NOT NULL
);
CREATE TABLE posts (
    id BIGINT PRIMARY KEY,
    page_id BIGINT NOT NULL REFERENCES pages(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    app_id BIGINT REFERENCES apps(id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
    message TEXT NOT NULL,
    link TEXT,
    published BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX posts_by_page ON posts (page_id, id);
CREATE TABLE comments (
    id BIGINT PRIMARY KEY,
    post_id BIGINT NOT NULL REFERENCES posts(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    app_id BIGINT REFERENCES apps(id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
    user_id BIGINT REFERENCES users(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    message TEXT NOT NULL,
    hidden BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX comments_by_post ON comments (post_id, id);
CREATE TABLE conversations (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    page_id BIGINT NOT NULL REFERENCES pages(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    updated_at BIGINT NOT NULL,
    UNIQUE (page_id, user_id)
);
CREATE INDEX conversations_by_page ON conversations (page_id, updated_at);
CREATE TABLE messages (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    conversation_id BIGINT NOT NULL
        REFERENCES conversations(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    from_page BIGINT NOT NULL,
    app_id BIGINT REFERENCES apps(id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
    message TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX messages_by_conversation ON messages (conversation_id, id);
CREATE TABLE call_to_actions (
    id BIGINT PRIMARY KEY,
    page_id BIGINT NOT NULL REFERENCES pages(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    type TEXT NOT NULL,
    web_url TEXT,
    created_at BIGINT NOT NULL,
    app_id BIGINT);
CREATE INDEX call_to_actions_by_page ON call_to_actions (page_id, id);
CREATE TABLE instant_articles (
    id BIGINT PRIMARY KEY,
    page_id BIGINT NOT NULL REFERENCES pages(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    html_source TEXT NOT NULL,
    published BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    app_id BIGINT);
CREATE INDEX instant_articles_by_page ON instant_articles (page_id, id);
CREATE TABLE seed_keys (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    id BIGINT NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE TABLE auth_codes (
    hash BYTEA PRIMARY KEY,
    kind TEXT NOT NULL,
    app_id BIGINT NOT NULL REFERENCES apps(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    redirect_uri TEXT NOT NULL,
    pkce_method TEXT,
    pkce_challenge TEXT,
    session_id BIGINT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX auth_codes_by_user ON auth_codes (user_id);
CREATE TABLE device_codes (
    hash BYTEA PRIMARY KEY,
    user_code TEXT NOT NULL,
    app_id BIGINT NOT NULL REFERENCES apps(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    scopes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    state TEXT NOT NULL,
    approved_user_id BIGINT
        REFERENCES users(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    last_poll_at BIGINT
);
CREATE INDEX device_codes_by_user_code ON device_codes (user_code, created_at);
CREATE INDEX device_codes_by_user ON device_codes (approved_user_id);
CREATE TABLE test_users (
    seq BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    user_id BIGINT NOT NULL UNIQUE
        REFERENCES users(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    app_id BIGINT NOT NULL REFERENCES apps(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    created_at BIGINT NOT NULL
);
CREATE INDEX test_users_by_app ON test_users (app_id, seq);
CREATE INDEX users_by_email ON users (lower(email));
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX app_roles_by_user ON app_roles (user_id);
CREATE INDEX conversations_by_user ON conversations (user_id);
CREATE INDEX comments_by_user ON comments (user_id);
INSERT INTO content_ids (name, last) VALUES
    ('post', 122100000000000000), ('comment', 1100000000000000),
    ('cta', 1500000000000000), ('instant_article', 1600000000000000);
"#;

/// The change feed (see `super::changes`): every change to a record the caches hold adds a row
/// naming it, in the same transaction, and a notification on `graphtoken_changes`; a changed
/// setting (the virtual clock's offset) comes with its new value. Inserts count
/// where the caches also remember an absence (grants, Page tasks) or a record's roles. Rows
/// older than ten minutes are pruned; `changes_floor` is the highest pruned `seq`, so that an
/// instance that fell further behind knows it missed some.
const V9_CHANGE_FEED: &str = r#"
CREATE TABLE changes (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind TEXT NOT NULL,
    a BIGINT,
    b BIGINT,
    hash BYTEA,
    name TEXT,
    value TEXT,
    at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX changes_at ON changes (at);
CREATE TABLE changes_floor (seq BIGINT NOT NULL);
INSERT INTO changes_floor (seq) VALUES (0);

CREATE FUNCTION graphtoken_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    r RECORD;
BEGIN
    IF TG_OP = 'DELETE' THEN
        r := OLD;
    ELSE
        r := NEW;
    END IF;
    CASE TG_TABLE_NAME
        WHEN 'tokens' THEN INSERT INTO changes (kind, hash) VALUES ('token', r.hash);
        WHEN 'sessions' THEN INSERT INTO changes (kind, a) VALUES ('session', r.id);
        WHEN 'users' THEN INSERT INTO changes (kind, a) VALUES ('user', r.id);
        WHEN 'apps' THEN INSERT INTO changes (kind, a) VALUES ('app', r.id);
        WHEN 'app_roles' THEN INSERT INTO changes (kind, a) VALUES ('app', r.app_id);
        WHEN 'grants' THEN INSERT INTO changes (kind, a, b) VALUES ('grant', r.user_id, r.app_id);
        WHEN 'pages' THEN INSERT INTO changes (kind, a) VALUES ('page', r.id);
        WHEN 'page_tasks' THEN INSERT INTO changes (kind, a, b) VALUES ('tasks', r.page_id, r.user_id);
        WHEN 'settings' THEN
            IF TG_OP = 'DELETE' THEN
                INSERT INTO changes (kind, name) VALUES ('setting', OLD.name);
            ELSE
                -- Only the clock's value travels: other settings (a signing key) stay put.
                INSERT INTO changes (kind, name, value) VALUES ('setting', NEW.name,
                    CASE WHEN NEW.name = 'clock_offset' THEN NEW.value END);
            END IF;
        ELSE NULL;
    END CASE;
    PERFORM pg_notify('graphtoken_changes', '');
    RETURN NULL;
END
$fn$;

CREATE TRIGGER tokens_changed AFTER UPDATE OR DELETE ON tokens
    FOR EACH ROW EXECUTE FUNCTION graphtoken_changed();
CREATE TRIGGER sessions_changed AFTER UPDATE OR DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION graphtoken_changed();
CREATE TRIGGER users_changed AFTER UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION graphtoken_changed();
CREATE TRIGGER apps_changed AFTER UPDATE OR DELETE ON apps
    FOR EACH ROW EXECUTE FUNCTION graphtoken_changed();
CREATE TRIGGER app_roles_changed AFTER INSERT OR UPDATE OR DELETE ON app_roles
    FOR EACH ROW EXECUTE FUNCTION graphtoken_changed();
CREATE TRIGGER grants_changed AFTER INSERT OR UPDATE OR DELETE ON grants
    FOR EACH ROW EXECUTE FUNCTION graphtoken_changed();
CREATE TRIGGER pages_changed AFTER UPDATE OR DELETE ON pages
    FOR EACH ROW EXECUTE FUNCTION graphtoken_changed();
CREATE TRIGGER page_tasks_changed AFTER INSERT OR UPDATE OR DELETE ON page_tasks
    FOR EACH ROW EXECUTE FUNCTION graphtoken_changed();
CREATE TRIGGER settings_changed AFTER INSERT OR UPDATE OR DELETE ON settings
    FOR EACH ROW EXECUTE FUNCTION graphtoken_changed();
"#;

/// The outbox of callbacks to apps (SQLite's step 10, in PostgreSQL's types).
const V10_OUTBOX: &str = r#"
CREATE TABLE callbacks (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    kind TEXT NOT NULL,
    url TEXT NOT NULL,
    app_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    form TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    last_error TEXT,
    answer TEXT,
    next_at BIGINT NOT NULL,
    lease_until BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX callbacks_due ON callbacks (status, next_at);
"#;

/// The sign-in throttle (SQLite's step 11, in PostgreSQL's types).
const V11_SIGNIN_THROTTLE: &str = r#"
CREATE TABLE signin_throttle (
    key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    last_failure BIGINT NOT NULL,
    wait_until BIGINT NOT NULL
);
CREATE INDEX signin_throttle_stale ON signin_throttle (last_failure);
"#;

/// The shared rate-limit counts (SQLite's step 12, in PostgreSQL's types).
const V12_RATE_COUNTS: &str = r#"
CREATE TABLE rate_counts (
    key TEXT NOT NULL,
    minute BIGINT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (key, minute)
);
CREATE INDEX rate_counts_by_minute ON rate_counts (minute);
"#;

/// Armed faults (SQLite's step 13, in PostgreSQL's types). Arming and clearing, and a fault
/// running out, go on the change feed, so that every instance reloads its faults.
const V13_FAULTS: &str = r#"
CREATE TABLE faults (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    spec TEXT NOT NULL,
    times BIGINT NOT NULL,
    fired BIGINT NOT NULL
);

CREATE FUNCTION graphtoken_faults_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO changes (kind) VALUES ('faults');
    PERFORM pg_notify('graphtoken_changes', '');
    RETURN NULL;
END
$fn$;

CREATE TRIGGER faults_armed_or_cleared AFTER INSERT OR DELETE ON faults
    FOR EACH STATEMENT EXECUTE FUNCTION graphtoken_faults_changed();
CREATE TRIGGER faults_spent AFTER UPDATE ON faults
    FOR EACH ROW WHEN (NEW.times > 0 AND NEW.fired >= NEW.times)
    EXECUTE FUNCTION graphtoken_faults_changed();
"#;

/// A Page's profile from seeds (SQLite's step 14, in PostgreSQL's types).
const V14_PAGE_PROFILE: &str = r#"
ALTER TABLE pages ADD COLUMN emails TEXT;
ALTER TABLE pages ADD COLUMN username TEXT;
ALTER TABLE pages ADD COLUMN fan_count BIGINT;
ALTER TABLE pages ADD COLUMN cover TEXT;
"#;

/// The Pages chosen at login (SQLite's step 15).
const V15_CHOSEN_PAGES: &str = "ALTER TABLE grants ADD COLUMN pages TEXT;";

/// Browser sign-ins (SQLite's step 16, in PostgreSQL's types).
const V16_BROWSER_SESSIONS: &str = r#"
CREATE TABLE browser_sessions (
    hash BYTEA PRIMARY KEY,
    user_id BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    ended_at BIGINT
);
CREATE INDEX browser_sessions_by_user ON browser_sessions (user_id);
CREATE INDEX browser_sessions_by_start ON browser_sessions (started_at);
"#;

#[cfg(test)]
mod tests {
    /// A version means the same schema on both backends, so both lists end at the same one: a
    /// step added to one list needs its twin (empty, if it changes only how that backend
    /// stores a table).
    #[test]
    fn both_backends_end_at_the_same_version() {
        assert_eq!(super::latest(), crate::migrations::latest());
        let versions = |l: &[(i64, &str)]| l.iter().map(|(v, _)| *v).collect::<Vec<_>>();
        let sqlite = versions(crate::migrations::MIGRATIONS);
        let postgres = versions(super::MIGRATIONS);
        assert!(
            sqlite.ends_with(&postgres),
            "{sqlite:?} against {postgres:?}"
        );
    }
}
