//! Every change of state, as one typed [`Event`] on one [`Bus`].
//!
//! Services are the only code that writes: each change is one service method that writes to the
//! store and then publishes one event saying what changed. Whatever keeps state derived from the
//! store subscribes: the caches drop exactly the entries an event touches (see
//! `services::caches`), the server delivers the callbacks an event carries. A second instance
//! will hear the same events through the database; the bus is the one hook for that.
//!
//! Events name what changed by id; they carry the ids a write touched that a subscriber could
//! not find again cheaply (the sessions a reset ended, the tokens a logout ended).

use std::sync::{Arc, RwLock};

use crate::model::{AppId, Id, PageId, Reason, SessionId, TokenHash, Unix, UserId};

/// A change of state. The closed catalogue of everything graphtoken writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    // ---- sessions and tokens ------------------------------------------------------------
    /// A person logged in to an app: a new session with its first user token.
    SessionStarted {
        session: SessionId,
        user: UserId,
        app: AppId,
    },
    /// Another token in a session: a long-lived exchange, a client code's token, a Page token.
    TokenIssued {
        session: SessionId,
        user: UserId,
        app: AppId,
        page: Option<PageId>,
    },
    /// Sessions ended (a security reset, a reused code): every token derived from them fails
    /// for `reason`.
    SessionsEnded {
        user: UserId,
        sessions: Vec<SessionId>,
        reason: Reason,
    },
    /// Tokens ended one by one (a logout ends the short-lived ones and their Page tokens).
    TokensEnded {
        user: UserId,
        tokens: Vec<TokenHash>,
        reason: Reason,
    },

    // ---- grants -------------------------------------------------------------------------
    /// What the person granted or declined to the app changed (a login, a consent, a revoked
    /// permission).
    GrantChanged { user: UserId, app: AppId },
    /// The app was uninstalled for the person: the grant is gone and the sessions with the app
    /// ended for `reason`. `notify` is the number of the deauthorize callback the app gets, if
    /// any (in the outbox, see `OutboxStore`).
    AppUninstalled {
        user: UserId,
        app: AppId,
        sessions: Vec<SessionId>,
        reason: Reason,
        notify: Option<u64>,
    },
    /// The person asked the app to delete their data: the app's data-deletion URL is called
    /// (`notify`: the callback's number in the outbox).
    DataDeletionRequested {
        user: UserId,
        app: AppId,
        notify: u64,
    },

    // ---- people -------------------------------------------------------------------------
    /// The person's record changed (name, account status).
    PersonChanged { user: UserId },
    /// A new password: the person's sessions in every app ended (460).
    PasswordChanged {
        user: UserId,
        sessions: Vec<SessionId>,
    },
    /// A test user was made for an app.
    TestUserCreated { user: UserId, app: AppId },
    /// The person and everything of theirs are gone: their grants with `apps`, their tasks on
    /// `pages`, their roles on `roles` (so those apps' records changed).
    PersonDeleted {
        user: UserId,
        apps: Vec<AppId>,
        pages: Vec<PageId>,
        roles: Vec<AppId>,
    },

    // ---- apps and Pages -----------------------------------------------------------------
    /// A new app secret: every app token of the old one stops working.
    AppSecretReset { app: AppId },
    /// An app's call budgets changed (the admin API).
    AppBudgetsChanged { app: AppId },
    /// A person's tasks on a Page changed.
    PageTasksChanged { page: PageId, user: UserId },
    /// A Page's own record or settings changed.
    PageChanged { page: PageId },
    /// A seed world was written: everything it names may have changed.
    WorldApplied(Box<Touched>),

    // ---- Page content ---------------------------------------------------------------------
    /// A post, comment, message, button or article of a Page was made, changed or deleted.
    ContentChanged {
        page: PageId,
        item: Item,
        change: Change,
    },

    // ---- login flows ----------------------------------------------------------------------
    /// A step of a login flow that left a record behind (a code issued or redeemed, a device
    /// login started, polled or answered).
    Login { app: AppId, step: LoginStep },
    /// A browser signed in as the person, or out (`on: false`); `ended` browser sign-ins of the
    /// person ended with an invalidation (a reset, a new password, a logout, a locked account).
    BrowserSignIn { user: UserId, on: bool },

    // ---- the emulator ---------------------------------------------------------------------
    /// The virtual clock was moved: `offset` seconds from real time.
    ClockMoved { now: Unix, offset: i64 },
    /// A fault was armed or cleared, here or (heard through the database) on another instance.
    /// A fault firing is bookkeeping and publishes nothing.
    FaultsChanged,
}

/// What a seed world wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Touched {
    pub apps: Vec<AppId>,
    pub users: Vec<UserId>,
    pub pages: Vec<PageId>,
    pub grants: Vec<(UserId, AppId)>,
    pub tasks: Vec<(PageId, UserId)>,
}

/// A piece of Page content, by its number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item {
    Post(Id),
    Comment(Id),
    Message(Id),
    CallToAction(Id),
    InstantArticle(Id),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Created,
    Updated,
    Deleted,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginStep {
    CodeIssued { user: UserId },
    CodeRedeemed { user: UserId },
    ClientCodeIssued { user: UserId },
    DeviceLoginStarted,
    DeviceLoginPolled,
    DeviceLoginAnswered { user: UserId, approved: bool },
}

/// A form post an event makes to an app (spec §7): the deauthorize callback or the
/// data-deletion request, each with a `signed_request`. Core decides what is sent and puts it
/// in the store's outbox in the same write as its cause; the server delivers it.
#[derive(Clone, PartialEq, Eq)]
pub struct Callback {
    /// `deauthorize` or `data_deletion`.
    pub kind: &'static str,
    pub url: String,
    pub app_id: String,
    /// The person's app-scoped id.
    pub user_id: String,
    /// The form body: `signed_request=…`.
    pub form: Vec<(String, String)>,
}

impl std::fmt::Debug for Callback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Callback")
            .field("kind", &self.kind)
            .field("url", &self.url)
            .field("app_id", &self.app_id)
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

impl Callback {
    /// The kinds of callback, as stored.
    pub const KINDS: [&'static str; 2] = ["deauthorize", "data_deletion"];

    /// A stored kind, as the `'static` name.
    pub fn kind_named(name: &str) -> Option<&'static str> {
        Self::KINDS.into_iter().find(|k| *k == name)
    }
}

impl Event {
    /// The number in the outbox of the callback this event made to an app, if any.
    pub fn callback(&self) -> Option<u64> {
        match self {
            Event::AppUninstalled { notify, .. } => *notify,
            Event::DataDeletionRequested { notify, .. } => Some(*notify),
            _ => None,
        }
    }
}

/// Whatever keeps state derived from the store. Called on the publishing task, right after the
/// write: it must be quick and must not block (hand slow work to a queue of its own).
pub trait Subscriber: Send + Sync {
    fn on(&self, event: &Event);
}

/// The one event bus: every published event reaches every subscriber, in subscription order.
/// Clones are the same bus.
#[derive(Clone, Default)]
pub struct Bus {
    subscribers: Arc<RwLock<Vec<Arc<dyn Subscriber>>>>,
}

impl std::fmt::Debug for Bus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bus").finish_non_exhaustive()
    }
}

impl Bus {
    pub fn subscribe(&self, subscriber: Arc<dyn Subscriber>) {
        self.subscribers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(subscriber);
    }

    pub fn publish(&self, event: &Event) {
        let subscribers = self.subscribers.read().unwrap_or_else(|p| p.into_inner());
        for s in subscribers.iter() {
            s.on(event);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[derive(Default)]
    struct Seen(Mutex<Vec<Event>>);

    impl Subscriber for Seen {
        fn on(&self, event: &Event) {
            self.0.lock().unwrap().push(event.clone());
        }
    }

    #[test]
    fn every_subscriber_hears_every_event_in_order() {
        let bus = Bus::default();
        let (a, b) = (Arc::new(Seen::default()), Arc::new(Seen::default()));
        bus.subscribe(a.clone());
        bus.subscribe(b.clone());
        let e1 = Event::GrantChanged {
            user: UserId(1),
            app: AppId(2),
        };
        let e2 = Event::AppSecretReset { app: AppId(2) };
        bus.publish(&e1);
        bus.publish(&e2);
        assert_eq!(*a.0.lock().unwrap(), vec![e1.clone(), e2.clone()]);
        assert_eq!(*b.0.lock().unwrap(), vec![e1, e2]);
    }
}
