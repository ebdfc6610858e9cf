//! SQL for Page settings, call-to-action buttons and Instant Articles (see
//! `graphtoken_core::graph::page_settings`; schema: migration 5).
//!
//! Button and article numbers come from the `content_ids` counters (rows `cta` and
//! `instant_article`, added by migration 5), so a number is never reused.

use graphtoken_core::content::{CallToAction, InstantArticle, PageInfo};
use graphtoken_core::model::{Id, PageId};
use graphtoken_core::store::StoreResult;

use crate::args;
use crate::content::next_id;
use crate::db::{Db, Row};
use crate::error::Ctx;
use crate::rows::{self, bad, Sql};

const CTA_COLS: &str = "id, page_id, type, web_url, created_at, app_id";
const ARTICLE_COLS: &str = "id, page_id, html_source, published, created_at, app_id";

fn cta_row(r: &Row) -> StoreResult<CallToAction> {
    Ok(CallToAction {
        id: rows::id(r, 0)?,
        page_id: rows::id(r, 1)?,
        kind: r.get(2)?,
        web_url: r.get(3)?,
        created_at: r.get(4)?,
        app_id: rows::opt_id(r, 5)?,
    })
}

fn article_row(r: &Row) -> StoreResult<InstantArticle> {
    Ok(InstantArticle {
        id: rows::id(r, 0)?,
        page_id: rows::id(r, 1)?,
        html_source: r.get(2)?,
        published: r.get(3)?,
        created_at: r.get(4)?,
        app_id: rows::opt_id(r, 5)?,
    })
}

pub(crate) fn page_info(db: &dyn Db, page: PageId) -> StoreResult<Option<PageInfo>> {
    db.one(
        "SELECT about, description, website, phone, emails, username, fan_count, cover \
         FROM pages WHERE id = ?1",
        args![page.sql()],
        |r| {
            let emails: Option<String> = r.get(4)?;
            let fan_count: Option<i64> = r.get(6)?;
            Ok(PageInfo {
                about: r.get(0)?,
                description: r.get(1)?,
                website: r.get(2)?,
                phone: r.get(3)?,
                emails: match emails {
                    Some(e) => Some(
                        serde_json::from_str(&e).map_err(|e| bad(4, format!("bad emails: {e}")))?,
                    ),
                    None => None,
                },
                username: r.get(5)?,
                fan_count: fan_count.map(|n| n.max(0) as u64),
                cover: r.get(7)?,
            })
        },
        "loading a Page's settings",
    )
}

pub(crate) fn set_page_info(db: &dyn Db, page: PageId, info: &PageInfo) -> StoreResult<bool> {
    let what = "changing a Page's settings";
    let emails = match &info.emails {
        Some(e) => Some(serde_json::to_string(e).ctx(what)?),
        None => None,
    };
    let n = db.execute(
        "UPDATE pages SET \
         about = CASE WHEN ?1 IS NULL THEN about ELSE NULLIF(?1, '') END, \
         description = CASE WHEN ?2 IS NULL THEN description ELSE NULLIF(?2, '') END, \
         website = CASE WHEN ?3 IS NULL THEN website ELSE NULLIF(?3, '') END, \
         phone = CASE WHEN ?4 IS NULL THEN phone ELSE NULLIF(?4, '') END, \
         emails = CASE WHEN ?6 IS NULL THEN emails ELSE ?6 END, \
         username = CASE WHEN ?7 IS NULL THEN username ELSE NULLIF(?7, '') END, \
         fan_count = CASE WHEN ?8 IS NULL THEN fan_count ELSE ?8 END, \
         cover = CASE WHEN ?9 IS NULL THEN cover ELSE NULLIF(?9, '') END \
         WHERE id = ?5",
        args![
            info.about,
            info.description,
            info.website,
            info.phone,
            page.sql(),
            emails,
            info.username,
            info.fan_count.map(|n| i64::try_from(n).unwrap_or(i64::MAX)),
            info.cover
        ],
        what,
    )?;
    Ok(n > 0)
}

/// Draws a button number and stores the button, in the caller's transaction.
pub(crate) fn insert_call_to_action(db: &dyn Db, c: &CallToAction) -> StoreResult<Id> {
    let what = "inserting a call-to-action button";
    let id = next_id(db, "cta")?;
    db.execute(
        &format!("INSERT INTO call_to_actions ({CTA_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
        args![
            id.sql(),
            c.page_id.sql(),
            c.kind,
            c.web_url,
            c.created_at,
            c.app_id.map(|a| a.sql())
        ],
        what,
    )?;
    Ok(id)
}

pub(crate) fn call_to_actions_of_page(db: &dyn Db, page: PageId) -> StoreResult<Vec<CallToAction>> {
    let what = "listing a Page's call-to-action buttons";
    db.all(
        &format!("SELECT {CTA_COLS} FROM call_to_actions WHERE page_id = ?1 ORDER BY id"),
        args![page.sql()],
        cta_row,
        what,
    )
}

pub(crate) fn delete_call_to_action(db: &dyn Db, page: PageId, id: Id) -> StoreResult<bool> {
    let n = db.execute(
        "DELETE FROM call_to_actions WHERE page_id = ?1 AND id = ?2",
        args![page.sql(), id.sql()],
        "deleting a call-to-action button",
    )?;
    Ok(n > 0)
}

/// Draws an article number and stores the article, in the caller's transaction.
pub(crate) fn insert_instant_article(db: &dyn Db, a: &InstantArticle) -> StoreResult<Id> {
    let what = "inserting an Instant Article";
    let id = next_id(db, "instant_article")?;
    db.execute(
        &format!("INSERT INTO instant_articles ({ARTICLE_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
        args![
            id.sql(),
            a.page_id.sql(),
            a.html_source,
            a.published,
            a.created_at,
            a.app_id.map(|x| x.sql())
        ],
        what,
    )?;
    Ok(id)
}

pub(crate) fn instant_articles_of_page(
    db: &dyn Db,
    page: PageId,
) -> StoreResult<Vec<InstantArticle>> {
    let what = "listing a Page's Instant Articles";
    db.all(
        &format!("SELECT {ARTICLE_COLS} FROM instant_articles WHERE page_id = ?1 ORDER BY id"),
        args![page.sql()],
        article_row,
        what,
    )
}

pub(crate) fn delete_instant_article(db: &dyn Db, page: PageId, id: Id) -> StoreResult<bool> {
    let n = db.execute(
        "DELETE FROM instant_articles WHERE page_id = ?1 AND id = ?2",
        args![page.sql(), id.sql()],
        "deleting an Instant Article",
    )?;
    Ok(n > 0)
}
