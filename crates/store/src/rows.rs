//! Row ⇄ record mapping: column lists and the functions that turn a row into a model record.
//!
//! Ids are `u64` in the model and `INTEGER` (i64) in SQL; they are bit-cast both ways.

use graphtoken_core::model::{
    AccountStatus, App, AppId, AppMode, Asid, Grant, Invalidation, Page, PageId, PageTasks,
    Platform, Psid, RateLimits, Reason, Session, SessionId, StoredKind, TokenRecord, User, UserId,
};
use graphtoken_core::store::{StoreError, StoreResult};
use graphtoken_core::tasks::TaskSet;

use crate::db::Row;
use crate::error::Ctx;

pub(crate) const APP_COLS: &str = "id, key, name, secret, client_token, mode, platform, \
     require_appsecret_proof, redirect_uris, advanced_access, deauthorize_callback_url, created_at, rate_limit_app, rate_limit_user, rate_limit_page, data_deletion_url, review_approved_at, test_user_limit";
pub(crate) const USER_COLS: &str = "id, key, name, email, password_hash, created_at, status";
/// [`USER_COLS`] of a join where the users table is `u`.
pub(crate) const USER_COLS_U: &str =
    "u.id, u.key, u.name, u.email, u.password_hash, u.created_at, u.status";
pub(crate) const PAGE_COLS: &str = "id, key, name, category, created_at";
pub(crate) const GRANT_COLS: &str =
    "user_id, app_id, granted, declined, last_login_at, created_at, pages";
pub(crate) const TOKEN_COLS: &str = "hash, kind, app_id, user_id, page_id, session_id, parent, \
     long_lived, issued_at, expires_at, invalidated_at, invalid_subcode, tasks_since";

/// A stored value the model cannot represent (a corrupt or foreign row).
pub(crate) fn bad(idx: usize, msg: String) -> StoreError {
    StoreError::new(format!("column {idx}: {msg}"))
}

/// An id column (`INTEGER`, bit-cast from the id's `u64`), as whichever id type is wanted.
pub(crate) fn id<T: From<u64>>(r: &Row, idx: usize) -> StoreResult<T> {
    Ok(T::from(r.get::<i64>(idx)? as u64))
}

pub(crate) fn opt_id<T: From<u64>>(r: &Row, idx: usize) -> StoreResult<Option<T>> {
    Ok(r.get::<Option<i64>>(idx)?.map(|v| T::from(v as u64)))
}

/// An id as its `INTEGER` column holds it (the `u64` bit-cast to `i64`).
pub(crate) trait Sql {
    fn sql(self) -> i64;
}

impl Sql for u64 {
    fn sql(self) -> i64 {
        self as i64
    }
}

macro_rules! sql_for_ids {
    ($($t:ty),*) => {$(
        impl Sql for $t {
            fn sql(self) -> i64 {
                self.0 as i64
            }
        }
    )*};
}
sql_for_ids!(AppId, UserId, PageId, Asid, Psid);

fn json_list(r: &Row, idx: usize) -> StoreResult<Vec<String>> {
    let text: String = r.get(idx)?;
    serde_json::from_str(&text).map_err(|e| bad(idx, format!("bad JSON list {text:?}: {e}")))
}

/// Encodes a string list for a JSON array column.
pub(crate) fn to_json(list: &[String]) -> StoreResult<String> {
    serde_json::to_string(list).ctx("encoding a JSON list")
}

fn invalidation(r: &Row, at: usize, subcode: usize) -> StoreResult<Option<Invalidation>> {
    let Some(at) = r.get::<Option<i64>>(at)? else {
        return Ok(None);
    };
    let code: Option<i64> = r.get(subcode)?;
    let reason = code
        .and_then(|c| u32::try_from(c).ok())
        .and_then(Reason::from_subcode)
        .ok_or_else(|| bad(subcode, format!("{code:?} is not an invalidation subcode")))?;
    Ok(Some(Invalidation { at, reason }))
}

/// Splits an invalidation into its `(invalidated_at, invalid_subcode)` columns.
pub(crate) fn invalidation_cols(inv: Option<Invalidation>) -> (Option<i64>, Option<i64>) {
    match inv {
        Some(i) => (Some(i.at), Some(i64::from(i.reason.subcode()))),
        None => (None, None),
    }
}

/// An app without its roles (they live in `app_roles`).
pub(crate) fn app(r: &Row) -> StoreResult<App> {
    let mode: String = r.get(5)?;
    let platform: String = r.get(6)?;
    Ok(App {
        id: id(r, 0)?,
        key: r.get(1)?,
        name: r.get(2)?,
        secret: r.get(3)?,
        client_token: r.get(4)?,
        mode: AppMode::parse(&mode).ok_or_else(|| bad(5, format!("unknown app mode {mode:?}")))?,
        platform: Platform::parse(&platform)
            .ok_or_else(|| bad(6, format!("unknown platform {platform:?}")))?,
        require_appsecret_proof: r.get(7)?,
        redirect_uris: json_list(r, 8)?,
        advanced_access: json_list(r, 9)?,
        deauthorize_callback_url: r.get(10)?,
        data_deletion_url: r.get(15)?,
        review_approved_at: r.get(16)?,
        roles: Vec::new(),
        created_at: r.get(11)?,
        rate_limits: RateLimits {
            app: r.get(12)?,
            user: r.get(13)?,
            page: r.get(14)?,
        },
        test_user_limit: r.get(17)?,
    })
}

pub(crate) fn user(r: &Row) -> StoreResult<User> {
    Ok(User {
        id: id(r, 0)?,
        key: r.get(1)?,
        name: r.get(2)?,
        email: r.get(3)?,
        password_hash: r.get(4)?,
        created_at: r.get(5)?,
        status: {
            let s: String = r.get(6)?;
            AccountStatus::parse(&s).ok_or_else(|| bad(6, format!("unknown status {s:?}")))?
        },
    })
}

pub(crate) fn page(r: &Row) -> StoreResult<Page> {
    Ok(Page {
        id: id(r, 0)?,
        key: r.get(1)?,
        name: r.get(2)?,
        category: r.get(3)?,
        created_at: r.get(4)?,
    })
}

/// `page_id, user_id, tasks, since`, starting at column `at`.
pub(crate) fn page_tasks(r: &Row, at: usize) -> StoreResult<PageTasks> {
    let tasks: String = r.get(at + 2)?;
    Ok(PageTasks {
        page_id: id(r, at)?,
        user_id: id(r, at + 1)?,
        tasks: TaskSet::from_csv(&tasks),
        since: r.get(at + 3)?,
    })
}

pub(crate) fn grant(r: &Row) -> StoreResult<Grant> {
    Ok(Grant {
        user_id: id(r, 0)?,
        app_id: id(r, 1)?,
        granted: json_list(r, 2)?,
        declined: json_list(r, 3)?,
        last_login_at: r.get(4)?,
        created_at: r.get(5)?,
        pages: match r.get::<Option<String>>(6)? {
            None => None,
            Some(text) => Some(
                serde_json::from_str::<Vec<String>>(&text)
                    .map_err(|e| bad(6, format!("bad chosen Pages: {e}")))?
                    .iter()
                    .map(|p| p.parse().map(PageId))
                    .collect::<Result<_, _>>()
                    .map_err(|e| bad(6, format!("bad chosen Page id: {e}")))?,
            ),
        },
    })
}

/// A session whose columns (`id, user_id, app_id, created_at, invalidated_at,
/// invalid_subcode`) start at column `o` (after a join).
pub(crate) fn session_at(r: &Row, o: usize) -> StoreResult<Session> {
    Ok(Session {
        id: SessionId(r.get(o)?),
        user_id: id(r, o + 1)?,
        app_id: id(r, o + 2)?,
        created_at: r.get(o + 3)?,
        invalidated: invalidation(r, o + 4, o + 5)?,
    })
}

pub(crate) fn token(r: &Row) -> StoreResult<TokenRecord> {
    let kind: String = r.get(1)?;
    let kind = match kind.as_str() {
        "USER" => StoredKind::User,
        "PAGE" => StoredKind::Page,
        "SESSION_INFO" => StoredKind::SessionInfo,
        _ => return Err(bad(1, format!("unknown token kind {kind:?}"))),
    };
    Ok(TokenRecord {
        hash: r.get(0)?,
        kind,
        app_id: id(r, 2)?,
        user_id: id(r, 3)?,
        page_id: opt_id(r, 4)?,
        session_id: SessionId(r.get(5)?),
        parent: r.get(6)?,
        long_lived: r.get(7)?,
        issued_at: r.get(8)?,
        expires_at: r.get(9)?,
        invalidated: invalidation(r, 10, 11)?,
        tasks_since: r.get(12)?,
    })
}
