//! The Page content store's Graph surface (spec §3, §8): `/{page-id}/feed|posts|published_posts`,
//! `/{post-id}` (`<page-id>_<post-id>`), `/{post-id}/comments` and `/{comment-id}`
//! (`<post-id>_<comment-id>`), every call under the policy's operations: PUBLISH for writing
//! posts, READ_FEED for reading them, READ_COMMENTS for reading comments, MODERATE_COMMENTS for
//! replying as the Page, hiding and deleting comments.
//!
//! Content an app in development mode created is visible only to people with a role on that app
//! (spec §4); to anyone else it does not exist (100/33).

use serde_json::{json, Map, Value};

use crate::auth::Caller;
use crate::content::{self, Author, Comment, Post};
use crate::error::GraphError;
use crate::fields::{self, selection, Field};
use crate::model::{Id, Page, PageId};
use crate::policy::{self, MODERATE_COMMENTS, PUBLISH, READ_COMMENTS, READ_FEED};
use crate::request::{GraphRequest, Method};
use crate::services::Services;
use crate::timefmt;

use super::paging::{self, EdgeQuery, Window};

/// Fields a Post node has (those graphtoken does not fill are omitted when asked for).
const POST_FIELDS: &[&str] = super::catalogue::POST;
const POST_DEFAULTS: &[&str] = &["created_time", "message", "id"];

/// Fields a Comment node has.
const COMMENT_FIELDS: &[&str] = super::catalogue::COMMENT;
const COMMENT_DEFAULTS: &[&str] = &["created_time", "from", "message", "id"];

/// The `fields` parameter, parsed.
fn fields_param(req: &GraphRequest) -> Result<Option<Vec<Field>>, GraphError> {
    req.params.get("fields").map(fields::parse).transpose()
}

/// Newest first: paging keys that grow as ids shrink.
pub(super) fn newest_first_key(id: Id) -> Id {
    (i64::MAX as Id).saturating_sub(id)
}

// ---- /{page-id}/feed|posts|published_posts ----------------------------------------------------

/// `GET /{page-id}/feed|posts|published_posts` and `POST /{page-id}/feed`.
pub async fn page_edge(
    g: &Services,
    req: &GraphRequest,
    caller: &Caller,
    page: &Page,
    edge: &str,
) -> Result<Value, GraphError> {
    match req.method {
        Method::Post if edge == "feed" => publish(g, req, caller, page).await,
        Method::Get => read_feed(g, req, caller, page, edge, &EdgeQuery::from_request(req)?).await,
        _ => Err(GraphError::unknown_object(
            &page.id.to_string(),
            req.method.as_str(),
        )),
    }
}

/// `GET /{page-id}/feed|posts|published_posts`, and the Page fields of those names
/// (`fields=feed.limit(2){message,comments{message}}`): READ_FEED, then one window of posts.
pub async fn read_feed(
    g: &Services,
    req: &GraphRequest,
    caller: &Caller,
    page: &Page,
    edge: &str,
    q: &EdgeQuery,
) -> Result<Value, GraphError> {
    g.authorize(caller, page.id, &READ_FEED).await?;
    let v = View { g, req, caller };
    v.feed(
        page,
        edge,
        q.fields.as_deref(),
        q.fields_param.as_deref(),
        &q.window,
    )
    .await
}

/// `POST /{page-id}/feed`: `message`, `link`, `published` → `{"id": "<page-id>_<post-id>"}`.
async fn publish(
    g: &Services,
    req: &GraphRequest,
    caller: &Caller,
    page: &Page,
) -> Result<Value, GraphError> {
    g.authorize(caller, page.id, &PUBLISH).await?;
    let message = req.params.non_empty("message");
    let link = req.params.non_empty("link");
    if message.is_none() && link.is_none() {
        return Err(GraphError::param("Missing message or attachment"));
    }
    let published = req.params.boolean("published")?.unwrap_or(true);
    let now = g.now();
    let post = Post {
        id: 0,
        page_id: page.id,
        app_id: Some(caller.principal.app().id),
        message: message.unwrap_or_default().to_string(),
        link: link.map(str::to_string),
        published,
        created_at: now,
        updated_at: now,
    };
    let post = g.add_post(post).await?;
    Ok(json!({ "id": post.public_id() }))
}

// ---- /{post-id}, /{post-id}/comments, /{comment-id} -------------------------------------------

/// What an id with an underscore names, as this caller may see it.
enum Object {
    Post(Post),
    Comment(Post, Comment),
}

async fn resolve(
    g: &Services,
    caller: &Caller,
    segment: &str,
) -> Result<Option<Object>, GraphError> {
    let Some((left, right)) = content::split_id(segment) else {
        return Ok(None);
    };
    if let Some(post) = g.post(right).await? {
        if post.page_id.0 == left {
            return Ok(g
                .visible(caller, post.app_id)
                .await?
                .then_some(Object::Post(post)));
        }
    }
    if let Some(comment) = g.comment(right).await? {
        if comment.post_id == left {
            let Some(post) = g.post(left).await? else {
                return Ok(None);
            };
            let seen =
                g.visible(caller, post.app_id).await? && g.visible(caller, comment.app_id).await?;
            return Ok(seen.then_some(Object::Comment(post, comment)));
        }
    }
    Ok(None)
}

/// `/{post-id}` and `/{comment-id}` with what follows them.
pub async fn object(
    g: &Services,
    req: &GraphRequest,
    caller: &Caller,
    segment: &str,
    rest: &[&str],
) -> Result<Value, GraphError> {
    let not_found = || GraphError::unknown_object(segment, req.method.as_str());
    let object = resolve(g, caller, segment).await?.ok_or_else(not_found)?;
    let v = View { g, req, caller };
    match (object, rest) {
        (Object::Post(post), []) => match req.method {
            Method::Get => {
                g.authorize(caller, post.page_id, &READ_FEED).await?;
                let page = v.page(post.page_id).await?;
                let fields = fields_param(req)?;
                v.post(&page, &post, fields.as_deref(), POST_DEFAULTS).await
            }
            Method::Post => {
                g.authorize(caller, post.page_id, &PUBLISH).await?;
                let message = req
                    .params
                    .non_empty("message")
                    .ok_or_else(|| GraphError::param("The parameter message is required"))?;
                if !g.edit_post(&post, message).await? {
                    return Err(not_found());
                }
                Ok(json!({ "success": true }))
            }
            Method::Delete => {
                g.authorize(caller, post.page_id, &PUBLISH).await?;
                if !g.delete_post(&post).await? {
                    return Err(not_found());
                }
                Ok(json!({ "success": true }))
            }
        },
        (Object::Post(post), ["comments"]) => match req.method {
            Method::Get => {
                g.authorize(caller, post.page_id, &READ_COMMENTS).await?;
                let page = v.page(post.page_id).await?;
                v.comments(&page, &post, &EdgeQuery::from_request(req)?)
                    .await
            }
            Method::Post => {
                g.authorize(caller, post.page_id, &MODERATE_COMMENTS)
                    .await?;
                let message = req
                    .params
                    .non_empty("message")
                    .ok_or_else(|| GraphError::param("Missing message or attachment"))?;
                let comment = Comment {
                    id: 0,
                    post_id: post.id,
                    app_id: Some(caller.principal.app().id),
                    author: Author::Page,
                    message: message.to_string(),
                    hidden: false,
                    created_at: g.now(),
                };
                let comment = g.add_comment(post.page_id, comment).await?;
                Ok(json!({ "id": comment.public_id() }))
            }
            Method::Delete => Err(not_found()),
        },
        (Object::Comment(post, comment), []) => match req.method {
            Method::Get => {
                g.authorize(caller, post.page_id, &READ_COMMENTS).await?;
                let page = v.page(post.page_id).await?;
                let fields = fields_param(req)?;
                v.comment(&page, &comment, fields.as_deref()).await
            }
            Method::Post => {
                g.authorize(caller, post.page_id, &MODERATE_COMMENTS)
                    .await?;
                let hidden = req.params.boolean("is_hidden")?;
                let message = req.params.non_empty("message");
                if hidden.is_none() && message.is_none() {
                    return Err(GraphError::param(
                        "The parameter is_hidden or message is required",
                    ));
                }
                // The Page edits only what it wrote itself.
                if message.is_some() && !policy::may_edit_comment(&comment) {
                    return Err(GraphError::permission_denied());
                }
                if !g
                    .update_comment(post.page_id, comment.id, message, hidden)
                    .await?
                {
                    return Err(not_found());
                }
                Ok(json!({ "success": true }))
            }
            Method::Delete => {
                g.authorize(caller, post.page_id, &MODERATE_COMMENTS)
                    .await?;
                if !g.delete_comment(post.page_id, comment.id).await? {
                    return Err(not_found());
                }
                Ok(json!({ "success": true }))
            }
        },
        _ => Err(GraphError::unknown_path(&format!("/{}", rest.join("/")))),
    }
}

// ---- rendering ----------------------------------------------------------------------------------

struct View<'a> {
    g: &'a Services,
    req: &'a GraphRequest,
    caller: &'a Caller,
}

impl View<'_> {
    async fn page(&self, id: PageId) -> Result<std::sync::Arc<Page>, GraphError> {
        self.g
            .page(id)
            .await?
            .ok_or_else(|| GraphError::internal_because("a post on a Page that is gone"))
    }

    /// The Page's published posts this caller may see, newest first, one window of them.
    async fn feed(
        &self,
        page: &Page,
        edge: &str,
        fields: Option<&[Field]>,
        fields_param: Option<&str>,
        w: &Window,
    ) -> Result<Value, GraphError> {
        let mut posts = Vec::new();
        for p in self.g.posts_of_page(page.id).await?.into_iter().rev() {
            if p.published && self.g.visible(self.caller, p.app_id).await? {
                posts.push(p);
            }
        }
        let keys: Vec<Id> = posts.iter().map(|p| newest_first_key(p.id)).collect();
        let (range, more_before, more_after) = w.apply(&keys);
        let ends = keys
            .get(range.start)
            .zip(range.end.checked_sub(1).and_then(|e| keys.get(e)))
            .filter(|_| !range.is_empty())
            .map(|(a, b)| (*a, *b));
        let mut items = Vec::with_capacity(range.len());
        for p in &posts[range] {
            items.push(Box::pin(self.post(page, p, fields, POST_DEFAULTS)).await?);
        }
        Ok(paging::page(
            self.req,
            paging::Slice {
                edge_path: paging::EdgePath {
                    node: &page.id,
                    edge,
                },
                fields: fields_param,
                items,
                first_last: ends,
                more_before,
                more_after,
                limit: w.limit,
            },
        ))
    }

    async fn post(
        &self,
        page: &Page,
        post: &Post,
        fields: Option<&[Field]>,
        defaults: &'static [&'static str],
    ) -> Result<Value, GraphError> {
        let mut out = Map::new();
        for f in selection(fields, defaults) {
            let v = match f.name.as_str() {
                "id" => Some(json!(post.public_id())),
                "message" if !post.message.is_empty() => Some(json!(post.message)),
                "created_time" => Some(json!(timefmt::graph_time(post.created_at))),
                "updated_time" => Some(json!(timefmt::graph_time(post.updated_at))),
                "from" => Some(json!({"name": page.name, "id": page.id.to_string()})),
                "permalink_url" => Some(json!(format!(
                    "https://www.facebook.com/{}/posts/{}",
                    page.id, post.id
                ))),
                "is_published" => Some(json!(post.published)),
                "is_hidden" | "is_expired" => Some(json!(false)),
                "link" => post.link.as_ref().map(|l| json!(l)),
                "status_type" => Some(json!(if post.link.is_some() {
                    "shared_story"
                } else {
                    "mobile_status_update"
                })),
                "comments" => {
                    self.g
                        .authorize(self.caller, page.id, &READ_COMMENTS)
                        .await?;
                    let q = EdgeQuery::from_field(&f)?;
                    let edge = self.comments(page, post, &q);
                    Some(Box::pin(edge).await?)
                }
                other if POST_FIELDS.contains(&other) => None,
                other => return Err(GraphError::unknown_field(other, "Post")),
            };
            if let Some(v) = v {
                out.insert(f.name.clone(), v);
            }
        }
        Ok(Value::Object(out))
    }

    /// The post's comments this caller may see, oldest first (Facebook's `chronological`).
    async fn comments(&self, page: &Page, post: &Post, q: &EdgeQuery) -> Result<Value, GraphError> {
        let (fields, fields_param, w) = (q.fields.as_deref(), q.fields_param.as_deref(), &q.window);
        let mut comments = Vec::new();
        for c in self.g.comments_of_post(post.id).await? {
            if self.g.visible(self.caller, c.app_id).await? {
                comments.push(c);
            }
        }
        let ids: Vec<Id> = comments.iter().map(|c| c.id).collect();
        let (range, more_before, more_after) = w.apply(&ids);
        let shown = &comments[range];
        let mut items = Vec::with_capacity(shown.len());
        for c in shown {
            items.push(self.comment(page, c, fields).await?);
        }
        let ends = shown.first().zip(shown.last()).map(|(a, b)| (a.id, b.id));
        Ok(paging::page(
            self.req,
            paging::Slice {
                edge_path: paging::EdgePath {
                    node: &post.public_id(),
                    edge: "comments",
                },
                fields: fields_param,
                items,
                first_last: ends,
                more_before,
                more_after,
                limit: w.limit,
            },
        ))
    }

    async fn comment(
        &self,
        page: &Page,
        c: &Comment,
        fields: Option<&[Field]>,
    ) -> Result<Value, GraphError> {
        let mut out = Map::new();
        for f in selection(fields, COMMENT_DEFAULTS) {
            let v = match f.name.as_str() {
                "id" => Some(json!(c.public_id())),
                "message" => Some(json!(c.message)),
                "created_time" => Some(json!(timefmt::graph_time(c.created_at))),
                "from" => Some(self.author(page, c.author).await?),
                "is_hidden" => Some(json!(c.hidden)),
                "can_hide" => Some(json!(c.author != Author::Page)),
                "can_remove" | "can_comment" | "can_like" => Some(json!(true)),
                "comment_count" | "like_count" => Some(json!(0)),
                "user_likes" => Some(json!(false)),
                "permalink_url" => Some(json!(format!(
                    "https://www.facebook.com/{}/posts/{}?comment_id={}",
                    page.id, c.post_id, c.id
                ))),
                other if COMMENT_FIELDS.contains(&other) => None,
                other => return Err(GraphError::unknown_field(other, "Comment")),
            };
            if let Some(v) = v {
                out.insert(f.name.clone(), v);
            }
        }
        Ok(Value::Object(out))
    }

    /// `from`: the Page, or the person as the caller's app knows them (their app-scoped id).
    async fn author(&self, page: &Page, author: Author) -> Result<Value, GraphError> {
        match author {
            Author::Page => Ok(json!({"name": page.name, "id": page.id.to_string()})),
            Author::User(user) => {
                let app = self.caller.principal.app().id;
                let name = self
                    .g
                    .user(user)
                    .await?
                    .map(|u| u.name.clone())
                    .unwrap_or_default();
                let asid = self.g.asid(user, app).await?;
                Ok(json!({"name": name, "id": asid.to_string()}))
            }
        }
    }
}
