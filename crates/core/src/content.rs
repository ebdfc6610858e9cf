//! The Page content store's records (spec §3, §8): posts on a Page and comments on posts, the
//! Page's editable information, its call-to-action buttons and its Instant Articles.
//!
//! A post's public id is `<page-id>_<post-id>`, a comment's `<post-id>_<comment-id>`; the store
//! numbers both in creation order, so newer content has larger ids.

use crate::model::{AppId, Id, PageId, Unix, UserId};

/// A post on a Page, published as the Page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Post {
    /// The post's own number (the part after `_`); assigned by the store on insert.
    pub id: Id,
    pub page_id: PageId,
    /// The app whose token created it (development-mode apps' content is visible only to
    /// people with a role on the app, spec §4).
    pub app_id: Option<AppId>,
    pub message: String,
    pub link: Option<String>,
    pub published: bool,
    pub created_at: Unix,
    pub updated_at: Unix,
}

impl Post {
    /// `<page-id>_<post-id>`.
    pub fn public_id(&self) -> String {
        format!("{}_{}", self.page_id, self.id)
    }
}

/// Who wrote a comment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Author {
    /// The Page itself (a reply made with a Page token).
    Page,
    /// A person (a follower's comment, added through the admin API or a seed).
    User(UserId),
}

/// A comment on a post.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    /// The comment's own number (the part after `_`); assigned by the store on insert.
    pub id: Id,
    pub post_id: Id,
    /// The app whose token wrote it; `None` for people's comments made on Facebook itself.
    pub app_id: Option<AppId>,
    pub author: Author,
    pub message: String,
    pub hidden: bool,
    pub created_at: Unix,
}

impl Comment {
    /// `<post-id>_<comment-id>`.
    pub fn public_id(&self) -> String {
        format!("{}_{}", self.post_id, self.id)
    }
}

/// A Page's editable information; `None` is unset.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageInfo {
    pub about: Option<String>,
    pub description: Option<String>,
    pub website: Option<String>,
    pub phone: Option<String>,
    /// Set by seeds only (the Graph API does not change them).
    pub emails: Option<Vec<String>>,
    pub username: Option<String>,
    pub fan_count: Option<u64>,
    /// The cover photo's URL.
    pub cover: Option<String>,
}

/// A call-to-action button on a Page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallToAction {
    /// Assigned by the store on insert.
    pub id: Id,
    pub page_id: PageId,
    /// `BOOK_NOW`, `CALL_NOW`, ...
    pub kind: String,
    pub web_url: Option<String>,
    pub created_at: Unix,
    /// The app it was made through (development-mode visibility).
    pub app_id: Option<AppId>,
}

/// An Instant Article of a Page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstantArticle {
    /// Assigned by the store on insert.
    pub id: Id,
    pub page_id: PageId,
    pub html_source: String,
    pub published: bool,
    pub created_at: Unix,
    /// The app it was made through (development-mode visibility).
    pub app_id: Option<AppId>,
}

/// What an id with an underscore names: `(<left>, <right>)`, both numbers.
pub fn split_id(id: &str) -> Option<(Id, Id)> {
    let (a, b) = id.split_once('_')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert_eq!(split_id("12_34"), Some((12, 34)));
        assert_eq!(split_id("12"), None);
        assert_eq!(split_id("a_34"), None);
        assert_eq!(split_id("1_2_3"), None);
    }
}
