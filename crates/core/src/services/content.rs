//! Page content (spec §3, §8): posts and comments, and which of them a caller may see
//! (development-mode visibility, [`crate::policy::sees`]).

use super::Services;
use crate::auth::Caller;
use crate::content::{Comment, Post};
use crate::error::GraphError;
use crate::events::{Change, Event, Item};
use crate::model::{AppId, Id, PageId};
use crate::policy;

impl Services {
    /// Whether the caller may see what the app `made_by` created (spec §4).
    pub async fn visible(
        &self,
        caller: &Caller,
        made_by: Option<AppId>,
    ) -> Result<bool, GraphError> {
        let app = match made_by {
            Some(id) => self.app(id).await?,
            None => None,
        };
        Ok(policy::sees(caller, app.as_deref()))
    }

    /// The items the caller may see by [`Services::visible`] (`app_of` names the app that made
    /// each), in their order.
    pub async fn visible_only<T>(
        &self,
        caller: &Caller,
        items: Vec<T>,
        app_of: impl Fn(&T) -> Option<AppId>,
    ) -> Result<Vec<T>, GraphError> {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            if self.visible(caller, app_of(&item)).await? {
                out.push(item);
            }
        }
        Ok(out)
    }

    pub async fn post(&self, id: Id) -> Result<Option<Post>, GraphError> {
        Ok(self.store.post(id).await?)
    }

    pub async fn comment(&self, id: Id) -> Result<Option<Comment>, GraphError> {
        Ok(self.store.comment(id).await?)
    }

    /// Every post on the Page, oldest first.
    pub async fn posts_of_page(&self, page: PageId) -> Result<Vec<Post>, GraphError> {
        Ok(self.store.posts_of_page(page).await?)
    }

    /// Every comment on the post, oldest first.
    pub async fn comments_of_post(&self, post: Id) -> Result<Vec<Comment>, GraphError> {
        Ok(self.store.comments_of_post(post).await?)
    }

    /// Stores a new post (its `id` is assigned here) and returns it.
    pub async fn add_post(&self, mut post: Post) -> Result<Post, GraphError> {
        post.id = self.store.insert_post(&post).await?;
        self.content_changed(post.page_id, Item::Post(post.id), Change::Created);
        Ok(post)
    }

    /// Replaces a post's message. False when there is no such post.
    pub async fn edit_post(&self, post: &Post, message: &str) -> Result<bool, GraphError> {
        let found = self.store.edit_post(post.id, message, self.now()).await?;
        if found {
            self.content_changed(post.page_id, Item::Post(post.id), Change::Updated);
        }
        Ok(found)
    }

    /// Deletes a post and its comments. False when there is no such post.
    pub async fn delete_post(&self, post: &Post) -> Result<bool, GraphError> {
        let found = self.store.delete_post(post.id).await?;
        if found {
            self.content_changed(post.page_id, Item::Post(post.id), Change::Deleted);
        }
        Ok(found)
    }

    /// Stores a new comment on a post of `page` (its `id` is assigned here) and returns it.
    pub async fn add_comment(
        &self,
        page: PageId,
        mut comment: Comment,
    ) -> Result<Comment, GraphError> {
        comment.id = self.store.insert_comment(&comment).await?;
        self.content_changed(page, Item::Comment(comment.id), Change::Created);
        Ok(comment)
    }

    /// Changes a comment's message and/or hidden flag. False when there is no such comment.
    pub async fn update_comment(
        &self,
        page: PageId,
        id: Id,
        message: Option<&str>,
        hidden: Option<bool>,
    ) -> Result<bool, GraphError> {
        let found = self.store.update_comment(id, message, hidden).await?;
        if found {
            self.content_changed(page, Item::Comment(id), Change::Updated);
        }
        Ok(found)
    }

    /// False when there is no such comment.
    pub async fn delete_comment(&self, page: PageId, id: Id) -> Result<bool, GraphError> {
        let found = self.store.delete_comment(id).await?;
        if found {
            self.content_changed(page, Item::Comment(id), Change::Deleted);
        }
        Ok(found)
    }

    pub(super) fn content_changed(&self, page: PageId, item: Item, change: Change) {
        self.publish(Event::ContentChanged { page, item, change });
    }
}
