//! SQL for the Page content store (see `graphtoken_core::content`): posts and comments.
//!
//! Post and comment numbers come from the `content_ids` counters (created by migration 3), so a
//! number is never reused, even after the newest post is deleted.

use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};

use graphtoken_core::content::{Author, Comment, Post};
use graphtoken_core::model::{Id, PageId, Unix, UserId};
use graphtoken_core::store::StoreResult;

use crate::error::Ctx;
use crate::rows::{self, Sql};

const POST_COLS: &str = "id, page_id, app_id, message, link, published, created_at, updated_at";
const COMMENT_COLS: &str = "id, post_id, app_id, user_id, message, hidden, created_at";

fn post_row(r: &Row) -> rusqlite::Result<Post> {
    Ok(Post {
        id: rows::id(r, 0)?,
        page_id: rows::id(r, 1)?,
        app_id: rows::opt_id(r, 2)?,
        message: r.get(3)?,
        link: r.get(4)?,
        published: r.get(5)?,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
    })
}

fn comment_row(r: &Row) -> rusqlite::Result<Comment> {
    Ok(Comment {
        id: rows::id(r, 0)?,
        post_id: rows::id(r, 1)?,
        app_id: rows::opt_id(r, 2)?,
        author: match r.get::<_, Option<i64>>(3)? {
            Some(u) => Author::User(UserId(u as u64)),
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
        id.sql(),
        p.page_id.sql(),
        p.app_id.map(|a| a.sql()),
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
        .query_row([id.sql()], post_row)
        .optional()
        .ctx("loading a post")
}

pub(crate) fn posts_of_page(conn: &Connection, page: PageId) -> StoreResult<Vec<Post>> {
    let what = "listing a Page's posts";
    let mut st = conn
        .prepare_cached(&format!(
            "SELECT {POST_COLS} FROM posts WHERE page_id = ?1 ORDER BY id"
        ))
        .ctx(what)?;
    let rows = st.query_map([page.sql()], post_row).ctx(what)?;
    rows.collect::<Result<_, _>>().ctx(what)
}

pub(crate) fn edit_post(conn: &Connection, id: Id, message: &str, at: Unix) -> StoreResult<bool> {
    let n = conn
        .prepare_cached("UPDATE posts SET message = ?1, updated_at = ?2 WHERE id = ?3")
        .ctx("editing a post")?
        .execute(params![message, at, id.sql()])
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
        .execute([id.sql()])
        .ctx(what)?;
    let n = tx
        .prepare_cached("DELETE FROM posts WHERE id = ?1")
        .ctx(what)?
        .execute([id.sql()])
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
        Author::User(u) => Some(u.sql()),
        Author::Page => None,
    };
    tx.prepare_cached(&format!(
        "INSERT INTO comments ({COMMENT_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    ))
    .ctx(what)?
    .execute(params![
        id.sql(),
        c.post_id.sql(),
        c.app_id.map(|a| a.sql()),
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
    .query_row([id.sql()], comment_row)
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
    let rows = st.query_map([post.sql()], comment_row).ctx(what)?;
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
        .execute(params![message, hidden, id.sql()])
        .ctx("updating a comment")?;
    Ok(n > 0)
}

pub(crate) fn delete_comment(conn: &Connection, id: Id) -> StoreResult<bool> {
    let n = conn
        .prepare_cached("DELETE FROM comments WHERE id = ?1")
        .ctx("deleting a comment")?
        .execute([id.sql()])
        .ctx("deleting a comment")?;
    Ok(n > 0)
}
