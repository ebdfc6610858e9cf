//! Writes for the events that end or change what tokens may do (spec §7): a grant removed,
//! sessions or tokens invalidated with a reason, a password, status, secret or Page tasks set.
//!
//! The backend runs each write in one transaction; the functions here run inside it.

use graphtoken_core::events::Callback;
use graphtoken_core::model::{
    AccountStatus, AppId, BudgetChange, Invalidation, PageId, PageTasks, RateLimits, SessionId,
    TokenHash, Unix, UserId,
};
use graphtoken_core::store::StoreResult;
use graphtoken_core::tasks::TaskSet;

use crate::args;
use crate::db::{Db, Row};
use crate::rows::Sql;

/// Removes the grant and ends the sessions with the app in the caller's transaction, so a
/// login can never fall between the two.
pub(crate) fn uninstall(
    db: &dyn Db,
    user: UserId,
    app: AppId,
    why: Invalidation,
    notify: Option<&Callback>,
) -> StoreResult<(bool, Vec<SessionId>, Option<u64>)> {
    let what = "uninstalling the app";
    let n = db.execute(
        "DELETE FROM grants WHERE user_id = ?1 AND app_id = ?2",
        args![user.sql(), app.sql()],
        what,
    )?;
    let ended = invalidate_sessions(db, user, Some(app), why)?;
    // The callback is put in the outbox with the change it tells of, or not at all.
    let callback = match notify.filter(|_| n > 0) {
        Some(c) => Some(crate::outbox::enqueue(db, c, why.at)?),
        None => None,
    };
    Ok((n > 0, ended, callback))
}

/// Marks the person's sessions that still work (with one app, or all) invalid for `inv`.
pub(crate) fn invalidate_sessions(
    db: &dyn Db,
    user: UserId,
    app: Option<AppId>,
    inv: Invalidation,
) -> StoreResult<Vec<SessionId>> {
    let what = "invalidating sessions";
    db.all(
        "UPDATE sessions SET invalidated_at = ?1, invalid_subcode = ?2 \
         WHERE user_id = ?3 AND (?4 IS NULL OR app_id = ?4) AND invalidated_at IS NULL \
         RETURNING id",
        args![
            inv.at,
            i64::from(inv.reason.subcode()),
            user.sql(),
            app.map(|a| a.sql())
        ],
        |r: &Row| Ok(SessionId(r.get(0)?)),
        what,
    )
}

/// A person's short-lived tokens that still work, made invalid (found by `tokens_user`, which
/// holds exactly those). The only statement that ends tokens one by one, and it never touches a
/// long-lived user token: core answers those from their claims without reading their row
/// (`Services::claimed`), which a statement ending them alone would make wrong.
pub(crate) const END_SHORT_LIVED: &str =
    "UPDATE tokens SET invalidated_at = ?1, invalid_subcode = ?2 \
     WHERE user_id = ?3 AND long_lived = 0 AND invalidated_at IS NULL \
     RETURNING hash";

/// Marks the person's short-lived tokens (user tokens and the Page tokens derived from them)
/// that still work invalid for `inv`.
pub(crate) fn invalidate_short_lived_tokens(
    db: &dyn Db,
    user: UserId,
    inv: Invalidation,
) -> StoreResult<Vec<TokenHash>> {
    let what = "invalidating short-lived tokens";
    db.all(
        END_SHORT_LIVED,
        args![inv.at, i64::from(inv.reason.subcode()), user.sql()],
        |r: &Row| r.get::<TokenHash>(0),
        what,
    )
}

/// A new password and the end of the person's sessions, in the caller's transaction, so a
/// password change can never leave the old sessions working.
pub(crate) fn set_password(
    db: &dyn Db,
    user: UserId,
    hash: &str,
    why: Invalidation,
) -> StoreResult<Option<Vec<SessionId>>> {
    let what = "setting password";
    let n = db.execute(
        "UPDATE users SET password_hash = ?1 WHERE id = ?2",
        args![hash, user.sql()],
        what,
    )?;
    if n == 0 {
        return Ok(None);
    }
    let ended = invalidate_sessions(db, user, None, why)?;
    Ok(Some(ended))
}

pub(crate) fn set_status(db: &dyn Db, user: UserId, status: AccountStatus) -> StoreResult<bool> {
    let n = db.execute(
        "UPDATE users SET status = ?1 WHERE id = ?2",
        args![status.as_str(), user.sql()],
        "setting account status",
    )?;
    Ok(n > 0)
}

pub(crate) fn set_name(db: &dyn Db, user: UserId, name: &str) -> StoreResult<bool> {
    let n = db.execute(
        "UPDATE users SET name = ?1 WHERE id = ?2",
        args![name, user.sql()],
        "renaming a person",
    )?;
    Ok(n > 0)
}

/// Changes an app's call budgets in one statement, so that two changes of different budgets
/// both stay; the budgets now, or `None` when there is no such app.
pub(crate) fn change_rate_limits(
    db: &dyn Db,
    app: AppId,
    c: BudgetChange,
) -> StoreResult<Option<RateLimits>> {
    db.one(
        "UPDATE apps SET \
         rate_limit_app = CASE WHEN ?1 = 1 THEN ?2 ELSE rate_limit_app END, \
         rate_limit_user = CASE WHEN ?3 = 1 THEN ?4 ELSE rate_limit_user END, \
         rate_limit_page = CASE WHEN ?5 = 1 THEN ?6 ELSE rate_limit_page END \
         WHERE id = ?7 RETURNING rate_limit_app, rate_limit_user, rate_limit_page",
        args![
            i64::from(c.app.is_some()),
            c.app.flatten(),
            i64::from(c.user.is_some()),
            c.user.flatten(),
            i64::from(c.page.is_some()),
            c.page.flatten(),
            app.sql()
        ],
        |r| {
            Ok(RateLimits {
                app: r.get(0)?,
                user: r.get(1)?,
                page: r.get(2)?,
            })
        },
        "changing app call budgets",
    )
}

pub(crate) fn set_secret(db: &dyn Db, app: AppId, secret: &str) -> StoreResult<bool> {
    let n = db.execute(
        "UPDATE apps SET secret = ?1 WHERE id = ?2",
        args![secret, app.sql()],
        "setting app secret",
    )?;
    Ok(n > 0)
}

/// Sets a person's tasks on a Page; an empty set removes them, leaving an empty row that
/// remembers the assignment's `since`. A person who keeps some task keeps the `since`; one who
/// gets a task back gets a `since` later than the last one (even within the same second, or
/// after the clock was set back), so Page tokens from before the removal never come back.
/// Runs in the caller's transaction, so the read and the write see the same row.
pub(crate) fn set_page_tasks(
    db: &dyn Db,
    page: PageId,
    user: UserId,
    tasks: TaskSet,
    now: Unix,
) -> StoreResult<Option<PageTasks>> {
    let what = "setting page tasks";
    let since = match crate::queries::page_tasks_row(db, page, user)? {
        Some(old) if !old.tasks.is_empty() => old.since,
        Some(removed) => now.max(removed.since.saturating_add(1)),
        None => now,
    };
    db.execute(
        "INSERT INTO page_tasks (page_id, user_id, tasks, since) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (page_id, user_id) DO UPDATE SET tasks = excluded.tasks, since = excluded.since",
        args![page.sql(), user.sql(), tasks.to_csv(), since],
        what,
    )?;
    Ok((!tasks.is_empty()).then_some(PageTasks {
        page_id: page,
        user_id: user,
        tasks,
        since,
    }))
}
