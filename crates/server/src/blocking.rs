//! The executor core's services run CPU-heavy work on (argon2, see `graphtoken_core::exec`):
//! tokio's blocking pool, at most one job per core at a time, so a burst of sign-ins queues
//! instead of crowding out every other request.

use std::sync::Arc;

use tokio::sync::Semaphore;

use graphtoken_core::exec::{Blocking, BoxFuture};

pub struct TokioBlocking {
    permits: Arc<Semaphore>,
}

impl Default for TokioBlocking {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        TokioBlocking {
            permits: Arc::new(Semaphore::new(cores)),
        }
    }
}

impl Blocking for TokioBlocking {
    fn run(&self, job: Box<dyn FnOnce() + Send>) -> BoxFuture<'static, ()> {
        let permits = Arc::clone(&self.permits);
        Box::pin(async move {
            let Ok(permit) = permits.acquire_owned().await else {
                return;
            };
            // The permit goes with the job: if the request that waits for it is dropped, the
            // job still holds its place until it has run. A job that panicked is reported by
            // `exec::run` as not finished.
            let _ = tokio::task::spawn_blocking(move || {
                job();
                drop(permit);
            })
            .await;
        })
    }
}
