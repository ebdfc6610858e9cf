//! The threads the PostgreSQL driver runs on.
//!
//! The driver (`postgres`) blocks, and it drives each connection with a runtime of its own,
//! which tokio refuses to start on its threads, the blocking pool included. So the backend's
//! calls run on a few plain threads of its own, and the async caller awaits the answer. (Kept
//! hand-written: a queue and a fixed set of threads, no more.)

use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError};

use graphtoken_core::store::{StoreError, StoreFuture, StoreResult};

type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of threads that take jobs from one queue; they end when the last clone of
/// [`Workers`] is dropped.
#[derive(Clone)]
pub(super) struct Workers {
    queue: Sender<Job>,
}

impl Workers {
    pub(super) fn start(threads: usize, name: &str) -> StoreResult<Workers> {
        let (queue, jobs) = channel::<Job>();
        let jobs = Arc::new(Mutex::new(jobs));
        for i in 0..threads.max(1) {
            let jobs = Arc::clone(&jobs);
            std::thread::Builder::new()
                .name(format!("{name}-{i}"))
                .spawn(move || work(&jobs))
                .map_err(|e| StoreError::new(format!("postgres: starting a thread: {e}")))?;
        }
        Ok(Workers { queue })
    }

    /// Runs `f` on one of the threads; the future is its answer.
    pub(super) fn run<T, F>(&self, f: F) -> StoreFuture<'static, T>
    where
        T: Send + 'static,
        F: FnOnce() -> StoreResult<T> + Send + 'static,
    {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let sent = self.queue.send(Box::new(move || {
            // The caller may have gone (a dropped request); the work is done all the same.
            let _ = answer.send(f());
        }));
        Box::pin(async move {
            sent.map_err(|_| StoreError::new("postgres: the store's threads have stopped"))?;
            answered
                .await
                .map_err(|_| StoreError::new("postgres: a store thread stopped mid-call"))?
        })
    }
}

fn work(jobs: &Mutex<Receiver<Job>>) {
    loop {
        let job = jobs.lock().unwrap_or_else(PoisonError::into_inner).recv();
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}
