//! Writing a seed world: [`apply_world`] and its upserts, in one transaction.
//!
//! Re-applying a seed must be idempotent and keep history: an existing row keeps its
//! `created_at`, everything else takes the seed's values.

use graphtoken_core::model::{App, AppId, Asid, Page, PageId, PageTasks, User, UserId};
use graphtoken_core::store::{StoreError, StoreResult, WorldRecords};

use crate::args;
use crate::db::Db;
use crate::rows::{self, to_json, Sql};

/// Upserts an app and replaces its roles with exactly `app.roles`.
pub(crate) fn upsert_app(db: &dyn Db, app: &App) -> StoreResult<()> {
    let what = format!("storing app {}", app.id);
    db.execute(
        "INSERT INTO apps (id, key, name, secret, client_token, mode, platform, \
         require_appsecret_proof, redirect_uris, advanced_access, deauthorize_callback_url, \
         created_at, rate_limit_app, rate_limit_user, rate_limit_page, data_deletion_url, \
         review_approved_at, test_user_limit) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18) \
         ON CONFLICT (id) DO UPDATE SET key = excluded.key, name = excluded.name, \
         secret = excluded.secret, client_token = excluded.client_token, mode = excluded.mode, \
         platform = excluded.platform, require_appsecret_proof = excluded.require_appsecret_proof, \
         redirect_uris = excluded.redirect_uris, advanced_access = excluded.advanced_access, \
         deauthorize_callback_url = excluded.deauthorize_callback_url, \
         rate_limit_app = excluded.rate_limit_app, rate_limit_user = excluded.rate_limit_user, \
         rate_limit_page = excluded.rate_limit_page, data_deletion_url = excluded.data_deletion_url, \
         review_approved_at = excluded.review_approved_at, \
         test_user_limit = excluded.test_user_limit",
        args![
            app.id.sql(),
            app.key,
            app.name,
            app.secret,
            app.client_token,
            app.mode.as_str(),
            app.platform.as_str(),
            app.require_appsecret_proof,
            to_json(&app.redirect_uris)?,
            to_json(&app.advanced_access)?,
            app.deauthorize_callback_url,
            app.created_at,
            app.rate_limits.app,
            app.rate_limits.user,
            app.rate_limits.page,
            app.data_deletion_url,
            app.review_approved_at,
            app.test_user_limit
        ],
        &what,
    )?;
    db.execute(
        "DELETE FROM app_roles WHERE app_id = ?1",
        args![app.id.sql()],
        &what,
    )?;
    for (user, role) in &app.roles {
        db.execute(
            "INSERT INTO app_roles (app_id, user_id, role) VALUES (?1, ?2, ?3) \
             ON CONFLICT DO NOTHING",
            args![app.id.sql(), user.sql(), role.as_str()],
            &what,
        )?;
    }
    Ok(())
}

pub(crate) fn upsert_user(db: &dyn Db, user: &User) -> StoreResult<()> {
    let what = format!("storing user {}", user.id);
    db.execute(
        "INSERT INTO users (id, key, name, email, password_hash, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO UPDATE SET key = excluded.key, \
         name = excluded.name, email = excluded.email, password_hash = excluded.password_hash",
        args![
            user.id.sql(),
            user.key,
            user.name,
            user.email,
            user.password_hash,
            user.created_at
        ],
        &what,
    )?;
    Ok(())
}

pub(crate) fn upsert_page(db: &dyn Db, page: &Page) -> StoreResult<()> {
    let what = format!("storing page {}", page.id);
    db.execute(
        "INSERT INTO pages (id, key, name, category, created_at) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (id) DO UPDATE SET key = excluded.key, name = excluded.name, \
         category = excluded.category",
        args![
            page.id.sql(),
            page.key,
            page.name,
            page.category,
            page.created_at
        ],
        &what,
    )?;
    Ok(())
}

/// Replaces every person's tasks on `page`; returns the people who held tasks before.
pub(crate) fn replace_page_tasks(
    db: &dyn Db,
    page: PageId,
    tasks: &[PageTasks],
) -> StoreResult<Vec<UserId>> {
    let what = format!("storing the tasks of page {page}");
    let before: Vec<UserId> = db.all(
        "DELETE FROM page_tasks WHERE page_id = ?1 RETURNING user_id",
        args![page.sql()],
        |r| rows::id(r, 0),
        &what,
    )?;
    for t in tasks {
        if t.page_id != page {
            return Err(StoreError::new(format!(
                "{what}: entry for user {} names page {}",
                t.user_id, t.page_id
            )));
        }
        db.execute(
            "INSERT INTO page_tasks (page_id, user_id, tasks, since) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (page_id, user_id) DO UPDATE SET tasks = excluded.tasks, \
             since = excluded.since",
            args![page.sql(), t.user_id.sql(), t.tasks.to_csv(), t.since],
            &what,
        )?;
    }
    Ok(before)
}

/// Inserts a seeded asid unless the pair has one already; a clash with another pair is an error.
pub(crate) fn insert_asid(db: &dyn Db, user: UserId, app: AppId, asid: Asid) -> StoreResult<()> {
    match crate::queries::ensure_asid(db, user, app, asid)? {
        Some(_) => Ok(()),
        None => Err(graphtoken_core::store::StoreError::new(format!(
            "asid {asid} already belongs to another person or app; cannot give it to user {user} on app {app}"
        ))),
    }
}

/// Writes a seed world in the caller's transaction (the backend's write wrapper commits it
/// when this returns Ok and rolls it back on an error). Returns the `(page, person)` pairs
/// whose tasks it replaced, read inside the transaction.
pub(crate) fn apply_world(db: &dyn Db, world: &WorldRecords) -> StoreResult<Vec<(PageId, UserId)>> {
    let mut replaced = Vec::new();
    for app in &world.apps {
        upsert_app(db, app)?;
    }
    for user in &world.users {
        upsert_user(db, user)?;
    }
    for page in &world.pages {
        upsert_page(db, page)?;
    }
    for (page, info) in &world.page_info {
        crate::page_settings::set_page_info(db, *page, info)?;
    }
    for (page, tasks) in &world.page_tasks {
        for user in replace_page_tasks(db, *page, tasks)? {
            replaced.push((*page, user));
        }
    }
    for grant in &world.grants {
        crate::queries::put_grant(db, grant, true)?;
    }
    for &(user, app, asid) in &world.asids {
        insert_asid(db, user, app, asid)?;
    }
    for post in &world.posts {
        crate::seed_content::seed_post(db, post)?;
    }
    for message in &world.messages {
        crate::seed_content::seed_message(db, message)?;
    }
    Ok(replaced)
}
