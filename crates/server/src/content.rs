//! Admin routes for the Page content store: followers' comments, so moderation has something
//! to act on.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use serde_json::json;

use graphtoken_core::content::{self, Author, Comment};
use graphtoken_core::model::Id;
use graphtoken_core::store::Store;

use crate::admin::{body, error, text, Answer, St};
use crate::render;
use crate::AppState;

pub fn routes<S: Store>() -> Router<Arc<AppState<S>>> {
    Router::new().route(
        "/pages/{page}/posts/{post}/comments",
        post(follower_comment::<S>),
    )
}

/// `POST /_admin/pages/{page}/posts/{post}/comments {"user", "message"}` → `{"id"}`: the person
/// (seed key or id) comments on the post (`<page-id>_<post-id>` or the post's own number) on
/// Facebook itself, so the comment is visible to every app.
async fn follower_comment<S: Store>(
    State(st): St<S>,
    Path((p, post)): Path<(String, String)>,
    bytes: Bytes,
) -> Answer {
    let g = &st.services;
    let page = g
        .find_page(&p)
        .await?
        .ok_or_else(|| error(StatusCode::NOT_FOUND, format!("no page `{p}`")))?;
    let number: Option<Id> = match content::split_id(&post) {
        Some((pg, n)) if pg == page.id => Some(n),
        Some(_) => None,
        None => post.parse().ok(),
    };
    let no_post = || {
        error(
            StatusCode::NOT_FOUND,
            format!("no post `{post}` on page `{p}`"),
        )
    };
    let number = number.ok_or_else(no_post)?;
    let the_post = g
        .post(number)
        .await?
        .filter(|x| x.page_id == page.id)
        .ok_or_else(no_post)?;
    let m = body(&bytes)?;
    let who = text(&m, "user").ok_or_else(|| {
        error(
            StatusCode::BAD_REQUEST,
            "`user` is required (a seed key or an id)",
        )
    })?;
    let message = text(&m, "message")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| error(StatusCode::BAD_REQUEST, "`message` is required"))?;
    let user = g
        .find_user(&who)
        .await?
        .ok_or_else(|| error(StatusCode::NOT_FOUND, format!("no user `{who}`")))?;
    let comment = Comment {
        id: 0,
        post_id: the_post.id,
        app_id: None,
        author: Author::User(user.id),
        message,
        hidden: false,
        created_at: g.now(),
    };
    let comment = g.add_comment(page.id, comment).await?;
    Ok(render::json(
        StatusCode::OK,
        &json!({ "id": comment.public_id() }),
    ))
}
