//! The records graphtoken keeps: apps, people, Pages, grants, login sessions and tokens.
//!
//! Ids are 64-bit numbers inside and strings only at the Graph edge. Each kind of id has its own
//! type ([`AppId`], [`UserId`], [`PageId`], [`Asid`], [`Psid`], [`SessionId`]), so that the
//! compiler refuses an app-scoped id where a page-scoped one belongs; [`Id`] is left for the
//! numbers of Page content (posts, comments, messages).

use crate::permissions::PUBLIC_PROFILE;
use crate::tasks::TaskSet;

/// The number of a piece of Page content (a post, a comment, a message, a button, an article).
pub type Id = u64;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }

        impl From<u64> for $name {
            fn from(n: u64) -> Self {
                $name(n)
            }
        }

        impl From<$name> for u64 {
            fn from(id: $name) -> u64 {
                id.0
            }
        }
    };
}

id_type!(
    /// An app's id (`/{app-id}`).
    AppId
);
id_type!(
    /// A person's own id. Apps never see it: they see the person's app-scoped id.
    UserId
);
id_type!(
    /// A Page's id (`/{page-id}`).
    PageId
);
id_type!(
    /// A person's app-scoped id: how one app knows them (`/me`'s `id`, spec §2.11).
    Asid
);
id_type!(
    /// A person's page-scoped id: how one Page knows them in messaging (spec §2.12).
    Psid
);
/// Unix seconds on the [`crate::clock::Clock`].
pub type Unix = i64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppMode {
    Development,
    Live,
}

impl AppMode {
    pub fn as_str(self) -> &'static str {
        match self {
            AppMode::Development => "development",
            AppMode::Live => "live",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "development" => Some(AppMode::Development),
            "live" => Some(AppMode::Live),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Platform {
    Web,
    Native,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Web => "web",
            Platform::Native => "native",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "web" => Some(Platform::Web),
            "native" => Some(Platform::Native),
            _ => None,
        }
    }
}

/// A person's role on an app (App Dashboard › Roles).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AppRole {
    Administrator,
    Developer,
    Tester,
}

impl AppRole {
    /// The plural form used by Graph (`/{app-id}/roles`) and by seed files.
    pub fn as_str(self) -> &'static str {
        match self {
            AppRole::Administrator => "administrators",
            AppRole::Developer => "developers",
            AppRole::Tester => "testers",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "administrators" => Some(AppRole::Administrator),
            "developers" => Some(AppRole::Developer),
            "testers" => Some(AppRole::Tester),
            _ => None,
        }
    }
}

/// How many test users an app may have unless its seed says otherwise (spec §2.10).
pub const DEFAULT_TEST_USER_LIMIT: u32 = 10;

/// A change to an app's call budgets: for each, `None` keeps it, `Some(None)` makes it
/// graphtoken's default, `Some(Some(n))` sets it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BudgetChange {
    pub app: Option<Option<u32>>,
    pub user: Option<Option<u32>>,
    pub page: Option<Option<u32>>,
}

/// An app's call budgets over a sliding hour (spec §6); `None` means graphtoken's default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RateLimits {
    /// Calls per hour for the whole app (error 4 beyond it).
    pub app: Option<u32>,
    /// Calls per hour for one person with this app (error 17).
    pub user: Option<u32>,
    /// Calls per hour for one Page with this app (errors 32 and 80001).
    pub page: Option<u32>,
}

/// An app. `secret` and `client_token` are secrets: `Debug` never prints them.
#[derive(Clone, PartialEq, Eq)]
pub struct App {
    pub id: AppId,
    pub key: Option<String>,
    pub name: String,
    pub secret: String,
    pub client_token: String,
    pub mode: AppMode,
    pub platform: Platform,
    pub require_appsecret_proof: bool,
    pub redirect_uris: Vec<String>,
    pub advanced_access: Vec<String>,
    pub deauthorize_callback_url: Option<String>,
    /// Where data-deletion requests go (spec §7).
    pub data_deletion_url: Option<String>,
    /// When the app passed App Review (opens the ASID → PSID migration API for 180 days).
    pub review_approved_at: Option<Unix>,
    pub roles: Vec<(UserId, AppRole)>,
    pub rate_limits: RateLimits,
    /// How many test users the app may have (spec §2.10).
    pub test_user_limit: u32,
    pub created_at: Unix,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("id", &self.id)
            .field("key", &self.key)
            .field("name", &self.name)
            .field("secret", &"<redacted>")
            .field("client_token", &"<redacted>")
            .field("mode", &self.mode)
            .field("platform", &self.platform)
            .field("require_appsecret_proof", &self.require_appsecret_proof)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
impl App {
    /// A live web app with id `id`, named "A", secret "s" and client token "c", for unit tests.
    pub(crate) fn for_tests(id: AppId) -> App {
        App {
            id,
            key: None,
            name: "A".into(),
            secret: "s".into(),
            client_token: "c".into(),
            mode: AppMode::Live,
            platform: Platform::Web,
            require_appsecret_proof: false,
            redirect_uris: Vec::new(),
            advanced_access: Vec::new(),
            deauthorize_callback_url: None,
            data_deletion_url: None,
            review_approved_at: None,
            roles: Vec::new(),
            rate_limits: Default::default(),
            test_user_limit: 10,
            created_at: 0,
        }
    }
}

impl App {
    pub fn role_of(&self, user: UserId) -> Option<AppRole> {
        self.roles
            .iter()
            .filter(|(u, _)| *u == user)
            .map(|(_, r)| *r)
            .min()
    }
}

/// Whether a person's sessions may be used (spec §7: 459 checkpoint, 464 unconfirmed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AccountStatus {
    #[default]
    Active,
    /// Enrolled in a blocking checkpoint: every session fails with 190/459 until cleared.
    Checkpointed,
    /// Not a confirmed user: every session fails with 190/464 until cleared.
    Unconfirmed,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::Checkpointed => "checkpointed",
            AccountStatus::Unconfirmed => "unconfirmed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(AccountStatus::Active),
            "checkpointed" => Some(AccountStatus::Checkpointed),
            "unconfirmed" => Some(AccountStatus::Unconfirmed),
            _ => None,
        }
    }
}

/// A person. Only an argon2id hash of the password is kept.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub key: Option<String>,
    pub name: String,
    pub email: Option<String>,
    pub password_hash: Option<String>,
    pub status: AccountStatus,
    pub created_at: Unix,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("key", &self.key)
            .field("name", &self.name)
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

impl User {
    /// `first_name`: the first word of the name.
    pub fn first_name(&self) -> &str {
        self.name.split_whitespace().next().unwrap_or("")
    }
    /// `last_name`: everything after the first word.
    pub fn last_name(&self) -> &str {
        let first = self.first_name();
        self.name
            .trim_start()
            .get(first.len()..)
            .unwrap_or("")
            .trim()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    pub id: PageId,
    pub key: Option<String>,
    pub name: String,
    pub category: String,
    pub created_at: Unix,
}

/// The tasks one person holds on one Page. `since` is when the person first got a task there;
/// it is kept while tasks change and set anew when every task was removed and one is given back,
/// so Page tokens minted before a removal never come back to life.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageTasks {
    pub page_id: PageId,
    pub user_id: UserId,
    pub tasks: TaskSet,
    pub since: Unix,
}

/// The world at a glance (the console's home): the first apps, people and Pages by id, and how
/// many there are of each.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overview {
    pub apps: Vec<App>,
    pub users: Vec<User>,
    pub pages: Vec<Page>,
    pub app_count: u64,
    pub user_count: u64,
    pub page_count: u64,
}

/// What a person has granted (and declined) to an app. Its existence means the app is installed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub user_id: UserId,
    pub app_id: AppId,
    /// Granted permissions, in the order they were granted; always holds `public_profile`.
    pub granted: Vec<String>,
    pub declined: Vec<String>,
    /// The Pages the person chose at login for the app's Page permissions; `None`: every Page
    /// they have (no choice was made, as with a seeded grant).
    pub pages: Option<Vec<PageId>>,
    /// When the person last used the app (logged in); data access lapses 90 days later.
    pub last_login_at: Unix,
    pub created_at: Unix,
}

pub const DATA_ACCESS_SECONDS: i64 = 90 * 24 * 3600;

impl Grant {
    /// What a login at `now` starts from: the grant there is, or a new one; in both,
    /// `public_profile` is granted (first) and the login time is `now`.
    pub fn at_login(old: Option<Grant>, user_id: UserId, app_id: AppId, now: Unix) -> Grant {
        let mut grant = old.unwrap_or(Grant {
            user_id,
            app_id,
            granted: Vec::new(),
            declined: Vec::new(),
            pages: None,
            last_login_at: now,
            created_at: now,
        });
        if !grant.has(PUBLIC_PROFILE) {
            grant.granted.insert(0, PUBLIC_PROFILE.to_string());
        }
        grant.last_login_at = now;
        grant
    }

    pub fn data_access_expires_at(&self) -> Unix {
        self.last_login_at + DATA_ACCESS_SECONDS
    }
    /// Whether data access still holds at `now` (it lapses 90 days after the last login).
    pub fn opens_data(&self, now: Unix) -> bool {
        now < self.data_access_expires_at()
    }
    pub fn has(&self, permission: &str) -> bool {
        self.granted.iter().any(|p| p == permission)
    }

    /// Whether the app may use `page` under the person's Page permissions: the person chose
    /// it at login, or made no choice.
    pub fn covers(&self, page: PageId) -> bool {
        self.pages
            .as_ref()
            .is_none_or(|chosen| chosen.contains(&page))
    }
}

/// Why a token, or the session it came from, stopped working: each reason is one
/// `error_subcode` of spec §6 and §7, with its message in the error catalogue
/// (`GraphError::invalidated`). Expiry (463) is not a reason: it is read off the clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// 458: the person removed the app, or never authorized it.
    AppNotAuthorized,
    /// 459: the person is enrolled in a blocking checkpoint.
    Checkpoint,
    /// 460: a new password, or a security reset.
    PasswordChanged,
    /// 464: the person is not a confirmed user.
    Unconfirmed,
    /// 466: invalidated through the API (the app removed itself; a code used twice).
    RevokedByApi,
    /// 467: the person logged out.
    LoggedOut,
    /// 492: the person holds no task on the Page any more.
    PageTaskLost,
    /// 493: the person has not used the app for 90 days.
    DataAccessExpired,
}

impl Reason {
    pub const ALL: [Reason; 8] = [
        Reason::AppNotAuthorized,
        Reason::Checkpoint,
        Reason::PasswordChanged,
        Reason::Unconfirmed,
        Reason::RevokedByApi,
        Reason::LoggedOut,
        Reason::PageTaskLost,
        Reason::DataAccessExpired,
    ];

    /// The `error_subcode` Facebook answers with.
    pub fn subcode(self) -> u32 {
        match self {
            Reason::AppNotAuthorized => 458,
            Reason::Checkpoint => 459,
            Reason::PasswordChanged => 460,
            Reason::Unconfirmed => 464,
            Reason::RevokedByApi => 466,
            Reason::LoggedOut => 467,
            Reason::PageTaskLost => 492,
            Reason::DataAccessExpired => 493,
        }
    }

    /// The reason of a subcode, if it is one.
    pub fn from_subcode(subcode: u32) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.subcode() == subcode)
    }
}

/// When and why a token, or the session it came from, stopped working.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invalidation {
    pub at: Unix,
    pub reason: Reason,
}

/// A login session's number (the store assigns them in increasing order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionId(pub i64);

impl std::fmt::Display for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// One login of a person to an app. User tokens come from a session and Page tokens from those;
/// invalidating the session invalidates everything derived from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    pub app_id: AppId,
    pub created_at: Unix,
    pub invalidated: Option<Invalidation>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoredKind {
    User,
    Page,
    /// A session info token (`grant_type=fb_attenuate_token`): it tells whether its session
    /// still works, on `debug_token`, and opens no data: as the caller it is refused.
    SessionInfo,
}

impl StoredKind {
    /// The kind as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            StoredKind::User => "USER",
            StoredKind::Page => "PAGE",
            StoredKind::SessionInfo => "SESSION_INFO",
        }
    }
}

/// SHA-256 of a token string: the only form in which user and Page tokens are stored.
pub type TokenHash = [u8; 32];

/// A minted user or Page token, as stored. Never holds the token string itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRecord {
    pub hash: TokenHash,
    pub kind: StoredKind,
    pub app_id: AppId,
    pub user_id: UserId,
    pub page_id: Option<PageId>,
    pub session_id: SessionId,
    /// For Page tokens: the user token they were derived from.
    pub parent: Option<TokenHash>,
    pub long_lived: bool,
    pub issued_at: Unix,
    /// 0 means the token never expires.
    pub expires_at: Unix,
    pub invalidated: Option<Invalidation>,
    /// For Page tokens: the `since` of the person's tasks on the Page when it was minted. The
    /// token works only while the person holds tasks with that same `since`.
    pub tasks_since: Option<Unix>,
}
