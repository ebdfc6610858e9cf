//! Who a call comes from: the loaded token, whom it speaks for ([`Principal`]), the
//! authenticated [`Caller`], what is known of any token ([`Inspection`]), and the rules that
//! say whether a loaded token works now ([`validity`], [`data_access`]). No IO: the services
//! load tokens through the caches and hand them here.

use std::sync::Arc;

use crate::error::GraphError;
use crate::model::{AccountStatus, App, Grant, Page, PageTasks, Reason, Session, Unix, User};
use crate::store::TokenEntry;

/// A stored token with everything needed to judge and use it, assembled from the caches: the
/// parts that many tokens share (the session, the app, the person, the grant, the Page) are
/// shared. Its `token` and `asid` are those of the [`TokenEntry`] it derefs to.
#[derive(Clone, Debug)]
pub struct LoadedToken {
    pub entry: Arc<TokenEntry>,
    /// The login session the token belongs to, as it is now.
    pub session: Session,
    pub app: Arc<App>,
    pub user: Arc<User>,
    /// The person's grant to the app; `None` once the app was removed.
    pub grant: Option<Arc<Grant>>,
    /// For Page tokens: the Page and the person's current tasks on it (`None`: no task left).
    pub page: Option<(Arc<Page>, Option<PageTasks>)>,
}

impl std::ops::Deref for LoadedToken {
    type Target = TokenEntry;
    fn deref(&self) -> &TokenEntry {
        &self.entry
    }
}

/// Who a token speaks for.
#[derive(Clone, Debug)]
pub enum Principal {
    /// A user token, with everything it was loaded with.
    User(Arc<LoadedToken>),
    /// A Page token (`LoadedToken::page` is set).
    Page(Arc<LoadedToken>),
    /// An app token or the `{app-id}|{app-secret}` literal.
    App(Arc<App>),
    /// `{app-id}|{client-token}`.
    Client(Arc<App>),
}

impl Principal {
    pub fn app(&self) -> &App {
        match self {
            Principal::User(t) | Principal::Page(t) => &t.app,
            Principal::App(a) | Principal::Client(a) => a,
        }
    }
    pub fn loaded(&self) -> Option<&LoadedToken> {
        match self {
            Principal::User(t) | Principal::Page(t) => Some(t),
            _ => None,
        }
    }
}

/// A token that authenticated: its string (Page tokens derive from it) and whom it speaks for.
#[derive(Clone)]
pub struct Caller {
    pub token: String,
    pub principal: Principal,
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("token", &"<redacted>")
            .field("principal", &self.principal)
            .finish()
    }
}

/// What is known about a token, valid or not (for `debug_token`).
#[derive(Clone, Debug)]
pub enum Inspection {
    /// Nothing is known: not a token of ours.
    Unknown(GraphError),
    /// A token of a known app; `error` says why it does not work, if it does not.
    Known {
        principal: Principal,
        error: Option<GraphError>,
    },
}

/// Why a stored token does not work at `now`, or `None` if it does. Reasons are checked from the
/// most specific (the token itself) to the most general (the clock).
pub fn validity(t: &LoadedToken, now: Unix) -> Option<GraphError> {
    let (app, user) = (t.app.id, t.asid);
    if let Some(inv) = t.token.invalidated.or(t.session.invalidated) {
        return Some(GraphError::invalidated(inv.reason, app, user));
    }
    let Some(grant) = &t.grant else {
        return Some(GraphError::invalidated(Reason::AppNotAuthorized, app, user));
    };
    // A Page the person no longer lets the app use (unticked at a later login).
    if let Some((page, _)) = &t.page {
        if !grant.covers(page.id) {
            return Some(GraphError::invalidated(Reason::AppNotAuthorized, app, user));
        }
    }
    if let Some((_, tasks)) = &t.page {
        // The tasks the token was minted under must still be held: a removal followed by a
        // new assignment gives a new `since`, and so a new Page token.
        let holds = tasks
            .as_ref()
            .is_some_and(|pt| !pt.tasks.is_empty() && Some(pt.since) == t.token.tasks_since);
        if !holds {
            return Some(GraphError::invalidated(Reason::PageTaskLost, app, user));
        }
    }
    match t.user.status {
        AccountStatus::Active => {}
        AccountStatus::Checkpointed => {
            return Some(GraphError::invalidated(Reason::Checkpoint, app, user))
        }
        AccountStatus::Unconfirmed => {
            return Some(GraphError::invalidated(Reason::Unconfirmed, app, user))
        }
    }
    if t.token.expires_at != 0 && now >= t.token.expires_at {
        return Some(GraphError::expired(t.token.expires_at, now));
    }
    None
}

/// Why a working token may not read data at `now`: the person has not used the app for 90 days
/// (190/493). The token still authenticates (`debug_token` says it is valid, and it can be
/// exchanged); a new login renews data access.
pub fn data_access(t: &LoadedToken, now: Unix) -> Option<GraphError> {
    let lapsed = !t.grant.as_ref()?.opens_data(now);
    lapsed.then(|| GraphError::invalidated(Reason::DataAccessExpired, t.app.id, t.asid))
}
