//! SQL for the rate-limit counts instances share (schema: migration 12): calls per counter
//! and minute, added to by every instance, read back for the counters an instance has active.

use graphtoken_core::store::StoreResult;

use crate::args;
use crate::db::{Db, Value};

/// Counters read at a time (one parameter each).
const CHUNK: usize = 200;

/// Adds `calls` and returns everyone's counts of the `active` counters from `since_minute`.
pub(crate) fn exchange(
    db: &dyn Db,
    calls: &[(String, i64, u32)],
    active: &[String],
    since_minute: i64,
) -> StoreResult<Vec<(String, i64, u64)>> {
    let what = "exchanging rate-limit counts";
    for (key, minute, n) in calls {
        db.execute(
            "INSERT INTO rate_counts (key, minute, count) VALUES (?1, ?2, ?3) \
             ON CONFLICT (key, minute) DO UPDATE SET count = rate_counts.count + excluded.count",
            args![key, *minute, *n],
            what,
        )?;
    }
    db.execute(
        "DELETE FROM rate_counts WHERE minute < ?1",
        args![since_minute - 60],
        what,
    )?;
    counts(db, active, since_minute)
}

/// Everyone's counts of the `active` counters from `since_minute`.
pub(crate) fn counts(
    db: &dyn Db,
    active: &[String],
    since_minute: i64,
) -> StoreResult<Vec<(String, i64, u64)>> {
    let what = "reading rate-limit counts";
    let mut counts = Vec::new();
    for keys in active.chunks(CHUNK) {
        let params: Vec<String> = (2..keys.len() + 2).map(|i| format!("?{i}")).collect();
        let sql = format!(
            "SELECT key, minute, count FROM rate_counts WHERE minute >= ?1 AND key IN ({})",
            params.join(", ")
        );
        let mut args = vec![Value::Int(since_minute)];
        args.extend(keys.iter().map(|k| Value::Text(k.clone())));
        counts.extend(db.all(
            &sql,
            &args,
            |r| {
                let n: i64 = r.get(2)?;
                Ok((r.get(0)?, r.get(1)?, n.max(0) as u64))
            },
            what,
        )?);
    }
    Ok(counts)
}
