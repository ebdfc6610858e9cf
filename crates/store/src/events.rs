//! Writes for the events that end or change what tokens may do (spec §7): a grant removed,
//! sessions or tokens invalidated with a reason, a password, status, secret or Page tasks set.

use rusqlite::{params, Connection, TransactionBehavior};

use graphtoken_core::model::{
    AccountStatus, AppId, Invalidation, PageId, PageTasks, SessionId, TokenHash, Unix, UserId,
};
use graphtoken_core::store::StoreResult;
use graphtoken_core::tasks::TaskSet;

use crate::error::Ctx;
use crate::rows::Sql;

/// Removes the grant and ends the sessions with the app in one transaction, so a login can
/// never fall between the two.
pub(crate) fn uninstall(
    conn: &mut Connection,
    user: UserId,
    app: AppId,
    why: Invalidation,
) -> StoreResult<(bool, Vec<SessionId>)> {
    let what = "uninstalling the app";
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .ctx(what)?;
    let n = tx
        .prepare_cached("DELETE FROM grants WHERE user_id = ?1 AND app_id = ?2")
        .ctx(what)?
        .execute([user.sql(), app.sql()])
        .ctx(what)?;
    let ended = invalidate_sessions(&tx, user, Some(app), why)?;
    tx.commit().ctx(what)?;
    Ok((n > 0, ended))
}

/// Marks the person's sessions that still work (with one app, or all) invalid for `inv`.
pub(crate) fn invalidate_sessions(
    conn: &Connection,
    user: UserId,
    app: Option<AppId>,
    inv: Invalidation,
) -> StoreResult<Vec<SessionId>> {
    let what = "invalidating sessions";
    let mut stmt = conn
        .prepare_cached(
            "UPDATE sessions SET invalidated_at = ?1, invalid_subcode = ?2 \
             WHERE user_id = ?3 AND (?4 IS NULL OR app_id = ?4) AND invalidated_at IS NULL \
             RETURNING id",
        )
        .ctx(what)?;
    let ended = stmt
        .query_map(
            params![
                inv.at,
                i64::from(inv.reason.subcode()),
                user.sql(),
                app.map(|a| a.sql())
            ],
            |r| r.get(0).map(SessionId),
        )
        .ctx(what)?
        .collect::<Result<Vec<SessionId>, _>>()
        .ctx(what)?;
    Ok(ended)
}

/// Marks the person's short-lived tokens (user tokens and the Page tokens derived from them)
/// that still work invalid for `inv`.
pub(crate) fn invalidate_short_lived_tokens(
    conn: &Connection,
    user: UserId,
    inv: Invalidation,
) -> StoreResult<Vec<TokenHash>> {
    let what = "invalidating short-lived tokens";
    let mut stmt = conn
        .prepare_cached(
            "UPDATE tokens SET invalidated_at = ?1, invalid_subcode = ?2 \
             WHERE user_id = ?3 AND long_lived = 0 AND invalidated_at IS NULL \
             RETURNING hash",
        )
        .ctx(what)?;
    let ended = stmt
        .query_map(
            params![inv.at, i64::from(inv.reason.subcode()), user.sql()],
            |r| r.get(0),
        )
        .ctx(what)?
        .collect::<Result<Vec<TokenHash>, _>>()
        .ctx(what)?;
    Ok(ended)
}

/// A new password and the end of the person's sessions, in one transaction, so a password
/// change can never leave the old sessions working.
pub(crate) fn set_password(
    conn: &mut Connection,
    user: UserId,
    hash: &str,
    why: Invalidation,
) -> StoreResult<Option<Vec<SessionId>>> {
    let what = "setting password";
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .ctx(what)?;
    let n = tx
        .prepare_cached("UPDATE users SET password_hash = ?1 WHERE id = ?2")
        .ctx(what)?
        .execute(params![hash, user.sql()])
        .ctx(what)?;
    if n == 0 {
        return Ok(None);
    }
    let ended = invalidate_sessions(&tx, user, None, why)?;
    tx.commit().ctx(what)?;
    Ok(Some(ended))
}

pub(crate) fn set_status(
    conn: &Connection,
    user: UserId,
    status: AccountStatus,
) -> StoreResult<bool> {
    let n = conn
        .prepare_cached("UPDATE users SET status = ?1 WHERE id = ?2")
        .ctx("setting account status")?
        .execute(params![status.as_str(), user.sql()])
        .ctx("setting account status")?;
    Ok(n > 0)
}

pub(crate) fn set_name(conn: &Connection, user: UserId, name: &str) -> StoreResult<bool> {
    let n = conn
        .prepare_cached("UPDATE users SET name = ?1 WHERE id = ?2")
        .ctx("renaming a person")?
        .execute(params![name, user.sql()])
        .ctx("renaming a person")?;
    Ok(n > 0)
}

pub(crate) fn set_secret(conn: &Connection, app: AppId, secret: &str) -> StoreResult<bool> {
    let n = conn
        .prepare_cached("UPDATE apps SET secret = ?1 WHERE id = ?2")
        .ctx("setting app secret")?
        .execute(params![secret, app.sql()])
        .ctx("setting app secret")?;
    Ok(n > 0)
}

/// Sets a person's tasks on a Page; an empty set removes them, leaving an empty row that
/// remembers the assignment's `since`. A person who keeps some task keeps the `since`; one who
/// gets a task back gets a `since` later than the last one (even within the same second, or
/// after the clock was set back), so Page tokens from before the removal never come back.
pub(crate) fn set_page_tasks(
    conn: &mut Connection,
    page: PageId,
    user: UserId,
    tasks: TaskSet,
    now: Unix,
) -> StoreResult<Option<PageTasks>> {
    let what = "setting page tasks";
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .ctx(what)?;
    let since = match crate::queries::page_tasks_row(&tx, page, user)? {
        Some(old) if !old.tasks.is_empty() => old.since,
        Some(removed) => now.max(removed.since.saturating_add(1)),
        None => now,
    };
    tx.prepare_cached(
        "INSERT INTO page_tasks (page_id, user_id, tasks, since) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (page_id, user_id) DO UPDATE SET tasks = excluded.tasks, since = excluded.since",
    )
    .ctx(what)?
    .execute(params![page.sql(), user.sql(), tasks.to_csv(), since])
    .ctx(what)?;
    tx.commit().ctx(what)?;
    Ok((!tasks.is_empty()).then_some(PageTasks {
        page_id: page,
        user_id: user,
        tasks,
        since,
    }))
}
