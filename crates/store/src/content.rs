//! SQL for the Page content store (see `graphtoken_core::content`): posts and comments.
//!
//! Post and comment numbers come from the `content_ids` counters (created by migration 3), so a
//! number is never reused, even after the newest post is deleted.

use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};

use graphtoken_core::content::{Author, Comment, Post};
use graphtoken_core::model::{Id, Unix};
use graphtoken_core::store::StoreResult;

use crate::error::Ctx;

const POST_COLS: &str = "id, page_id, app_id, message, link, published, created_at, updated_at";
const COMMENT_COLS: &str = "id, post_id, app_id, user_id, message, hidden, created_at";

fn post_row(r: &Row) -> rusqlite::Result<Post> {
    Ok(Post {
        id: r.get::<_, i64>(0)? as Id,
        page_id: r.get::<_, i64>(1)? as Id,
        app_id: r.get::<_, Option<i64>>(2)?.map(|v| v as Id),
        message: r.get(3)?,
        link: r.get(4)?,
        published: r.get(5)?,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
    })
}

fn comment_row(r: &Row) -> rusqlite::Result<Comment> {
    Ok(Comment {
        id: r.get::<_, i64>(0)? as Id,
        post_id: r.get::<_, i64>(1)? as Id,
        app_id: r.get::<_, Option<i64>>(2)?.map(|v| v as Id),
        author: match r.get::<_, Option<i64>>(3)? {
            Some(u) => Author::User(u as Id),
            None => Author::Page,
        },
        message: r.get(4)?,
        hidden: r.get(5)?,
        created_at: r.get(6)?,
    })
}

/// The next number of a counter (`post` or `comment`), inside the caller's transaction.
pub(crate) fn next_id(conn: &Connection, name: &str) -> StoreResult<Id> {
    let what = "drawing a content id";
    conn.prepare_cached("UPDATE content_ids SET last = last + 1 WHERE name = ?1")
        .ctx(what)?
        .execute([name])
        .ctx(what)?;
    let last: i64 = conn
        .prepare_cached("SELECT last FROM content_ids WHERE name = ?1")
        .ctx(what)?
        .query_row([name], |r| r.get(0))
        .ctx(what)?;
    Ok(last as Id)
}

pub(crate) fn insert_post(conn: &mut Connection, p: &Post) -> StoreResult<Id> {
    let what = "inserting a post";
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .ctx(what)?;
    let id = next_id(&tx, "post")?;
    tx.prepare_cached(&format!(
        "INSERT INTO posts ({POST_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    ))
    .ctx(what)?
    .execute(params![
        id as i64,
        p.page_id as i64,
        p.app_id.map(|a| a as i64),
        p.message,
        p.link,
        p.published,
        p.created_at,
        p.updated_at
    ])
    .ctx(what)?;
    tx.commit().ctx(what)?;
    Ok(id)
}

pub(crate) fn post(conn: &Connection, id: Id) -> StoreResult<Option<Post>> {
    conn.prepare_cached(&format!("SELECT {POST_COLS} FROM posts WHERE id = ?1"))
        .ctx("loading a post")?
        .query_row([id as i64], post_row)
        .optional()
        .ctx("loading a post")
}

pub(crate) fn posts_of_page(conn: &Connection, page: Id) -> StoreResult<Vec<Post>> {
    let what = "listing a Page's posts";
    let mut st = conn
        .prepare_cached(&format!(
            "SELECT {POST_COLS} FROM posts WHERE page_id = ?1 ORDER BY id"
        ))
        .ctx(what)?;
    let rows = st.query_map([page as i64], post_row).ctx(what)?;
    rows.collect::<Result<_, _>>().ctx(what)
}

pub(crate) fn edit_post(conn: &Connection, id: Id, message: &str, at: Unix) -> StoreResult<bool> {
    let n = conn
        .prepare_cached("UPDATE posts SET message = ?1, updated_at = ?2 WHERE id = ?3")
        .ctx("editing a post")?
        .execute(params![message, at, id as i64])
        .ctx("editing a post")?;
    Ok(n > 0)
}

pub(crate) fn delete_post(conn: &mut Connection, id: Id) -> StoreResult<bool> {
    let what = "deleting a post";
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .ctx(what)?;
    tx.prepare_cached("DELETE FROM comments WHERE post_id = ?1")
        .ctx(what)?
        .execute([id as i64])
        .ctx(what)?;
    let n = tx
        .prepare_cached("DELETE FROM posts WHERE id = ?1")
        .ctx(what)?
        .execute([id as i64])
        .ctx(what)?;
    tx.commit().ctx(what)?;
    Ok(n > 0)
}

pub(crate) fn insert_comment(conn: &mut Connection, c: &Comment) -> StoreResult<Id> {
    let what = "inserting a comment";
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .ctx(what)?;
    let id = next_id(&tx, "comment")?;
    let user = match c.author {
        Author::User(u) => Some(u as i64),
        Author::Page => None,
    };
    tx.prepare_cached(&format!(
        "INSERT INTO comments ({COMMENT_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    ))
    .ctx(what)?
    .execute(params![
        id as i64,
        c.post_id as i64,
        c.app_id.map(|a| a as i64),
        user,
        c.message,
        c.hidden,
        c.created_at
    ])
    .ctx(what)?;
    tx.commit().ctx(what)?;
    Ok(id)
}

pub(crate) fn comment(conn: &Connection, id: Id) -> StoreResult<Option<Comment>> {
    conn.prepare_cached(&format!(
        "SELECT {COMMENT_COLS} FROM comments WHERE id = ?1"
    ))
    .ctx("loading a comment")?
    .query_row([id as i64], comment_row)
    .optional()
    .ctx("loading a comment")
}

pub(crate) fn comments_of_post(conn: &Connection, post: Id) -> StoreResult<Vec<Comment>> {
    let what = "listing a post's comments";
    let mut st = conn
        .prepare_cached(&format!(
            "SELECT {COMMENT_COLS} FROM comments WHERE post_id = ?1 ORDER BY id"
        ))
        .ctx(what)?;
    let rows = st.query_map([post as i64], comment_row).ctx(what)?;
    rows.collect::<Result<_, _>>().ctx(what)
}

pub(crate) fn update_comment(
    conn: &Connection,
    id: Id,
    message: Option<&str>,
    hidden: Option<bool>,
) -> StoreResult<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE comments SET message = COALESCE(?1, message), hidden = COALESCE(?2, hidden) \
             WHERE id = ?3",
        )
        .ctx("updating a comment")?
        .execute(params![message, hidden, id as i64])
        .ctx("updating a comment")?;
    Ok(n > 0)
}

pub(crate) fn delete_comment(conn: &Connection, id: Id) -> StoreResult<bool> {
    let n = conn
        .prepare_cached("DELETE FROM comments WHERE id = ?1")
        .ctx("deleting a comment")?
        .execute([id as i64])
        .ctx("deleting a comment")?;
    Ok(n > 0)
}
