//! Callbacks to apps (spec §7): the deauthorize callback when a person removes an app and the
//! data-deletion request, each posted as a form with a `signed_request`, in the background,
//! retried with backoff, and listed by `GET /_admin/callbacks` (attempts, status, the app's
//! answer; a data-deletion answer must carry `url` and `confirmation_code`).
//!
//! Core decides which events notify apps, builds each callback and puts it in the store's
//! outbox in the same write as its cause. This module only delivers: every instance runs
//! [`run`], which claims due callbacks for a while (a lease, so one instance at a time tries
//! each), posts them and records each try. The outbox is in the database, so a callback
//! survives a restart, and every instance on one database lists the same callbacks. The loop
//! wakes when an event of this instance queued a callback, when a retry falls due, and every
//! half second (for callbacks other instances queued, and leases that ran out).
//!
//! Delivery uses one pooled async HTTP client (reqwest, with rustls for `https://` URLs and the
//! Mozilla roots from webpki-roots); any other scheme fails at once with a clear error in the
//! listing.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use tokio::sync::Notify;

use graphtoken_core::events::{Event, Subscriber};
use graphtoken_core::outbox::{Attempt, DeliveryStatus, Outgoing};
use graphtoken_core::services::Services;

/// Attempts per delivery, waiting 0.5 s, 1 s, 2 s, 4 s between them.
const ATTEMPTS: u32 = 5;
/// The first wait between attempts; each next one is twice as long.
const FIRST_WAIT: Duration = Duration::from_millis(500);
/// The callbacks listed.
const LISTED: u32 = 1000;
/// The largest app answer kept (a data-deletion answer is a small JSON object).
const ANSWER_LIMIT: usize = 64 * 1024;
/// How long one attempt may take.
const TIMEOUT: Duration = Duration::from_secs(5);
/// How long an instance keeps a callback it is trying: longer than one attempt.
const LEASE: Duration = Duration::from_secs(30);
/// How often the outbox is looked at when nothing wakes the loop.
const POLL: Duration = Duration::from_millis(500);
/// Callbacks claimed at a time.
const BATCH: u32 = 32;
/// How a failure no retry can mend starts (a URL graphtoken does not call).
const UNCALLABLE: &str = "only http:// and https://";

/// The delivery side of the outbox: wakes the loop when this instance queues a callback.
#[derive(Clone)]
pub struct Callbacks {
    wake: Arc<Notify>,
    /// One client for every delivery (it pools connections); `None` if it could not be built.
    client: Option<reqwest::Client>,
}

impl Default for Callbacks {
    fn default() -> Self {
        Self::trusting(&[])
    }
}

impl Callbacks {
    /// These callbacks (the same wake-ups), delivering with a client that also trusts `pem`.
    pub(crate) fn with_authorities(&self, pem: &[u8]) -> Self {
        Callbacks {
            wake: Arc::clone(&self.wake),
            ..Self::trusting(pem)
        }
    }

    /// Callbacks whose `https` deliveries also trust the authorities in `pem` (a private CA's
    /// certificates, PEM), besides the web's.
    pub fn trusting(pem: &[u8]) -> Self {
        let mut builder = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none());
        if !pem.is_empty() {
            match reqwest::Certificate::from_pem_bundle(pem) {
                Ok(certs) => {
                    for c in certs {
                        builder = builder.add_root_certificate(c);
                    }
                }
                Err(e) => tracing::error!("callbacks: the extra authorities are unreadable: {e}"),
            }
        }
        let client = builder.build();
        if let Err(e) = &client {
            tracing::error!("callbacks: no HTTP client: {e}");
        }
        Callbacks {
            wake: Arc::default(),
            client: client.ok(),
        }
    }
}

impl Subscriber for Callbacks {
    /// A callback was queued: look at the outbox now (the write never waits for delivery).
    fn on(&self, event: &Event) {
        if event.callback().is_some() {
            self.wake.notify_one();
        }
    }
}

/// Wall-clock milliseconds, for retries and leases (delivery bookkeeping, not the model's
/// virtual time).
fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Callbacks {
    /// Delivers what is due in the outbox, for as long as the server runs.
    pub async fn run(self, services: Arc<Services>) {
        loop {
            match services
                .claim_callbacks(wall_ms(), LEASE.as_millis() as i64, BATCH)
                .await
            {
                Ok(due) => {
                    for outgoing in due {
                        let (this, services) = (self.clone(), Arc::clone(&services));
                        tokio::spawn(async move { this.deliver(&services, outgoing).await });
                    }
                }
                Err(e) => tracing::warn!("callbacks: cannot read the outbox: {e}"),
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// `{"data": [...]}`, newest first.
    pub async fn list(services: &Services) -> Result<Value, graphtoken_core::error::GraphError> {
        let all = services.callbacks(LISTED).await?;
        Ok(json!({ "data": all.iter().map(to_json).collect::<Vec<_>>() }))
    }

    /// One try of a claimed callback, recorded; a retry wakes the loop when it is due.
    async fn deliver(&self, services: &Services, o: Outgoing) {
        let attempts = o.attempts + 1;
        let result = self.post(&o.callback.url, &o.callback.form).await;
        let attempt = match result {
            Ok(answer) => Attempt {
                status: DeliveryStatus::Delivered,
                attempts,
                last_error: (o.callback.kind == "data_deletion")
                    .then(|| missing_confirmation(answer.as_ref()))
                    .flatten(),
                answer: answer.map(|a| a.to_string()),
                next_at_ms: 0,
            },
            Err(e) => {
                let hopeless = e.starts_with(UNCALLABLE);
                let wait = FIRST_WAIT * 2u32.saturating_pow(attempts.saturating_sub(1));
                let give_up = attempts >= ATTEMPTS || hopeless;
                Attempt {
                    status: if give_up {
                        DeliveryStatus::Failed
                    } else {
                        DeliveryStatus::Retrying
                    },
                    attempts,
                    last_error: Some(e),
                    answer: None,
                    next_at_ms: wall_ms().saturating_add(wait.as_millis() as i64),
                }
            }
        };
        let retry_in = (attempt.status == DeliveryStatus::Retrying)
            .then(|| Duration::from_millis((attempt.next_at_ms - wall_ms()).max(0) as u64));
        if let Err(e) = services.record_callback(o.id, &attempt).await {
            tracing::warn!("callbacks: cannot record a try of callback {}: {e}", o.id);
        }
        if let Some(wait) = retry_in {
            let wake = Arc::clone(&self.wake);
            tokio::spawn(async move {
                tokio::time::sleep(wait).await;
                wake.notify_one();
            });
        }
    }
}

fn to_json(o: &Outgoing) -> Value {
    json!({
        "id": o.id.to_string(),
        "kind": o.callback.kind,
        "url": o.callback.url,
        "app_id": o.callback.app_id,
        "user_id": o.callback.user_id,
        "attempts": o.attempts,
        "status": o.status.as_str(),
        "last_error": o.last_error,
        "answer": o.answer.as_deref().and_then(|a| serde_json::from_str::<Value>(a).ok()),
    })
}

/// What a data-deletion answer lacks, if anything: Facebook wants
/// `{"url": "<status page>", "confirmation_code": "<code>"}`.
fn missing_confirmation(answer: Option<&Value>) -> Option<String> {
    let has = |k: &str| {
        answer
            .and_then(|a| a[k].as_str())
            .is_some_and(|s| !s.is_empty())
    };
    let missing: Vec<&str> = ["url", "confirmation_code"]
        .into_iter()
        .filter(|k| !has(k))
        .collect();
    (!missing.is_empty()).then(|| format!("the app's answer lacks {}", missing.join(" and ")))
}

impl Callbacks {
    /// One POST of a form; a 2xx answer is a delivery (its JSON body, if any, is kept).
    async fn post(&self, url: &str, form: &[(String, String)]) -> Result<Option<Value>, String> {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!(
                "{UNCALLABLE} callback URLs are delivered, not {url}"
            ));
        }
        let client = self
            .client
            .as_ref()
            .ok_or("no HTTP client could be built")?;
        let mut resp = client
            .post(url)
            .form(form)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status();
        if !status.is_success() {
            return Err(format!("the app answered HTTP {}", status.as_u16()));
        }
        let mut body = Vec::new();
        while let Ok(Some(chunk)) = resp.chunk().await {
            body.extend_from_slice(&chunk);
            if body.len() > ANSWER_LIMIT {
                return Ok(None);
            }
        }
        Ok(serde_json::from_slice(&body).ok())
    }
}
