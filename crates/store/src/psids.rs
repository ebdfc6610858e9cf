//! Page-scoped ids (PSIDs) and the app-scoped ids of a person.

use graphtoken_core::model::{AppId, Asid, PageId, Psid, UserId};
use graphtoken_core::store::StoreResult;

use crate::args;
use crate::db::{Db, Row};
use crate::rows::{self, Sql};

pub(crate) fn ensure_psid(
    db: &dyn Db,
    user: UserId,
    page: PageId,
    candidate: Psid,
) -> StoreResult<Option<Psid>> {
    let what = "storing psid";
    db.execute(
        "INSERT INTO psids (psid, user_id, page_id) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
        args![candidate.sql(), user.sql(), page.sql()],
        what,
    )?;
    psid_of(db, user, page)
}

/// The person's page-scoped id for the Page, if one was drawn.
pub(crate) fn psid_of(db: &dyn Db, user: UserId, page: PageId) -> StoreResult<Option<Psid>> {
    let sql = "SELECT psid FROM psids WHERE user_id = ?1 AND page_id = ?2";
    let map = |r: &Row| rows::id(r, 0);
    db.one(sql, args![user.sql(), page.sql()], map, "loading psid")
}

pub(crate) fn resolve_psid(db: &dyn Db, psid: Psid) -> StoreResult<Option<(UserId, PageId)>> {
    let sql = "SELECT user_id, page_id FROM psids WHERE psid = ?1";
    let map = |r: &Row| Ok((rows::id(r, 0)?, rows::id(r, 1)?));
    db.one(sql, args![psid.sql()], map, "resolving psid")
}

/// `(a, b)` pairs of one person from a two-column query keyed by user.
fn pairs<A: From<u64>, B: From<u64>>(
    db: &dyn Db,
    sql: &str,
    user: UserId,
    what: &str,
) -> StoreResult<Vec<(A, B)>> {
    let map = |r: &Row| Ok((rows::id(r, 0)?, rows::id(r, 1)?));
    db.all(sql, args![user.sql()], map, what)
}

pub(crate) fn psids_of_user(db: &dyn Db, user: UserId) -> StoreResult<Vec<(PageId, Psid)>> {
    let sql = "SELECT page_id, psid FROM psids WHERE user_id = ?1 ORDER BY page_id";
    pairs(db, sql, user, "loading a person's psids")
}

pub(crate) fn asids_of_user(db: &dyn Db, user: UserId) -> StoreResult<Vec<(AppId, Asid)>> {
    let sql = "SELECT app_id, asid FROM asids WHERE user_id = ?1 ORDER BY app_id";
    pairs(db, sql, user, "loading a person's app-scoped ids")
}
