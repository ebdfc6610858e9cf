//! One-time codes of the login flows (spec §2.1–§2.3, §2.14): dialog and client codes, and
//! device logins. Only hashes of codes are stored.

use std::sync::{Arc, Mutex};

use super::tokens::user_token_record;
use super::{Issued, Services, SHORT_LIVED};
use crate::codes::{AuthCode, CodeKind, DeviceCode, DeviceState};
use crate::error::GraphError;
use crate::events::{Event, LoginStep};
use crate::model::{Session, TokenHash, Unix, UserId};
use crate::store::Redeemed;
use crate::token;

impl Services {
    /// Stores a new dialog or client code.
    pub async fn add_code(&self, code: &AuthCode) -> Result<(), GraphError> {
        self.store.insert_code(code).await?;
        let step = match code.kind {
            CodeKind::Dialog => LoginStep::CodeIssued { user: code.user_id },
            CodeKind::Client => LoginStep::ClientCodeIssued { user: code.user_id },
        };
        self.publish(Event::Login {
            app: code.app_id,
            step,
        });
        Ok(())
    }

    /// Redeems a client code in one step (its session is its own): returns it as it was before
    /// (so `used_at` tells whether it had been redeemed already) and, when it was unused, marks
    /// it used at `now`. Dialog codes go through [`Services::redeem_code_into_session`].
    pub async fn redeem_code(
        &self,
        hash: TokenHash,
        now: Unix,
    ) -> Result<Option<AuthCode>, GraphError> {
        let before = self.store.redeem_code(hash, now).await?;
        if let Some(c) = before.as_ref().filter(|c| c.used_at.is_none()) {
            self.publish(Event::Login {
                app: c.app_id,
                step: LoginStep::CodeRedeemed { user: c.user_id },
            });
        }
        Ok(before)
    }

    /// Redeems a dialog code for a new session and its first user token (short-lived), in one
    /// write: when the code is unused and `accept` takes it, the session is opened, the token
    /// stored and the code marked used with that session. Returns the code as it was before
    /// (`None`: no such code) and the token, when one was issued.
    pub async fn redeem_code_into_session(
        &self,
        hash: TokenHash,
        accept: impl Fn(&AuthCode) -> bool + Send + 'static,
    ) -> Result<(Option<AuthCode>, Option<Issued>), GraphError> {
        let now = self.now();
        let access_token = token::mint(&self.stamps)?;
        let key = token::hash(&access_token);
        let (before, redeemed) = self
            .store
            .redeem_code_into_session(
                hash,
                now,
                Box::new(accept),
                Box::new(move |s: &Session| user_token_record(s, key, false, now)),
            )
            .await?;
        let Some(Redeemed { session, asid }) = redeemed else {
            return Ok((before, None));
        };
        let (user, app) = (session.user_id, session.app_id);
        self.publish(Event::SessionStarted {
            session: session.id,
            user,
            app,
        });
        self.publish(Event::Login {
            app,
            step: LoginStep::CodeRedeemed { user },
        });
        // The token is handed out only once the person has an app-scoped id for the app: most
        // have one already, read in the write.
        if asid.is_none() {
            self.asid(user, app).await?;
        }
        let issued = Issued {
            record: user_token_record(&session, key, false, now),
            access_token,
            expires_in: SHORT_LIVED,
        };
        Ok((before, Some(issued)))
    }

    /// Stores a new device login. False (and nothing stored) when its `user_code` is taken by
    /// a device login that has not expired (draw another).
    pub async fn add_device_code(&self, code: &DeviceCode) -> Result<bool, GraphError> {
        let stored = self.store.insert_device_code(code).await?;
        if stored {
            self.publish(Event::Login {
                app: code.app_id,
                step: LoginStep::DeviceLoginStarted,
            });
        }
        Ok(stored)
    }

    pub async fn device_code(&self, hash: TokenHash) -> Result<Option<DeviceCode>, GraphError> {
        Ok(self.store.device_code(hash).await?)
    }

    /// A device login that a person can still answer: pending and not expired.
    pub async fn pending_device_code(
        &self,
        user_code: &str,
    ) -> Result<Option<DeviceCode>, GraphError> {
        let now = self.now();
        Ok(self
            .store
            .device_code_by_user_code(user_code)
            .await?
            .filter(|c| c.state == DeviceState::Pending && now < c.expires_at))
    }

    /// A device polls: the poll is noted and an approval is handed out at most once, in one
    /// step. Returns the device login as it was before this poll (its state decides the
    /// answer); `None` when there is no such code.
    pub async fn poll_device_code(
        &self,
        hash: TokenHash,
        now: Unix,
    ) -> Result<Option<DeviceCode>, GraphError> {
        let before = Arc::new(Mutex::new(None));
        let seen = Arc::clone(&before);
        let after = self
            .store
            .update_device_code(
                hash,
                Box::new(move |c: &mut DeviceCode| {
                    if let Ok(mut s) = seen.lock() {
                        *s = Some(c.clone());
                    }
                    c.last_poll_at = Some(now);
                    if matches!(c.state, DeviceState::Approved { .. }) {
                        c.state = DeviceState::Redeemed;
                    }
                }),
            )
            .await?;
        if let Some(c) = &after {
            self.publish(Event::Login {
                app: c.app_id,
                step: LoginStep::DeviceLoginPolled,
            });
        }
        let before = before.lock().ok().and_then(|mut s| s.take());
        Ok(before)
    }

    /// The person approves or declines a pending device login (a login already answered stays
    /// as it was).
    pub async fn answer_device_code(
        &self,
        hash: TokenHash,
        user: UserId,
        approved: bool,
    ) -> Result<(), GraphError> {
        let after = self
            .store
            .update_device_code(
                hash,
                Box::new(move |c: &mut DeviceCode| {
                    if c.state == DeviceState::Pending {
                        c.state = if approved {
                            DeviceState::Approved { user_id: user }
                        } else {
                            DeviceState::Denied
                        };
                    }
                }),
            )
            .await?;
        if let Some(c) = after {
            self.publish(Event::Login {
                app: c.app_id,
                step: LoginStep::DeviceLoginAnswered { user, approved },
            });
        }
        Ok(())
    }
}
