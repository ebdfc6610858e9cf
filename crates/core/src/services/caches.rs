//! The caches in front of the store, for the hot path, and the one rule that keeps them true:
//! they subscribe to the event bus and drop exactly the entries an event touches. No event
//! empties a whole cache; a seed drops what it wrote.
//!
//! A token's entry holds the token's own record, the person's app-scoped id, which of its Page
//! tokens are known to be stored (and their texts, in a room of their own: a Page token is the
//! same whenever it is derived, so no event touches them), its last `/me/accounts` and
//! `debug_token` answers (in the same room, with what they were made from, used while it is
//! unchanged), and a copy of its session that is used only while the sessions cache says no
//! session of its shard was dropped since: sessions are cached on their own, so ending one
//! session drops one entry.

use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;

use crate::cache::{Cache, CacheStats, ShardKey, Tickets};
use crate::error::GraphError;
use crate::events::{Event, Subscriber};
use crate::model::{
    App, AppId, Grant, Page, PageId, PageTasks, Session, SessionId, TokenHash, User, UserId,
};
use crate::store::{Changed, PageTokenRoom, PagesSeen, StoreResult, TokenEntry};

pub(crate) struct Caches {
    pub(crate) tokens: Cache<TokenHash, TokenEntry>,
    pub(crate) sessions: Cache<SessionId, Session>,
    pub(crate) apps: Cache<AppId, App>,
    pub(crate) users: Cache<UserId, User>,
    /// `(user, app)` → the grant, or none (absence is cached too).
    pub(crate) grants: Cache<(UserId, AppId), Option<Arc<Grant>>>,
    pub(crate) pages: Cache<PageId, Page>,
    /// `(page, user)` → the person's tasks on the Page, or none.
    pub(crate) tasks: Cache<(PageId, UserId), Option<PageTasks>>,
    /// A person → the Pages they have tasks on, by id (the records come from `pages` and
    /// `tasks`): what `debug_token`'s granular scopes and `/me/accounts` read on every call.
    pub(crate) user_pages: Cache<UserId, Vec<PageId>>,
    /// Where cached tokens remember their Page tokens' texts and their `/me/accounts` and
    /// `debug_token` answers ([`PagesStored`]).
    ///
    /// [`PagesStored`]: crate::store::PagesStored
    pub(crate) page_token_room: Arc<PageTokenRoom>,
}

/// What the caches may hold by default: with the rest of the process (the runtime, the
/// database's connections, buffers), a server stays under 256 MiB (docs/benchmarks.md).
pub const DEFAULT_CACHE_BYTES: usize = 160 << 20;

/// What one cached entry costs besides its key and value: the value's `Arc` counts, the
/// table's bucket (the `Arc`, the CLOCK mark and the entry's place), its control byte, its hash
/// in the CLOCK ring and the room a table keeps free, rounded up for the allocator's size
/// classes (an estimate; the measured peaks are in docs/benchmarks.md).
const ENTRY_OVERHEAD: usize = 80;

/// How many entries of `K → V` fit in `share` of `budget` bytes, each value owning about
/// `heap` bytes more (names, lists) than its own size.
fn fit<K, V>(budget: usize, share: usize, heap: usize) -> usize {
    let each = std::mem::size_of::<K>() + std::mem::size_of::<V>() + heap + ENTRY_OVERHEAD;
    (budget / 100 * share / each).max(64)
}

impl Default for Caches {
    fn default() -> Self {
        Caches::within(DEFAULT_CACHE_BYTES)
    }
}

impl Caches {
    /// Caches that hold about `budget` bytes at most when full. Tokens take most of it, as
    /// there are many more of them than of anything else; a cached token keeps a copy of its
    /// session, so the sessions cache is read only when that copy is out of date or the token
    /// is not cached. The others hold what a world has (apps, people, Pages) and are sized for
    /// what their records own (names, scopes, lists of ids), estimated. Cached tokens keep the
    /// texts of their Page tokens and their `/me/accounts` and `debug_token` answers in a share
    /// of their own, 24%: at the default budget, both answers of more than 20,000 tokens with
    /// three Pages each (`bench/kept.sh`, docs/benchmarks.md), or the Page tokens' texts of
    /// 120,000.
    pub(crate) fn within(budget: usize) -> Self {
        Caches {
            tokens: Cache::new(fit::<TokenHash, TokenEntry>(budget, 51, 0)),
            page_token_room: PageTokenRoom::new(budget / 100 * 24),
            sessions: Cache::new(fit::<SessionId, Session>(budget, 5, 0)),
            apps: Cache::new(fit::<AppId, App>(budget, 1, 1024)),
            users: Cache::new(fit::<UserId, User>(budget, 5, 256)),
            grants: Cache::new(fit::<(UserId, AppId), Option<Arc<Grant>>>(budget, 5, 256)),
            pages: Cache::new(fit::<PageId, Page>(budget, 3, 256)),
            tasks: Cache::new(fit::<(PageId, UserId), Option<PageTasks>>(budget, 4, 32)),
            user_pages: Cache::new(fit::<UserId, Vec<PageId>>(budget, 2, 64)),
        }
    }
}

impl Subscriber for Caches {
    fn on(&self, event: &Event) {
        match event {
            Event::SessionsEnded { sessions, .. } => self.drop_sessions(sessions),
            Event::PasswordChanged { user, sessions } => {
                self.users.remove(user);
                self.drop_sessions(sessions);
            }
            Event::TokensEnded { tokens, .. } => {
                for t in tokens {
                    self.tokens.remove(t);
                }
            }
            Event::GrantChanged { user, app } => self.grants.remove(&(*user, *app)),
            Event::AppUninstalled {
                user,
                app,
                sessions,
                ..
            } => {
                self.grants.remove(&(*user, *app));
                self.drop_sessions(sessions);
            }
            Event::PersonChanged { user } => self.users.remove(user),
            Event::PersonDeleted {
                user,
                apps,
                pages,
                roles,
            } => {
                // Their tokens, sessions and ids went with them; a cached token of theirs finds
                // no person any more and is unknown from now on.
                self.users.remove(user);
                for app in apps {
                    self.grants.remove(&(*user, *app));
                }
                for page in pages {
                    self.tasks.remove(&(*page, *user));
                }
                self.user_pages.remove(user);
                for app in roles {
                    self.apps.remove(app);
                }
            }
            Event::AppSecretReset { app } | Event::AppBudgetsChanged { app } => {
                self.apps.remove(app)
            }
            Event::PageTasksChanged { page, user } => {
                self.tasks.remove(&(*page, *user));
                self.user_pages.remove(user);
            }
            Event::PageChanged { page } => self.pages.remove(page),
            Event::WorldApplied(t) => {
                t.apps.iter().for_each(|k| self.apps.remove(k));
                t.users.iter().for_each(|k| self.users.remove(k));
                t.pages.iter().for_each(|k| self.pages.remove(k));
                t.grants.iter().for_each(|k| self.grants.remove(k));
                t.tasks.iter().for_each(|k| self.tasks.remove(k));
                t.tasks.iter().for_each(|(_, u)| self.user_pages.remove(u));
                t.users.iter().for_each(|u| self.user_pages.remove(u));
            }
            Event::SessionStarted { .. }
            | Event::TokenIssued { .. }
            | Event::DataDeletionRequested { .. }
            | Event::TestUserCreated { .. }
            | Event::ContentChanged { .. }
            | Event::Login { .. }
            | Event::ClockMoved { .. }
            | Event::FaultsChanged
            | Event::BrowserSignIn { .. } => {}
        }
    }
}

impl Caches {
    /// Each cache by name, with what it has done.
    pub(crate) fn stats(&self) -> Vec<(&'static str, CacheStats)> {
        vec![
            ("tokens", self.tokens.stats()),
            ("sessions", self.sessions.stats()),
            ("apps", self.apps.stats()),
            ("users", self.users.stats()),
            ("grants", self.grants.stats()),
            ("pages", self.pages.stats()),
            ("tasks", self.tasks.stats()),
            ("user_pages", self.user_pages.stats()),
        ]
    }

    /// Drops what another instance changed (the store's change feed, [`Store::watch`]).
    ///
    /// [`Store::watch`]: crate::store::Store::watch
    pub(crate) fn drop_changed(&self, changes: &[Changed]) {
        for c in changes {
            match c {
                Changed::Token(t) => self.tokens.remove(t),
                Changed::Session(s) => self.sessions.remove(s),
                Changed::App(a) => self.apps.remove(a),
                Changed::User(u) => self.users.remove(u),
                Changed::Grant(u, a) => self.grants.remove(&(*u, *a)),
                Changed::Page(p) => self.pages.remove(p),
                Changed::Tasks(p, u) => {
                    self.tasks.remove(&(*p, *u));
                    self.user_pages.remove(u);
                }
                Changed::Setting { .. } | Changed::Faults => {}
                Changed::Everything => {
                    self.tokens.clear();
                    self.sessions.clear();
                    self.apps.clear();
                    self.users.clear();
                    self.grants.clear();
                    self.pages.clear();
                    self.tasks.clear();
                    self.user_pages.clear();
                }
            }
        }
    }

    /// Tickets for what a person's Pages are read from, taken before they are read, for a
    /// [`KeptAnswer`](crate::store::KeptAnswer) made from them.
    pub(crate) fn pages_tickets(&self) -> PagesTickets {
        PagesTickets {
            list: self.user_pages.tickets(),
            pages: self.pages.tickets(),
            tasks: self.tasks.tickets(),
        }
    }

    /// Whether nothing a person's Page list, or a Page of `seen` or the person's tasks there,
    /// was read from was removed since `seen` was taken. (Every change of a person's tasks
    /// drops their Page list too; the tasks' own tickets keep the check from resting on that.)
    pub(crate) fn pages_unchanged(&self, user: UserId, seen: &PagesSeen) -> bool {
        self.user_pages.unchanged(&user, seen.list)
            && seen.pages.iter().all(|(page, p, t)| {
                self.pages.unchanged(page, *p) && self.tasks.unchanged(&(*page, user), *t)
            })
    }

    fn drop_sessions(&self, sessions: &[SessionId]) {
        for s in sessions {
            self.sessions.remove(s);
        }
    }
}

/// [`Caches::pages_tickets`]: every shard's, as the Pages are known only once read.
pub(crate) struct PagesTickets {
    list: Tickets,
    pages: Tickets,
    tasks: Tickets,
}

impl PagesTickets {
    /// The tickets of `user`'s Page list and of the Pages shown, and their tasks.
    pub(crate) fn seen(&self, user: UserId, shown: impl Iterator<Item = PageId>) -> PagesSeen {
        PagesSeen {
            list: self.list.of(&user),
            pages: shown
                .map(|p| (p, self.pages.of(&p), self.tasks.of(&(p, user))))
                .collect(),
        }
    }
}

/// Reads through a cache: the cached value, or the store's (cached for next time, unless an
/// event touched the key while it was being read).
pub(crate) async fn through<K, V, Fut>(
    cache: &Cache<K, V>,
    key: K,
    load: impl FnOnce() -> Fut,
) -> Result<Option<Arc<V>>, GraphError>
where
    K: Hash + Eq + Clone + ShardKey,
    Fut: Future<Output = StoreResult<Option<V>>>,
{
    if let Some(v) = cache.get(&key) {
        return Ok(Some(v));
    }
    let ticket = cache.ticket(&key);
    Ok(load().await?.map(|v| {
        let v = Arc::new(v);
        cache.put(key, Arc::clone(&v), ticket);
        v
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AppId, Asid, Reason, StoredKind, UserId};

    fn session(id: i64) -> Session {
        Session {
            id: SessionId(id),
            user_id: UserId(1),
            app_id: AppId(2),
            created_at: 0,
            invalidated: None,
        }
    }

    fn entry(hash: u8) -> TokenEntry {
        TokenEntry::new(
            crate::model::TokenRecord {
                hash: [hash; 32],
                kind: StoredKind::User,
                app_id: AppId(2),
                user_id: UserId(1),
                page_id: None,
                session_id: SessionId(7),
                parent: None,
                long_lived: false,
                issued_at: 0,
                expires_at: 0,
                invalidated: None,
                tasks_since: None,
            },
            Asid(3),
        )
    }

    #[test]
    fn an_ended_session_drops_that_session_only() {
        let c = Caches::default();
        for id in [7, 8] {
            c.sessions.put(
                SessionId(id),
                Arc::new(session(id)),
                c.sessions.ticket(&SessionId(id)),
            );
        }
        c.tokens
            .put([1; 32], Arc::new(entry(1)), c.tokens.ticket(&[1; 32]));
        let copied = c.sessions.ticket(&SessionId(7));
        c.on(&Event::SessionsEnded {
            user: UserId(1),
            sessions: vec![SessionId(7)],
            reason: Reason::PasswordChanged,
        });
        assert!(c.sessions.get(&SessionId(7)).is_none());
        assert!(c.sessions.get(&SessionId(8)).is_some());
        // The token's entry stays; the copy of its session it keeps is no longer current.
        assert!(c.tokens.get(&[1; 32]).is_some());
        assert!(!c.sessions.unchanged(&SessionId(7), copied));
    }

    #[test]
    fn another_instance_s_changes_drop_what_they_name() {
        let c = Caches::default();
        for h in [1, 2] {
            c.tokens
                .put([h; 32], Arc::new(entry(h)), c.tokens.ticket(&[h; 32]));
        }
        c.drop_changed(&[Changed::Token([1; 32])]);
        assert!(c.tokens.get(&[1; 32]).is_none());
        assert!(c.tokens.get(&[2; 32]).is_some());
        // A load that started before the change is not cached as current.
        let ticket = c.tokens.ticket(&[3; 32]);
        c.drop_changed(&[Changed::Everything]);
        assert!(c.tokens.get(&[2; 32]).is_none());
        c.tokens.put([3; 32], Arc::new(entry(3)), ticket);
        assert!(c.tokens.get(&[3; 32]).is_none());
    }

    #[test]
    fn a_logout_drops_the_tokens_it_ended() {
        let c = Caches::default();
        for h in [1, 2] {
            c.tokens
                .put([h; 32], Arc::new(entry(h)), c.tokens.ticket(&[h; 32]));
        }
        c.on(&Event::TokensEnded {
            user: UserId(1),
            tokens: vec![[1; 32]],
            reason: Reason::LoggedOut,
        });
        assert!(c.tokens.get(&[1; 32]).is_none());
        assert!(c.tokens.get(&[2; 32]).is_some());
    }

    #[test]
    fn a_persons_pages_are_dropped_when_their_tasks_change() {
        let c = Caches::default();
        for u in [1, 2] {
            let ids = Arc::new(vec![PageId(10)]);
            c.user_pages
                .put(UserId(u), ids, c.user_pages.ticket(&UserId(u)));
        }
        c.on(&Event::PageTasksChanged {
            page: PageId(10),
            user: UserId(1),
        });
        assert!(c.user_pages.get(&UserId(1)).is_none());
        assert!(
            c.user_pages.get(&UserId(2)).is_some(),
            "another person's stay"
        );
        c.drop_changed(&[Changed::Tasks(PageId(11), UserId(2))]);
        assert!(
            c.user_pages.get(&UserId(2)).is_none(),
            "another instance's change"
        );
    }
}
