//! Page-scoped ids (PSIDs) and the app-scoped ids of a person.

use rusqlite::{params, Connection};

use graphtoken_core::model::Id;
use graphtoken_core::store::StoreResult;

use crate::error::Ctx;

pub(crate) fn ensure_psid(
    conn: &Connection,
    user: Id,
    page: Id,
    candidate: Id,
) -> StoreResult<Option<Id>> {
    let what = "storing psid";
    conn.prepare_cached(
        "INSERT INTO psids (psid, user_id, page_id) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
    )
    .ctx(what)?
    .execute(params![candidate as i64, user as i64, page as i64])
    .ctx(what)?;
    let mut stmt = conn
        .prepare_cached("SELECT psid FROM psids WHERE user_id = ?1 AND page_id = ?2")
        .ctx(what)?;
    let mut rows = stmt.query([user as i64, page as i64]).ctx(what)?;
    match rows.next().ctx(what)? {
        Some(r) => Ok(Some(r.get::<_, i64>(0).ctx(what)? as Id)),
        None => Ok(None),
    }
}

pub(crate) fn resolve_psid(conn: &Connection, psid: Id) -> StoreResult<Option<(Id, Id)>> {
    let what = "resolving psid";
    let mut stmt = conn
        .prepare_cached("SELECT user_id, page_id FROM psids WHERE psid = ?1")
        .ctx(what)?;
    let mut rows = stmt.query([psid as i64]).ctx(what)?;
    match rows.next().ctx(what)? {
        Some(r) => Ok(Some((
            r.get::<_, i64>(0).ctx(what)? as Id,
            r.get::<_, i64>(1).ctx(what)? as Id,
        ))),
        None => Ok(None),
    }
}

/// `(a, b)` pairs of one person from a two-column query keyed by user.
fn pairs(conn: &Connection, sql: &str, user: Id, what: &str) -> StoreResult<Vec<(Id, Id)>> {
    let mut stmt = conn.prepare_cached(sql).ctx(what)?;
    let rows = stmt
        .query_map([user as i64], |r| {
            Ok((r.get::<_, i64>(0)? as Id, r.get::<_, i64>(1)? as Id))
        })
        .ctx(what)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().ctx(what)
}

pub(crate) fn psids_of_user(conn: &Connection, user: Id) -> StoreResult<Vec<(Id, Id)>> {
    let sql = "SELECT page_id, psid FROM psids WHERE user_id = ?1 ORDER BY page_id";
    pairs(conn, sql, user, "loading a person's psids")
}

pub(crate) fn asids_of_user(conn: &Connection, user: Id) -> StoreResult<Vec<(Id, Id)>> {
    let sql = "SELECT app_id, asid FROM asids WHERE user_id = ?1 ORDER BY app_id";
    pairs(conn, sql, user, "loading a person's app-scoped ids")
}
