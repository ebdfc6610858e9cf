//! Slowing down password guessing on the sign-in page: failures are counted per account and
//! per client address; past a threshold each further attempt must wait, longer each time.
//! An attempt counts as a failure from the moment it starts ([`Throttle::begin`]) until it
//! succeeds, so guesses sent all at once are counted before any of them is checked.
//! Counters live in memory and read the [`crate::clock::Clock`] (moving the virtual clock
//! forward lifts a wait).

use std::collections::HashMap;
use std::sync::Mutex;

use crate::model::Unix;

/// Failures allowed before waits begin, per account and per address.
const ACCOUNT_FREE: u32 = 5;
const ADDRESS_FREE: u32 = 20;
/// The first wait, doubled by each further failure, up to [`MAX_WAIT`].
const FIRST_WAIT: i64 = 30;
const MAX_WAIT: i64 = 15 * 60;
/// Failures older than this are forgotten.
const WINDOW: i64 = 60 * 60;
/// Past this many tracked keys, stale ones are dropped.
const PRUNE_AT: usize = 10_000;

#[derive(Clone, Copy, Debug)]
struct Entry {
    failures: u32,
    last_failure: Unix,
    /// No attempt before this time.
    wait_until: Unix,
}

/// What is being guessed at: one account, or everything from one address.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    Account(String),
    Address(String),
}

impl Key {
    /// The account key of an email as typed (case and surrounding spaces do not count).
    pub fn account(email: &str) -> Key {
        Key::Account(email.trim().to_ascii_lowercase())
    }
    fn free(&self) -> u32 {
        match self {
            Key::Account(_) => ACCOUNT_FREE,
            Key::Address(_) => ADDRESS_FREE,
        }
    }
}

#[derive(Debug, Default)]
pub struct Throttle {
    entries: Mutex<HashMap<Key, Entry>>,
}

impl Throttle {
    /// Starts an attempt: `Err(seconds)` when any of `keys` must still wait that long;
    /// otherwise the attempt is counted as a failure until [`Throttle::succeed`] says otherwise.
    ///
    /// The check and the count happen under one lock: attempts sent all at once cannot all
    /// pass the check before any of them is counted.
    pub fn begin(&self, keys: &[Key], now: Unix) -> Result<(), i64> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        waiting(&entries, keys, now)?;
        count_failure(&mut entries, keys, now);
        Ok(())
    }

    /// A successful attempt: the account's count is cleared, and the attempt is taken back from
    /// the other keys' counts.
    pub fn succeed(&self, keys: &[Key]) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        for k in keys {
            match k {
                Key::Account(_) => {
                    entries.remove(k);
                }
                Key::Address(_) => {
                    if let Some(e) = entries.get_mut(k) {
                        e.failures = e.failures.saturating_sub(1);
                    }
                }
            }
        }
    }
}

/// `Err(seconds)` when any of `keys` must still wait that long at `now`.
fn waiting(entries: &HashMap<Key, Entry>, keys: &[Key], now: Unix) -> Result<(), i64> {
    let wait = keys
        .iter()
        .filter_map(|k| entries.get(k))
        .map(|e| e.wait_until - now)
        .max()
        .unwrap_or(0);
    if wait > 0 {
        Err(wait)
    } else {
        Ok(())
    }
}

/// Counts a failed attempt against every key.
fn count_failure(entries: &mut HashMap<Key, Entry>, keys: &[Key], now: Unix) {
    if entries.len() > PRUNE_AT {
        entries.retain(|_, e| now - e.last_failure < WINDOW || e.wait_until > now);
    }
    for k in keys {
        let e = entries.entry(k.clone()).or_insert(Entry {
            failures: 0,
            last_failure: now,
            wait_until: now,
        });
        if now - e.last_failure >= WINDOW {
            e.failures = 0;
        }
        e.failures += 1;
        e.last_failure = now;
        if e.failures >= k.free() {
            let extra = (e.failures - k.free()).min(10);
            e.wait_until = now + (FIRST_WAIT << extra).min(MAX_WAIT);
        }
    }
}

/// The message shown when an attempt must wait.
pub fn wait_message(seconds: i64) -> String {
    let when = if seconds < 90 {
        format!("{seconds} seconds")
    } else {
        format!("{} minutes", (seconds + 59) / 60)
    };
    format!("Too many failed attempts to log in. For your security, wait {when} and try again.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_begin_after_five_failures_and_grow() {
        let t = Throttle::default();
        let keys = [Key::account("A@x.test "), Key::Address("127.0.0.1".into())];
        // Five attempts start (each counted as a failure); the sixth must wait.
        for _ in 0..5 {
            assert_eq!(t.begin(&keys, 100), Ok(()));
        }
        assert_eq!(t.begin(&keys, 100), Err(30));
        assert_eq!(t.begin(&[Key::account("a@x.test")], 129), Err(1));
        assert_eq!(t.begin(&keys, 130), Ok(()));
        assert_eq!(t.begin(&keys, 130), Err(60));
        t.succeed(&[Key::account("a@x.test")]);
        assert_eq!(t.begin(&keys, 130), Ok(()));
    }

    #[test]
    fn attempts_count_before_they_are_checked() {
        let t = Throttle::default();
        let keys = [Key::account("c@x.test"), Key::Address("10.0.0.1".into())];
        // Five guesses at once: all start, the sixth must wait before any is checked.
        for _ in 0..5 {
            assert_eq!(t.begin(&keys, 0), Ok(()));
        }
        assert_eq!(t.begin(&keys, 0), Err(30));
        // A success takes its attempt back from the address and clears the account.
        let t = Throttle::default();
        t.begin(&keys, 0).unwrap();
        t.succeed(&keys);
        assert_eq!(t.entries.lock().unwrap()[&keys[1]].failures, 0);
        assert!(!t.entries.lock().unwrap().contains_key(&keys[0]));
    }

    #[test]
    fn parallel_attempts_cannot_slip_between_check_and_count() {
        for _ in 0..20 {
            let t = Throttle::default();
            let keys = [Key::account("p@x.test")];
            let started = std::thread::scope(|s| {
                let handles: Vec<_> = (0..16)
                    .map(|_| s.spawn(|| t.begin(&keys, 0).is_ok()))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap())
                    .filter(|ok| *ok)
                    .count()
            });
            assert_eq!(started, ACCOUNT_FREE as usize);
        }
    }

    #[test]
    fn failures_are_forgotten_after_an_hour() {
        let t = Throttle::default();
        let k = [Key::account("b@x.test")];
        for _ in 0..4 {
            assert_eq!(t.begin(&k, 0), Ok(()));
        }
        // A fifth attempt an hour later starts the count again: a sixth is not made to wait.
        assert_eq!(t.begin(&k, WINDOW), Ok(()));
        assert_eq!(t.begin(&k, WINDOW), Ok(()));
        assert!(wait_message(30).contains("30 seconds"));
        assert!(wait_message(600).contains("10 minutes"));
    }
}
