//! SQL for the Page content store (see `graphtoken_core::content`): posts and comments.
//!
//! Post and comment numbers come from the `content_ids` counters (created by migration 3), so a
//! number is never reused, even after the newest post is deleted.
//!
//! The backend runs each write in one transaction; the functions here run inside it.

use graphtoken_core::content::{Author, Comment, Post};
use graphtoken_core::model::{Id, PageId, Unix, UserId};
use graphtoken_core::store::StoreResult;

use crate::args;
use crate::db::{Db, Row};
use crate::rows::{self, Sql};

const POST_COLS: &str = "id, page_id, app_id, message, link, published, created_at, updated_at";
const COMMENT_COLS: &str = "id, post_id, app_id, user_id, message, hidden, created_at";

fn post_row(r: &Row) -> StoreResult<Post> {
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

fn comment_row(r: &Row) -> StoreResult<Comment> {
    Ok(Comment {
        id: rows::id(r, 0)?,
        post_id: rows::id(r, 1)?,
        app_id: rows::opt_id(r, 2)?,
        author: match r.get::<Option<i64>>(3)? {
            Some(u) => Author::User(UserId(u as u64)),
            None => Author::Page,
        },
        message: r.get(4)?,
        hidden: r.get(5)?,
        created_at: r.get(6)?,
    })
}

/// The next number of a counter (`post` or `comment`), inside the caller's transaction.
pub(crate) fn next_id(db: &dyn Db, name: &str) -> StoreResult<Id> {
    let what = "drawing a content id";
    db.execute(
        "UPDATE content_ids SET last = last + 1 WHERE name = ?1",
        args![name],
        what,
    )?;
    let last: i64 = db.required(
        "SELECT last FROM content_ids WHERE name = ?1",
        args![name],
        |r| r.get(0),
        what,
    )?;
    Ok(last as Id)
}

/// Draws the post's number and stores it, in the caller's transaction.
pub(crate) fn insert_post(db: &dyn Db, p: &Post) -> StoreResult<Id> {
    let what = "inserting a post";
    let id = next_id(db, "post")?;
    let sql = format!("INSERT INTO posts ({POST_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    let args = args![
        id.sql(),
        p.page_id.sql(),
        p.app_id.map(|a| a.sql()),
        p.message,
        p.link,
        p.published,
        p.created_at,
        p.updated_at
    ];
    db.execute(&sql, args, what)?;
    Ok(id)
}

pub(crate) fn post(db: &dyn Db, id: Id) -> StoreResult<Option<Post>> {
    let sql = format!("SELECT {POST_COLS} FROM posts WHERE id = ?1");
    db.one(&sql, args![id.sql()], post_row, "loading a post")
}

pub(crate) fn posts_of_page(db: &dyn Db, page: PageId) -> StoreResult<Vec<Post>> {
    let what = "listing a Page's posts";
    let sql = format!("SELECT {POST_COLS} FROM posts WHERE page_id = ?1 ORDER BY id");
    db.all(&sql, args![page.sql()], post_row, what)
}

pub(crate) fn edit_post(db: &dyn Db, id: Id, message: &str, at: Unix) -> StoreResult<bool> {
    let n = db.execute(
        "UPDATE posts SET message = ?1, updated_at = ?2 WHERE id = ?3",
        args![message, at, id.sql()],
        "editing a post",
    )?;
    Ok(n > 0)
}

/// Deletes the post and its comments, in the caller's transaction.
pub(crate) fn delete_post(db: &dyn Db, id: Id) -> StoreResult<bool> {
    let what = "deleting a post";
    db.execute(
        "DELETE FROM comments WHERE post_id = ?1",
        args![id.sql()],
        what,
    )?;
    let n = db.execute("DELETE FROM posts WHERE id = ?1", args![id.sql()], what)?;
    Ok(n > 0)
}

/// Draws the comment's number and stores it, in the caller's transaction.
pub(crate) fn insert_comment(db: &dyn Db, c: &Comment) -> StoreResult<Id> {
    let what = "inserting a comment";
    let id = next_id(db, "comment")?;
    let user = match c.author {
        Author::User(u) => Some(u.sql()),
        Author::Page => None,
    };
    let sql = format!("INSERT INTO comments ({COMMENT_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    let args = args![
        id.sql(),
        c.post_id.sql(),
        c.app_id.map(|a| a.sql()),
        user,
        c.message,
        c.hidden,
        c.created_at
    ];
    db.execute(&sql, args, what)?;
    Ok(id)
}

pub(crate) fn comment(db: &dyn Db, id: Id) -> StoreResult<Option<Comment>> {
    let sql = format!("SELECT {COMMENT_COLS} FROM comments WHERE id = ?1");
    db.one(&sql, args![id.sql()], comment_row, "loading a comment")
}

pub(crate) fn comments_of_post(db: &dyn Db, post: Id) -> StoreResult<Vec<Comment>> {
    let what = "listing a post's comments";
    let sql = format!("SELECT {COMMENT_COLS} FROM comments WHERE post_id = ?1 ORDER BY id");
    db.all(&sql, args![post.sql()], comment_row, what)
}

pub(crate) fn update_comment(
    db: &dyn Db,
    id: Id,
    message: Option<&str>,
    hidden: Option<bool>,
) -> StoreResult<bool> {
    let n = db.execute(
        "UPDATE comments SET message = COALESCE(?1, message), hidden = COALESCE(?2, hidden) \
         WHERE id = ?3",
        args![message, hidden, id.sql()],
        "updating a comment",
    )?;
    Ok(n > 0)
}

pub(crate) fn delete_comment(db: &dyn Db, id: Id) -> StoreResult<bool> {
    let n = db.execute(
        "DELETE FROM comments WHERE id = ?1",
        args![id.sql()],
        "deleting a comment",
    )?;
    Ok(n > 0)
}
