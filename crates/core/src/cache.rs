//! Bounded in-process caches in front of the store, for the hot path (token resolution).
//!
//! [`Cache::remove`] forgets one key precisely; the events of the bus say which
//! (`services::caches`). A load from the store takes a [`Ticket`] first and hands it to
//! [`Cache::put`], so a value read before a concurrent removal is never cached as current.
//!
//! A full shard makes room with CLOCK, the classic approximation of least-recently-used: every
//! read marks its entry used; to evict, a hand sweeps the shard, giving each used entry a second
//! chance (the mark is cleared) and evicting the first entry not used since the hand last
//! passed. One entry goes for each one that comes in; nothing empties a shard.

use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use hashbrown::HashTable;

use crate::model::{AppId, PageId, SessionId, UserId};

const SHARDS: usize = 16;
/// Once a shard is full, one [`Cache::admit`] in this many takes another entry's place.
const ADMIT_ONE_IN: u64 = 16;

/// One cached value, stored in the table's own bucket beside its key: a read reaches it in
/// one step after the table's control bytes (an index map would go through an index first,
/// one more cold line of memory for a map of many entries).
struct Entry<K, V> {
    key: K,
    value: Arc<V>,
    /// Read since the hand last passed.
    used: AtomicBool,
    /// Its place in [`Slots::ring`].
    at: usize,
}

struct Slots<K, V> {
    table: HashTable<Entry<K, V>>,
    /// Each entry's hash, in the order the CLOCK hand sweeps them: `ring[e.at]` is the hash of
    /// `e.key`, and an entry is found from its place by that hash and its `at`.
    ring: Vec<u64>,
    /// Where the CLOCK hand stands (an index into `ring`).
    hand: usize,
}

struct Shard<K, V> {
    slots: RwLock<Slots<K, V>>,
    /// Bumped by every removal in this shard: loads that started before it may not be cached.
    removals: AtomicU64,
    /// Reads that found their key, and reads that did not (for the metrics).
    hits: AtomicU64,
    misses: AtomicU64,
    /// Values offered to [`Cache::admit`] while the shard was full.
    offers: AtomicU64,
}

pub struct Cache<K, V> {
    shards: Vec<Shard<K, V>>,
    per_shard: usize,
}

/// What a cache has done (see [`Cache::stats`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub entries: u64,
    /// The entries it holds at most.
    pub capacity: u64,
}

/// Taken before a load from the store; `put` honours it only if nothing was removed since.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ticket {
    removals: u64,
}

/// Tickets for every shard, taken before a load (see [`Cache::tickets`]).
#[derive(Clone, Debug)]
pub struct Tickets {
    removals: Vec<u64>,
}

impl Tickets {
    pub fn of<K: ShardKey>(&self, key: &K) -> Ticket {
        Ticket {
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
            shards: (0..SHARDS)
                .map(|_| Shard {
                    slots: RwLock::new(Slots {
                        table: HashTable::new(),
                        ring: Vec::new(),
                        hand: 0,
                    }),
                    removals: AtomicU64::new(0),
                    hits: AtomicU64::new(0),
                    misses: AtomicU64::new(0),
                    offers: AtomicU64::new(0),
                })
                .collect(),
            per_shard: capacity.div_ceil(SHARDS).max(1),
        }
    }

    /// The entries it holds at most.
    pub fn capacity(&self) -> usize {
        self.per_shard * SHARDS
    }

    fn shard(&self, key: &K) -> &Shard<K, V> {
        &self.shards[key.shard() % SHARDS]
    }

    /// Take before loading `key` from the store.
    pub fn ticket(&self, key: &K) -> Ticket {
        Ticket {
            removals: self.shard(key).removals.load(Ordering::Acquire),
        }
    }

    /// Tickets for every shard at once, for a load whose key is known only once it is read
    /// (a token's session): [`Tickets::of`] picks the one for the key.
    pub fn tickets(&self) -> Tickets {
        Tickets {
            removals: self
                .shards
                .iter()
                .map(|s| s.removals.load(Ordering::Acquire))
                .collect(),
        }
    }

    /// Forgets one key, and refuses values for its shard loaded before now.
    ///
    /// The count is bumped under the lock, after the key is gone: a ticket that sees the bump
    /// was taken after the removal, so a [`Cache::get`] that follows it cannot return the
    /// forgotten value (what [`Cache::unchanged`] relies on).
    pub fn remove(&self, key: &K) {
        let shard = self.shard(key);
        let mut slots = shard.slots.write();
        if let Ok(slots) = slots.as_mut() {
            slots.remove(key);
        }
        shard.removals.fetch_add(1, Ordering::AcqRel);
        drop(slots);
    }

    /// Forgets every key, and refuses values loaded before now.
    pub fn clear(&self) {
        for shard in &self.shards {
            let mut slots = shard.slots.write();
            if let Ok(slots) = slots.as_mut() {
                slots.table.clear();
                slots.ring.clear();
                slots.hand = 0;
            }
            shard.removals.fetch_add(1, Ordering::AcqRel);
            drop(slots);
        }
    }

    /// Whether nothing was removed from `key`'s shard since `ticket` was taken (before a load
    /// of `key`, or before a [`Cache::get`] of it): a copy kept elsewhere of what that load or
    /// read returned is still current.
    pub fn unchanged(&self, key: &K, ticket: Ticket) -> bool {
        self.shard(key).removals.load(Ordering::Acquire) == ticket.removals
    }

    pub fn get(&self, key: &K) -> Option<Arc<V>> {
        let shard = self.shard(key);
        let slots = shard.slots.read().ok()?;
        let Some(entry) = slots.table.find(hash_of(key), |e| e.key == *key) else {
            shard.misses.fetch_add(1, Ordering::Relaxed);
            return None;
        };
        shard.hits.fetch_add(1, Ordering::Relaxed);
        if !entry.used.load(Ordering::Relaxed) {
            entry.used.store(true, Ordering::Relaxed);
        }
        Some(Arc::clone(&entry.value))
    }

    /// Reads so far that found their key, and that did not; the entries held now, and at most.
    pub fn stats(&self) -> CacheStats {
        let mut s = CacheStats {
            capacity: self.capacity() as u64,
            ..CacheStats::default()
        };
        for shard in &self.shards {
            s.hits += shard.hits.load(Ordering::Relaxed);
            s.misses += shard.misses.load(Ordering::Relaxed);
            s.entries += shard
                .slots
                .read()
                .map_or(0, |slots| slots.table.len() as u64);
        }
        s
    }

    /// Caches a value loaded under `ticket`, unless its key was removed meanwhile.
    pub fn put(&self, key: K, value: Arc<V>, ticket: Ticket) {
        let shard = self.shard(&key);
        let Ok(mut slots) = shard.slots.write() else {
            return;
        };
        // Checked under the lock, which a removal holds while it bumps the counter.
        if ticket.removals != shard.removals.load(Ordering::Acquire) {
            return;
        }
        // A new entry is not marked: it earns its second chance by being read.
        let hash = hash_of(&key);
        if let Some(e) = slots.table.find_mut(hash, |e| e.key == key) {
            e.value = value;
            e.used = AtomicBool::new(false);
            return;
        }
        if slots.table.len() < self.per_shard {
            let at = slots.ring.len();
            slots.ring.push(hash);
            slots.insert(hash, key, value, at);
            return;
        }
        slots.replace_one(hash, key, value);
    }

    /// As [`Cache::put`] while the key's shard has room; once it is full, only one value in
    /// [`ADMIT_ONE_IN`] offered to the shard takes another's place. For values that cost
    /// little to make again (a token's entry from its claims): a world far larger than the
    /// cache does not turn every read into an eviction, yet a new set of busy keys still comes
    /// in.
    pub fn admit(&self, key: K, value: Arc<V>, ticket: Ticket) {
        let shard = self.shard(&key);
        // Read under the shared lock: a refused offer takes no write lock.
        let full = shard
            .slots
            .read()
            .map_or(true, |s| s.table.len() >= self.per_shard);
        if full
            && !shard
                .offers
                .fetch_add(1, Ordering::Relaxed)
                .is_multiple_of(ADMIT_ONE_IN)
        {
            return;
        }
        self.put(key, value, ticket);
    }
}

/// The hash a key is stored under.
fn hash_of<K: Hash>(key: &K) -> u64 {
    let mut h = KeyHasher::default();
    key.hash(&mut h);
    h.finish()
}

impl<K: Hash + Eq, V> Slots<K, V> {
    /// Puts a new entry at place `at` (whose hash `ring` already holds). A table with no free
    /// bucket left is made anew first ([`Slots::rebuild`]) rather than grown by the insert.
    fn insert(&mut self, hash: u64, key: K, value: Arc<V>, at: usize) {
        if self.table.capacity() <= self.table.len() {
            self.rebuild();
        }
        let entry = Entry {
            key,
            value,
            used: AtomicBool::new(false),
            at,
        };
        self.table.insert_unique(hash, entry, |e| hash_of(&e.key));
    }

    /// Forgets `key`: the entry of the last place moves into its place.
    fn remove(&mut self, key: &K) {
        let Ok(found) = self.table.find_entry(hash_of(key), |e| e.key == *key) else {
            return;
        };
        let (gone, _) = found.remove();
        if gone.at >= self.ring.len() {
            return;
        }
        let last = self.ring.len() - 1;
        self.ring.swap_remove(gone.at);
        if let Some(&moved) = self.ring.get(gone.at) {
            if let Some(e) = self.table.find_mut(moved, |e| e.at == last) {
                e.at = gone.at;
            }
        }
    }

    /// The table made anew, with room for one more entry. An eviction removes an entry and
    /// inserts another elsewhere; a removal from a crowded probe group leaves a tombstone,
    /// which the table counts as used, and once no free bucket is left an insert would double
    /// the table (the entries are in its buckets: twice the memory the budget counts). Made
    /// anew, the table has its free buckets back, and grows only when its entries need it;
    /// in a full shard this comes once every few thousand evictions.
    fn rebuild(&mut self) {
        let mut fresh = HashTable::with_capacity(self.table.len() + 1);
        for e in self.table.drain() {
            fresh.insert_unique(hash_of(&e.key), e, |e| hash_of(&e.key));
        }
        self.table = fresh;
    }

    /// CLOCK: sweeps from the hand, clearing marks, until it finds an entry not read since it
    /// last passed (after one full turn every mark is clear, so this ends within two); the new
    /// entry takes that entry's place and the hand moves past it.
    fn replace_one(&mut self, hash: u64, key: K, value: Arc<V>) {
        for _ in 0..=2 * self.ring.len() {
            if self.hand >= self.ring.len() {
                self.hand = 0;
            }
            let at = self.hand;
            let Some(&there) = self.ring.get(at) else {
                break;
            };
            let Ok(found) = self.table.find_entry(there, |e| e.at == at) else {
                break;
            };
            if found.get().used.swap(false, Ordering::Relaxed) {
                self.hand += 1;
                continue;
            }
            found.remove();
            if let Some(place) = self.ring.get_mut(at) {
                *place = hash;
            }
            self.insert(hash, key, value, at);
            self.hand += 1;
            return;
        }
        let at = self.ring.len();
        self.ring.push(hash);
        self.insert(hash, key, value, at);
    }
}

/// Keys are SHA-256 digests of secrets (a stamped token's key begins with its stamp, then 23
/// bytes of one) that only get in once they are known to be real, or ids: their bytes are
/// already spread, so hashing them again with SipHash buys nothing on the hot path. This folds
/// every written byte with a multiply instead.
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

/// A token's key by its last byte: SHA-256 in every form of key, where the first bytes of a
/// stamped token's key are its stamp, the same for every token minted at about the same time.
impl ShardKey for [u8; 32] {
    fn shard(&self) -> usize {
        self[31] as usize
    }
}

impl ShardKey for u64 {
    fn shard(&self) -> usize {
        (*self ^ (*self >> 7)) as usize
    }
}

impl ShardKey for SessionId {
    fn shard(&self) -> usize {
        (self.0 as u64).shard()
    }
}

impl ShardKey for (u64, u64) {
    fn shard(&self) -> usize {
        (self.0 ^ self.1.rotate_left(17) ^ (self.0 >> 7)) as usize
    }
}

/// Ids shard by their number.
macro_rules! shard_by_number {
    ($($t:ty),*) => {$(
        impl ShardKey for $t {
            fn shard(&self) -> usize {
                self.0.shard()
            }
        }
    )*};
}
shard_by_number!(AppId, UserId, PageId);

impl ShardKey for (UserId, AppId) {
    fn shard(&self) -> usize {
        (self.0 .0, self.1 .0).shard()
    }
}

impl ShardKey for (PageId, UserId) {
    fn shard(&self) -> usize {
        (self.0 .0, self.1 .0).shard()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn len<K, V>(c: &Cache<K, V>) -> usize {
        c.shards
            .iter()
            .map(|s| s.slots.read().map(|m| m.table.len()).unwrap_or(0))
            .sum()
    }

    #[test]
    fn removal_forgets_one_key() {
        let c: Cache<u64, &str> = Cache::new(100);
        c.put(1, Arc::new("a"), c.ticket(&1));
        c.put(2, Arc::new("b"), c.ticket(&2));
        assert_eq!(c.get(&1).as_deref(), Some(&"a"));
        c.remove(&1);
        assert_eq!(c.get(&1), None);
        assert_eq!(c.get(&2).as_deref(), Some(&"b"));
    }

    #[test]
    fn loads_that_raced_a_removal_are_not_cached() {
        let c: Cache<u64, &str> = Cache::new(100);
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

    /// Every entry's place holds its hash, and every place an entry: what removals and the
    /// CLOCK hand rely on to find an entry from its place.
    fn assert_places<K: Hash + Eq, V>(c: &Cache<K, V>) {
        for shard in &c.shards {
            let Ok(slots) = shard.slots.read() else {
                panic!("poisoned")
            };
            assert_eq!(slots.ring.len(), slots.table.len());
            for e in slots.table.iter() {
                assert_eq!(slots.ring.get(e.at), Some(&hash_of(&e.key)));
            }
        }
    }

    #[test]
    fn places_stay_true_through_puts_removals_and_evictions() {
        let c: Cache<u64, u64> = Cache::new(4 * SHARDS);
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for i in 0..20_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let k = x % 300;
            match i % 5 {
                0 => c.remove(&k),
                1 => {
                    let _ = c.get(&k);
                }
                _ => c.put(k, Arc::new(i), c.ticket(&k)),
            }
            if i % 1000 == 0 {
                assert_places(&c);
            }
        }
        assert_places(&c);
        assert!(len(&c) <= 4 * SHARDS);
        // What a get returns is the last value put for that key, or nothing.
        for k in 0..300u64 {
            c.put(k, Arc::new(k + 1000), c.ticket(&k));
            assert_eq!(c.get(&k).as_deref(), Some(&(k + 1000)));
        }
        assert_places(&c);
    }

    #[test]
    fn a_full_cache_under_churn_keeps_its_table_size() {
        // Each eviction removes one entry and inserts another elsewhere in the table: the
        // tombstones it leaves must not make the table grow (it would double, past the room the
        // budget counts for it).
        let per_shard = 1000;
        let c: Cache<[u8; 32], u64> = Cache::new(per_shard * SHARDS);
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for i in 0..400_000u64 {
            let mut k = [0u8; 32];
            for chunk in k.chunks_mut(8) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                chunk.copy_from_slice(&x.to_le_bytes());
            }
            c.put(k, Arc::new(i), c.ticket(&k));
        }
        assert_eq!(len(&c), per_shard * SHARDS);
        assert_places(&c);
        for shard in &c.shards {
            let Ok(slots) = shard.slots.read() else {
                panic!("poisoned")
            };
            // 1,000 entries fit a table of 2,048 buckets (room for 1,792).
            assert!(
                slots.table.capacity() < 2 * per_shard,
                "{}",
                slots.table.capacity()
            );
        }
    }

    /// `admit` fills a cache that has room; once it is full, one offer in [`ADMIT_ONE_IN`] to
    /// each shard takes another's place, and the rest are not kept.
    #[test]
    fn admit_fills_the_room_then_lets_few_in() {
        let room = 4 * SHARDS;
        let c: Cache<u64, u64> = Cache::new(room);
        for k in 0..room as u64 {
            assert_eq!(c.get(&k), None);
            c.admit(k, Arc::new(k), c.ticket(&k));
        }
        assert_eq!(c.stats().entries, room as u64);
        assert!((0..room as u64).all(|k| c.get(&k).is_some()));
        let tried = 160 * SHARDS as u64;
        let mut kept = 0;
        for k in 1000..1000 + tried {
            assert_eq!(c.get(&k), None);
            c.admit(k, Arc::new(k), c.ticket(&k));
            kept += u64::from(c.get(&k).is_some());
        }
        assert_eq!(c.stats().entries, room as u64);
        let expected = tried / ADMIT_ONE_IN;
        assert!(
            kept.abs_diff(expected) <= SHARDS as u64,
            "{kept} of {tried} kept"
        );
    }

    #[test]
    fn a_copy_is_current_until_its_shard_drops_a_key() {
        let c: Cache<u64, &str> = Cache::new(100);
        // 17 falls in the shard of 1, 2 in another.
        assert_eq!(1u64.shard() % SHARDS, 17u64.shard() % SHARDS);
        assert_ne!(1u64.shard() % SHARDS, 2u64.shard() % SHARDS);
        let t = c.ticket(&1);
        c.put(1, Arc::new("a"), t);
        assert!(c.unchanged(&1, t));
        c.remove(&2);
        assert!(c.unchanged(&1, t));
        c.remove(&17);
        assert!(!c.unchanged(&1, t));
        // A ticket taken after a removal never sees the removed value: the count is bumped
        // once the key is gone.
        c.remove(&1);
        let after = c.ticket(&1);
        assert_eq!(c.get(&1), None);
        assert!(c.unchanged(&1, after));
        c.clear();
        assert!(!c.unchanged(&1, after));
    }

    /// Tokens minted together share the start of their keys (the stamp): they must still
    /// spread over every shard, or one shard would hold them all in a share of the room.
    #[test]
    fn stamped_token_keys_spread_over_every_shard() {
        let stamps = crate::token::Stamps::starting(1_700_000_000);
        let tokens = crate::token::mint_many(&stamps, 4096).unwrap_or_default();
        let shards: std::collections::HashSet<usize> = tokens
            .iter()
            .map(|t| crate::token::hash(t).shard() % SHARDS)
            .collect();
        assert_eq!(shards.len(), SHARDS);
    }

    #[test]
    fn stays_bounded_one_eviction_per_insert() {
        let c: Cache<u64, u64> = Cache::new(32);
        for i in 0..10_000u64 {
            c.put(i, Arc::new(i), c.ticket(&i));
            assert!(len(&c) <= 32, "{}", len(&c));
        }
        // A full cache stays full: an insert evicts one entry, it does not empty a shard.
        assert_eq!(len(&c), 32);
    }

    #[test]
    fn a_new_working_set_replaces_the_old_one() {
        // One shard of eight entries, warmed with keys never read again.
        let c: Cache<u64, u64> = Cache::new(8 * SHARDS);
        let keys: Vec<u64> = (0..100_000u64)
            .filter(|k| k.shard() % SHARDS == 0)
            .collect();
        for &k in &keys[..8] {
            c.put(k, Arc::new(k), c.ticket(&k));
        }
        // Then a working set of four keys, each read and re-inserted on a miss, many times,
        // mixed with one-off keys.
        let hot = &keys[100..104];
        let (mut hits, mut reads) = (0, 0);
        for (round, &once) in keys[200..600].iter().enumerate() {
            for &k in hot {
                reads += 1;
                match c.get(&k) {
                    Some(_) => hits += 1,
                    None => c.put(k, Arc::new(k), c.ticket(&k)),
                }
            }
            if round % 2 == 0 {
                c.put(once, Arc::new(once), c.ticket(&once));
            }
        }
        // The working set stays cached: nearly every read after the first round hits.
        assert!(hits * 100 >= reads * 90, "{hits} hits of {reads} reads");
    }

    #[test]
    fn entries_in_use_survive_a_sweep_of_unused_ones() {
        // One shard's worth of keys (all map to shard 0), a cache of two entries per shard.
        let c: Cache<u64, u64> = Cache::new(2 * SHARDS);
        let keys: Vec<u64> = (0..10_000u64).filter(|k| k.shard() % SHARDS == 0).collect();
        let (hot, cold) = (keys[0], keys[1]);
        c.put(hot, Arc::new(hot), c.ticket(&hot));
        c.put(cold, Arc::new(cold), c.ticket(&cold));
        for &k in &keys[2..50] {
            // The hot key is read between inserts; the others never are.
            assert!(
                c.get(&hot).is_some(),
                "the hot entry was evicted before {k}"
            );
            c.put(k, Arc::new(k), c.ticket(&k));
        }
        assert!(c.get(&hot).is_some());
        assert!(c.get(&cold).is_none());
    }
}
