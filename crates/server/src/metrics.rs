//! Prometheus metrics at `GET /metrics`, for the admin key as a bearer token (a scraper sends
//! `Authorization: Bearer <admin key>`): requests by kind of route and status, their latency,
//! each cache's hits, misses and size, the callbacks in the outbox by status and, on
//! PostgreSQL, the connection pool and how the change feed keeps up (invalidation lag).
//!
//! Routes are grouped by kind (`graph`, `oauth`, `dialog`, `admin`, …) rather than by path, so
//! the number of series stays small whatever the clients ask for.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use prometheus::{
    Encoder, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

use graphtoken_core::outbox::DeliveryStatus;

use crate::AppState;

/// The kinds of route, as labelled.
const ROUTES: [&str; 9] = [
    "graph", "oauth", "dialog", "login", "admin", "static", "healthz", "readyz", "metrics",
];
/// The statuses whose series are made up front (others are looked up when they happen).
const STATUSES: [u16; 10] = [200, 302, 400, 401, 403, 404, 405, 429, 500, 503];

/// The registry and the series graphtoken keeps. The series of each kind of route (and the
/// common statuses) are resolved once, so that counting a request takes no lookup.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    cache: IntGaugeVec,
    outbox: IntGaugeVec,
    /// The database's connections, by state (PostgreSQL only).
    pool: IntGaugeVec,
    /// The change feed (PostgreSQL only): connected, the last change's lag, and counters of
    /// changes, late changes and reconnections with the totals they were last brought to.
    feed_connected: IntGaugeVec,
    feed_lag: GaugeVec,
    feed_counters: [(IntCounterVec, AtomicU64); 3],
    /// Per kind of route: the latency histogram, and the counter of each of [`STATUSES`].
    by_route: Vec<(Histogram, Vec<IntCounter>)>,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("graphtoken".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests answered, by kind of route and status",
            ),
            &["route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time from a request's arrival to its answer, by kind of route",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ]),
            &["route"],
        )?;
        let cache = IntGaugeVec::new(
            Opts::new(
                "cache",
                "The caches in front of the store: hits and misses since start, entries now and at most",
            ),
            &["cache", "what"],
        )?;
        let outbox = IntGaugeVec::new(
            Opts::new(
                "callbacks",
                "Callbacks to apps in the outbox, by status (the newest 1000)",
            ),
            &["status"],
        )?;
        let pool = IntGaugeVec::new(
            Opts::new(
                "db_connections",
                "The database's connections: open, idle and at most, and calls waiting for one",
            ),
            &["state"],
        )?;
        let db = ["database"];
        let feed_connected = IntGaugeVec::new(
            Opts::new(
                "change_feed_connected",
                "1 while this instance follows the change feed of the shared database",
            ),
            &db,
        )?;
        let feed_lag = GaugeVec::new(
            Opts::new(
                "change_feed_lag_seconds",
                "How long after it was written the last change from other instances was heard",
            ),
            &db,
        )?;
        let counter = |name: &str, help: &str| -> Result<_, prometheus::Error> {
            Ok((
                IntCounterVec::new(Opts::new(name, help), &db)?,
                AtomicU64::new(0),
            ))
        };
        let feed_counters = [
            counter(
                "change_feed_changes_total",
                "Changes heard from the shared database (invalidations, grants, the clock…)",
            )?,
            counter(
                "change_feed_late_changes_total",
                "Changes heard more than a second after they were written",
            )?,
            counter(
                "change_feed_reconnects_total",
                "Times the change feed's connection was lost (each followed by a catch-up)",
            )?,
        ];
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(cache.clone()))?;
        registry.register(Box::new(outbox.clone()))?;
        registry.register(Box::new(pool.clone()))?;
        registry.register(Box::new(feed_connected.clone()))?;
        registry.register(Box::new(feed_lag.clone()))?;
        for (c, _) in &feed_counters {
            registry.register(Box::new(c.clone()))?;
        }
        let by_route = ROUTES
            .iter()
            .map(|route| {
                let counters = STATUSES
                    .iter()
                    .map(|s| requests.with_label_values(&[*route, &s.to_string()]))
                    .collect();
                (latency.with_label_values(&[*route]), counters)
            })
            .collect();
        Ok(Metrics {
            registry,
            requests,
            cache,
            outbox,
            pool,
            feed_connected,
            feed_lag,
            feed_counters,
            by_route,
        })
    }
}

impl Metrics {
    /// Brings the store's series up to what it reports.
    fn store(&self, stats: graphtoken_core::stats::StoreStats) {
        let n = |x: u64| i64::try_from(x).unwrap_or(i64::MAX);
        if let Some(p) = stats.pool {
            for (state, v) in [
                ("open", p.open),
                ("idle", p.idle),
                ("max", p.max),
                ("waiting", p.waiting),
            ] {
                self.pool.with_label_values(&[state]).set(n(v));
            }
        }
        if let Some(f) = stats.feed {
            let db = ["postgres"];
            self.feed_connected
                .with_label_values(&db)
                .set(i64::from(f.connected));
            self.feed_lag
                .with_label_values(&db)
                .set(f.last_lag_ms as f64 / 1000.0);
            for ((counter, seen), total) in
                self.feed_counters
                    .iter()
                    .zip([f.changes, f.late, f.reconnects])
            {
                // Counters only go up: add what is new since the last scrape.
                let before = seen.fetch_max(total, Ordering::Relaxed);
                counter
                    .with_label_values(&db)
                    .inc_by(total.saturating_sub(before));
            }
        }
    }
}

/// The kind of route a path is: its index in [`ROUTES`].
pub(crate) fn route_of(path: &str) -> usize {
    let name = match path {
        "/healthz" => "healthz",
        "/readyz" => "readyz",
        "/metrics" => "metrics",
        "/login" | "/logout" | "/device" | "/device/confirm" => "login",
        p if p.starts_with("/_admin") => "admin",
        p if p.starts_with("/_static") => "static",
        p if p.contains("/dialog/") || p.starts_with("/dialog") => "dialog",
        p if p.ends_with("/oauth/access_token") => "oauth",
        _ => "graph",
    };
    ROUTES.iter().position(|r| *r == name).unwrap_or(0)
}

/// Counts and times a request of the kind `route` ([`route_of`]), answered with `response`.
pub(crate) fn record(m: &Metrics, route: usize, response: &Response, started: Instant) {
    let status = response.status().as_u16();
    if let Some((latency, counters)) = m.by_route.get(route) {
        match STATUSES.iter().position(|s| *s == status) {
            Some(i) => counters[i].inc(),
            None => m
                .requests
                .with_label_values(&[ROUTES[route], response.status().as_str()])
                .inc(),
        }
        latency.observe(started.elapsed().as_secs_f64());
    }
}

/// `GET /metrics`: the text exposition format.
pub(crate) async fn metrics(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if !crate::admin::bearer_is(&headers, &st.admin_key) {
        return (
            StatusCode::UNAUTHORIZED,
            [(
                header::WWW_AUTHENTICATE,
                "Bearer realm=\"graphtoken metrics\"",
            )],
            "metrics want `Authorization: Bearer <admin key>`\n",
        )
            .into_response();
    }
    let m = &st.metrics;
    for (name, s) in st.services.cache_stats() {
        for (what, n) in [
            ("hits", s.hits),
            ("misses", s.misses),
            ("entries", s.entries),
            ("capacity", s.capacity),
        ] {
            m.cache
                .with_label_values(&[name, what])
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
    }
    if let Ok(listed) = st.services.callbacks(1000).await {
        for status in DeliveryStatus::ALL {
            let n = listed.iter().filter(|o| o.status == status).count();
            m.outbox
                .with_label_values(&[status.as_str()])
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
    }
    m.store(st.services.store_stats());
    let mut body = Vec::new();
    let encoder = TextEncoder::new();
    if let Err(e) = encoder.encode(&m.registry.gather(), &mut body) {
        tracing::error!("metrics: {e}");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(header::CONTENT_TYPE, encoder.format_type().to_string())],
        body,
    )
        .into_response()
}
