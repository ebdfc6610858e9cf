//! A bounded in-process cache in front of the store, for the hot path (token resolution).
//!
//! Entries are stamped with a generation. Every state change that could touch a cached entry
//! bumps the generation, which makes every older entry a miss: invalidation is one atomic add,
//! and no write has to know which tokens it affects.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

const SHARDS: usize = 16;

type Shard<K, V> = RwLock<HashMap<K, (u64, Arc<V>), BuildHasherDefault<KeyHasher>>>;

pub struct Cache<K, V> {
    generation: AtomicU64,
    shards: Vec<Shard<K, V>>,
    per_shard: usize,
}

impl<K: Hash + Eq + Clone + ShardKey, V> Cache<K, V> {
    /// A cache holding about `capacity` entries at most.
    pub fn new(capacity: usize) -> Self {
        Cache {
            generation: AtomicU64::new(0),
            shards: (0..SHARDS)
                .map(|_| RwLock::new(HashMap::default()))
                .collect(),
            per_shard: capacity.div_ceil(SHARDS).max(1),
        }
    }

    fn shard(&self, key: &K) -> &Shard<K, V> {
        &self.shards[key.shard() % SHARDS]
    }

    /// The current generation; read it *before* loading from the store, and pass it to `put`,
    /// so a load that raced with a write is never cached as current.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Makes every entry stale.
    pub fn invalidate_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    pub fn get(&self, key: &K) -> Option<Arc<V>> {
        let current = self.generation();
        let shard = self.shard(key).read().ok()?;
        match shard.get(key) {
            Some((g, v)) if *g == current => Some(Arc::clone(v)),
            _ => None,
        }
    }

    pub fn put(&self, key: K, value: Arc<V>, generation: u64) {
        if generation != self.generation() {
            return;
        }
        if let Ok(mut shard) = self.shard(&key).write() {
            if shard.len() >= self.per_shard && !shard.contains_key(&key) {
                // Full: drop stale entries first, and everything if that is not enough.
                shard.retain(|_, (g, _)| *g == generation);
                if shard.len() >= self.per_shard {
                    shard.clear();
                }
            }
            shard.insert(key, (generation, value));
        }
    }
}

/// Keys are SHA-256 digests of secrets (or ids) that only ever get in once they are known to be
/// real, so their bytes are already evenly spread: hashing them again (SipHash) buys nothing on
/// the hot path. This folds the written bytes with a multiply instead.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_bump_invalidates() {
        let c: Cache<u64, &str> = Cache::new(100);
        let g = c.generation();
        c.put(1, Arc::new("a"), g);
        assert_eq!(c.get(&1).as_deref(), Some(&"a"));
        c.invalidate_all();
        assert_eq!(c.get(&1), None);
        // A load that started before the bump is not cached.
        c.put(2, Arc::new("b"), g);
        assert_eq!(c.get(&2), None);
    }

    #[test]
    fn stays_bounded() {
        let c: Cache<u64, u64> = Cache::new(32);
        for i in 0..10_000u64 {
            c.put(i, Arc::new(i), c.generation());
        }
        let total: usize = c
            .shards
            .iter()
            .map(|s| s.read().map(|m| m.len()).unwrap_or(0))
            .sum();
        assert!(total <= 32 + SHARDS, "{total}");
    }
}
