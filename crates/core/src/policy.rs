//! The one rule for Page operations (spec §3): which token kind an operation needs, which Page
//! task the person behind it must hold, and which permissions they must have granted the app.
//! Handlers name the operation; this module answers allow, or Facebook's error.

use std::sync::Arc;

use crate::auth::{Caller, LoadedToken, Principal};
use crate::content::{Author, Comment};
use crate::error::GraphError;
use crate::model::{App, AppId, AppMode, AppRole, Grant, Page, PageId, PageTasks, Unix, UserId};
use crate::permissions::PUBLIC_PROFILE;
use crate::tasks::Task;

/// The token an operation accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenNeed {
    /// Only a Page token of this Page (`(#210)` otherwise).
    PageToken,
    /// A Page token of this Page, or a user token of a person with a task on it.
    PageOrUser,
}

/// What one Page operation requires.
#[derive(Clone, Copy, Debug)]
pub struct Operation {
    pub name: &'static str,
    pub token: TokenNeed,
    /// The person must hold one of these tasks on the Page.
    pub tasks: &'static [Task],
    /// The person must have granted every one of these to the app.
    pub permissions: &'static [&'static str],
}

use Task::*;

/// `POST /{page-id}/feed`: publish as the Page.
pub const PUBLISH: Operation = Operation {
    name: "publish",
    token: TokenNeed::PageToken,
    tasks: &[CreateContent],
    permissions: &["pages_read_engagement", "pages_manage_posts"],
};
/// Read the Page's feed and posts.
pub const READ_FEED: Operation = Operation {
    name: "read_feed",
    token: TokenNeed::PageOrUser,
    tasks: &[CreateContent, Manage, Moderate],
    permissions: &["pages_read_engagement"],
};
/// Read the comments on the Page's posts (user-generated content: `pages_read_user_content`).
pub const READ_COMMENTS: Operation = Operation {
    name: "read_comments",
    token: TokenNeed::PageOrUser,
    tasks: &[CreateContent, Manage, Moderate],
    permissions: &["pages_read_engagement", "pages_read_user_content"],
};
/// Reply to, hide or delete comments as the Page.
pub const MODERATE_COMMENTS: Operation = Operation {
    name: "moderate_comments",
    token: TokenNeed::PageToken,
    tasks: &[Moderate],
    permissions: &["pages_manage_engagement", "pages_read_user_content"],
};
/// Page insights.
pub const INSIGHTS: Operation = Operation {
    name: "insights",
    token: TokenNeed::PageOrUser,
    tasks: &[Analyze],
    permissions: &["read_insights", "pages_read_engagement"],
};
/// Conversations and the Send API.
pub const MESSAGING: Operation = Operation {
    name: "messaging",
    token: TokenNeed::PageToken,
    tasks: &[Messaging],
    permissions: &["pages_messaging"],
};
/// Page settings and information (`POST /{page-id}`).
pub const SETTINGS: Operation = Operation {
    name: "settings",
    token: TokenNeed::PageToken,
    tasks: &[Manage],
    permissions: &["pages_manage_metadata"],
};
/// Call-to-action buttons (`/{page-id}/call_to_actions`); the task mapping is [U].
pub const CALL_TO_ACTION: Operation = Operation {
    name: "call_to_action",
    token: TokenNeed::PageToken,
    tasks: &[Manage, CreateContent],
    permissions: &["pages_manage_cta"],
};
/// Instant Articles (`/{page-id}/instant_articles`); the task mapping is [U].
pub const INSTANT_ARTICLES: Operation = Operation {
    name: "instant_articles",
    token: TokenNeed::PageToken,
    tasks: &[CreateContent],
    permissions: &["pages_manage_instant_articles"],
};
/// Who has which task on the Page (`/{page-id}/assigned_users`, `/{page-id}/roles`).
pub const ASSIGNED_USERS: Operation = Operation {
    name: "assigned_users",
    token: TokenNeed::PageOrUser,
    tasks: &[Manage],
    permissions: &["pages_manage_metadata"],
};

/// `(#210) A page access token is required to request this resource.`
pub fn page_token_required() -> GraphError {
    GraphError::new(
        210,
        "OAuthException",
        "(#210) A page access token is required to request this resource.",
    )
}

/// The permission error for an operation, in Facebook's words where the spec has them.
fn missing_permission(op: &Operation, missing: &str) -> GraphError {
    if op.name == PUBLISH.name {
        return GraphError::new(
            200,
            "OAuthException",
            "(#200) If posting to a page, requires both pages_read_engagement and pages_manage_posts as an admin with sufficient administrative permission",
        );
    }
    GraphError::new(
        if missing == "pages_read_engagement" {
            283
        } else {
            200
        },
        "OAuthException",
        format!(
            "(#{}) Requires {missing} permission to manage the object",
            if missing == "pages_read_engagement" {
                283
            } else {
                200
            }
        ),
    )
}

/// The task error ([U] wording: Facebook's is not known for every operation).
fn missing_task(op: &Operation) -> GraphError {
    let names: Vec<&str> = op.tasks.iter().map(|t| t.as_str()).collect();
    GraphError::new(
        10,
        "OAuthException",
        format!(
            "(#10) This action requires the {} task on the Page",
            names.join(" or ")
        ),
    )
}

/// May `caller` do `op` on Page `page`, given the person's current tasks there?
pub fn check(
    caller: &Caller,
    page: PageId,
    tasks: Option<&PageTasks>,
    op: &Operation,
) -> Result<(), GraphError> {
    let t = match &caller.principal {
        Principal::Page(t) => {
            if t.page.as_ref().map(|(p, _)| p.id) != Some(page) {
                // Another Page's token speaks for that Page only.
                return Err(GraphError::permission_denied());
            }
            t
        }
        Principal::User(t) => {
            if op.token == TokenNeed::PageToken {
                return Err(page_token_required());
            }
            t
        }
        Principal::App(_) | Principal::Client(_) => {
            return Err(match op.token {
                TokenNeed::PageToken => page_token_required(),
                TokenNeed::PageOrUser => GraphError::permission_denied(),
            })
        }
    };
    let held = tasks.map(|pt| pt.tasks).unwrap_or_default();
    if !op.tasks.iter().any(|task| held.contains(*task)) {
        return Err(missing_task(op));
    }
    let grant = t.grant.as_deref();
    if let Some(missing) = op
        .permissions
        .iter()
        .find(|p| !grant.is_some_and(|g| g.has(p)))
    {
        return Err(missing_permission(op, missing));
    }
    Ok(())
}

/// Who may read or change a person's grant to the caller's app (`/{user}/permissions`, and
/// `DELETE` on it): the person's own user token, or the app's token; `(#200)` for anyone else.
pub fn grant_access(caller: &Caller, user: UserId) -> Result<(), GraphError> {
    match &caller.principal {
        Principal::User(t) if t.user.id == user => Ok(()),
        Principal::App(_) => Ok(()),
        _ => Err(GraphError::permission_denied()),
    }
}

/// Who may list a person's Pages (`/{user}/accounts`): only the person's own user token, and
/// it lists them only with `pages_show_list` (without it the list is empty, as on Facebook).
/// Returns whether the list has the Pages.
pub fn pages_access(caller: &Caller, user: UserId) -> Result<bool, GraphError> {
    match &caller.principal {
        Principal::User(t) if t.user.id == user => {
            Ok(t.grant.as_ref().is_some_and(|g| g.has("pages_show_list")))
        }
        _ => Err(GraphError::permission_denied()),
    }
}

/// The user token that may have a Page token for a Page (the `access_token` field, spec §2.8):
/// a user token whose person holds a task there and whose grant includes `pages_show_list`.
pub fn page_token_parent<'a>(
    caller: &'a Caller,
    tasks: Option<&PageTasks>,
) -> Option<&'a LoadedToken> {
    let Principal::User(t) = &caller.principal else {
        return None;
    };
    let holds = tasks.is_some_and(|pt| !pt.tasks.is_empty());
    // The Page must be one the person let the app use at login (or they made no choice).
    let chosen = |g: &Grant| tasks.is_some_and(|pt| page_chosen(Some(g), pt.page_id));
    (holds
        && t.grant
            .as_ref()
            .is_some_and(|g| g.has("pages_show_list") && chosen(g)))
    .then_some(&**t)
}

/// The person's Pages that the app may use under their Page permissions: those they chose at
/// login (every one, when they made no choice or there is no grant to ask).
pub fn chosen_pages(
    grant: Option<&Grant>,
    mut pages: Vec<(Arc<Page>, PageTasks)>,
) -> Vec<(Arc<Page>, PageTasks)> {
    pages.retain(|(p, _)| page_chosen(grant, p.id));
    pages
}

/// [`chosen_pages`] by id (what `debug_token`'s granular scopes name).
pub fn chosen_page_ids(grant: Option<&Grant>, pages: &[PageId]) -> Vec<PageId> {
    pages
        .iter()
        .copied()
        .filter(|p| page_chosen(grant, *p))
        .collect()
}

/// Whether the app may use `page` under the person's Page permissions: they chose it at login,
/// or made no choice (or there is no grant to ask).
pub fn page_chosen(grant: Option<&Grant>, page: PageId) -> bool {
    grant.is_none_or(|g| g.covers(page))
}

/// What a person may do on an app's dashboard (the console's App Dashboard, as on Facebook's
/// developer site): anyone with a role on the app sees it; administrators see and reset the
/// secret; administrators and developers manage test users. `None`: no role, no dashboard.
pub fn dashboard(app: &App, user: UserId) -> Option<Dashboard> {
    let role = app.role_of(user)?;
    Some(Dashboard {
        role,
        secret: role == AppRole::Administrator,
        test_users: role != AppRole::Tester,
    })
}

/// See [`dashboard`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dashboard {
    pub role: AppRole,
    /// Sees the app secret, and resets it.
    pub secret: bool,
    /// Makes, logs in as and deletes test users.
    pub test_users: bool,
}

/// Whether the caller sees an app's own settings (`deauth_callback_url`): only with the app's
/// own token.
pub fn sees_app_settings(caller: &Caller, app: AppId) -> bool {
    matches!(&caller.principal, Principal::App(a) if a.id == app)
}

/// May a person use an app at all, and may the app ask them for a permission? Apps in
/// development mode are for people with a role on them (and the app's test users); in live
/// mode, people without a role are offered only permissions with Advanced Access (spec §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    has_role: bool,
    mode: AppMode,
}

impl Access {
    /// `user`'s access to `app`; `test_user_of_app`: they are one of the app's test users.
    pub fn of(app: &App, user: UserId, test_user_of_app: bool) -> Self {
        Access {
            has_role: app.role_of(user).is_some() || test_user_of_app,
            mode: app.mode,
        }
    }
    pub fn may_log_in(&self) -> bool {
        self.has_role || self.mode == AppMode::Live
    }
    pub fn offers(&self, app: &App, permission: &str) -> bool {
        permission == PUBLIC_PROFILE
            || self.has_role
            || app.advanced_access.iter().any(|a| a == permission)
    }
}

/// The app's own edges (its test users, its roles): its app token only; another app's token is
/// `(#200)`, any other token `(#15)`.
pub fn app_edge_access(caller: &Caller, app: AppId) -> Result<(), GraphError> {
    match &caller.principal {
        Principal::App(a) if a.id == app => Ok(()),
        Principal::App(_) => Err(GraphError::permission_denied()),
        _ => Err(GraphError::app_token_required()),
    }
}

/// What a caller may do to a test user of the app `owner`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TestUserRights {
    /// `DELETE /{test-user-id}`: the owning app's token, or the test user's own user token.
    pub delete: bool,
    /// `POST /{test-user-id}` (name, password): the owning app's token.
    pub change: bool,
}

pub fn test_user_rights(caller: &Caller, owner: AppId, user: UserId) -> TestUserRights {
    let by_owner = matches!(&caller.principal, Principal::App(a) if a.id == owner);
    let themselves = matches!(&caller.principal, Principal::User(t) if t.user.id == user);
    TestUserRights {
        delete: by_owner || themselves,
        change: by_owner,
    }
}

/// Whether a Page's token may change a comment's message: only comments the Page wrote (it may
/// hide or delete any).
pub fn may_edit_comment(comment: &Comment) -> bool {
    comment.author == Author::Page
}

/// Who may ask `debug_token` (spec §2.4): an app token of the app, or a user token of a person
/// who administers or develops it ("an app access token, or a user access token that is an
/// owner or developer of the app"); not a client token (it is public), a Page token or another
/// person's user token. Returns the app it asks as: only that app's tokens are shown to it.
pub fn debug_token_viewer(caller: &Caller) -> Result<AppId, GraphError> {
    match &caller.principal {
        Principal::App(app) => Ok(app.id),
        Principal::User(t)
            if t.app.roles.iter().any(|(user, role)| {
                *user == t.user.id && matches!(role, AppRole::Administrator | AppRole::Developer)
            }) =>
        {
            Ok(t.app.id)
        }
        _ => Err(GraphError::debug_token_needs_token()),
    }
}

/// Whether `viewer` may see what `debug_token` knows of a token of the app `subject` (`None`
/// is the admin API, which sees every app's).
pub fn may_debug(viewer: Option<AppId>, subject: AppId) -> Result<(), GraphError> {
    match viewer {
        Some(v) if v != subject => Err(GraphError::debug_token_app_mismatch()),
        _ => Ok(()),
    }
}

/// The permission a field of the User node needs the person to have granted the caller's app
/// (spec §2.6): `email` needs `email`; the others none.
pub fn user_field_permission(field: &str) -> Option<&'static str> {
    match field {
        "email" => Some("email"),
        _ => None,
    }
}

/// The app-scoped ids of a person's Pages (`/{asid}/ids_for_pages`) are for the app's token.
pub fn needs_app_token(caller: &Caller) -> Result<(), GraphError> {
    match caller.principal {
        Principal::App(_) => Ok(()),
        _ => Err(GraphError::param(
            "This endpoint requires an app access token",
        )),
    }
}

/// The Page-scoped id APIs (`/{psid}/ids_for_apps`, `pages_id_mapping`) are for a Page token:
/// the loaded Page token, or `(#210)`.
pub fn needs_page_token(caller: &Caller) -> Result<&LoadedToken, GraphError> {
    match &caller.principal {
        Principal::Page(t) => Ok(t),
        _ => Err(page_token_required()),
    }
}

/// The ASID → PSID migration API (`pages_id_mapping`) is open for 180 days after the app passed
/// App Review.
pub fn migration_open(app: &App, now: Unix) -> Result<(), GraphError> {
    const WINDOW: i64 = 180 * 86_400;
    match app.review_approved_at {
        Some(at) if now.checked_sub(at).is_some_and(|d| (0..=WINDOW).contains(&d)) => Ok(()),
        _ => Err(GraphError::new(
            200,
            "OAuthException",
            "(#200) The Page-Scoped ID API is only available to apps that passed App Review in the last 180 days",
        )),
    }
}

/// Whether the caller may see content (a post, a comment, a message, a button, an article) the
/// app `made_by` created: always, unless that app is in development mode and the caller's person
/// has no role on it (spec §4). To anyone else such content does not exist.
pub fn sees(caller: &Caller, made_by: Option<&App>) -> bool {
    let Some(app) = made_by else { return true };
    if app.mode != AppMode::Development {
        return true;
    }
    caller
        .principal
        .loaded()
        .is_some_and(|t| app.role_of(t.user.id).is_some())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::auth::LoadedToken;
    use crate::model::{
        AccountStatus, App, AppId, Asid, Grant, Page, PageId, Session, SessionId, StoredKind,
        TokenRecord, User, UserId,
    };
    use crate::store::TokenEntry;
    use crate::tasks::TaskSet;

    const PAGE: PageId = PageId(7);
    const OTHER_PAGE: PageId = PageId(8);

    fn loaded(kind: StoredKind, page: Option<PageId>, granted: &[&str]) -> Arc<LoadedToken> {
        let app = App::for_tests(AppId(1));
        let user = User {
            id: UserId(2),
            key: None,
            name: "U".into(),
            email: None,
            password_hash: None,
            status: AccountStatus::Active,
            created_at: 0,
        };
        let token = TokenRecord {
            hash: [0; 32],
            kind,
            app_id: AppId(1),
            user_id: UserId(2),
            page_id: page,
            session_id: SessionId(1),
            parent: None,
            long_lived: true,
            issued_at: 0,
            expires_at: 0,
            invalidated: None,
            tasks_since: Some(0),
        };
        let grant = Grant {
            user_id: UserId(2),
            app_id: AppId(1),
            granted: granted.iter().map(|s| s.to_string()).collect(),
            declined: Vec::new(),
            pages: None,
            last_login_at: 0,
            created_at: 0,
        };
        let page_record = |id| Page {
            id,
            key: None,
            name: "P".into(),
            category: "C".into(),
            created_at: 0,
        };
        Arc::new(LoadedToken {
            entry: Arc::new(TokenEntry::new(token, Asid(3))),
            session: Session {
                id: SessionId(1),
                user_id: UserId(2),
                app_id: AppId(1),
                created_at: 0,
                invalidated: None,
            },
            app: Arc::new(app),
            user: Arc::new(user),
            grant: Some(Arc::new(grant)),
            page: page.map(|p| (Arc::new(page_record(p)), None)),
        })
    }

    #[derive(Clone, Copy, Debug)]
    /// The token a call comes with.
    enum Kind {
        Page,
        OtherPage,
        User,
        App,
    }

    fn caller(kind: Kind, granted: &[&str]) -> Caller {
        let principal = match kind {
            Kind::Page => Principal::Page(loaded(StoredKind::Page, Some(PAGE), granted)),
            Kind::OtherPage => Principal::Page(loaded(StoredKind::Page, Some(OTHER_PAGE), granted)),
            Kind::User => Principal::User(loaded(StoredKind::User, None, granted)),
            Kind::App => Principal::App(Arc::clone(&loaded(StoredKind::User, None, granted).app)),
        };
        Caller {
            token: "t".into(),
            principal,
        }
    }

    fn tasks(t: &[Task]) -> PageTasks {
        PageTasks {
            page_id: PAGE,
            user_id: UserId(2),
            tasks: TaskSet::of(t),
            since: 0,
        }
    }

    /// A row of spec §3: operation, tokens it accepts, tasks that allow it, permissions.
    type Row = (
        Operation,
        &'static [&'static str],
        &'static [Task],
        &'static [&'static str],
    );

    /// Spec §3, written out.
    fn spec() -> Vec<Row> {
        vec![
            (
                PUBLISH,
                &["page"],
                &[CreateContent],
                &["pages_manage_posts", "pages_read_engagement"],
            ),
            (
                READ_FEED,
                &["page", "user"],
                &[CreateContent, Manage, Moderate],
                &["pages_read_engagement"],
            ),
            (
                READ_COMMENTS,
                &["page", "user"],
                &[CreateContent, Manage, Moderate],
                &["pages_read_engagement", "pages_read_user_content"],
            ),
            (
                MODERATE_COMMENTS,
                &["page"],
                &[Moderate],
                &["pages_manage_engagement", "pages_read_user_content"],
            ),
            (
                INSIGHTS,
                &["page", "user"],
                &[Analyze],
                &["read_insights", "pages_read_engagement"],
            ),
            (MESSAGING, &["page"], &[Messaging], &["pages_messaging"]),
            (SETTINGS, &["page"], &[Manage], &["pages_manage_metadata"]),
            (
                CALL_TO_ACTION,
                &["page"],
                &[Manage, CreateContent],
                &["pages_manage_cta"],
            ),
            (
                INSTANT_ARTICLES,
                &["page"],
                &[CreateContent],
                &["pages_manage_instant_articles"],
            ),
            (
                ASSIGNED_USERS,
                &["page", "user"],
                &[Manage],
                &["pages_manage_metadata"],
            ),
        ]
    }

    #[test]
    fn every_cell_of_the_matrix() {
        for (op, tokens, allowed, perms) in spec() {
            for kind in [Kind::Page, Kind::OtherPage, Kind::User, Kind::App] {
                for task in Task::ALL {
                    let held = tasks(&[task]);
                    let got =
                        check(&caller(kind, perms), PAGE, Some(&held), &op).map_err(|e| e.code);
                    let token_ok = match kind {
                        Kind::Page => tokens.contains(&"page"),
                        Kind::User => tokens.contains(&"user"),
                        Kind::OtherPage | Kind::App => false,
                    };
                    let want_ok = token_ok && allowed.contains(&task);
                    assert_eq!(
                        got.is_ok(),
                        want_ok,
                        "{} {kind:?} {task:?}: {got:?}",
                        op.name
                    );
                    if token_ok && !allowed.contains(&task) {
                        assert_eq!(got, Err(10), "{} {task:?}", op.name);
                    }
                    if !token_ok && matches!(kind, Kind::User | Kind::App) && tokens == ["page"] {
                        assert_eq!(got, Err(210), "{} {kind:?}", op.name);
                    }
                }
                // No task at all.
                let got = check(&caller(kind, perms), PAGE, None, &op);
                assert!(got.is_err(), "{} {kind:?} without tasks", op.name);
            }
            // Every permission is needed: drop each one in turn.
            let token = if tokens.contains(&"page") {
                Kind::Page
            } else {
                Kind::User
            };
            for missing in perms {
                let granted: Vec<&str> = perms.iter().copied().filter(|p| p != missing).collect();
                let held = tasks(allowed);
                let e = check(&caller(token, &granted), PAGE, Some(&held), &op).unwrap_err();
                assert!(
                    matches!(e.code, 200 | 283),
                    "{} without {missing}: {e:?}",
                    op.name
                );
            }
        }
    }

    #[test]
    fn facebooks_own_messages() {
        let held = tasks(&[CreateContent]);
        let e = check(
            &caller(Kind::Page, &["pages_read_engagement"]),
            PAGE,
            Some(&held),
            &PUBLISH,
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "(#200) If posting to a page, requires both pages_read_engagement and pages_manage_posts as an admin with sufficient administrative permission"
        );
        let held = tasks(&[Moderate]);
        let e = check(&caller(Kind::User, &[]), PAGE, Some(&held), &READ_FEED).unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (
                283,
                "(#283) Requires pages_read_engagement permission to manage the object"
            )
        );
        let e = check(&caller(Kind::User, &[]), PAGE, Some(&held), &PUBLISH).unwrap_err();
        assert_eq!(
            e.message,
            "(#210) A page access token is required to request this resource."
        );
    }
}
