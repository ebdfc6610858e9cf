//! The SQL behind the plain reads and writes of each `Store` method. Every function takes a
//! borrowed [`Db`] (a connection or a transaction) so the backend decides where and on which
//! thread it runs.
//!
//! Backends keep statements compiled per connection, which matters most for [`token_entry`],
//! the hot path's cache miss.

use std::sync::LazyLock;

use graphtoken_core::model::{
    App, AppId, AppRole, Asid, Grant, Overview, Page, PageId, PageTasks, Session, SessionId,
    StoredKind, TokenHash, TokenRecord, Unix, User, UserId,
};
use graphtoken_core::store::{StoreError, StoreResult, TokenEntry};

use crate::args;
use crate::db::{Db, Row};
use crate::rows::{self, *};

fn with_roles(db: &dyn Db, app: Option<App>) -> StoreResult<Option<App>> {
    let Some(mut app) = app else { return Ok(None) };
    let what = "loading app roles";
    let roles = db.all(
        "SELECT user_id, role FROM app_roles WHERE app_id = ?1 ORDER BY user_id, role",
        args![app.id.sql()],
        |r| Ok((rows::id(r, 0)?, r.get::<String>(1)?)),
        what,
    )?;
    for (user, role) in roles {
        let role = AppRole::parse(&role)
            .ok_or_else(|| StoreError::new(format!("{what}: unknown role {role:?}")))?;
        app.roles.push((user, role));
    }
    Ok(Some(app))
}

pub(crate) fn app(db: &dyn Db, id: AppId) -> StoreResult<Option<App>> {
    let sql = format!("SELECT {APP_COLS} FROM apps WHERE id = ?1");
    let app = db.one(&sql, args![id.sql()], rows::app, "loading app")?;
    with_roles(db, app)
}

pub(crate) fn app_by_key(db: &dyn Db, key: &str) -> StoreResult<Option<App>> {
    let sql = format!("SELECT {APP_COLS} FROM apps WHERE key = ?1");
    let app = db.one(&sql, args![key], rows::app, "loading app by key")?;
    with_roles(db, app)
}

pub(crate) fn user(db: &dyn Db, id: UserId) -> StoreResult<Option<User>> {
    let sql = format!("SELECT {USER_COLS} FROM users WHERE id = ?1");
    db.one(&sql, args![id.sql()], rows::user, "loading user")
}

pub(crate) fn user_by_key(db: &dyn Db, key: &str) -> StoreResult<Option<User>> {
    let sql = format!("SELECT {USER_COLS} FROM users WHERE key = ?1");
    db.one(&sql, args![key], rows::user, "loading user by key")
}

pub(crate) fn page(db: &dyn Db, id: PageId) -> StoreResult<Option<Page>> {
    let sql = format!("SELECT {PAGE_COLS} FROM pages WHERE id = ?1");
    db.one(&sql, args![id.sql()], rows::page, "loading page")
}

pub(crate) fn page_by_key(db: &dyn Db, key: &str) -> StoreResult<Option<Page>> {
    let sql = format!("SELECT {PAGE_COLS} FROM pages WHERE key = ?1");
    db.one(&sql, args![key], rows::page, "loading page by key")
}

/// The first `limit` apps (with their roles), people and Pages by id, and the counts.
pub(crate) fn overview(db: &dyn Db, limit: u32) -> StoreResult<Overview> {
    let limit = i64::from(limit);
    let count = |table: &str| -> StoreResult<u64> {
        let n: i64 = db.required(
            &format!("SELECT COUNT(*) FROM {table}"),
            args![],
            |r| r.get(0),
            "counting for the overview",
        )?;
        Ok(n.max(0) as u64)
    };
    let apps = db.all(
        &format!("SELECT {APP_COLS} FROM apps ORDER BY id LIMIT ?1"),
        args![limit],
        rows::app,
        "listing apps",
    )?;
    let apps = apps
        .into_iter()
        .map(|a| with_roles(db, Some(a)))
        .collect::<StoreResult<Vec<_>>>()?
        .into_iter()
        .flatten()
        .collect();
    Ok(Overview {
        apps,
        users: db.all(
            &format!("SELECT {USER_COLS} FROM users ORDER BY id LIMIT ?1"),
            args![limit],
            rows::user,
            "listing people",
        )?,
        pages: db.all(
            &format!("SELECT {PAGE_COLS} FROM pages ORDER BY id LIMIT ?1"),
            args![limit],
            rows::page,
            "listing Pages",
        )?,
        app_count: count("apps")?,
        user_count: count("users")?,
        page_count: count("pages")?,
    })
}

pub(crate) fn is_empty(db: &dyn Db) -> StoreResult<bool> {
    let sql = "SELECT NOT EXISTS (SELECT 1 FROM apps) AND NOT EXISTS (SELECT 1 FROM users) \
               AND NOT EXISTS (SELECT 1 FROM pages)";
    db.required(sql, args![], |r| r.get(0), "checking for an empty store")
}

pub(crate) fn pages_of_user(db: &dyn Db, user: UserId) -> StoreResult<Vec<(Page, PageTasks)>> {
    let what = "loading the pages of a user";
    let sql = "SELECT p.id, p.key, p.name, p.category, p.created_at, \
               t.page_id, t.user_id, t.tasks, t.since \
               FROM page_tasks t JOIN pages p ON p.id = t.page_id \
               WHERE t.user_id = ?1 AND t.tasks <> '' ORDER BY p.id";
    let map = |r: &Row| Ok((rows::page(r)?, rows::page_tasks(r, 5)?));
    db.all(sql, args![user.sql()], map, what)
}

pub(crate) fn people_of_page(db: &dyn Db, page: PageId) -> StoreResult<Vec<(User, PageTasks)>> {
    let what = "loading the people of a page";
    let sql = format!(
        "SELECT {USER_COLS_U}, t.page_id, t.user_id, t.tasks, t.since \
         FROM page_tasks t JOIN users u ON u.id = t.user_id \
         WHERE t.page_id = ?1 AND t.tasks <> '' ORDER BY u.id"
    );
    let map = |r: &Row| Ok((rows::user(r)?, rows::page_tasks(r, 7)?));
    db.all(&sql, args![page.sql()], map, what)
}

/// The tasks a person holds on a Page (none: no row, or the empty row a removal leaves).
pub(crate) fn page_tasks(
    db: &dyn Db,
    page: PageId,
    user: UserId,
) -> StoreResult<Option<PageTasks>> {
    Ok(page_tasks_row(db, page, user)?.filter(|t| !t.tasks.is_empty()))
}

/// The row as stored, including the empty one a removal leaves to remember its `since`.
pub(crate) fn page_tasks_row(
    db: &dyn Db,
    page: PageId,
    user: UserId,
) -> StoreResult<Option<PageTasks>> {
    let sql = "SELECT page_id, user_id, tasks, since FROM page_tasks \
               WHERE page_id = ?1 AND user_id = ?2";
    let args = args![page.sql(), user.sql()];
    db.one(sql, args, |r| rows::page_tasks(r, 0), "loading page tasks")
}

pub(crate) fn grant(db: &dyn Db, user: UserId, app: AppId) -> StoreResult<Option<Grant>> {
    let sql = format!("SELECT {GRANT_COLS} FROM grants WHERE user_id = ?1 AND app_id = ?2");
    db.one(
        &sql,
        args![user.sql(), app.sql()],
        rows::grant,
        "loading grant",
    )
}

/// Every grant of `user`, by app id.
pub(crate) fn grants_of_user(db: &dyn Db, user: UserId) -> StoreResult<Vec<Grant>> {
    let sql = format!("SELECT {GRANT_COLS} FROM grants WHERE user_id = ?1 ORDER BY app_id");
    db.all(
        &sql,
        args![user.sql()],
        rows::grant,
        "loading a person's grants",
    )
}

/// Upserts a grant. `keep_created_at` keeps the stored row's `created_at` (seed re-application).
pub(crate) fn put_grant(db: &dyn Db, g: &Grant, keep_created_at: bool) -> StoreResult<()> {
    // A seed's re-application keeps the Pages chosen at login, as it keeps `created_at`.
    let sql = if keep_created_at {
        "INSERT INTO grants (user_id, app_id, granted, declined, last_login_at, created_at, pages) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (user_id, app_id) DO UPDATE SET \
         granted = excluded.granted, declined = excluded.declined, \
         last_login_at = excluded.last_login_at"
    } else {
        "INSERT INTO grants (user_id, app_id, granted, declined, last_login_at, created_at, pages) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (user_id, app_id) DO UPDATE SET \
         granted = excluded.granted, declined = excluded.declined, \
         last_login_at = excluded.last_login_at, created_at = excluded.created_at, \
         pages = excluded.pages"
    };
    let pages = match &g.pages {
        Some(p) => Some(to_json(
            &p.iter().map(|id| id.to_string()).collect::<Vec<_>>(),
        )?),
        None => None,
    };
    let what = "storing grant";
    let args = args![
        g.user_id.sql(),
        g.app_id.sql(),
        to_json(&g.granted)?,
        to_json(&g.declined)?,
        g.last_login_at,
        g.created_at,
        pages
    ];
    db.execute(sql, args, what)?;
    Ok(())
}

pub(crate) fn asid_of(db: &dyn Db, user: UserId, app: AppId) -> StoreResult<Option<Asid>> {
    let sql = "SELECT asid FROM asids WHERE user_id = ?1 AND app_id = ?2";
    db.one(
        sql,
        args![user.sql(), app.sql()],
        |r| rows::id(r, 0),
        "loading asid",
    )
}

/// Inserts `candidate` unless the pair already has an asid, then returns the one in force.
/// A candidate already used by another pair is an error: the caller retries with a new one.
pub(crate) fn ensure_asid(
    db: &dyn Db,
    user: UserId,
    app: AppId,
    candidate: Asid,
) -> StoreResult<Option<Asid>> {
    let what = "storing asid";
    db.execute(
        "INSERT INTO asids (asid, user_id, app_id) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
        args![candidate.sql(), user.sql(), app.sql()],
        what,
    )?;
    asid_of(db, user, app)
}

pub(crate) fn resolve_asid(db: &dyn Db, asid: Asid) -> StoreResult<Option<(UserId, AppId)>> {
    let sql = "SELECT user_id, app_id FROM asids WHERE asid = ?1";
    let map = |r: &Row| Ok((rows::id(r, 0)?, rows::id(r, 1)?));
    db.one(sql, args![asid.sql()], map, "resolving asid")
}

pub(crate) fn create_session(
    db: &dyn Db,
    user: UserId,
    app: AppId,
    at: Unix,
) -> StoreResult<Session> {
    // SQLite would draw the id after the highest one there: a deleted person's session ids
    // are kept from being drawn again ([`SESSIONS_HIGH`]). PostgreSQL's identity never repeats.
    let what = "creating session";
    let id = if db.dialect() == "sqlite" {
        db.insert(
            "INSERT INTO sessions (id, user_id, app_id, created_at) VALUES (1 + max(\
             coalesce((SELECT max(id) FROM sessions), 0), \
             coalesce((SELECT CAST(value AS INTEGER) FROM settings WHERE name = ?4), 0)\
             ), ?1, ?2, ?3)",
            args![user.sql(), app.sql(), at, SESSIONS_HIGH],
            what,
        )?
    } else {
        db.insert(
            "INSERT INTO sessions (user_id, app_id, created_at) VALUES (?1, ?2, ?3)",
            args![user.sql(), app.sql(), at],
            what,
        )?
    };
    Ok(Session {
        id: SessionId(id),
        user_id: user,
        app_id: app,
        created_at: at,
        invalidated: None,
    })
}

/// The setting that holds the highest id of the sessions deleted with their person: on SQLite
/// new sessions' ids start above it (`create_session`), and `graphtoken db copy` starts a
/// PostgreSQL target's numbering above it, so no id names two sessions over time (a user
/// token's claims name its session: `graphtoken_core::token::Claims`).
pub(crate) const SESSIONS_HIGH: &str = "sessions_high";

/// Before `user`'s sessions go with them: [`SESSIONS_HIGH`] raised to their highest id.
pub(crate) fn keep_sessions_high(db: &dyn Db, user: UserId) -> StoreResult<()> {
    db.execute(
        "INSERT INTO settings (name, value) \
         SELECT ?1, CAST(max(id) AS TEXT) FROM sessions WHERE user_id = ?2 GROUP BY user_id \
         HAVING max(id) > coalesce((SELECT CAST(value AS BIGINT) FROM settings WHERE name = ?1), 0) \
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        args![SESSIONS_HIGH, user.sql()],
        "keeping deleted sessions' ids",
    )?;
    Ok(())
}

pub(crate) fn session(db: &dyn Db, id: SessionId) -> StoreResult<Option<Session>> {
    let what = "loading a session";
    db.one(
        "SELECT id, user_id, app_id, created_at, invalidated_at, invalid_subcode \
         FROM sessions WHERE id = ?1",
        args![id.0],
        |r| rows::session_at(r, 0),
        what,
    )
}

pub(crate) fn insert_token(db: &dyn Db, t: &TokenRecord) -> StoreResult<bool> {
    // A token is stored only into a session that is there (no foreign key says so since
    // migration 19: a person deleted between reading the session and this insert leaves no
    // token behind), and a Page token only from a user token that still works (a logout or
    // reset in between leaves no Page token behind). Written once, not at every insert.
    fn insert(and: &str) -> String {
        format!(
            "INSERT INTO tokens ({TOKEN_COLS}) \
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13 \
             WHERE EXISTS (SELECT 1 FROM sessions s WHERE s.id = ?6){and} \
             ON CONFLICT DO NOTHING"
        )
    }
    static USER: LazyLock<String> = LazyLock::new(|| insert(""));
    static PAGE: LazyLock<String> = LazyLock::new(|| {
        insert(
            " AND EXISTS (SELECT 1 FROM tokens p WHERE p.hash = ?7 AND p.invalidated_at IS NULL)",
        )
    });
    store_token(db, if t.parent.is_some() { &PAGE } else { &USER }, t)
}

/// Stores tokens, each as [`insert_token`] would, a user token's session checked once rather
/// than in every insert: an `INSERT … SELECT` may write many rows, so SQLite keeps a statement
/// journal for each, and inside a savepoint (a write's, when its group starts over, or a
/// caller's) that journal grows with every insert (a temporary file: 2.5 pages written per
/// token). The plain insert needs none. The number stored.
pub(crate) fn insert_tokens(db: &dyn Db, tokens: &[TokenRecord]) -> StoreResult<u64> {
    use std::collections::hash_map::{Entry, HashMap};
    let mut there: HashMap<SessionId, bool> = HashMap::new();
    let mut stored = 0;
    for t in tokens {
        if t.parent.is_some() {
            stored += u64::from(insert_token(db, t)?);
            continue;
        }
        let session_is_there = match there.entry(t.session_id) {
            Entry::Occupied(known) => *known.get(),
            Entry::Vacant(slot) => *slot.insert(session(db, t.session_id)?.is_some()),
        };
        if session_is_there {
            stored += u64::from(store_token(db, &PLAIN, t)?);
        }
    }
    Ok(stored)
}

/// The plain insert of a token, for a session known to be there.
static PLAIN: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO tokens ({TOKEN_COLS}) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) \
         ON CONFLICT DO NOTHING"
    )
});

/// Stores `t`, the first token of `session`, which this same write opened (so it is there):
/// the plain insert, without the statement journal of [`insert_token`]'s `INSERT … SELECT`.
pub(crate) fn insert_first_token(
    db: &dyn Db,
    session: &Session,
    t: &TokenRecord,
) -> StoreResult<bool> {
    let of_session = t.session_id == session.id
        && t.user_id == session.user_id
        && t.app_id == session.app_id
        && t.kind == StoredKind::User
        && t.parent.is_none();
    if !of_session {
        return Err(StoreError::new(
            "a session's first token must be a user token of that session",
        ));
    }
    store_token(db, &PLAIN, t)
}

/// Runs `sql`, an insert of [`TOKEN_COLS`] from `?1` to `?13`, for `t`: true when it stored it.
fn store_token(db: &dyn Db, sql: &str, t: &TokenRecord) -> StoreResult<bool> {
    let (inv_at, inv_sub) = invalidation_cols(t.invalidated);
    let args = args![
        t.hash,
        t.kind.as_str(),
        t.app_id.sql(),
        t.user_id.sql(),
        t.page_id.map(|p| p.sql()),
        t.session_id.0,
        t.parent,
        t.long_lived,
        t.issued_at,
        t.expires_at,
        inv_at,
        inv_sub,
        t.tasks_since,
    ];
    Ok(db.execute(sql, args, "storing token")? > 0)
}

pub(crate) fn token(db: &dyn Db, hash: &TokenHash) -> StoreResult<Option<TokenRecord>> {
    let sql = format!("SELECT {TOKEN_COLS} FROM tokens WHERE hash = ?1");
    db.one(&sql, args![hash], rows::token, "loading token")
}

/// A token with its app-scoped id and its session, in one indexed join: the hot path's cache
/// miss.
pub(crate) fn token_entry(
    db: &dyn Db,
    hash: &TokenHash,
) -> StoreResult<Option<(TokenEntry, Session)>> {
    const SQL: &str = "SELECT t.hash, t.kind, t.app_id, t.user_id, t.page_id, t.session_id, \
         t.parent, t.long_lived, t.issued_at, t.expires_at, t.invalidated_at, t.invalid_subcode, \
         t.tasks_since, s.id, s.user_id, s.app_id, s.created_at, s.invalidated_at, s.invalid_subcode, a.asid \
         FROM tokens t \
         JOIN sessions s ON s.id = t.session_id \
         JOIN asids a ON a.user_id = t.user_id AND a.app_id = t.app_id \
         WHERE t.hash = ?1";
    db.one(
        SQL,
        args![hash],
        |r| {
            let entry = TokenEntry::new(rows::token(r)?, rows::id(r, 19)?);
            Ok((entry, rows::session_at(r, 13)?))
        },
        "loading token",
    )
}

pub(crate) fn setting(db: &dyn Db, name: &str) -> StoreResult<Option<String>> {
    let sql = "SELECT value FROM settings WHERE name = ?1";
    db.one(sql, args![name], |r| r.get(0), "loading setting")
}

/// Stores a setting unless it is there already.
pub(crate) fn add_setting(db: &dyn Db, name: &str, value: &str) -> StoreResult<()> {
    db.execute(
        "INSERT INTO settings (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
        args![name, value],
        "adding setting",
    )?;
    Ok(())
}

pub(crate) fn put_setting(db: &dyn Db, name: &str, value: &str) -> StoreResult<()> {
    let what = "storing setting";
    db.execute(
        "INSERT INTO settings (name, value) VALUES (?1, ?2) \
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        args![name, value],
        what,
    )?;
    Ok(())
}
