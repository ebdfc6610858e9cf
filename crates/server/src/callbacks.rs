//! Callbacks to apps (spec §7): the deauthorize callback when a person removes an app and the
//! data-deletion request, each posted as a form with a `signed_request`, in the background,
//! retried with backoff, and listed by `GET /_admin/callbacks` (attempts, status, the app's
//! answer; a data-deletion answer must carry `url` and `confirmation_code`).
//!
//! Core decides which events notify apps and builds each callback ([`Event::callback`]); this
//! module subscribes to the event bus and only delivers.
//!
//! Delivery uses one pooled async HTTP client (reqwest, with rustls for `https://` URLs and the
//! Mozilla roots from webpki-roots); any other scheme fails at once with a clear error in the
//! listing.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::{json, Value};

use graphtoken_core::events::{Callback, Event, Subscriber};

/// Attempts per delivery, waiting 0.5 s, 1 s, 2 s, 4 s between them.
const ATTEMPTS: u32 = 5;
/// Deliveries kept for the listing (the oldest finished ones go first).
const KEPT: usize = 1000;
/// The largest app answer kept (a data-deletion answer is a small JSON object).
const ANSWER_LIMIT: usize = 64 * 1024;
/// How long one attempt may take.
const TIMEOUT: Duration = Duration::from_secs(5);
/// How a failure no retry can mend starts (a URL graphtoken does not call).
const UNCALLABLE: &str = "only http:// and https://";

#[derive(Clone, Debug)]
struct Delivery {
    id: u64,
    kind: &'static str,
    url: String,
    app_id: String,
    user_id: String,
    attempts: u32,
    status: &'static str,
    last_error: Option<String>,
    answer: Option<Value>,
}

impl Delivery {
    fn to_json(&self) -> Value {
        json!({
            "id": self.id.to_string(),
            "kind": self.kind,
            "url": self.url,
            "app_id": self.app_id,
            "user_id": self.user_id,
            "attempts": self.attempts,
            "status": self.status,
            "last_error": self.last_error,
            "answer": self.answer,
        })
    }
}

#[derive(Clone)]
pub struct Callbacks {
    log: Arc<Mutex<Vec<Delivery>>>,
    /// One client for every delivery (it pools connections); `None` if it could not be built.
    client: Option<reqwest::Client>,
}

impl Default for Callbacks {
    fn default() -> Self {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build();
        if let Err(e) = &client {
            tracing::error!("callbacks: no HTTP client: {e}");
        }
        Callbacks {
            log: Arc::default(),
            client: client.ok(),
        }
    }
}

impl Subscriber for Callbacks {
    /// Every callback an event carries is queued for delivery; the write that published the
    /// event never waits for it.
    fn on(&self, event: &Event) {
        if let Some(cb) = event.callback() {
            self.send(cb.clone());
        }
    }
}

impl Callbacks {
    /// Queues a delivery; it is listed at once under the callback's id.
    fn send(&self, cb: Callback) {
        let id = cb.id;
        self.update(|log| {
            if log.len() >= KEPT {
                // Forget the oldest finished delivery; ones still retrying stay listed.
                let finished = log
                    .iter()
                    .position(|d| matches!(d.status, "delivered" | "failed"));
                if let Some(i) = finished {
                    log.remove(i);
                }
            }
            log.push(Delivery {
                id,
                kind: cb.kind,
                url: cb.url.clone(),
                app_id: cb.app_id.clone(),
                user_id: cb.user_id.clone(),
                attempts: 0,
                status: "pending",
                last_error: None,
                answer: None,
            });
        });
        let this = self.clone();
        // Events are published on the runtime's tasks; outside one (a seed applied by the CLI)
        // no event carries a callback, and there is nothing to deliver on.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move { this.deliver(id, cb).await });
        }
    }

    /// `{"data": [...]}`, newest first.
    pub fn list(&self) -> Value {
        let log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        json!({ "data": log.iter().rev().map(Delivery::to_json).collect::<Vec<_>>() })
    }

    fn update(&self, f: impl FnOnce(&mut Vec<Delivery>)) {
        f(&mut self.log.lock().unwrap_or_else(PoisonError::into_inner));
    }

    fn record(&self, id: u64, f: impl FnOnce(&mut Delivery)) {
        self.update(|log| {
            if let Some(d) = log.iter_mut().find(|d| d.id == id) {
                f(d);
            }
        });
    }

    async fn deliver(&self, id: u64, cb: Callback) {
        let mut wait = Duration::from_millis(500);
        for attempt in 1..=ATTEMPTS {
            let result = self.post(&cb.url, &cb.form).await;
            let hopeless = matches!(&result, Err(e) if e.starts_with(UNCALLABLE));
            let done = result.is_ok() || hopeless;
            self.record(id, |d| {
                d.attempts = attempt;
                match result {
                    Ok(answer) => {
                        d.status = "delivered";
                        d.last_error = (d.kind == "data_deletion")
                            .then(|| missing_confirmation(answer.as_ref()))
                            .flatten();
                        d.answer = answer;
                    }
                    Err(e) => {
                        d.last_error = Some(e);
                        d.status = if attempt == ATTEMPTS || hopeless {
                            "failed"
                        } else {
                            "retrying"
                        };
                    }
                }
            });
            if done {
                return;
            }
            if attempt < ATTEMPTS {
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
        }
    }
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
