//! SQL for the login flows (see `graphtoken_core::codes`; schema: migrations 8 and 20): dialog and
//! client codes, device logins, test users, finding a person by email, single sessions, and
//! deleting a person with everything of theirs.
//!
//! The backend runs each write in one transaction; the functions here run inside it.

use graphtoken_core::codes::{
    AuthCode, CodeKind, DeviceCode, DeviceState, Pkce, PkceMethod, TestUser, TestUserInsert,
};
use graphtoken_core::model::{AppId, Invalidation, SessionId, TokenHash, Unix, User, UserId};
use graphtoken_core::signin::Entry as ThrottleEntry;
use graphtoken_core::store::{
    CodeCheck, DeletedPerson, Redeemed, SessionToken, StoreError, StoreResult, ThrottleUpdate,
};

use crate::args;
use crate::db::{Db, Row};
use crate::queries;
use crate::rows::{self, bad, to_json, Sql, USER_COLS};

/// The columns of `auth_codes` that [`code_row`] reads, as a literal: the statements that name
/// them are made with `concat!`, not formatted again for every code on the writer.
macro_rules! code_cols {
    () => {
        "hash, kind, app_id, user_id, redirect_uri, pkce_method, pkce_challenge, session_id, \
         created_at, expires_at, used_at"
    };
}
/// How many columns [`code_cols!`] names: the index of a column read after them.
const CODE_COLUMNS: usize = 11;
const DEVICE_COLS: &str = "hash, user_code, app_id, scopes, created_at, expires_at, state, \
     approved_user_id, last_poll_at";
const TEST_USER_COLS: &str = "user_id, app_id, created_at";

fn code_row(r: &Row) -> StoreResult<AuthCode> {
    let kind: String = r.get(1)?;
    let method: Option<String> = r.get(5)?;
    let challenge: Option<String> = r.get(6)?;
    let pkce = match (method, challenge) {
        (Some(m), Some(challenge)) => Some(Pkce {
            method: match m.as_str() {
                "S256" => PkceMethod::S256,
                "plain" => PkceMethod::Plain,
                _ => return Err(bad(5, format!("unknown PKCE method {m:?}"))),
            },
            challenge,
        }),
        _ => None,
    };
    Ok(AuthCode {
        hash: r.get(0)?,
        kind: CodeKind::parse(&kind)
            .ok_or_else(|| bad(1, format!("unknown code kind {kind:?}")))?,
        app_id: rows::id(r, 2)?,
        user_id: rows::id(r, 3)?,
        redirect_uri: r.get(4)?,
        pkce,
        session_id: r.get::<Option<i64>>(7)?.map(SessionId),
        created_at: r.get(8)?,
        expires_at: r.get(9)?,
        used_at: r.get(10)?,
    })
}

/// `(state, approved_user_id)` columns of a device login's state.
fn state_cols(state: DeviceState) -> (&'static str, Option<i64>) {
    match state {
        DeviceState::Pending => ("pending", None),
        DeviceState::Approved { user_id } => ("approved", Some(user_id.sql())),
        DeviceState::Denied => ("denied", None),
        DeviceState::Redeemed => ("redeemed", None),
    }
}

fn device_row(r: &Row) -> StoreResult<DeviceCode> {
    let scopes: String = r.get(3)?;
    let state: String = r.get(6)?;
    let approved: Option<i64> = r.get(7)?;
    let state = match (state.as_str(), approved) {
        ("pending", _) => DeviceState::Pending,
        ("approved", Some(user)) => DeviceState::Approved {
            user_id: UserId(user as u64),
        },
        ("denied", _) => DeviceState::Denied,
        ("redeemed", _) => DeviceState::Redeemed,
        _ => return Err(bad(6, format!("bad device login state {state:?}"))),
    };
    Ok(DeviceCode {
        hash: r.get(0)?,
        user_code: r.get(1)?,
        app_id: rows::id(r, 2)?,
        scopes: serde_json::from_str(&scopes)
            .map_err(|e| bad(3, format!("bad JSON list {scopes:?}: {e}")))?,
        created_at: r.get(4)?,
        expires_at: r.get(5)?,
        state,
        last_poll_at: r.get(8)?,
    })
}

fn test_user_row(r: &Row) -> StoreResult<TestUser> {
    Ok(TestUser {
        user_id: rows::id(r, 0)?,
        app_id: rows::id(r, 1)?,
        created_at: r.get(2)?,
    })
}

pub(crate) fn user_by_email(db: &dyn Db, email: &str) -> StoreResult<Option<User>> {
    let what = "loading user by email";
    let sql =
        format!("SELECT {USER_COLS} FROM users WHERE lower(email) = lower(?1) ORDER BY id LIMIT 1");
    db.one(&sql, args![email], rows::user, what)
}

pub(crate) fn insert_code(db: &dyn Db, c: &AuthCode) -> StoreResult<()> {
    let what = "storing a code";
    let sql = concat!(
        "INSERT INTO auth_codes (",
        code_cols!(),
        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
    );
    let args = args![
        c.hash,
        c.kind.as_str(),
        c.app_id.sql(),
        c.user_id.sql(),
        c.redirect_uri,
        c.pkce.as_ref().map(|p| p.method.as_str()),
        c.pkce.as_ref().map(|p| p.challenge.as_str()),
        c.session_id.map(|s| s.0),
        c.created_at,
        c.expires_at,
        c.used_at
    ];
    db.execute(sql, args, what)?;
    Ok(())
}

pub(crate) fn code(db: &dyn Db, hash: &TokenHash) -> StoreResult<Option<AuthCode>> {
    let what = "loading a code";
    let sql = concat!("SELECT ", code_cols!(), " FROM auth_codes WHERE hash = ?1");
    db.one(sql, args![hash], code_row, what)
}

/// Reads the code and marks it used (when it was not), with the session its token went into,
/// in the caller's write transaction, so two concurrent redemptions cannot both see it unused
/// and a reuse always finds the session to end.
pub(crate) fn redeem_code(
    db: &dyn Db,
    hash: &TokenHash,
    now: Unix,
) -> StoreResult<Option<AuthCode>> {
    let what = "redeeming a code";
    let found = code(db, hash)?;
    if found.as_ref().is_some_and(|c| c.used_at.is_none()) {
        db.execute(
            "UPDATE auth_codes SET used_at = ?1 WHERE hash = ?2",
            args![now, hash],
            what,
        )?;
    }
    Ok(found)
}

pub(crate) fn redeem_code_into_session(
    db: &dyn Db,
    hash: &TokenHash,
    now: Unix,
    accept: &CodeCheck,
    token: &SessionToken,
) -> StoreResult<(Option<AuthCode>, Option<Redeemed>)> {
    // The person's app-scoped id comes with the code: one statement fewer on the writer.
    let sql = concat!(
        "SELECT ",
        code_cols!(),
        ", (SELECT a.asid FROM asids a \
         WHERE a.user_id = auth_codes.user_id AND a.app_id = auth_codes.app_id) \
         FROM auth_codes WHERE hash = ?1"
    );
    let read = db.one(
        sql,
        args![hash],
        |r| Ok((code_row(r)?, rows::opt_id(r, CODE_COLUMNS)?)),
        "loading a code",
    )?;
    let (found, asid) = read.unzip();
    let asid = asid.flatten();
    let Some(c) = found.as_ref().filter(|c| c.used_at.is_none()) else {
        return Ok((found, None));
    };
    if !accept(c) {
        return Ok((found, None));
    }
    let session = queries::create_session(db, c.user_id, c.app_id, now)?;
    if !queries::insert_first_token(db, &session, &token(&session))? {
        return Err(StoreError::new(
            "the token of a session just opened was not stored",
        ));
    }
    db.execute(
        "UPDATE auth_codes SET used_at = ?1, session_id = ?2 WHERE hash = ?3",
        args![now, session.id.0, hash],
        "redeeming a code",
    )?;
    Ok((found, Some(Redeemed { session, asid })))
}

pub(crate) fn invalidate_session(
    db: &dyn Db,
    session: SessionId,
    inv: Invalidation,
) -> StoreResult<Option<UserId>> {
    let what = "invalidating a session";
    db.one(
        "UPDATE sessions SET invalidated_at = ?1, invalid_subcode = ?2 \
         WHERE id = ?3 AND invalidated_at IS NULL RETURNING user_id",
        args![inv.at, i64::from(inv.reason.subcode()), session.0],
        |r| rows::id(r, 0),
        what,
    )
}

fn write_device_code(db: &dyn Db, d: &DeviceCode, what: &str) -> StoreResult<()> {
    let (state, approved) = state_cols(d.state);
    let sql = format!(
        "INSERT INTO device_codes ({DEVICE_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
         ON CONFLICT (hash) DO UPDATE SET user_code = excluded.user_code, \
         app_id = excluded.app_id, scopes = excluded.scopes, created_at = excluded.created_at, \
         expires_at = excluded.expires_at, state = excluded.state, \
         approved_user_id = excluded.approved_user_id, last_poll_at = excluded.last_poll_at"
    );
    let args = args![
        d.hash,
        d.user_code,
        d.app_id.sql(),
        to_json(&d.scopes)?,
        d.created_at,
        d.expires_at,
        state,
        approved,
        d.last_poll_at
    ];
    db.execute(&sql, args, what)?;
    Ok(())
}

/// Stores the device login unless a live one holds its `user_code`; the check and the insert
/// are in the caller's transaction.
pub(crate) fn insert_device_code(db: &dyn Db, d: &DeviceCode) -> StoreResult<bool> {
    let what = "storing a device login";
    let taken: bool = db.required(
        "SELECT EXISTS (SELECT 1 FROM device_codes WHERE user_code = ?1 AND expires_at > ?2)",
        args![d.user_code, d.created_at],
        |r| r.get(0),
        what,
    )?;
    if taken {
        return Ok(false);
    }
    let exists: bool = db.required(
        "SELECT EXISTS (SELECT 1 FROM device_codes WHERE hash = ?1)",
        args![d.hash],
        |r| r.get(0),
        what,
    )?;
    if exists {
        return Ok(false);
    }
    write_device_code(db, d, what)?;
    Ok(true)
}

pub(crate) fn device_code(db: &dyn Db, hash: &TokenHash) -> StoreResult<Option<DeviceCode>> {
    let what = "loading a device login";
    let sql = format!("SELECT {DEVICE_COLS} FROM device_codes WHERE hash = ?1");
    db.one(&sql, args![hash], device_row, what)
}

pub(crate) fn device_code_by_user_code(
    db: &dyn Db,
    user_code: &str,
) -> StoreResult<Option<DeviceCode>> {
    let what = "loading a device login by user code";
    // A user code is free again only once its login has expired, so the newest row is the
    // live one; `expires_at` breaks a tie of the same second.
    let sql = format!(
        "SELECT {DEVICE_COLS} FROM device_codes WHERE user_code = ?1 \
         ORDER BY created_at DESC, expires_at DESC LIMIT 1"
    );
    db.one(&sql, args![user_code], device_row, what)
}

/// Reads, changes and writes back a device login in the caller's transaction. Its hash cannot
/// change.
pub(crate) fn update_device_code<F>(
    db: &dyn Db,
    hash: &TokenHash,
    update: F,
) -> StoreResult<Option<DeviceCode>>
where
    F: FnOnce(&mut DeviceCode),
{
    let what = "changing a device login";
    let Some(mut d) = device_code(db, hash)? else {
        return Ok(None);
    };
    update(&mut d);
    d.hash = *hash;
    write_device_code(db, &d, what)?;
    Ok(Some(d))
}

/// Stores the person and their ownership by `app` unless the id is taken (or the app is at its
/// limit), in the caller's transaction.
pub(crate) fn insert_test_user(
    db: &dyn Db,
    user: &User,
    app: AppId,
    limit: u32,
) -> StoreResult<TestUserInsert> {
    let what = "storing a test user";
    let count: i64 = db.required(
        "SELECT COUNT(*) FROM test_users WHERE app_id = ?1",
        args![app.sql()],
        |r| r.get(0),
        what,
    )?;
    if count >= i64::from(limit) {
        return Ok(TestUserInsert::AtLimit);
    }
    let n = db.execute(
        "INSERT INTO users (id, key, name, email, password_hash, created_at, status) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (id) DO NOTHING",
        args![
            user.id.sql(),
            user.key,
            user.name,
            user.email,
            user.password_hash,
            user.created_at,
            user.status.as_str()
        ],
        what,
    )?;
    if n == 0 {
        return Ok(TestUserInsert::IdTaken);
    }
    let sql = format!("INSERT INTO test_users ({TEST_USER_COLS}) VALUES (?1, ?2, ?3)");
    db.execute(&sql, args![user.id.sql(), app.sql(), user.created_at], what)?;
    Ok(TestUserInsert::Inserted)
}

pub(crate) fn test_users_of_app(db: &dyn Db, app: AppId) -> StoreResult<Vec<TestUser>> {
    let what = "listing an app's test users";
    let sql = format!(
        "SELECT {TEST_USER_COLS} FROM test_users WHERE app_id = ?1 \
         ORDER BY seq"
    );
    db.all(&sql, args![app.sql()], test_user_row, what)
}

pub(crate) fn test_user(db: &dyn Db, user: UserId) -> StoreResult<Option<TestUser>> {
    let what = "loading a test user";
    let sql = format!("SELECT {TEST_USER_COLS} FROM test_users WHERE user_id = ?1");
    db.one(&sql, args![user.sql()], test_user_row, what)
}

/// Deletes the person in the caller's transaction. Grants, app-scoped and page-scoped ids, Page
/// tasks, app roles, sessions, conversations (and so their messages), comments, codes, device
/// logins they approved and test-user rows go by `ON DELETE CASCADE`; tokens (no foreign key
/// since migration 19) are deleted here, by person and by the person's sessions.
pub(crate) fn delete_user(db: &dyn Db, user: UserId) -> StoreResult<Option<DeletedPerson>> {
    let what = "deleting a person";
    let id = user.sql();
    // What the person was part of, read under the delete's lock so that nothing added in
    // between is missed: these records change with the cascade.
    let gone = DeletedPerson {
        apps: ids_of(
            db,
            "SELECT app_id FROM grants WHERE user_id = ?1 \
             UNION SELECT app_id FROM asids WHERE user_id = ?1 ORDER BY 1",
            user,
        )?,
        pages: ids_of(
            db,
            "SELECT page_id FROM page_tasks WHERE user_id = ?1 ORDER BY page_id",
            user,
        )?,
        roles: ids_of(
            db,
            "SELECT DISTINCT app_id FROM app_roles WHERE user_id = ?1 ORDER BY app_id",
            user,
        )?,
    };
    crate::queries::keep_sessions_high(db, user)?;
    db.execute(
        "DELETE FROM tokens WHERE user_id = ?1 \
         OR session_id IN (SELECT id FROM sessions WHERE user_id = ?1)",
        args![id],
        what,
    )?;
    let n = db.execute("DELETE FROM users WHERE id = ?1", args![id], what)?;
    Ok((n > 0).then_some(gone))
}

/// The ids one query selects for a person.
fn ids_of<T: From<u64>>(db: &dyn Db, sql: &str, user: UserId) -> StoreResult<Vec<T>> {
    let what = "reading what a person is part of";
    db.all(sql, args![user.sql()], |r| rows::id(r, 0), what)
}

/// The sign-in throttle's entries of `keys`, changed by `update` and written back, in the
/// caller's transaction; stale entries are forgotten.
pub(crate) fn update_throttle(
    db: &dyn Db,
    keys: &[String],
    now: Unix,
    stale_before: Unix,
    update: &ThrottleUpdate,
) -> StoreResult<Result<(), i64>> {
    let what = "updating the sign-in throttle";
    let read = |r: &Row| {
        Ok(ThrottleEntry {
            failures: r.get(0)?,
            last_failure: r.get(1)?,
            wait_until: r.get(2)?,
        })
    };
    let before = keys
        .iter()
        .map(|k| {
            db.one(
                "SELECT failures, last_failure, wait_until FROM signin_throttle WHERE key = ?1",
                args![k],
                read,
                what,
            )
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let mut after = before.clone();
    let answer = update(&mut after);
    for ((key, old), new) in keys.iter().zip(&before).zip(&after) {
        match new {
            _ if old == new => {}
            Some(e) => {
                db.execute(
                    "INSERT INTO signin_throttle (key, failures, last_failure, wait_until) \
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT (key) DO UPDATE SET \
                     failures = excluded.failures, last_failure = excluded.last_failure, \
                     wait_until = excluded.wait_until",
                    args![key, e.failures, e.last_failure, e.wait_until],
                    what,
                )?;
            }
            None => {
                db.execute(
                    "DELETE FROM signin_throttle WHERE key = ?1",
                    args![key],
                    what,
                )?;
            }
        }
    }
    db.execute(
        "DELETE FROM signin_throttle WHERE last_failure < ?1 AND wait_until <= ?2",
        args![stale_before, now],
        what,
    )?;
    Ok(answer)
}

#[cfg(test)]
mod tests {
    #[test]
    fn code_columns_counts_code_cols() {
        assert_eq!(code_cols!().split(',').count(), super::CODE_COLUMNS);
    }
}
