//! SQL for browser sign-ins (schema: migration 16; see
//! `graphtoken_core::store::LoginStore::start_browser_session`).

use graphtoken_core::model::{TokenHash, Unix, UserId};
use graphtoken_core::store::StoreResult;

use crate::args;
use crate::db::Db;
use crate::rows::Sql;

pub(crate) fn start(
    db: &dyn Db,
    hash: TokenHash,
    user: UserId,
    at: Unix,
    forget_before: Unix,
) -> StoreResult<()> {
    let what = "recording a browser sign-in";
    db.execute(
        "DELETE FROM browser_sessions WHERE started_at < ?1",
        args![forget_before],
        what,
    )?;
    db.execute(
        "INSERT INTO browser_sessions (hash, user_id, started_at) VALUES (?1, ?2, ?3)",
        args![hash.to_vec(), user.sql(), at],
        what,
    )?;
    Ok(())
}

pub(crate) fn live(db: &dyn Db, hash: TokenHash, user: UserId) -> StoreResult<bool> {
    let found: Option<i64> = db.one(
        "SELECT 1 FROM browser_sessions WHERE hash = ?1 AND user_id = ?2 AND ended_at IS NULL",
        args![hash.to_vec(), user.sql()],
        |r| r.get(0),
        "checking a browser sign-in",
    )?;
    Ok(found.is_some())
}

pub(crate) fn end(
    db: &dyn Db,
    hash: Option<TokenHash>,
    user: Option<UserId>,
    at: Unix,
) -> StoreResult<u64> {
    let what = "ending browser sign-ins";
    match (hash, user) {
        (Some(h), _) => db.execute(
            "UPDATE browser_sessions SET ended_at = ?1 WHERE hash = ?2 AND ended_at IS NULL",
            args![at, h.to_vec()],
            what,
        ),
        (None, Some(u)) => db.execute(
            "UPDATE browser_sessions SET ended_at = ?1 WHERE user_id = ?2 AND ended_at IS NULL",
            args![at, u.sql()],
            what,
        ),
        (None, None) => Ok(0),
    }
}
