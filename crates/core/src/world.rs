//! A seed world as parsed from a file, before its references are resolved against the store.
//!
//! Every item carries the line it starts on, so that a problem found while resolving it (an
//! unknown reference, a key that already belongs to another id) names the file and line.

use crate::model::{AppId, AppMode, AppRole, PageId, Platform, RateLimits, UserId};
use crate::tasks::TaskSet;

/// A reference to an app, user or Page: its seed key, or its numeric id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ref {
    pub text: String,
    pub line: u32,
}

#[derive(Clone, Debug, Default)]
pub struct World {
    /// The file the world came from, for error messages.
    pub source: String,
    pub apps: Vec<WorldApp>,
    pub users: Vec<WorldUser>,
    pub pages: Vec<WorldPage>,
    pub grants: Vec<WorldGrant>,
    pub posts: Vec<WorldPost>,
    pub messages: Vec<WorldMessage>,
}

#[derive(Clone)]
pub struct WorldApp {
    pub line: u32,
    pub key: Option<String>,
    pub id: Option<AppId>,
    pub name: String,
    pub secret: Option<String>,
    pub client_token: Option<String>,
    pub mode: AppMode,
    pub platform: Platform,
    pub require_appsecret_proof: bool,
    pub redirect_uris: Vec<String>,
    pub advanced_access: Vec<String>,
    pub deauthorize_callback_url: Option<String>,
    pub data_deletion_url: Option<String>,
    pub review_approved_at: Option<i64>,
    pub roles: Vec<(Ref, AppRole)>,
    pub rate_limits: RateLimits,
    /// `None`: [`crate::model::DEFAULT_TEST_USER_LIMIT`].
    pub test_user_limit: Option<u32>,
}

impl std::fmt::Debug for WorldApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorldApp")
            .field("line", &self.line)
            .field("key", &self.key)
            .field("id", &self.id)
            .field("name", &self.name)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field(
                "client_token",
                &self.client_token.as_ref().map(|_| "<redacted>"),
            )
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
pub struct WorldUser {
    pub line: u32,
    pub key: Option<String>,
    pub id: Option<UserId>,
    pub name: String,
    pub email: Option<String>,
    pub password: Option<String>,
}

impl std::fmt::Debug for WorldUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorldUser")
            .field("line", &self.line)
            .field("key", &self.key)
            .field("id", &self.id)
            .field("name", &self.name)
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug)]
pub struct WorldPage {
    pub line: u32,
    pub key: Option<String>,
    pub id: Option<PageId>,
    pub name: String,
    pub category: String,
    /// Who holds which tasks (a `roles` table in the file is already mapped to tasks).
    pub tasks: Vec<(Ref, TaskSet)>,
}

#[derive(Clone, Debug)]
pub struct WorldGrant {
    pub line: u32,
    pub user: Ref,
    pub app: Ref,
    pub granted: Vec<String>,
    pub declined: Vec<String>,
}

/// A post on a Page, with followers' comments on it. `key` makes re-applying idempotent.
#[derive(Clone, Debug)]
pub struct WorldPost {
    pub line: u32,
    pub key: String,
    pub page: Ref,
    /// The app the post was made through (`None`: on Facebook itself).
    pub app: Option<Ref>,
    pub message: String,
    pub published: bool,
    /// Unix seconds; `None`: the time of the first apply.
    pub created_time: Option<i64>,
    pub comments: Vec<WorldComment>,
}

/// A follower's comment on a seeded post.
#[derive(Clone, Debug)]
pub struct WorldComment {
    pub line: u32,
    pub user: Ref,
    pub message: String,
    pub hidden: bool,
}

/// A message a person sent to a Page. `key` makes re-applying idempotent.
#[derive(Clone, Debug)]
pub struct WorldMessage {
    pub line: u32,
    pub key: String,
    pub page: Ref,
    pub user: Ref,
    pub message: String,
    /// Unix seconds; `None`: the time of the first apply.
    pub created_time: Option<i64>,
}

/// A problem in a seed world: `file:line: problem`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedError {
    pub source: String,
    pub line: u32,
    pub problem: String,
}

impl std::fmt::Display for SeedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.source, self.line, self.problem)
    }
}

impl std::error::Error for SeedError {}
