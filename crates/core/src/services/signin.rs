//! Signing in with a password (spec §2.1): the throttle on guessing, argon2id verification off
//! the async workers (an unknown email costs a decoy verification too, so both answers take as
//! long), and the account checks a login page makes before a session would fail anyway.

use super::Services;
use crate::error::GraphError;
use crate::exec;
use crate::model::{AccountStatus, User};
use crate::password;
use crate::signin::{self, Key};
use crate::token;

/// What a sign-in came to.
#[derive(Clone, Debug)]
pub enum SignIn {
    /// The password was right: this person is signed in.
    Person(User),
    /// Not signed in; `message` says why, for the sign-in page. `throttled`: too many failed
    /// attempts, the person must wait (HTTP 429).
    Refused { message: String, throttled: bool },
}

impl SignIn {
    fn refused(message: impl Into<String>) -> Self {
        SignIn::Refused {
            message: message.into(),
            throttled: false,
        }
    }
}

impl Services {
    /// Signs a person in with the email and password they typed, from `address`. Failures are
    /// counted per account and per address from the moment an attempt starts; past a
    /// threshold each further attempt must wait, longer each time.
    pub async fn sign_in(
        &self,
        email: &str,
        typed: &str,
        address: &str,
    ) -> Result<SignIn, GraphError> {
        let keys = Key::attempt(email, address);
        let stored: Vec<String> = keys.iter().map(Key::stored).collect();
        let now = self.now();
        let counted = keys.clone();
        let started = self
            .store
            .update_throttle(
                &stored,
                now,
                now - signin::WINDOW,
                Box::new(move |entries| signin::begin(&counted, entries, now)),
            )
            .await?;
        if let Err(wait) = started {
            return Ok(SignIn::Refused {
                message: signin::wait_message(wait),
                throttled: true,
            });
        }
        let user = match email {
            "" => None,
            _ => self.store.user_by_email(email).await?,
        };
        let matches = self.check_password(user.as_ref(), typed).await;
        let user = match user {
            Some(user) if matches => user,
            Some(_) => {
                return Ok(SignIn::refused(
                    "The password that you've entered is incorrect.",
                ))
            }
            None => {
                return Ok(SignIn::refused(
                    "The email address you entered isn't connected to an account.",
                ))
            }
        };
        // The person's sessions would fail at once (190/459, 190/464): say so here instead.
        match user.status {
            AccountStatus::Active => {}
            AccountStatus::Checkpointed => {
                return Ok(SignIn::refused(
                    "Your account is temporarily locked. Clear the checkpoint to log in.",
                ))
            }
            AccountStatus::Unconfirmed => {
                return Ok(SignIn::refused(
                    "You must confirm your account before you can log in.",
                ))
            }
        }
        // Bookkeeping of the throttle: no event.
        let _ = self
            .store
            .update_throttle(
                &stored,
                now,
                now - signin::WINDOW,
                Box::new(move |entries| {
                    signin::succeed(&keys, entries);
                    Ok(())
                }),
            )
            .await?;
        Ok(SignIn::Person(user))
    }

    /// Whether `typed` is the person's password. `None` as the person (no such account, or no
    /// password) still costs one verification, against a decoy hash.
    async fn check_password(&self, user: Option<&User>, typed: &str) -> bool {
        let hash = match user.and_then(|u| u.password_hash.clone()) {
            Some(h) => h,
            None => {
                let _ = self.verify_hash(typed, &self.decoy().await).await;
                return false;
            }
        };
        self.verify_hash(typed, &hash).await
    }

    /// An argon2id hash of `password`, made off the async workers.
    pub async fn hash_password(&self, password: &str) -> Result<String, GraphError> {
        let p = password.to_string();
        exec::run(&*self.blocking, move || password::hash(&p))
            .await?
            .map_err(GraphError::from)
    }

    /// Whether `typed` matches the argon2id `hash`, checked off the async workers.
    pub(super) async fn verify_hash(&self, typed: &str, hash: &str) -> bool {
        let (typed, hash) = (typed.to_string(), hash.to_string());
        exec::run(&*self.blocking, move || password::verify(&typed, &hash))
            .await
            .unwrap_or(false)
    }

    /// The decoy hash, made on first use (hashing takes tens of milliseconds: not at start).
    async fn decoy(&self) -> String {
        if let Some(d) = self.decoy.get() {
            return d.clone();
        }
        let made = exec::run(&*self.blocking, || {
            token::random_alnum(24)
                .and_then(|p| password::hash(&p))
                .unwrap_or_default()
        })
        .await
        .unwrap_or_default();
        self.decoy.get_or_init(|| made).clone()
    }
}
