//! SQL for the outbox of callbacks to apps (schema: migration 10; see
//! `graphtoken_core::store::OutboxStore`). Times for retries and leases are wall-clock
//! milliseconds (delivery bookkeeping, not the model's virtual time).

use graphtoken_core::events::Callback;
use graphtoken_core::outbox::{Attempt, DeliveryStatus, Outgoing};
use graphtoken_core::store::StoreResult;

use crate::args;
use crate::db::{Db, Row};
use crate::error::Ctx;
use crate::rows::bad;

/// Finished callbacks kept for the listing; older finished ones are forgotten.
const KEPT: i64 = 1000;

const COLS: &str =
    "id, kind, url, app_id, user_id, form, status, attempts, last_error, answer, created_at";

fn outgoing(r: &Row) -> StoreResult<Outgoing> {
    let kind: String = r.get(1)?;
    let form: String = r.get(5)?;
    let status: String = r.get(6)?;
    let id: i64 = r.get(0)?;
    Ok(Outgoing {
        id: id as u64,
        callback: Callback {
            kind: Callback::kind_named(&kind)
                .ok_or_else(|| bad(1, format!("unknown callback kind {kind:?}")))?,
            url: r.get(2)?,
            app_id: r.get(3)?,
            user_id: r.get(4)?,
            form: serde_json::from_str(&form)
                .map_err(|e| bad(5, format!("bad callback form: {e}")))?,
        },
        status: DeliveryStatus::parse(&status)
            .ok_or_else(|| bad(6, format!("unknown delivery status {status:?}")))?,
        attempts: r.get(7)?,
        last_error: r.get(8)?,
        answer: r.get(9)?,
        created_at: r.get(10)?,
    })
}

/// Puts a callback in the outbox, due at once; its number.
pub(crate) fn enqueue(db: &dyn Db, c: &Callback, at: i64) -> StoreResult<u64> {
    let what = "putting a callback in the outbox";
    let form = serde_json::to_string(&c.form).ctx(what)?;
    let id: i64 = db.insert(
        "INSERT INTO callbacks (kind, url, app_id, user_id, form, status, attempts, next_at, \
         lease_until, created_at) VALUES (?1, ?2, ?3, ?4, ?5, 'pending', 0, 0, 0, ?6)",
        args![c.kind, c.url, c.app_id, c.user_id, form, at],
        what,
    )?;
    Ok(id as u64)
}

/// Claims up to `limit` due, unclaimed callbacks until `now_ms + lease_ms`.
pub(crate) fn claim(
    db: &dyn Db,
    now_ms: i64,
    lease_ms: i64,
    limit: u32,
) -> StoreResult<Vec<Outgoing>> {
    let sql = format!(
        "UPDATE callbacks SET lease_until = ?1 WHERE id IN \
         (SELECT id FROM callbacks WHERE status IN ('pending', 'retrying') \
          AND next_at <= ?2 AND lease_until <= ?2 ORDER BY id LIMIT ?3) \
         RETURNING {COLS}"
    );
    let mut claimed = db.all(
        &sql,
        args![now_ms.saturating_add(lease_ms), now_ms, i64::from(limit)],
        outgoing,
        "claiming callbacks",
    )?;
    claimed.sort_by_key(|o| o.id);
    Ok(claimed)
}

/// Records a try and releases the claim; a finished callback may let an old one go.
pub(crate) fn record(db: &dyn Db, id: u64, a: &Attempt) -> StoreResult<()> {
    let what = "recording a callback's try";
    db.execute(
        "UPDATE callbacks SET status = ?1, attempts = ?2, last_error = ?3, answer = ?4, \
         next_at = ?5, lease_until = 0 WHERE id = ?6",
        args![
            a.status.as_str(),
            a.attempts,
            a.last_error,
            a.answer,
            a.next_at_ms,
            id as i64
        ],
        what,
    )?;
    db.execute(
        "DELETE FROM callbacks WHERE status IN ('delivered', 'failed') AND id <= \
         (SELECT id FROM callbacks ORDER BY id DESC LIMIT 1 OFFSET ?1)",
        args![KEPT],
        what,
    )?;
    Ok(())
}

/// The newest `limit` callbacks, newest first.
pub(crate) fn list(db: &dyn Db, limit: u32) -> StoreResult<Vec<Outgoing>> {
    let sql = format!("SELECT {COLS} FROM callbacks ORDER BY id DESC LIMIT ?1");
    db.all(&sql, args![i64::from(limit)], outgoing, "listing callbacks")
}
