//! Time. Nothing in graphtoken reads the system clock except [`SystemClock`].

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::model::Unix;

pub trait Clock: Send + Sync + 'static {
    /// Now, in unix seconds.
    fn now(&self) -> Unix;
}

/// The machine's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Unix {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_secs() as i64,
            Err(e) => -(e.duration().as_secs() as i64),
        }
    }
}

/// The emulator's virtual clock: real time plus an offset that the admin API moves.
/// The offset is persisted by the service, so it survives a restart, and instances sharing a
/// database follow each other's moves through the change feed.
#[derive(Debug, Default)]
pub struct VirtualClock {
    offset: AtomicI64,
    /// An offset this process is writing or wrote, until the change feed brings it back (or
    /// [`ECHO_WAIT`] seconds have passed), with the real time it was written.
    awaited: Mutex<Option<(i64, Unix)>>,
}

/// How long (seconds of real time) the change feed may take to bring back this process's own
/// write of the offset.
const ECHO_WAIT: i64 = 5;

impl VirtualClock {
    pub fn new(offset: i64) -> Self {
        VirtualClock {
            offset: AtomicI64::new(offset),
            awaited: Mutex::new(None),
        }
    }
    pub fn offset(&self) -> i64 {
        self.offset.load(Ordering::Relaxed)
    }
    pub fn set_offset(&self, offset: i64) {
        self.offset.store(offset, Ordering::Relaxed);
    }

    fn awaited(&self) -> std::sync::MutexGuard<'_, Option<(i64, Unix)>> {
        self.awaited.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Before this process writes `offset` to the store: from now until the change feed brings
    /// it back, what the feed brings is older than it (see [`VirtualClock::follow`]).
    pub fn writing(&self, offset: i64) {
        *self.awaited() = Some((offset, SystemClock.now()));
    }

    /// The write announced by [`VirtualClock::writing`] failed: nothing is awaited.
    pub fn not_written(&self, offset: i64) {
        let mut awaited = self.awaited();
        if awaited.is_some_and(|(o, _)| o == offset) {
            *awaited = None;
        }
    }

    /// The offset the change feed reports. While this process's own write is awaited, another
    /// value is one written before it (its echo, or the feed's first read, arriving late) and
    /// is ignored; the awaited value itself ends the wait.
    pub fn follow(&self, offset: i64) {
        let mut awaited = self.awaited();
        if let Some((mine, at)) = *awaited {
            if offset != mine && SystemClock.now() - at <= ECHO_WAIT {
                return;
            }
            *awaited = None;
        }
        self.set_offset(offset);
    }
    /// The offset that makes `now()` equal `target`.
    pub fn offset_for(&self, target: Unix) -> i64 {
        target.saturating_sub(SystemClock.now())
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> Unix {
        SystemClock.now().saturating_add(self.offset())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_feed_cannot_take_the_clock_back_past_this_process_s_own_move() {
        let clock = VirtualClock::new(0);
        // A move to 100: announced, written, set.
        clock.writing(100);
        clock.set_offset(100);
        // An older value the feed brings late (a move before, or its first read) is ignored.
        clock.follow(40);
        assert_eq!(clock.offset(), 100);
        // The move's own echo ends the wait; from then on the feed is followed.
        clock.follow(100);
        clock.follow(70);
        assert_eq!(clock.offset(), 70);
        // A failed write awaits nothing.
        clock.writing(5);
        clock.not_written(5);
        clock.follow(30);
        assert_eq!(clock.offset(), 30);
        // An echo that never comes is waited for a few seconds only.
        clock.writing(9);
        *clock.awaited() = Some((9, SystemClock.now() - ECHO_WAIT - 1));
        clock.follow(12);
        assert_eq!(clock.offset(), 12);
    }
}
