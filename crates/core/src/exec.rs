//! Where CPU-heavy work runs (argon2 hashing): off the async workers, on an executor the caller
//! injects, the way time comes from the injected [`crate::clock::Clock`]. Core knows no
//! runtime; the server gives it one that runs jobs on a blocking pool, a few at a time.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use crate::error::GraphError;

/// A boxed future that can cross threads.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Runs jobs that may take tens of milliseconds of CPU.
pub trait Blocking: Send + Sync + 'static {
    /// Runs `job` where it may block; the future resolves once it has run (or failed to).
    fn run(&self, job: Box<dyn FnOnce() + Send>) -> BoxFuture<'static, ()>;
}

/// Runs each job in place, on the calling thread: the default of services built without an
/// executor (core's unit tests).
#[derive(Clone, Copy, Debug, Default)]
pub struct Inline;

impl Blocking for Inline {
    fn run(&self, job: Box<dyn FnOnce() + Send>) -> BoxFuture<'static, ()> {
        job();
        Box::pin(std::future::ready(()))
    }
}

/// Runs `f` on `exec` and hands back what it returned.
pub async fn run<T: Send + 'static>(
    exec: &dyn Blocking,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, GraphError> {
    let slot = Arc::new(Mutex::new(None));
    let out = Arc::clone(&slot);
    exec.run(Box::new(move || {
        let v = f();
        if let Ok(mut s) = out.lock() {
            *s = Some(v);
        }
    }))
    .await;
    let v = slot.lock().ok().and_then(|mut s| s.take());
    v.ok_or_else(|| GraphError::internal_because("a blocking job did not finish"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_runs_in_place_and_hands_back_the_value() {
        let v = futures_lite_block_on(run(&Inline, || 6 * 7));
        assert_eq!(v, Ok(42));
    }

    /// A minimal executor for one future that is ready at once (Inline's always are).
    fn futures_lite_block_on<T>(f: impl Future<Output = T>) -> T {
        use std::task::{Context, Poll, Waker};
        let mut f = Box::pin(f);
        let mut cx = Context::from_waker(Waker::noop());
        match f.as_mut().poll(&mut cx) {
            Poll::Ready(v) => v,
            Poll::Pending => panic!("an Inline job never waits"),
        }
    }
}
