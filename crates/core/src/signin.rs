//! Slowing down password guessing on the sign-in page: failures are counted per account from
//! one address, per account from anywhere and per address; past a threshold for any of them,
//! each further attempt must wait, longer each time. A stranger's guesses make the stranger
//! wait (their address, and the account from their address) long before the account itself is
//! held up for its owner: that takes ten times as many failures, from every address together.
//! An attempt counts as a failure from the moment it starts ([`begin`]) until it succeeds
//! ([`succeed`]), so guesses sent all at once are counted before any of them is checked.
//!
//! These are the rules, over the entries of the keys an attempt names. The entries live in the
//! store (`LoginStore::update_throttle` applies a rule to them in one transaction, so attempts
//! sent at once, to one instance or to several sharing a database, cannot slip between the
//! check and the count). Times are the [`crate::clock::Clock`]'s (moving the virtual clock
//! forward lifts a wait).

use crate::model::Unix;

/// Failures allowed before waits begin: per account from one address, per account from
/// anywhere, per address.
const ACCOUNT_FROM_FREE: u32 = 5;
const ACCOUNT_FREE: u32 = 50;
const ADDRESS_FREE: u32 = 20;
/// The first wait, doubled by each further failure, up to [`MAX_WAIT`].
const FIRST_WAIT: i64 = 30;
const MAX_WAIT: i64 = 15 * 60;
/// Failures older than this are forgotten.
pub const WINDOW: i64 = 60 * 60;

/// What the throttle remembers of one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub failures: u32,
    pub last_failure: Unix,
    /// No attempt before this time.
    pub wait_until: Unix,
}

/// What is being guessed at: one account from one address, one account from anywhere, or
/// everything from one address.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    AccountFrom { account: String, address: String },
    Account(String),
    Address(String),
}

impl Key {
    /// The keys a sign-in attempt for `email` (as typed: case and surrounding spaces do not
    /// count) from `address` counts against.
    pub fn attempt(email: &str, address: &str) -> [Key; 3] {
        let account = email.trim().to_ascii_lowercase();
        [
            Key::AccountFrom {
                account: account.clone(),
                address: address.to_string(),
            },
            Key::Account(account),
            Key::Address(address.to_string()),
        ]
    }

    /// The key as the store keeps it.
    pub fn stored(&self) -> String {
        match self {
            // The address's length first: an IPv6 address has colons of its own.
            Key::AccountFrom { account, address } => {
                format!("account-from:{}:{address}:{account}", address.len())
            }
            Key::Account(a) => format!("account:{a}"),
            Key::Address(a) => format!("address:{a}"),
        }
    }

    fn free(&self) -> u32 {
        match self {
            Key::AccountFrom { .. } => ACCOUNT_FROM_FREE,
            Key::Account(_) => ACCOUNT_FREE,
            Key::Address(_) => ADDRESS_FREE,
        }
    }
}

/// Starts an attempt on `keys`, whose entries are `entries` (in the same order): `Err(seconds)`
/// when any must still wait that long at `now`; otherwise the attempt is counted as a failure
/// against every key until [`succeed`] takes it back.
pub fn begin(keys: &[Key], entries: &mut [Option<Entry>], now: Unix) -> Result<(), i64> {
    let wait = entries
        .iter()
        .flatten()
        .map(|e| e.wait_until - now)
        .max()
        .unwrap_or(0);
    if wait > 0 {
        return Err(wait);
    }
    for (k, slot) in keys.iter().zip(entries.iter_mut()) {
        let e = slot.get_or_insert(Entry {
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
    Ok(())
}

/// A successful attempt: the account's entry from this address is forgotten, and the attempt
/// is taken back from the other keys' counts (the account's failures from other addresses
/// stand: the owner signing in does not wipe a stranger's guesses).
pub fn succeed(keys: &[Key], entries: &mut [Option<Entry>]) {
    for (k, slot) in keys.iter().zip(entries.iter_mut()) {
        match k {
            Key::AccountFrom { .. } => *slot = None,
            Key::Account(_) | Key::Address(_) => {
                if let Some(e) = slot {
                    e.failures = e.failures.saturating_sub(1);
                }
            }
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
    use std::collections::HashMap;

    /// The entries as a store would keep them, with the rules applied to them.
    #[derive(Default)]
    struct Memory(HashMap<Key, Entry>);

    impl Memory {
        fn apply<T>(&mut self, keys: &[Key], rule: impl FnOnce(&mut [Option<Entry>]) -> T) -> T {
            let mut entries: Vec<Option<Entry>> =
                keys.iter().map(|k| self.0.get(k).copied()).collect();
            let out = rule(&mut entries);
            for (k, e) in keys.iter().zip(entries) {
                match e {
                    Some(e) => self.0.insert(k.clone(), e),
                    None => self.0.remove(k),
                };
            }
            out
        }
        fn begin(&mut self, keys: &[Key], now: Unix) -> Result<(), i64> {
            self.apply(keys, |e| begin(keys, e, now))
        }
        fn succeed(&mut self, keys: &[Key]) {
            self.apply(keys, |e| succeed(keys, e));
        }
    }

    #[test]
    fn waits_begin_after_five_failures_and_grow() {
        let mut t = Memory::default();
        let keys = Key::attempt("A@x.test ", "127.0.0.1");
        // Five attempts start (each counted as a failure); the sixth must wait.
        for _ in 0..5 {
            assert_eq!(t.begin(&keys, 100), Ok(()));
        }
        assert_eq!(t.begin(&keys, 100), Err(30));
        assert_eq!(t.begin(&keys[..1], 129), Err(1));
        assert_eq!(t.begin(&keys, 130), Ok(()));
        assert_eq!(t.begin(&keys, 130), Err(60));
        t.succeed(&keys);
        assert_eq!(t.begin(&keys, 130), Ok(()));
    }

    #[test]
    fn a_stranger_s_guesses_do_not_lock_the_owner_out() {
        let mut t = Memory::default();
        let stranger = Key::attempt("owner@x.test", "203.0.113.9");
        for _ in 0..5 {
            assert_eq!(t.begin(&stranger, 100), Ok(()));
        }
        assert!(t.begin(&stranger, 100).is_err(), "the stranger waits");
        // The owner, from their own address, signs in at once.
        let owner = Key::attempt("owner@x.test", "198.51.100.7");
        assert_eq!(t.begin(&owner, 100), Ok(()));
        t.succeed(&owner);
        // The stranger's failures still count against the account from anywhere.
        assert_eq!(t.0[&owner[1]].failures, 5);
    }

    /// How many guesses at one account get through the throttle in an hour, guessing as fast
    /// as it lets them (each guess the moment the wait ends), from `addresses` addresses in
    /// turn. The figures in docs/security.md.
    fn guesses_in_an_hour(addresses: usize) -> usize {
        let mut t = Memory::default();
        let keys: Vec<[Key; 3]> = (0..addresses)
            .map(|i| Key::attempt("owner@x.test", &format!("10.0.{}.{}", i / 250, i % 250)))
            .collect();
        let (mut now, mut through) = (0, 0);
        while now < WINDOW {
            let mut soonest = i64::MAX;
            for k in &keys {
                match t.begin(k, now) {
                    Ok(()) => through += 1,
                    Err(wait) => soonest = soonest.min(wait),
                }
            }
            now += if soonest == i64::MAX {
                1
            } else {
                soonest.max(1)
            };
        }
        through
    }

    #[test]
    fn guesses_per_hour_that_get_through() {
        // One address: 5 at once, then waits of 30 s, 60 s, … up to 15 minutes.
        assert_eq!(guesses_in_an_hour(1), 12);
        // Many addresses: each gets its five, until the account-wide count (50) makes every
        // address wait together.
        assert_eq!(guesses_in_an_hour(100), 57);
    }

    #[test]
    fn a_success_takes_its_attempt_back() {
        let mut t = Memory::default();
        let keys = Key::attempt("c@x.test", "10.0.0.1");
        assert_eq!(t.begin(&keys, 0), Ok(()));
        t.succeed(&keys);
        assert!(!t.0.contains_key(&keys[0]));
        assert_eq!((t.0[&keys[1]].failures, t.0[&keys[2]].failures), (0, 0));
        assert_eq!(keys[0].stored(), "account-from:8:10.0.0.1:c@x.test");
        // An IPv6 address cannot be read as another address and account.
        let a = Key::attempt("5:victim@x", "2001:db8::1")[0].stored();
        let b = Key::attempt("victim@x", "2001:db8::1:5")[0].stored();
        assert_ne!(a, b);
        assert_eq!(keys[1].stored(), "account:c@x.test");
        assert_eq!(keys[2].stored(), "address:10.0.0.1");
    }

    #[test]
    fn failures_are_forgotten_after_an_hour() {
        let mut t = Memory::default();
        let k = [Key::Account("b@x.test".into())];
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
