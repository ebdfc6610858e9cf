//! Rate limits (spec §6): call budgets over a sliding hour on the virtual clock.
//!
//! Three kinds of counter, in memory (they start empty on every start of the server):
//!
//! | counter | counts | over budget |
//! |---|---|---|
//! | app | every call with a caller | `(#4) Application request limit reached` |
//! | (app, person) | calls with a user token | `(#17) User request limit reached` |
//! | (app, Page) | calls with a Page token, and user-token calls on a Page node | `(#80001) …` for Page tokens, `(#32) Page request limit reached` for user tokens |
//!
//! A call is checked against all its counters (app first, then person, then Page) and counted
//! in all of them only when every one has room: a refused call is not counted, so access comes
//! back when enough of the oldest counted calls have left the hour. Budgets come from
//! [`App::rate_limits`]; `None` means the defaults below.
//!
//! Each counter is a ring of 60 one-minute buckets: the window is the current minute and the 59
//! before it, so a call leaves it between 59 and 60 minutes after it was made (at the start of
//! the 60th minute after its own). If the clock moves back by less than an hour, calls count in
//! the newest bucket; by an hour or more, the counter starts over. Counters idle for an hour are
//! dropped, so memory follows the number of apps, people and Pages active in the last hour.
//!
//! **Several instances on one database** share their budgets in batches: every so often each
//! instance hands the calls it counted since ([`RateLimiter::take_unshared`]) to the store and
//! learns every instance's counts per minute ([`RateLimiter::learn`]); a counter's total is its
//! own calls plus the others' as last learned. Between two exchanges an instance does not see
//! the others' newest calls, so a budget can be overshot by what the other instances admitted
//! in that interval (with exchanges every 250 ms, the calls they made in the last 250 ms; see
//! docs/compatibility.md).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash};
use std::sync::{Mutex, MutexGuard};

use crate::auth::Principal;
use crate::cache::KeyHasher;
use crate::error::GraphError;
use crate::model::{App, AppId, Id, PageId, Unix, UserId};

/// Calls per hour for a whole app, unless the app sets `rate_limits.app`.
pub const DEFAULT_APP: u32 = 20_000;
/// Calls per hour for one person with one app, unless the app sets `rate_limits.user`.
pub const DEFAULT_USER: u32 = 2_000;
/// Calls per hour for one Page with one app (Facebook's 4800 per engaged user), unless the app
/// sets `rate_limits.page`.
pub const DEFAULT_PAGE: u32 = 4_800;

const BUCKET_SECONDS: i64 = 60;
const BUCKETS: usize = 60;
/// The most calls learned for one bucket (a minute): its window's sixty stay far below
/// `u32::MAX` together, at close to eighteen million calls a minute each.
const LEARNED_MAX: u32 = u32::MAX / 4 / BUCKETS as u32;
const SHARDS: usize = 16;
/// How often (in minutes of the clock) a shard drops its idle counters.
const SWEEP_MINUTES: i64 = 10;

/// An app's budgets, with the defaults filled in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budgets {
    pub app: u32,
    pub user: u32,
    pub page: u32,
}

impl Budgets {
    pub fn of(app: &App) -> Self {
        let l = app.rate_limits;
        Budgets {
            app: l.app.unwrap_or(DEFAULT_APP),
            user: l.user.unwrap_or(DEFAULT_USER),
            page: l.page.unwrap_or(DEFAULT_PAGE),
        }
    }
}

/// Which token a Page's counter was reached with: it decides the error (32 or 80001) and
/// whether the usage is reported as a business use case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageVia {
    UserToken,
    PageToken,
}

/// One call to count: its app, and the person and Page it counts against, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Call {
    pub app: AppId,
    pub user: Option<UserId>,
    pub page: Option<(PageId, PageVia)>,
}

/// The budget a refused call is over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    App,
    User,
    Page(PageVia),
}

/// What a counted (or refused) call leaves used, for the `X-*-Usage` response headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Usage {
    /// Percent (0–100) of the app's hourly budget used.
    pub app: u8,
    /// The Page's counter, when the call counts against one.
    pub page: Option<PageUsage>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageUsage {
    pub id: PageId,
    /// Percent (0–100) of the Page's hourly budget used.
    pub percent: u8,
    /// Minutes until the Page's counter takes a call again; 0 while it has room.
    pub regain_minutes: u32,
    pub via: PageVia,
}

impl Usage {
    /// `X-App-Usage`. graphtoken charges every call the same time, so `total_time` and
    /// `total_cputime` are the share of the budget used, like `call_count`.
    pub fn app_header(&self) -> &'static str {
        shares(self.app)
    }

    /// `X-Page-Usage`, for calls that count against a Page.
    pub fn page_header(&self) -> Option<&'static str> {
        self.page.map(|p| shares(p.percent))
    }

    /// `X-Business-Use-Case-Usage`, for calls with a Page token.
    pub fn business_header(&self) -> Option<String> {
        let p = self.page.filter(|p| p.via == PageVia::PageToken)?;
        Some(format!(
            "{{\"{}\":[{{\"type\":\"pages\",\"call_count\":{pct},\"total_cputime\":{pct},\"total_time\":{pct},\"estimated_time_to_regain_access\":{}}}]}}",
            p.id,
            p.regain_minutes,
            pct = p.percent
        ))
    }
}

/// The usage header of a share, written once for every share: every answer to a caller carries
/// one, and writing it for each was 2% of a `debug_token` request's instructions.
pub fn shares(pct: u8) -> &'static str {
    static WRITTEN: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let written = WRITTEN.get_or_init(|| {
        (0..=u8::MAX)
            .map(|p| format!("{{\"call_count\":{p},\"total_time\":{p},\"total_cputime\":{p}}}"))
            .collect()
    });
    written.get(usize::from(pct)).map_or("", String::as_str)
}

impl Call {
    /// What a call with `principal`'s token counts against. `page` is the Page the call is on
    /// when it is one (a user-token call on a Page also counts against the Page, error 32).
    pub fn of(principal: &Principal, page: Option<PageId>) -> Call {
        let app = principal.app().id;
        match principal {
            Principal::User(t) => Call {
                app,
                user: Some(t.user.id),
                page: page.map(|p| (p, PageVia::UserToken)),
            },
            Principal::Page(t) => Call {
                app,
                user: None,
                page: t.page.as_ref().map(|(p, _)| (p.id, PageVia::PageToken)),
            },
            Principal::App(_) | Principal::Client(_) => Call {
                app,
                user: None,
                page: None,
            },
        }
    }
}

impl Limit {
    /// The error for a call refused by this budget, regaining access in `minutes`.
    pub fn error(self, minutes: u32) -> GraphError {
        match self {
            Limit::App => GraphError::app_rate_limited(minutes),
            Limit::User => GraphError::user_rate_limited(minutes),
            Limit::Page(PageVia::UserToken) => GraphError::page_rate_limited(minutes),
            Limit::Page(PageVia::PageToken) => GraphError::page_business_rate_limited(minutes),
        }
    }
}

/// The counters of one server.
#[derive(Default)]
pub struct RateLimiter {
    apps: Counters<Id>,
    users: Counters<(Id, Id)>,
    pages: Counters<(Id, Id)>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter").finish_non_exhaustive()
    }
}

impl RateLimiter {
    /// Checks `call` against `budgets` at `now` and counts it if every counter has room.
    /// Returns the usage after the call, and the budget it is over with the minutes until that
    /// counter takes a call again, if refused.
    ///
    /// Locks are taken in one order (person, Page, app), one per counter, and held together so
    /// that concurrent calls cannot both take the last unit of a budget. The app's lock, which
    /// every call of the app shares, comes last so that it is held the shortest.
    pub fn admit(&self, call: &Call, budgets: Budgets, now: Unix) -> (Usage, Option<(Limit, u32)>) {
        self.account(call, budgets, now, true)
    }

    /// [`RateLimiter::admit`] when `count`; otherwise only reads the usage (never refuses).
    pub fn account(
        &self,
        call: &Call,
        budgets: Budgets,
        now: Unix,
        count: bool,
    ) -> (Usage, Option<(Limit, u32)>) {
        let minute = now.div_euclid(BUCKET_SECONDS);
        // The counters are keyed by the ids' numbers.
        let mut user_shard = call.user.map(|u| {
            let key = (call.app.0, u.0);
            (self.users.lock(&key, minute), key)
        });
        let mut page_shard = call.page.map(|(p, via)| {
            let key = (call.app.0, p.0);
            (self.pages.lock(&key, minute), key, via)
        });
        let mut app_shard = self.apps.lock(&call.app.0, minute);

        let app = app_shard.window(call.app.0, minute);
        let user = user_shard.as_mut().map(|(s, k)| s.window(*k, minute));
        let mut page = page_shard
            .as_mut()
            .map(|(s, k, via)| (s.window(*k, minute), *via));

        let mut refused = None;
        if !count {
            // Only looking.
        } else if app.total >= budgets.app {
            refused = Some((Limit::App, app.regain_minutes(budgets.app, now)));
        } else if let Some(w) = user.as_ref().filter(|w| w.total >= budgets.user) {
            refused = Some((Limit::User, w.regain_minutes(budgets.user, now)));
        } else if let Some((w, via)) = page.as_ref().filter(|(w, _)| w.total >= budgets.page) {
            refused = Some((Limit::Page(*via), w.regain_minutes(budgets.page, now)));
        }
        if count && refused.is_none() {
            app.add();
            if let Some(w) = user {
                w.add();
            }
            if let Some((w, _)) = page.as_mut() {
                w.add();
            }
        }
        let page_usage = match page {
            Some((w, via)) => {
                let over = w.total >= budgets.page;
                Some(PageUsage {
                    id: call.page.map_or(PageId(0), |(p, _)| p),
                    percent: percent(w.total, budgets.page),
                    regain_minutes: if over {
                        w.regain_minutes(budgets.page, now)
                    } else {
                        0
                    },
                    via,
                })
            }
            None => None,
        };
        let usage = Usage {
            app: percent(app.total, budgets.app),
            page: page_usage,
        };
        (usage, refused)
    }
}

/// A counter, as the store keys the calls it shares: `app:{app}`, `user:{app}:{user}`,
/// `page:{app}:{page}`.
fn counter_key(kind: &str, key: &[Id]) -> String {
    let ids: Vec<String> = key.iter().map(Id::to_string).collect();
    format!("{kind}:{}", ids.join(":"))
}

/// Calls to hand to the store: `(counter, minute, calls)`.
pub type Unshared = Vec<(String, i64, u32)>;

impl RateLimiter {
    /// The calls counted since the last time, per counter and minute, and every counter active
    /// in the hour before `now` (whose counts to learn). From now on they count as handed on.
    pub fn take_unshared(&self, now: Unix) -> (Unshared, Vec<String>) {
        let minute = now.div_euclid(BUCKET_SECONDS);
        let (mut calls, mut active) = (Vec::new(), Vec::new());
        self.apps.each(minute, |k, w| {
            collect(counter_key("app", &[*k]), w, &mut calls, &mut active)
        });
        self.users.each(minute, |k, w| {
            collect(counter_key("user", &[k.0, k.1]), w, &mut calls, &mut active)
        });
        self.pages.each(minute, |k, w| {
            collect(counter_key("page", &[k.0, k.1]), w, &mut calls, &mut active)
        });
        (calls, active)
    }

    /// Every instance's counts, `(counter, minute, calls)`, as the store has them.
    pub fn learn(&self, counts: &[(String, i64, u64)], now: Unix) {
        let minute = now.div_euclid(BUCKET_SECONDS);
        for (key, m, n) in counts {
            // Far below u32::MAX: a bucket's counts are added to, and a window's total is the
            // sum of its buckets.
            let n = u32::try_from(*n).unwrap_or(LEARNED_MAX).min(LEARNED_MAX);
            match parse_counter(key) {
                Some(Counter::App(a)) => self.apps.learn(a, minute, *m, n),
                Some(Counter::User(k)) => self.users.learn(k, minute, *m, n),
                Some(Counter::Page(k)) => self.pages.learn(k, minute, *m, n),
                None => {}
            }
        }
    }

    /// Calls [`RateLimiter::take_unshared`] handed out that the store did not get (the
    /// exchange failed): they are handed out again next time.
    pub fn give_back(&self, calls: &Unshared, now: Unix) {
        let minute = now.div_euclid(BUCKET_SECONDS);
        for (key, m, n) in calls {
            match parse_counter(key) {
                Some(Counter::App(a)) => self.apps.give_back(a, minute, *m, *n),
                Some(Counter::User(k)) => self.users.give_back(k, minute, *m, *n),
                Some(Counter::Page(k)) => self.pages.give_back(k, minute, *m, *n),
                None => {}
            }
        }
    }
}

enum Counter {
    App(Id),
    User((Id, Id)),
    Page((Id, Id)),
}

fn parse_counter(key: &str) -> Option<Counter> {
    let mut parts = key.split(':');
    let kind = parts.next();
    let ids: Vec<Id> = parts.map(|p| p.parse().ok()).collect::<Option<_>>()?;
    match (kind, ids.as_slice()) {
        (Some("app"), [a]) => Some(Counter::App(*a)),
        (Some("user"), [a, u]) => Some(Counter::User((*a, *u))),
        (Some("page"), [a, p]) => Some(Counter::Page((*a, *p))),
        _ => None,
    }
}

fn collect(key: String, w: &mut Window, calls: &mut Unshared, active: &mut Vec<String>) {
    let mut minutes = Vec::new();
    w.take_unshared(&mut minutes);
    calls.extend(minutes.into_iter().map(|(m, n)| (key.clone(), m, n)));
    active.push(key);
}

fn percent(used: u32, budget: u32) -> u8 {
    if budget == 0 {
        return 100;
    }
    (u64::from(used) * 100 / u64::from(budget)).min(100) as u8
}

/// Spreads counter keys over shards. The keys of one app differ in their second half only, so
/// both halves are mixed (the store caches' `ShardKey` looks mostly at the first).
trait CounterKey {
    fn shard(&self) -> usize;
}

fn spread(x: u64) -> usize {
    (x.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 60) as usize % SHARDS
}

impl CounterKey for Id {
    fn shard(&self) -> usize {
        spread(*self)
    }
}

impl CounterKey for (Id, Id) {
    fn shard(&self) -> usize {
        spread(self.0 ^ self.1.rotate_left(32))
    }
}

/// A sharded map of windows.
struct Counters<K> {
    shards: Vec<Mutex<Shard<K>>>,
}

impl<K> Default for Counters<K> {
    fn default() -> Self {
        Counters {
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        map: HashMap::default(),
                        swept: i64::MIN,
                    })
                })
                .collect(),
        }
    }
}

struct Shard<K> {
    map: HashMap<K, Window, BuildHasherDefault<KeyHasher>>,
    /// The minute this shard last dropped its idle counters.
    swept: i64,
}

impl<K: Hash + Eq + CounterKey> Counters<K> {
    /// The shard holding `key`, locked, with idle counters dropped now and then.
    fn lock(&self, key: &K, minute: i64) -> MutexGuard<'_, Shard<K>> {
        let mut shard = self.shards[key.shard()]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if minute.saturating_sub(shard.swept) >= SWEEP_MINUTES || minute < shard.swept {
            // A window with no call left in the hour knows nothing: it goes.
            shard.map.retain(|_, w| {
                w.slide(minute);
                w.total > 0
            });
            shard.swept = minute;
        }
        shard
    }
}

impl<K: Hash + Eq + CounterKey + Clone> Counters<K> {
    /// Calls `f` with every counter that holds a call in the hour before `minute`.
    fn each(&self, minute: i64, mut f: impl FnMut(&K, &mut Window)) {
        for shard in &self.shards {
            let mut shard = shard.lock().unwrap_or_else(|p| p.into_inner());
            for (k, w) in shard.map.iter_mut() {
                w.slide(minute);
                if w.total > 0 {
                    f(k, w);
                }
            }
        }
    }

    /// Calls handed out by [`RateLimiter::take_unshared`] that did not reach the store: they
    /// are this instance's unshared calls again.
    fn give_back(&self, key: K, minute: i64, m: i64, calls: u32) {
        let mut shard = self.lock(&key, minute);
        let w = shard.window(key, minute);
        if w.holds(m) {
            let i = Window::slot(m);
            w.unshared[i] = (w.unshared[i] + calls).min(w.counts[i] - w.others[i]);
        }
    }

    /// Every instance's count of minute `m` for `key` (known to this instance or not).
    fn learn(&self, key: K, minute: i64, m: i64, everyone: u32) {
        let mut shard = self.lock(&key, minute);
        shard.window(key, minute).learn(m, everyone);
    }
}

impl<K: Hash + Eq> Shard<K> {
    /// `key`'s window, slid to `minute` (created empty if new).
    fn window(&mut self, key: K, minute: i64) -> &mut Window {
        let w = self.map.entry(key).or_insert_with(|| Window::new(minute));
        w.slide(minute);
        w
    }
}

/// Calls over the last hour, in one-minute buckets: this instance's own, and those other
/// instances on the same database made, as last learned.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Window {
    /// The minute (unix seconds / 60) of the newest bucket.
    newest: i64,
    /// Every call counted, per bucket: this instance's and the others'.
    counts: [u32; BUCKETS],
    /// The sum of `counts`.
    total: u32,
    /// Of `counts`, the others' calls.
    others: [u32; BUCKETS],
    /// Of `counts`, this instance's calls not yet handed to the store.
    unshared: [u32; BUCKETS],
}

impl Window {
    fn new(minute: i64) -> Self {
        Window {
            newest: minute,
            counts: [0; BUCKETS],
            total: 0,
            others: [0; BUCKETS],
            unshared: [0; BUCKETS],
        }
    }

    fn slot(minute: i64) -> usize {
        minute.rem_euclid(BUCKETS as i64) as usize
    }

    /// Moves the window so that its newest bucket is `minute`, emptying the buckets that left.
    fn slide(&mut self, minute: i64) {
        let gap = minute.saturating_sub(self.newest);
        if gap >= BUCKETS as i64 || gap <= -(BUCKETS as i64) {
            // An hour or more passed (or the clock went back that far): nothing is left.
            *self = Window::new(minute);
        } else if gap > 0 {
            for m in self.newest + 1..=minute {
                let i = Self::slot(m);
                self.total -= self.counts[i];
                self.counts[i] = 0;
                self.others[i] = 0;
                self.unshared[i] = 0;
            }
            self.newest = minute;
        }
        // gap < 0: the clock went back less than an hour; keep counting in the newest bucket.
    }

    fn add(&mut self) {
        let i = Self::slot(self.newest);
        self.counts[i] += 1;
        self.unshared[i] += 1;
        self.total += 1;
    }

    /// Whether `minute` is in the window.
    fn holds(&self, minute: i64) -> bool {
        minute <= self.newest && minute > self.newest - BUCKETS as i64
    }

    /// This instance's calls not yet handed on, per minute; they count as handed on from now.
    fn take_unshared(&mut self, out: &mut Vec<(i64, u32)>) {
        for m in self.newest - (BUCKETS as i64 - 1)..=self.newest {
            let i = Self::slot(m);
            if self.unshared[i] > 0 {
                out.push((m, self.unshared[i]));
                self.unshared[i] = 0;
            }
        }
    }

    /// Every instance's count of minute `m` is `everyone`: the others' share is what is not
    /// this instance's (its own are the bucket's count less the others' as known before).
    fn learn(&mut self, m: i64, everyone: u32) {
        if !self.holds(m) {
            return;
        }
        let i = Self::slot(m);
        let own = self.counts[i] - self.others[i];
        // Calls of this instance not handed on yet are in `own` but not in `everyone`.
        let others = everyone.saturating_sub(own - self.unshared[i]);
        self.total = self.total - self.counts[i] + own + others;
        self.counts[i] = own + others;
        self.others[i] = others;
    }

    /// Minutes (rounded up, at least 1) from `now` until the window holds fewer than `budget`
    /// calls: until enough of its oldest buckets have left the hour.
    fn regain_minutes(&self, budget: u32, now: Unix) -> u32 {
        let must_leave = self.total.saturating_sub(budget).saturating_add(1);
        let mut left = 0u32;
        let oldest = self.newest - (BUCKETS as i64 - 1);
        for m in oldest..=self.newest {
            left = left.saturating_add(self.counts[Self::slot(m)]);
            if left >= must_leave {
                // The bucket of minute `m` leaves when minute `m + 60` starts.
                let seconds = (m + BUCKETS as i64) * BUCKET_SECONDS - now;
                let minutes = (seconds.max(1) + BUCKET_SECONDS - 1) / BUCKET_SECONDS;
                return u32::try_from(minutes.min(BUCKETS as i64)).unwrap_or(60);
            }
        }
        // A budget of 0 is never regained; report the whole window.
        BUCKETS as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AppId, PageId, UserId};

    const T0: Unix = 1_700_000_040; // the start of a minute

    fn budgets(app: u32, user: u32, page: u32) -> Budgets {
        Budgets { app, user, page }
    }

    fn user_call(user: u64) -> Call {
        Call {
            app: AppId(1),
            user: Some(UserId(user)),
            page: None,
        }
    }

    /// What a store does with the calls instances hand it: adds them up per counter and minute.
    #[derive(Default)]
    struct Shared(std::collections::BTreeMap<(String, i64), u64>);

    impl Shared {
        fn exchange(&mut self, limiter: &RateLimiter, now: Unix) {
            let (calls, active) = limiter.take_unshared(now);
            for (k, m, n) in calls {
                *self.0.entry((k, m)).or_default() += u64::from(n);
            }
            let counts: Vec<(String, i64, u64)> = self
                .0
                .iter()
                .filter(|((k, _), _)| active.contains(k))
                .map(|((k, m), n)| (k.clone(), *m, *n))
                .collect();
            limiter.learn(&counts, now);
        }
    }

    #[test]
    fn instances_sharing_a_database_count_each_other_s_calls() {
        let (a, b) = (RateLimiter::default(), RateLimiter::default());
        let mut store = Shared::default();
        let call = user_call(7);
        let budgets = budgets(10, 1000, 1000);
        // Between two exchanges each admits up to the budget on its own: the overshoot.
        for _ in 0..6 {
            assert_eq!(a.admit(&call, budgets, T0).1, None);
            assert_eq!(b.admit(&call, budgets, T0).1, None);
        }
        store.exchange(&a, T0);
        store.exchange(&b, T0);
        store.exchange(&a, T0);
        // Now both know of all twelve: the budget of ten is spent on each.
        assert_eq!(a.admit(&call, budgets, T0).1.map(|r| r.0), Some(Limit::App));
        assert_eq!(b.admit(&call, budgets, T0).1.map(|r| r.0), Some(Limit::App));
        // Nothing is counted twice by exchanging again, and calls not handed on yet are kept.
        store.exchange(&a, T0);
        let wide = super::Budgets {
            app: 100,
            user: 1000,
            page: 1000,
        };
        assert_eq!(a.admit(&call, wide, T0).1, None);
        store.exchange(&b, T0);
        let (usage, _) = a.account(&call, wide, T0, false);
        assert_eq!(usage.app, 13);
        store.exchange(&a, T0);
        assert_eq!(a.account(&call, wide, T0, false).0.app, 13);
        assert_eq!(b.account(&call, wide, T0, false).0.app, 12);
        store.exchange(&b, T0);
        assert_eq!(b.account(&call, wide, T0, false).0.app, 13);
        // An hour later the shared calls have left the window too, and an idle counter is no
        // longer active (nothing more to exchange for it).
        let later = T0 + 3600;
        store.exchange(&a, later);
        assert_eq!(a.account(&call, wide, later, false).0.app, 0);
        assert!(a.take_unshared(later).1.is_empty());
    }

    /// Counts read back from the store may be anything: an hour of huge ones fills the window
    /// without its total passing `u32::MAX` (which panicked in a debug build).
    #[test]
    fn huge_counts_learned_for_a_whole_hour_refuse_without_overflow() {
        let limiter = RateLimiter::default();
        let call = user_call(7);
        let budgets = budgets(10, 1000, 1000);
        assert_eq!(limiter.admit(&call, budgets, T0).1, None);
        let (_, active) = limiter.take_unshared(T0);
        let minute = T0 / 60;
        let counts: Vec<(String, i64, u64)> = active
            .iter()
            .flat_map(|k| (minute - 59..=minute).map(move |m| (k.clone(), m, u64::MAX)))
            .collect();
        limiter.learn(&counts, T0);
        assert!(limiter.admit(&call, budgets, T0).1.is_some());
    }

    #[test]
    fn calls_an_exchange_did_not_deliver_are_handed_on_next_time() {
        let a = RateLimiter::default();
        let call = user_call(7);
        for _ in 0..3 {
            assert_eq!(a.admit(&call, budgets(100, 100, 100), T0).1, None);
        }
        let (taken, _) = a.take_unshared(T0);
        assert_eq!(taken.len(), 2, "{taken:?}"); // the app's and the person's counters
        a.give_back(&taken, T0);
        let (again, _) = a.take_unshared(T0);
        assert_eq!(again, taken);
        assert!(a.take_unshared(T0).0.is_empty());
    }

    #[test]
    fn window_slides_minute_by_minute() {
        let mut w = Window::new(T0 / 60);
        for k in 0..5 {
            w.slide(T0 / 60 + k * 10);
            w.add();
            w.add();
        }
        assert_eq!(w.total, 10);
        // Minute 0 leaves when minute 60 starts; minutes 10..40 stay.
        w.slide(T0 / 60 + 59);
        assert_eq!(w.total, 10);
        w.slide(T0 / 60 + 60);
        assert_eq!(w.total, 8);
        w.slide(T0 / 60 + 95);
        assert_eq!(w.total, 2);
        w.slide(T0 / 60 + 100);
        assert_eq!(w.total, 0);
        // A call long after: the window starts over.
        w.add();
        w.slide(T0 / 60 + 1000);
        assert_eq!(w.total, 0);
    }

    #[test]
    fn clock_going_back_keeps_counting() {
        let mut w = Window::new(T0 / 60 + 10);
        w.add();
        w.slide(T0 / 60 + 5);
        w.add();
        assert_eq!((w.newest, w.total), (T0 / 60 + 10, 2));
        w.slide(T0 / 60 - 100);
        assert_eq!(w.total, 0);
    }

    #[test]
    fn regain_is_when_enough_old_calls_leave() {
        let mut w = Window::new(T0 / 60);
        w.add(); // minute 0
        w.slide(T0 / 60 + 30);
        w.add();
        w.add(); // minute 30

        // Budget 3, at 3: the minute-0 call must leave, at T0 + 3600.
        assert_eq!(w.regain_minutes(3, T0 + 30 * 60), 30);
        // 29m59s, rounded up.
        assert_eq!(w.regain_minutes(3, T0 + 30 * 60 + 1), 30);
        // Budget 2: two calls must leave, the second at T0 + 30 min + 3600.
        assert_eq!(w.regain_minutes(2, T0 + 30 * 60), 60);
    }

    #[test]
    fn user_then_app_budgets_refuse_without_counting() {
        let l = RateLimiter::default();
        let b = budgets(5, 3, 100);
        for _ in 0..3 {
            assert_eq!(l.admit(&user_call(7), b, T0).1, None);
        }
        let (u, refused) = l.admit(&user_call(7), b, T0 + 5);
        assert_eq!(refused, Some((Limit::User, 60)));
        assert_eq!(u.app, 60); // 3 of 5: the refused call was not counted
        assert_eq!(l.admit(&user_call(8), b, T0 + 5).1, None);
        let (u, refused) = l.admit(&user_call(8), b, T0 + 5);
        assert_eq!((u.app, refused), (100, None));
        assert_eq!(
            l.admit(&user_call(9), b, T0 + 120).1,
            Some((Limit::App, 58))
        );
        // An hour after the first calls, all of them left.
        let (u, refused) = l.admit(&user_call(7), b, T0 + 3600);
        assert_eq!((u.app, refused), (20, None));
    }

    #[test]
    fn page_budgets_answer_by_token_kind() {
        let l = RateLimiter::default();
        let b = budgets(100, 100, 2);
        let by_page = Call {
            app: AppId(1),
            user: None,
            page: Some((PageId(42), PageVia::PageToken)),
        };
        let (u, _) = l.admit(&by_page, b, T0);
        let p = u.page.unwrap();
        assert_eq!((p.id, p.percent, p.regain_minutes), (PageId(42), 50, 0));
        assert_eq!(
            u.business_header().as_deref(),
            Some(
                r#"{"42":[{"type":"pages","call_count":50,"total_cputime":50,"total_time":50,"estimated_time_to_regain_access":0}]}"#
            )
        );
        let (u, refused) = l.admit(&by_page, b, T0 + 600);
        assert_eq!(refused, None);
        assert_eq!(u.page.unwrap().regain_minutes, 50);
        assert_eq!(
            l.admit(&by_page, b, T0 + 600).1,
            Some((Limit::Page(PageVia::PageToken), 50))
        );
        let by_user = Call {
            app: AppId(1),
            user: Some(UserId(5)),
            page: Some((PageId(42), PageVia::UserToken)),
        };
        let (u, refused) = l.admit(&by_user, b, T0 + 600);
        assert_eq!(refused, Some((Limit::Page(PageVia::UserToken), 50)));
        assert_eq!(u.business_header(), None);
        assert_eq!(
            u.page_header(),
            Some(r#"{"call_count":100,"total_time":100,"total_cputime":100}"#)
        );
        // Another Page of the same app has its own budget.
        let other = Call {
            page: Some((PageId(43), PageVia::PageToken)),
            ..by_page
        };
        assert_eq!(l.admit(&other, b, T0 + 600).1, None);
    }

    #[test]
    fn idle_counters_are_dropped() {
        let l = RateLimiter::default();
        let b = budgets(100, 100, 100);
        for u in 0..50 {
            l.admit(&user_call(u), b, T0);
        }
        let held = |c: &Counters<(Id, Id)>| -> usize {
            c.shards.iter().map(|s| s.lock().unwrap().map.len()).sum()
        };
        assert_eq!(held(&l.users), 50);
        // Two hours later, touching every shard drops what was idle.
        for u in 100..300 {
            l.admit(&user_call(u), b, T0 + 7200);
        }
        assert_eq!(held(&l.users), 200);
    }

    #[test]
    fn percentages_are_floored_and_capped() {
        assert_eq!(percent(1, 3), 33);
        assert_eq!(percent(29, 30), 96);
        assert_eq!(percent(40, 30), 100);
        assert_eq!(percent(0, 0), 100);
        let u = Usage {
            app: 28,
            page: None,
        };
        assert_eq!(
            u.app_header(),
            r#"{"call_count":28,"total_time":28,"total_cputime":28}"#
        );
        assert_eq!(u.page_header(), None);
    }
}
