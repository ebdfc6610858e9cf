//! The head timeout, kept with one timer per connection.
//!
//! hyper's own header-read timeout arms a new timer for every request on a kept-alive
//! connection (a boxed sleep, entered in tokio's timer wheel when the next head is awaited and
//! taken out again when it comes): about 3.5% of a Graph call's instructions. Here a connection
//! counts its requests as they begin and end ([`Counted`]) and the writes to its socket that
//! moved ([`Watched`]), and one watch per connection ([`idle`]) looks at the count four times
//! per head timeout. A connection with no request in flight whose count has not moved for a
//! whole timeout is closed: a client that connects and sends nothing, sends half a head, or
//! keeps a connection idle between requests is cut off between one head timeout and a quarter
//! more after it connected or its answer last moved; so is one that stops taking an answer (a
//! large one that a slow client takes bit by bit keeps its connection).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// What moved on a connection, counted: each beginning and end of a request by one (so the
/// count is odd while a request is in flight: HTTP/1.1 serves a connection's requests one at a
/// time), each write to its socket by two.
#[derive(Debug, Default)]
pub(crate) struct Activity(AtomicU64);

impl Activity {
    fn step(&self) {
        self.0.fetch_add(1, Relaxed);
    }

    fn wrote(&self) {
        self.0.fetch_add(2, Relaxed);
    }
}

/// How many times per head timeout the watch looks.
const LOOKS: u32 = 4;

/// Resolves once `activity` has had no request in flight and no change for `limit` (checked
/// every quarter of it, so between `limit` and 1.25 × `limit` after the last change).
pub(crate) async fn idle(activity: &Activity, limit: Duration) {
    let every = limit / LOOKS;
    let mut looks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    looks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut seen = activity.0.load(Relaxed);
    let mut quiet = 0;
    loop {
        looks.tick().await;
        let now = activity.0.load(Relaxed);
        if now.is_multiple_of(2) && now == seen {
            quiet += 1;
            if quiet >= LOOKS {
                return;
            }
        } else {
            (seen, quiet) = (now, 0);
        }
    }
}

/// A connection's service, counting its requests into an [`Activity`].
#[derive(Clone)]
pub(crate) struct Counted<S> {
    pub inner: S,
    pub activity: Arc<Activity>,
}

impl<S, R> tower::Service<R> for Counted<S>
where
    S: tower::Service<R>,
    S::Future: Unpin,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = InFlight<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> InFlight<S::Future> {
        self.activity.step();
        InFlight {
            inner: self.inner.call(request),
            _ends: Ends(Arc::clone(&self.activity)),
        }
    }
}

/// A counted request's answer; the request ends when it is dropped, answered or not.
pub(crate) struct InFlight<F> {
    inner: F,
    _ends: Ends,
}

struct Ends(Arc<Activity>);

impl Drop for Ends {
    fn drop(&mut self) {
        self.0.step();
    }
}

impl<F: Future + Unpin> Future for InFlight<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        Pin::new(&mut self.inner).poll(cx)
    }
}

/// A connection's socket, whose writes count into an [`Activity`].
pub(crate) struct Watched<I> {
    pub io: I,
    pub activity: Arc<Activity>,
}

impl<I> Watched<I> {
    fn moved(&self, written: &Poll<std::io::Result<usize>>) {
        if matches!(written, Poll::Ready(Ok(n)) if *n > 0) {
            self.activity.wrote();
        }
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for Watched<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Watched<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let written = Pin::new(&mut self.io).poll_write(cx, buf);
        self.moved(&written);
        written
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let written = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.moved(&written);
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::{Service, ServiceExt};

    async fn echo(n: u32) -> Result<u32, std::convert::Infallible> {
        Ok(n)
    }

    /// A connection's activity and its watch, with a limit of 8 s, started now.
    fn watched() -> (Arc<Activity>, tokio::task::JoinHandle<()>) {
        let activity = Arc::new(Activity::default());
        let watch = tokio::spawn({
            let activity = Arc::clone(&activity);
            async move { idle(&activity, Duration::from_secs(8)).await }
        });
        (activity, watch)
    }

    /// Waits for the watch to close the connection, and says it did so 8 to 10 s after `since`.
    async fn closed_8_to_10_s_after(
        watch: tokio::task::JoinHandle<()>,
        since: tokio::time::Instant,
    ) {
        let _ = watch.await;
        let after = since.elapsed();
        assert!(
            after >= Duration::from_secs(8) && after < Duration::from_secs(10),
            "{after:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_with_nothing_in_flight_is_idle_after_the_limit() {
        let activity = Activity::default();
        let start = tokio::time::Instant::now();
        idle(&activity, Duration::from_secs(8)).await;
        assert_eq!(start.elapsed(), Duration::from_secs(8));
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_in_flight_keeps_the_connection_and_its_end_starts_the_wait_again() {
        let (activity, watch) = watched();
        let mut service = Counted {
            inner: tower::service_fn(|n: u32| Box::pin(echo(n))),
            activity,
        };
        // A request begins at 1 s and is answered at 30 s (a slow handler, a delay fault).
        tokio::time::sleep(Duration::from_secs(1)).await;
        let pending = service.ready().await.map(|s| s.call(7));
        tokio::time::sleep(Duration::from_secs(29)).await;
        assert!(!watch.is_finished(), "closed with a request in flight");
        let answer = pending.unwrap_or_else(|e| match e {}).await;
        assert_eq!(answer.ok(), Some(7));
        closed_8_to_10_s_after(watch, tokio::time::Instant::now()).await;
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_that_keeps_moving_keeps_the_connection() {
        use tokio::io::AsyncWriteExt;
        let (activity, watch) = watched();
        let (near, _far) = tokio::io::duplex(1 << 16);
        let mut socket = Watched { io: near, activity };
        // A large answer taken bit by bit: a piece every 7 s for a minute.
        for _ in 0..9 {
            tokio::time::sleep(Duration::from_secs(7)).await;
            let _ = socket.write_all(b"piece").await;
            assert!(!watch.is_finished(), "closed while the answer moved");
        }
        // Then nothing moves.
        closed_8_to_10_s_after(watch, tokio::time::Instant::now()).await;
    }

    #[tokio::test(start_paused = true)]
    async fn requests_that_keep_coming_keep_the_connection() {
        let (activity, watch) = watched();
        let mut service = Counted {
            inner: tower::service_fn(|n: u32| Box::pin(echo(n))),
            activity,
        };
        // One request every 7 s for a minute: never 8 s without one.
        for _ in 0..9 {
            tokio::time::sleep(Duration::from_secs(7)).await;
            let answer = service.ready().await.map(|s| s.call(1));
            let _ = answer.unwrap_or_else(|e| match e {}).await;
            assert!(!watch.is_finished(), "closed while requests kept coming");
        }
        // A request dropped unanswered (the client went away) ends all the same.
        let dropped = service.ready().await.map(|s| s.call(2));
        drop(dropped);
        closed_8_to_10_s_after(watch, tokio::time::Instant::now()).await;
    }
}
