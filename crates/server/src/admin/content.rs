//! Admin routes for the Page content store: followers' comments, so moderation has something
//! to act on.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use serde::Deserialize;
use serde_json::json;

use graphtoken_core::content::{self, Author, Comment};
use graphtoken_core::model::Id;

use super::reply::{bad, error, ok, page, user, Answer, Body, St, Text};
use crate::AppState;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route(
        "/pages/{page}/posts/{post}/comments",
        post(follower_comment),
    )
}

/// What a person writes to a Page: a comment on a post, or a message.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Said {
    pub(super) user: Text,
    pub(super) message: String,
}

/// `POST /_admin/pages/{page}/posts/{post}/comments {"user", "message"}` → `{"id"}`: the person
/// (seed key or id) comments on the post (`<page-id>_<post-id>` or the post's own number) on
/// Facebook itself, so the comment is visible to every app.
async fn follower_comment(
    State(st): St,
    Path((p, post)): Path<(String, String)>,
    Body(b): Body<Said>,
) -> Answer {
    let page = page(&st, &p).await?;
    let number: Option<Id> = match content::split_id(&post) {
        Some((pg, n)) if pg == page.id.0 => Some(n),
        Some(_) => None,
        None => post.parse().ok(),
    };
    let no_post = || {
        let message = format!("no post `{post}` on page `{p}`");
        error(StatusCode::NOT_FOUND, message)
    };
    let number = number.ok_or_else(no_post)?;
    let the_post = st
        .services
        .post(number)
        .await?
        .filter(|x| x.page_id == page.id)
        .ok_or_else(no_post)?;
    if b.message.is_empty() {
        return Err(bad("`message` is required"));
    }
    let user = user(&st, &b.user).await?;
    let comment = Comment {
        id: 0,
        post_id: the_post.id,
        app_id: None,
        author: Author::User(user.id),
        message: b.message,
        hidden: false,
        created_at: st.services.now(),
    };
    let comment = st.services.add_comment(page.id, comment).await?;
    ok(json!({ "id": comment.public_id() }))
}
