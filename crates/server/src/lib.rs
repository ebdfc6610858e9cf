//! graphtoken's HTTP face: the Graph API, the token endpoint and the admin API, on axum.
//!
//! Handlers only translate: HTTP in ([`normalize`]), a core call, HTTP out ([`render`]). Rules
//! live in `graphtoken-core`; SQL lives in `graphtoken-store`.

mod admin;
pub mod blocking;
pub mod browser;
pub mod callbacks;
pub mod console;
pub mod faults;
mod idle;
mod login;
pub mod metrics;
mod normalize;
mod pages;
mod render;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::json;

use graphtoken_core::clock::VirtualClock;
use graphtoken_core::error::GraphError;
use graphtoken_core::exec::BoxFuture;
use graphtoken_core::graph;
use graphtoken_core::services::Services;

/// The largest request body read (form or JSON parameters; uploads are not served).
const MAX_BODY: usize = 1 << 20;
/// The most of a request's head (request line and headers) that hyper always takes; it
/// refuses (431) once its buffer has passed this, so a head over twice this is always refused
/// (a URI over about 64 KiB is refused with 414 before that).
const MAX_HEAD: usize = 128 << 10;

/// What the server is: the emulator (every control of the admin API), or the production token
/// service (an operator's admin API only; see `docs/production.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Emulator,
    Production,
}

/// What every handler shares. Built only by [`AppState::new`], which subscribes the callbacks
/// to the services' events.
pub struct AppState {
    pub(crate) services: Arc<Services>,
    /// The emulator's virtual clock (the same one `services` reads).
    pub(crate) clock: Arc<VirtualClock>,
    /// The key the admin API wants as `Authorization: Bearer <key>`.
    pub(crate) admin_key: String,
    /// This instance's copy of the armed faults (`/_admin/faults`).
    pub(crate) faults: Arc<faults::Faults>,
    /// Delivers callbacks to apps from the store's outbox (`/_admin/callbacks`).
    pub(crate) callbacks: callbacks::Callbacks,
    /// The login pages' cookie signing and CSRF.
    pub(crate) browser: Arc<browser::Browser>,
    pub(crate) mode: Mode,
    /// What `/metrics` shows.
    pub(crate) metrics: metrics::Metrics,
    /// Proxies whose `X-Forwarded-For` names the client (the sign-in throttle's address).
    pub(crate) trusted_proxies: Vec<std::net::IpAddr>,
    /// What the console keeps per browser for as long as the process runs: the Explorer's
    /// token and history, and which browsers entered the admin key.
    pub(crate) console: console::Memory,
    /// The last events, for the emulator controls' timeline.
    pub(crate) timeline: Arc<console::timeline::Timeline>,
    /// The seed file the server started with, if any (shown by the emulator controls).
    pub(crate) seed: Option<String>,
}

impl AppState {
    /// The server's state on `services`: the callbacks subscribe to its events.
    pub fn new(
        services: Services,
        clock: Arc<VirtualClock>,
        admin_key: String,
        browser: Arc<browser::Browser>,
        mode: Mode,
    ) -> Result<Self, String> {
        let callbacks = callbacks::Callbacks::default();
        services.subscribe(Arc::new(callbacks.clone()));
        let faults = Arc::new(faults::Faults::default());
        services.subscribe(Arc::clone(&faults) as Arc<dyn graphtoken_core::events::Subscriber>);
        let metrics =
            metrics::Metrics::new().map_err(|e| format!("cannot set up the metrics: {e}"))?;
        // The console is the emulator's: only then does the dialog take the Explorer's redirect.
        let services = match mode {
            Mode::Emulator => services.with_console(),
            Mode::Production => services,
        };
        let timeline = Arc::new(console::timeline::Timeline::new(
            Arc::clone(&clock) as Arc<dyn graphtoken_core::clock::Clock>
        ));
        // Only the console shows the timeline: nothing to keep in production.
        if mode == Mode::Emulator {
            services
                .subscribe(Arc::clone(&timeline) as Arc<dyn graphtoken_core::events::Subscriber>);
        }
        Ok(AppState {
            services: Arc::new(services),
            console: console::Memory::default(),
            timeline,
            seed: None,
            clock,
            admin_key,
            faults,
            callbacks,
            browser,
            mode,
            metrics,
            trusted_proxies: Vec::new(),
        })
    }
}

impl AppState {
    /// Names the seed file the server started with (the emulator controls show it).
    pub fn with_seed(mut self, seed: Option<String>) -> Self {
        self.seed = seed;
        self
    }

    /// Delivers `https` callbacks trusting the authorities in `pem` too (a private CA).
    pub fn with_callback_authorities(mut self, pem: &[u8]) -> Self {
        self.callbacks = self.callbacks.with_authorities(pem);
        self
    }

    /// Believes `X-Forwarded-For` from these proxies (see `login::client_address`).
    pub fn with_trusted_proxies(mut self, proxies: Vec<std::net::IpAddr>) -> Self {
        self.trusted_proxies = proxies;
        self
    }
}

/// What a client may take of the server: time to send a request's head (and, between
/// requests on a kept-alive connection, to start the next), time between the pieces of a
/// request's body, and connections at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub head_timeout: std::time::Duration,
    pub body_timeout: std::time::Duration,
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            head_timeout: std::time::Duration::from_secs(10),
            body_timeout: std::time::Duration::from_secs(30),
            max_connections: 1000,
        }
    }
}

/// Whether a request came over TLS to graphtoken itself (a request extension).
#[derive(Clone, Copy, Debug)]
pub(crate) struct OverTls;

/// The browser reached graphtoken over https, to graphtoken itself or through a proxy it
/// trusts (a request extension, set by [`Around`] from [`over_https`]): the console's curl lines
/// say https.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Https;

/// One connection served by `app`, which knows the peer's address and whether it came over TLS
/// (requests for the router carry them: `ConnectInfo`, [`OverTls`]), each request's body cut off
/// when no data came for `body_timeout`, its requests and writes counted into `activity` (for
/// [`idle::idle`]).
fn connection<I>(
    builder: &hyper::server::conn::http1::Builder,
    io: I,
    app: Front,
    peer: std::net::SocketAddr,
    over_tls: bool,
    body_timeout: std::time::Duration,
    activity: Arc<idle::Activity>,
) -> impl hyper_util::server::graceful::GracefulConnection + Send + 'static
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    use axum::body::{Body, HttpBody};
    use tower::ServiceExt;
    let app = Front {
        peer: Some(peer),
        over_tls,
        ..app
    };
    let service = app.map_request(move |r: axum::http::Request<hyper::body::Incoming>| {
        // A request without a body (most Graph calls) gets an empty one, which says so: the
        // timeout's wrapper would hide it, and make every handler read a body to learn that.
        r.map(|body| {
            if body.is_end_stream() {
                Body::empty()
            } else {
                Body::new(tower_http::timeout::TimeoutBody::new(body_timeout, body))
            }
        })
    });
    builder.serve_connection(
        hyper_util::rt::TokioIo::new(idle::Watched {
            io,
            activity: Arc::clone(&activity),
        }),
        hyper_util::service::TowerToHyperService::new(idle::Counted {
            inner: service,
            activity,
        }),
    )
}

/// Serves `connection` until it ends, or closes it once it has been idle for the head timeout
/// (see [`idle`]).
async fn until_idle(
    connection: impl std::future::Future,
    activity: &idle::Activity,
    head_timeout: std::time::Duration,
) {
    tokio::select! {
        biased; // the connection first, and no random draw at every wake-up
        _ = connection => {}
        () = idle::idle(activity, head_timeout) => {}
    }
}

/// How long a stop waits for the requests in flight (a fault may delay one for minutes).
const DRAIN: std::time::Duration = std::time::Duration::from_secs(30);

/// Serves until `shutdown` resolves, then finishes the requests in flight (for at most 30 s);
/// meanwhile delivers the callbacks in the outbox.
///
/// The accept loop is graphtoken's own (hyper's connection builder, as `axum::serve` uses it)
/// because `axum::serve` has no time limits and no cap: a client that sends half a request
/// head, or a body slower than it promised, is cut off after `limits`, and past
/// `limits.max_connections` new connections wait in the listen queue until one closes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    limits: Limits,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> std::io::Result<()> {
    let delivery = tokio::spawn(supervised("callback delivery", RESTART_AFTER, {
        let (callbacks, services) = (state.callbacks.clone(), Arc::clone(&state.services));
        move || callbacks.clone().run(Arc::clone(&services))
    }));
    let sharing = tokio::spawn(supervised("rate-limit sharing", RESTART_AFTER, {
        let services = Arc::clone(&state.services);
        move || share_rate_limits(Arc::clone(&services))
    }));
    let app = Front::new(state);
    let tls = tls.map(tokio_rustls::TlsAcceptor::from);
    // HTTP/1.1 only: its head timeout bounds idle and slow connections; HTTP/2's connections
    // would need limits of their own (and the proxies in front speak HTTP/1.1 to upstreams).
    // hyper's HTTP/1.1 connection itself, then: no upgrades are served, and the automatic
    // builder's look for an HTTP/2 preface wraps every read.
    let mut builder = hyper::server::conn::http1::Builder::new();
    // A client may shut its sending side once its request is out (`nc -N`, some HTTP/1.0
    // tools and proxies): it still waits for the answer, so an end of input after a whole
    // request does not close the connection before the answer is written.
    //
    // A request's head is refused (431) once hyper's read buffer passes `MAX_HEAD`. hyper checks
    // the buffer between reads, and a read may fill what the buffer has grown to, so a head of
    // up to twice the limit may be taken when it arrives at once: with `MAX_HEAD` set, a head
    // of 128 KiB or less is always taken and one over 256 KiB always refused. With hyper's
    // default of about 400 KiB, a 500 KB header was refused or taken depending on how it came.
    //
    // The head timeout is graphtoken's own (`idle`): hyper's arms a new timer for every request.
    builder.max_buf_size(MAX_HEAD).half_close(true);
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors, say: wait a little rather than spin.
                    tracing::warn!("cannot accept a connection: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let (app, builder, watcher) = (app.clone(), builder.clone(), graceful.watcher());
        let activity = Arc::new(idle::Activity::default());
        let head = limits.head_timeout;
        match &tls {
            None => {
                let connection = watcher.watch(connection(
                    &builder,
                    stream,
                    app,
                    peer,
                    false,
                    limits.body_timeout,
                    Arc::clone(&activity),
                ));
                tokio::spawn(async move {
                    until_idle(connection, &activity, head).await;
                    drop(slot);
                });
            }
            Some(acceptor) => {
                // The handshake counts against the head timeout.
                let handshake = acceptor.accept(stream);
                tokio::spawn(async move {
                    if let Ok(Ok(stream)) = tokio::time::timeout(head, handshake).await {
                        let connection = watcher.watch(connection(
                            &builder,
                            stream,
                            app,
                            peer,
                            true,
                            limits.body_timeout,
                            Arc::clone(&activity),
                        ));
                        until_idle(connection, &activity, head).await;
                    }
                    drop(slot);
                });
            }
        }
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "requests still in flight after {} s; stopping anyway",
            DRAIN.as_secs()
        );
    }
    // A try cut short keeps its lease; the callback is due again when the lease runs out.
    delivery.abort();
    sharing.abort();
    Ok(())
}

/// How long a background loop that panicked waits before it starts again, the first time.
const RESTART_AFTER: std::time::Duration = std::time::Duration::from_secs(1);
/// The longest wait before a background loop starts again: the wait doubles while the loop
/// panics again within it.
const RESTART_AT_MOST: std::time::Duration = std::time::Duration::from_secs(60);

/// Runs the loop `start` makes for as long as the server runs, and starts it again if it
/// panics: a bug in a background loop is logged and survived, not the loop's silent end. The
/// wait before a new start is `restart_after`, doubled (up to a minute) each time the loop
/// panics again before a minute has passed. Aborting this task aborts the loop.
async fn supervised<F, Fut>(name: &'static str, restart_after: std::time::Duration, start: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    /// The loop's task, aborted with its supervisor.
    struct Running(tokio::task::JoinHandle<()>);
    impl Drop for Running {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
    let mut wait = restart_after;
    loop {
        let started = tokio::time::Instant::now();
        let mut running = Running(tokio::spawn(start()));
        match (&mut running.0).await {
            Err(e) if e.is_panic() => {
                let e = e.into_panic();
                let why = e
                    .downcast_ref::<&str>()
                    .copied()
                    .or_else(|| e.downcast_ref::<String>().map(String::as_str))
                    .unwrap_or("no message");
                if started.elapsed() >= RESTART_AT_MOST {
                    wait = restart_after;
                }
                tracing::error!("{name} panicked ({why}); it starts again in {wait:?}");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(RESTART_AT_MOST);
            }
            _ => return,
        }
    }
}

/// How often the instances on a shared database exchange their rate-limit counts: a budget
/// can be overshot by what the other instances admit in one such interval.
pub const RATE_LIMIT_EXCHANGE: std::time::Duration = std::time::Duration::from_millis(250);

/// Exchanges rate-limit counts with the other instances, for as long as the server runs
/// (nothing to do on a database only this process uses).
async fn share_rate_limits(services: Arc<Services>) {
    let mut tick = tokio::time::interval(RATE_LIMIT_EXCHANGE);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = services.share_rate_limits().await {
            tracing::warn!("rate limits: cannot exchange counts: {e}");
        }
    }
}

/// The whole HTTP surface.
pub fn router(state: Arc<AppState>) -> Router {
    // The console is the emulator's (production mode has no pages but the login dialog's).
    let console = match state.mode {
        Mode::Emulator => console::routes(),
        Mode::Production => Router::new(),
    };
    Router::new()
        .merge(console)
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics::metrics))
        .route("/_static/silhouette.svg", get(silhouette))
        .nest("/_admin", admin::routes(Arc::clone(&state), state.mode))
        .merge(login::routes())
        .fallback(graph_request)
        .layer(AroundLayer(Arc::clone(&state)))
        .with_state(state)
}

/// The server's service: a Graph call straight to [`graph_request`] (with [`Around`]'s work
/// around it, [`Before::work`], as the router's fallback has), anything else to the [`router`]. Going around the router saves a
/// Graph call the router's work (finding no route, boxing the fallback's futures and cloning
/// its service), about a tenth of what `GET /me` cost in instructions.
#[derive(Clone)]
pub(crate) struct Front {
    router: Router,
    st: Arc<AppState>,
    /// The connection's peer (none until [`connection`] sets it), and whether it came over TLS.
    peer: Option<std::net::SocketAddr>,
    over_tls: bool,
}

impl Front {
    pub(crate) fn new(state: Arc<AppState>) -> Self {
        Front {
            router: router(Arc::clone(&state)),
            st: state,
            peer: None,
            over_tls: false,
        }
    }
}

/// Whether a request goes straight to the Graph handler: a GET or a POST whose path no route
/// of the [`router`] takes, so that the router would hand it to its fallback. The router's
/// routes are the probes', the console's, the admin API's (`/_admin`) and the login pages',
/// and the only one whose first segment is a parameter is the dialog's `/{version}/dialog/oauth`.
/// A Graph path here starts with `me`, `debug_token`, `oauth`, a version or an id, and its
/// second segment is not `dialog`; any other path (and method) takes the router, which still
/// falls back to the Graph handler.
fn graph_lane(method: &Method, path: &str) -> bool {
    if method != Method::GET && method != Method::POST {
        return false;
    }
    let mut segments = path.strip_prefix('/').unwrap_or("").split('/');
    let first = segments.next().unwrap_or("");
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let version = first
        .strip_prefix('v')
        .is_some_and(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit() || b == b'.'));
    let graph = matches!(first, "me" | "debug_token" | "oauth") || numeric(first) || version;
    graph && segments.next() != Some("dialog")
}

impl tower::Service<Request> for Front {
    type Response = Response;
    type Error = std::convert::Infallible;
    type Future = FrontFuture;

    fn poll_ready(
        &mut self,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        // Both lanes are always ready (the router's `poll_ready` is, and the Graph lane has
        // none).
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut req: Request) -> FrontFuture {
        if graph_lane(req.method(), req.uri().path()) {
            // Told of the connection directly: a Graph call needs no request extensions.
            let ip = self.peer.map(|p| p.ip());
            let secure = over_https(&self.st, ip, self.over_tls, req.headers());
            let before = Before::of(&mut req, secure);
            let st = Arc::clone(&self.st);
            let work = before.work(&self.st, move || graph_request(State(st), req));
            return FrontFuture::Graph(work);
        }
        if let Some(peer) = self.peer {
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
        }
        if self.over_tls {
            req.extensions_mut().insert(OverTls);
        }
        FrontFuture::Router(Box::pin(tower::Service::call(&mut self.router, req)))
    }
}

/// The answer of one of [`Front`]'s lanes.
pub(crate) enum FrontFuture {
    Graph(ToTheEnd),
    Router(BoxFuture<'static, Result<Response, std::convert::Infallible>>),
}

impl std::future::Future for FrontFuture {
    type Output = Result<Response, std::convert::Infallible>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        match self.get_mut() {
            FrontFuture::Graph(f) => std::pin::Pin::new(f).poll(cx),
            FrontFuture::Router(f) => f.as_mut().poll(cx),
        }
    }
}

/// What every request goes through, in one layer (see [`Around`]).
#[derive(Clone)]
struct AroundLayer(Arc<AppState>);

impl<S> tower::Layer<S> for AroundLayer {
    type Service = Around<S>;
    fn layer(&self, inner: S) -> Around<S> {
        Around {
            inner,
            st: Arc::clone(&self.0),
        }
    }
}

/// Every request is counted and timed, learns whether it came over TLS ([`over_https`]; then
/// its cookies are [`secure_cookies`]), runs [`ToTheEnd`], and a plain-text refusal is
/// rewritten in the Graph envelope or the admin API's ([`enveloped`]). A service of its own
/// rather than `from_fn`, which clones and boxes the inner service for every request.
#[derive(Clone)]
struct Around<S> {
    inner: S,
    st: Arc<AppState>,
}

impl<S> tower::Service<Request> for Around<S>
where
    S: tower::Service<Request, Response = Response, Error = std::convert::Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = std::convert::Infallible;
    type Future = ToTheEnd;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> ToTheEnd {
        let peer = req
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        let over_tls = req.extensions().get::<OverTls>().is_some();
        let secure = over_https(&self.st, peer, over_tls, req.headers());
        self.call_secure(req, secure)
    }
}

impl<S> Around<S>
where
    S: tower::Service<Request, Response = Response, Error = std::convert::Infallible>,
    S::Future: Send + 'static,
{
    /// [`Around`]'s work for a request that came over https (`secure`) or not.
    fn call_secure(&mut self, mut req: Request, secure: bool) -> ToTheEnd {
        let before = Before::of(&mut req, secure);
        let answer = self.inner.call(req);
        before.work(&self.st, move || async move {
            match answer.await {
                Ok(response) => response,
                Err(never) => match never {},
            }
        })
    }
}

/// What [`Around`] learns of a request before its handler takes it.
struct Before {
    route: usize,
    envelope: Envelope,
    started: std::time::Instant,
    secure: bool,
}

impl Before {
    /// `req`, which came over https (`secure`) or not, is told so.
    fn of(req: &mut Request, secure: bool) -> Before {
        let path = req.uri().path();
        let before = Before {
            route: metrics::route_of(path),
            envelope: Envelope::of(path),
            started: std::time::Instant::now(),
            secure,
        };
        if secure {
            req.extensions_mut().insert(Https);
        }
        before
    }

    /// The request's work: the answer `handler` makes, in the envelope, counted whatever it is
    /// (a panic's included). The handler is called inside the work, so its future (a Graph
    /// call's is large) is made in the work's one allocation rather than moved into it.
    fn work<F>(self, st: &Arc<AppState>, handler: impl FnOnce() -> F + Send + 'static) -> ToTheEnd
    where
        F: std::future::Future<Output = Response> + Send + 'static,
    {
        let Before {
            route,
            envelope,
            started,
            secure,
        } = self;
        let work = async move {
            let response = enveloped(envelope, handler().await).await;
            if secure {
                secure_cookies(response)
            } else {
                response
            }
        };
        let done = Done {
            st: Arc::clone(st),
            route,
            started,
        };
        ToTheEnd::new(work, done)
    }
}

/// A request's work, polled where the connection polls it, that runs to its end even when the
/// connection drops it midway: a client that goes away (a dropped connection drops the
/// request's future) cannot stop a service between its write and the event that tells the
/// caches, and many Graph calls write, GETs included (a code exchange, a Page token, a dialog
/// that goes straight back). Dropped unfinished, the work moves to a task of its own; a panic
/// in it is answered with the Graph envelope's internal error. `done` sees the answer either
/// way.
///
/// Polling in place rather than spawning every request saves the task, its scheduling and the
/// wake-up of the connection when it ends.
pub(crate) struct ToTheEnd<D: Finish = Done> {
    work: Option<Work>,
    done: Option<D>,
    /// Already on a task of its own: dropped unfinished (the runtime stopping), it is let go.
    moved: bool,
}

type Work = BoxFuture<'static, Response>;

/// What sees a request's answer once it is made ([`ToTheEnd`]).
pub(crate) trait Finish: Send + Unpin + 'static {
    fn finish(self, response: &Response);
}

/// A request's answer is counted and timed ([`metrics::record`]): a struct rather than a
/// closure, which would take an allocation of its own.
pub(crate) struct Done {
    st: Arc<AppState>,
    route: usize,
    started: std::time::Instant,
}

impl Finish for Done {
    fn finish(self, response: &Response) {
        metrics::record(&self.st.metrics, self.route, response, self.started);
    }
}

impl<F: FnOnce(&Response) + Send + Unpin + 'static> Finish for F {
    fn finish(self, response: &Response) {
        self(response)
    }
}

impl<D: Finish> ToTheEnd<D> {
    fn new(work: impl std::future::Future<Output = Response> + Send + 'static, done: D) -> Self {
        ToTheEnd {
            work: Some(Box::pin(work)),
            done: Some(done),
            moved: false,
        }
    }
}

/// `e` in the Graph envelope, for a request answered outside `graph_request` (no version
/// asked for, no trace of its own).
fn graph_error(e: GraphError) -> Response {
    render::graph(
        normalize::DEFAULT_VERSION,
        &render::trace_id(),
        Err(e),
        None,
    )
}

impl<D: Finish> std::future::Future for ToTheEnd<D> {
    type Output = Result<Response, std::convert::Infallible>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        use std::task::Poll;
        let Some(work) = self.work.as_mut() else {
            tracing::error!("a request's work was polled again after its answer");
            return Poll::Ready(Ok(graph_error(GraphError::internal())));
        };
        let response =
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work.as_mut().poll(cx)))
            {
                Ok(Poll::Pending) => return Poll::Pending,
                Ok(Poll::Ready(response)) => response,
                Err(panic) => {
                    let why = panic
                        .downcast_ref::<&str>()
                        .copied()
                        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
                        .unwrap_or("(no message)");
                    tracing::error!("a request's handler panicked: {why}");
                    graph_error(GraphError::internal())
                }
            };
        self.work = None;
        if let Some(done) = self.done.take() {
            done.finish(&response);
        }
        Poll::Ready(Ok(response))
    }
}

impl<D: Finish> Drop for ToTheEnd<D> {
    fn drop(&mut self) {
        let Some(work) = self.work.take() else {
            return;
        };
        if self.moved {
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(ToTheEnd {
                    work: Some(work),
                    done: self.done.take(),
                    moved: true,
                });
            }
            Err(_) => tracing::warn!("a request's work was dropped unfinished outside a runtime"),
        }
    }
}

/// The browser reached graphtoken over TLS: graphtoken itself, or a proxy it trusts
/// (`--trusted-proxy`) that says so in `X-Forwarded-Proto`.
fn over_https(
    st: &AppState,
    peer: Option<std::net::IpAddr>,
    over_tls: bool,
    headers: &axum::http::HeaderMap,
) -> bool {
    let peer = peer.map(|p| p.to_canonical());
    let forwarded_https = peer.is_some_and(|p| st.trusted_proxies.contains(&p))
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"));
    over_tls || forwarded_https
}

/// Cookies are `Secure` when the browser reached graphtoken over TLS ([`over_https`]).
fn secure_cookies(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let cookies: Vec<String> = headers
        .get_all(axum::http::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect();
    headers.remove(axum::http::header::SET_COOKIE);
    for c in cookies {
        if let Ok(v) = axum::http::HeaderValue::from_str(&format!("{c}; Secure")) {
            headers.append(axum::http::header::SET_COOKIE, v);
        }
    }
    response
}

/// Which envelope a refusal of the path gets, if any (see [`enveloped`]).
#[derive(Clone, Copy)]
enum Envelope {
    Graph,
    Admin,
    /// `/metrics` answers scrapers in plain text, refusals included.
    Plain,
}

impl Envelope {
    fn of(path: &str) -> Self {
        if path == "/metrics" {
            Envelope::Plain
        } else if path.starts_with("/_admin") {
            Envelope::Admin
        } else {
            Envelope::Graph
        }
    }
}

/// Refusals that the router and the extractors make themselves (a path segment that is not
/// UTF-8, a body over the limit, an unknown admin route, a method a route does not take) are
/// plain text: they are rewritten in the Graph envelope, or the admin API's, with the same
/// status. Pages (HTML), JSON answers and `/metrics` (for scrapers) are left as they are.
async fn enveloped(envelope: Envelope, response: Response) -> Response {
    let status = response.status();
    let plain = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|t| t.starts_with("text/plain"));
    if status.as_u16() < 400 || !plain || matches!(envelope, Envelope::Plain) {
        return response;
    }
    let text = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("Refused").to_string()
    } else {
        text
    };
    if matches!(envelope, Envelope::Admin) {
        return admin::refusal(status, message);
    }
    graph_error(GraphError::param(message).with_status(status.as_u16()))
}

async fn healthz() -> impl IntoResponse {
    (
        [("content-type", "application/json; charset=UTF-8")],
        r#"{"status":"ok"}"#,
    )
}

/// Ready to serve: the database answers and its schema is current (for a load balancer's
/// readiness check; `/healthz` only says the process is alive). Why not goes to the log, not
/// to whoever asks.
async fn readyz(State(st): State<Arc<AppState>>) -> impl IntoResponse {
    let (status, body) = match st.services.ready().await {
        Ok(()) => (StatusCode::OK, json!({"status": "ready"})),
        Err(why) => {
            tracing::warn!("not ready: {why}");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"status": "unavailable"}),
            )
        }
    };
    (
        status,
        [("content-type", "application/json; charset=UTF-8")],
        body.to_string(),
    )
}

/// The picture every person and Page has here (`picture.data.url`).
async fn silhouette() -> impl IntoResponse {
    (
        [
            ("content-type", "image/svg+xml"),
            ("cache-control", "public, max-age=86400"),
        ],
        concat!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 50 50">"##,
            r##"<rect width="50" height="50" fill="#c9ccd1"/>"##,
            r##"<circle cx="25" cy="19" r="9" fill="#fff"/>"##,
            r##"<path d="M8 50c0-11 8-18 17-18s17 7 17 18z" fill="#fff"/></svg>"##
        ),
    )
}

/// A body over [`MAX_BODY`], declared or read: 413.
fn too_large() -> GraphError {
    GraphError::param(format!("The request body is larger than {MAX_BODY} bytes")).with_status(413)
}

/// Why a request's body could not be read, as a Graph error: too large (413), too slow (408),
/// or malformed (a bad chunk, a connection closed early: 400).
fn body_error(e: &axum::Error) -> GraphError {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if c.is::<http_body_util::LengthLimitError>() {
            return too_large();
        }
        if c.is::<tower_http::timeout::TimeoutError>() {
            return GraphError::param("The request body did not arrive in time").with_status(408);
        }
        cause = c.source();
    }
    GraphError::param(format!("The request body could not be read: {e}"))
}

/// Every Graph path: `/me`, `/v25.0/{id}/accounts`, `/oauth/access_token`, `/debug_token`, ...
pub(crate) async fn graph_request(State(st): State<Arc<AppState>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    if parts.method == Method::OPTIONS {
        return render::preflight();
    }
    let trace = render::trace_id();
    // A body declared larger than the limit is refused before any of it is read.
    let declared = parts
        .headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return render::graph(normalize::DEFAULT_VERSION, &trace, Err(too_large()), None);
    }
    // Most Graph calls are GETs without a body: nothing to read then.
    let body = if axum::body::HttpBody::is_end_stream(&body) {
        axum::body::Bytes::new()
    } else {
        match axum::body::to_bytes(body, MAX_BODY).await {
            Ok(b) => b,
            Err(e) => {
                return render::graph(
                    normalize::DEFAULT_VERSION,
                    &trace,
                    Err(body_error(&e)),
                    None,
                )
            }
        }
    };
    let req = match normalize::request(&parts.method, &parts.uri, &parts.headers, &body) {
        Ok(req) => req,
        Err((version, e)) => return render::graph(version, &trace, Err(e), None),
    };
    if let Some(mut resp) = faults::intercept(&st, &req, &trace).await {
        suppress_status(&req, &mut resp);
        return resp;
    }
    let answer = graph::answer(&st.services, &req).await;
    let mut response = render::graph(req.version, &trace, answer.result, answer.usage.as_ref());
    suppress_status(&req, &mut response);
    if st.services.clock_shifted() {
        let date = graphtoken_core::timefmt::http_date(st.services.now());
        if let Ok(v) = axum::http::HeaderValue::from_str(&date) {
            response.headers_mut().insert(axum::http::header::DATE, v);
        }
    }
    response
}

/// `suppress_http_code=1` (sent by the JavaScript SDK and the Explorer), or its older form
/// `suppress_response_codes=true`: the answer goes out as a 200, an error's code only in its
/// body.
fn suppress_status(req: &graphtoken_core::request::GraphRequest, response: &mut Response) {
    let p = &req.params;
    if p.non_empty("suppress_http_code") == Some("1")
        || p.non_empty("suppress_response_codes") == Some("true")
    {
        *response.status_mut() = axum::http::StatusCode::OK;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A background loop that panics is started again; one that ends is not; aborting the
    /// supervisor aborts the loop.
    #[tokio::test]
    async fn a_background_loop_that_panics_starts_again() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let starts = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&starts);
        supervised("test loop", Duration::from_millis(1), move || {
            let n = counted.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < 2 {
                    panic!("bug number {n}");
                }
            }
        })
        .await;
        assert_eq!(starts.load(Ordering::SeqCst), 3);

        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
        let forever = tokio::spawn(supervised(
            "test loop",
            Duration::from_millis(1),
            move || {
                let tx = tx.clone();
                async move {
                    let _ = tx.send(());
                    std::future::pending::<()>().await;
                }
            },
        ));
        // The loop runs (it said so), then its supervisor is aborted.
        assert_eq!(rx.recv().await, Some(()));
        forever.abort();
        let _ = forever.await;
        // Every sender (the loop's, and the closure's) is gone once the loop was aborted.
        let closed = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await;
        assert_eq!(closed, Ok(None));
    }

    #[test]
    fn graph_calls_go_around_the_router_and_nothing_else_does() {
        let (get, post) = (&Method::GET, &Method::POST);
        for path in [
            "/me",
            "/me/accounts",
            "/v25.0/me",
            "/v3.1/1234/accounts",
            "/123456",
            "/debug_token",
            "/oauth/access_token",
            "/v25.0/oauth/access_token",
        ] {
            assert!(graph_lane(get, path), "{path}");
            assert!(graph_lane(post, path), "{path}");
        }
        // The router's own routes, and the dialog under any first segment (its route is
        // `/{version}/dialog/oauth`), go through the router; so does every other method.
        for path in [
            "/",
            "/healthz",
            "/readyz",
            "/metrics",
            "/_static/silhouette.svg",
            "/_admin/tokens",
            "/login",
            "/logout",
            "/device",
            "/dialog/oauth",
            "/v25.0/dialog/oauth",
            "/me/dialog/oauth",
            "/123/dialog/oauth",
            "/tools/explorer",
            "/apps/1/dashboard",
            "/settings/apps",
            "/docs/seed.md",
            "/v/me",
            "/vX/me",
            "",
        ] {
            assert!(!graph_lane(get, path), "{path}");
        }
        for m in [Method::HEAD, Method::OPTIONS, Method::DELETE, Method::PUT] {
            assert!(!graph_lane(&m, "/me"), "{m}");
        }
    }

    #[tokio::test]
    async fn work_dropped_midway_runs_to_its_end() {
        let (go, wait) = tokio::sync::oneshot::channel::<()>();
        let (done, finished) = tokio::sync::oneshot::channel::<()>();
        let (seen, mut counted) = tokio::sync::mpsc::unbounded_channel();
        let mut work = ToTheEnd::new(
            async move {
                let _ = wait.await;
                let _ = done.send(());
                StatusCode::OK.into_response()
            },
            move |r: &Response| {
                let _ = seen.send(r.status());
            },
        );
        // Polled once, still waiting: the client goes away.
        assert!(tokio::time::timeout(Duration::from_millis(20), &mut work)
            .await
            .is_err());
        drop(work);
        go.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(5), finished)
            .await
            .expect("the dropped work finished")
            .unwrap();
        // And its answer was still counted.
        let status = tokio::time::timeout(Duration::from_secs(5), counted.recv()).await;
        assert_eq!(status.ok().flatten(), Some(StatusCode::OK));
    }

    #[test]
    fn work_moved_to_a_task_is_let_go_when_the_runtime_stops() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut work = ToTheEnd::new(std::future::pending(), |_: &Response| {});
            assert!(tokio::time::timeout(Duration::from_millis(5), &mut work)
                .await
                .is_err());
            drop(work); // moved to a task that never ends
        });
        // The task's work is dropped unfinished once more: it must not move again (nor loop).
        drop(runtime);
    }

    #[tokio::test]
    async fn a_panicking_handler_is_answered_in_the_envelope() {
        let (seen, status) = std::sync::mpsc::channel();
        let response = ToTheEnd::new(async { panic!("boom") }, move |r: &Response| {
            let _ = seen.send(r.status());
        })
        .await
        .unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        // Counted as what it was answered.
        assert_eq!(status.try_recv(), Ok(StatusCode::INTERNAL_SERVER_ERROR));
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["code"], 2);
        assert_eq!(body["error"]["type"], "OAuthException");
    }

    #[tokio::test]
    async fn finished_work_is_not_run_again() {
        let runs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = Arc::clone(&runs);
        let work = ToTheEnd::new(
            async move {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                StatusCode::OK.into_response()
            },
            |_: &Response| {},
        );
        assert_eq!(work.await.unwrap().status(), StatusCode::OK);
        tokio::task::yield_now().await;
        assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}
