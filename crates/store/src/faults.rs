//! SQL for armed faults (schema: migration 13; see `graphtoken_core::store::FaultStore`).

use graphtoken_core::faults::StoredFault;
use graphtoken_core::store::StoreResult;

use crate::args;
use crate::db::{Db, Row};

fn fault(r: &Row) -> StoreResult<StoredFault> {
    let (id, times, fired): (i64, i64, i64) = (r.get(0)?, r.get(2)?, r.get(3)?);
    Ok(StoredFault {
        id: id as u64,
        spec: r.get(1)?,
        times: times as u64,
        fired: fired as u64,
    })
}

/// Arms a fault unless `max` are kept already.
pub(crate) fn arm(
    db: &dyn Db,
    spec: &str,
    times: u64,
    max: u32,
) -> StoreResult<Option<StoredFault>> {
    let what = "arming a fault";
    let kept: i64 = db.required("SELECT COUNT(*) FROM faults", args![], |r| r.get(0), what)?;
    if kept >= i64::from(max) {
        return Ok(None);
    }
    let times = i64::try_from(times).unwrap_or(i64::MAX);
    db.one(
        "INSERT INTO faults (spec, times, fired) VALUES (?1, ?2, 0) \
         RETURNING id, spec, times, fired",
        args![spec, times],
        fault,
        what,
    )
}

/// Every fault, oldest first.
pub(crate) fn list(db: &dyn Db) -> StoreResult<Vec<StoredFault>> {
    db.all(
        "SELECT id, spec, times, fired FROM faults ORDER BY id",
        args![],
        fault,
        "listing faults",
    )
}

/// Counts a firing, unless the fault is spent or gone.
pub(crate) fn fire(db: &dyn Db, id: u64) -> StoreResult<Option<u64>> {
    let fired: Option<i64> = db.one(
        "UPDATE faults SET fired = fired + 1 WHERE id = ?1 AND (times = 0 OR fired < times) \
         RETURNING fired",
        args![id as i64],
        |r| r.get(0),
        "firing a fault",
    )?;
    Ok(fired.map(|f| f as u64))
}

/// Clears one fault, or all.
pub(crate) fn clear(db: &dyn Db, id: Option<u64>) -> StoreResult<u64> {
    match id {
        Some(id) => db.execute(
            "DELETE FROM faults WHERE id = ?1",
            args![id as i64],
            "clearing a fault",
        ),
        None => db.execute("DELETE FROM faults", args![], "clearing faults"),
    }
}
