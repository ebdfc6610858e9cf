//! Bounded in-process caches in front of the store, for the hot path (token resolution).
//!
//! Entries are stamped with a generation: [`Cache::invalidate_all`] bumps it, which makes every
//! older entry a miss in one atomic add. [`Cache::remove`] forgets one key precisely. A load from
//! the store takes a [`Ticket`] first and hands it to [`Cache::put`], so a value read before a
//! concurrent invalidation or removal is never cached as current.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

const SHARDS: usize = 16;

type Map<K, V> = HashMap<K, (u64, Arc<V>), BuildHasherDefault<KeyHasher>>;

struct Shard<K, V> {
    map: RwLock<Map<K, V>>,
    /// Bumped by every removal in this shard: loads that started before it may not be cached.
    removals: AtomicU64,
}

pub struct Cache<K, V> {
    generation: AtomicU64,
    shards: Vec<Shard<K, V>>,
    per_shard: usize,
}

/// Taken before a load from the store; `put` honours it only if nothing was invalidated since.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ticket {
    generation: u64,
    removals: u64,
}

/// Tickets for every shard, taken before a load (see [`Cache::tickets`]).
#[derive(Clone, Debug)]
pub struct Tickets {
    generation: u64,
    removals: Vec<u64>,
}

impl Tickets {
    pub fn of<K: ShardKey>(&self, key: &K) -> Ticket {
        Ticket {
            generation: self.generation,
            removals: self
                .removals
                .get(key.shard() % SHARDS)
                .copied()
                .unwrap_or(u64::MAX),
        }
    }
}

impl<K: Hash + Eq + Clone + ShardKey, V> Cache<K, V> {
    /// A cache holding about `capacity` entries at most.
    pub fn new(capacity: usize) -> Self {
        Cache {
            generation: AtomicU64::new(0),
            shards: (0..SHARDS)
                .map(|_| Shard {
                    map: RwLock::new(Map::default()),
                    removals: AtomicU64::new(0),
                })
                .collect(),
            per_shard: capacity.div_ceil(SHARDS).max(1),
        }
    }

    fn shard(&self, key: &K) -> &Shard<K, V> {
        &self.shards[key.shard() % SHARDS]
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Take before loading `key` from the store.
    pub fn ticket(&self, key: &K) -> Ticket {
        Ticket {
            generation: self.generation(),
            removals: self.shard(key).removals.load(Ordering::Acquire),
        }
    }

    /// Tickets for every shard at once, for a load whose key is known only once it is read
    /// (a token's session): [`Tickets::of`] picks the one for the key.
    pub fn tickets(&self) -> Tickets {
        Tickets {
            generation: self.generation(),
            removals: self
                .shards
                .iter()
                .map(|s| s.removals.load(Ordering::Acquire))
                .collect(),
        }
    }

    /// Makes every entry stale.
    pub fn invalidate_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Forgets one key, and refuses values for its shard loaded before now.
    pub fn remove(&self, key: &K) {
        let shard = self.shard(key);
        shard.removals.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut map) = shard.map.write() {
            map.remove(key);
        }
    }

    pub fn get(&self, key: &K) -> Option<Arc<V>> {
        let current = self.generation();
        let map = self.shard(key).map.read().ok()?;
        match map.get(key) {
            Some((g, v)) if *g == current => Some(Arc::clone(v)),
            _ => None,
        }
    }

    /// Caches a value loaded under `ticket`, unless something was invalidated meanwhile.
    pub fn put(&self, key: K, value: Arc<V>, ticket: Ticket) {
        let shard = self.shard(&key);
        let Ok(mut map) = shard.map.write() else {
            return;
        };
        // Checked under the lock: a removal takes the same lock after bumping the counter.
        if ticket.generation != self.generation()
            || ticket.removals != shard.removals.load(Ordering::Acquire)
        {
            return;
        }
        if map.len() >= self.per_shard && !map.contains_key(&key) {
            // Full: drop stale entries first, and everything if that is not enough.
            map.retain(|_, (g, _)| *g == ticket.generation);
            if map.len() >= self.per_shard {
                map.clear();
            }
        }
        map.insert(key, (ticket.generation, value));
    }
}

/// Keys are SHA-256 digests of secrets that only get in once they are known to be real, or
/// ids: their bytes are already spread, so hashing them again with SipHash buys nothing on the
/// hot path. This folds the written bytes with a multiply instead.
#[derive(Default)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.0 =
                (self.0.rotate_left(5) ^ u64::from_le_bytes(b)).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.write(&n.to_le_bytes());
    }
}

/// Spreads keys over shards.
pub trait ShardKey {
    fn shard(&self) -> usize;
}

impl ShardKey for [u8; 32] {
    fn shard(&self) -> usize {
        self[0] as usize
    }
}

impl ShardKey for u64 {
    fn shard(&self) -> usize {
        (*self ^ (*self >> 7)) as usize
    }
}

impl ShardKey for i64 {
    fn shard(&self) -> usize {
        (*self as u64).shard()
    }
}

impl ShardKey for (u64, u64) {
    fn shard(&self) -> usize {
        (self.0 ^ self.1.rotate_left(17) ^ (self.0 >> 7)) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalidation_and_removal() {
        let c: Cache<u64, &str> = Cache::new(100);
        c.put(1, Arc::new("a"), c.ticket(&1));
        c.put(2, Arc::new("b"), c.ticket(&2));
        assert_eq!(c.get(&1).as_deref(), Some(&"a"));
        c.remove(&1);
        assert_eq!(c.get(&1), None);
        assert_eq!(c.get(&2).as_deref(), Some(&"b"));
        c.invalidate_all();
        assert_eq!(c.get(&2), None);
    }

    #[test]
    fn loads_that_raced_an_invalidation_are_not_cached() {
        let c: Cache<u64, &str> = Cache::new(100);
        let t = c.ticket(&3);
        c.invalidate_all();
        c.put(3, Arc::new("stale"), t);
        assert_eq!(c.get(&3), None);
        let t = c.ticket(&3);
        c.remove(&3);
        c.put(3, Arc::new("stale"), t);
        assert_eq!(c.get(&3), None);
        // Tickets taken for every shard at once honour a removal the same way.
        let all = c.tickets();
        c.remove(&4);
        c.put(4, Arc::new("stale"), all.of(&4u64));
        assert_eq!(c.get(&4), None);
        let all = c.tickets();
        c.put(4, Arc::new("fresh"), all.of(&4u64));
        assert_eq!(c.get(&4).as_deref(), Some(&"fresh"));
    }

    #[test]
    fn stays_bounded() {
        let c: Cache<u64, u64> = Cache::new(32);
        for i in 0..10_000u64 {
            c.put(i, Arc::new(i), c.ticket(&i));
        }
        let total: usize = c
            .shards
            .iter()
            .map(|s| s.map.read().map(|m| m.len()).unwrap_or(0))
            .sum();
        assert!(total <= 32 + SHARDS, "{total}");
    }
}
