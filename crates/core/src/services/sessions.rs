//! The events that end or narrow what tokens may do (spec §7), each with the reason
//! (`error_subcode`) the affected tokens then fail with. See docs/invalidation.md.

use serde_json::json;

use super::Services;
use crate::error::GraphError;
use crate::events::{Callback, Event};
use crate::model::{
    AccountStatus, App, AppId, BudgetChange, Grant, Invalidation, RateLimits, Reason, SessionId,
    UserId,
};
use crate::permissions::PUBLIC_PROFILE;
use crate::signed_request;
use crate::token;

/// What an uninstall came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Uninstalled {
    /// Whether the app was installed (had a grant).
    pub was_installed: bool,
    /// The deauthorize callback queued for the app, by number.
    pub callback: Option<u64>,
}

impl Services {
    fn why(&self, reason: Reason) -> Invalidation {
        Invalidation {
            at: self.now(),
            reason,
        }
    }

    /// The app is uninstalled for the person: the grant goes (the next login asks again) and
    /// every session with the app — so every user and Page token derived from them — fails for
    /// `reason` (466 through the API, 458 from the person's settings). When the person removed
    /// it (458) and the app has a deauthorize callback URL, the app is told with a
    /// `signed_request` (spec §7).
    pub async fn uninstall(
        &self,
        user: UserId,
        app: &App,
        reason: Reason,
    ) -> Result<Uninstalled, GraphError> {
        // Everything that can fail is done before the write, so that a write is always
        // followed by its event (the person's app-scoped id is drawn on first need). The
        // deauthorize callback goes into the outbox in the same write, if there was a grant.
        let by_person = reason == Reason::AppNotAuthorized;
        let notify = match (&app.deauthorize_callback_url, by_person) {
            (Some(url), true) => {
                let asid = self.asid(user, app.id).await?.to_string();
                let payload = json!({
                    "user_id": asid,
                    "algorithm": "HMAC-SHA256",
                    "issued_at": self.now(),
                });
                Some(callback("deauthorize", url, app, asid, &payload))
            }
            _ => None,
        };
        let (had, sessions, callback) = self
            .store
            .uninstall(user, app.id, self.why(reason), notify.as_ref())
            .await?;
        self.publish(Event::AppUninstalled {
            user,
            app: app.id,
            sessions,
            reason,
            notify: callback,
        });
        Ok(Uninstalled {
            was_installed: had,
            callback,
        })
    }

    /// The person asks the app to delete their data: the app's `data_deletion_url` gets a
    /// `signed_request` with `expires` (spec §7), through the outbox. Returns the callback's
    /// number.
    pub async fn request_data_deletion(
        &self,
        user: UserId,
        app: &App,
        url: &str,
    ) -> Result<u64, GraphError> {
        let asid = self.asid(user, app.id).await?.to_string();
        let now = self.now();
        let payload = json!({
            "user_id": asid,
            "algorithm": "HMAC-SHA256",
            "issued_at": now,
            "expires": now + 3600,
        });
        let notify = callback("data_deletion", url, app, asid, &payload);
        let id = self.store.enqueue_callback(&notify, now).await?;
        self.publish(Event::DataDeletionRequested {
            user,
            app: app.id,
            notify: id,
        });
        Ok(id)
    }

    /// One permission revoked (`DELETE /{user-id}/permissions/{permission}`): tokens stay valid,
    /// their scopes lose it, and it is reported `declined`.
    pub async fn revoke_permission(
        &self,
        user: UserId,
        app: AppId,
        permission: &str,
    ) -> Result<(), GraphError> {
        if permission == PUBLIC_PROFILE {
            return Err(GraphError::param(
                "public_profile cannot be revoked alone: delete /{user-id}/permissions to remove the app",
            ));
        }
        let p = permission.to_string();
        // Only a granted permission becomes declined; revoking what was never granted (or an
        // app that is not installed) changes nothing and succeeds.
        self.store
            .update_grant(
                user,
                app,
                Box::new(move |old: Option<Grant>| {
                    let mut g = old?;
                    if !g.has(&p) {
                        return None;
                    }
                    g.granted.retain(|x| *x != p);
                    g.declined.push(p.clone());
                    Some(g)
                }),
            )
            .await?;
        self.publish(Event::GrantChanged { user, app });
        Ok(())
    }

    /// Every session of the person, in every app, fails with 460 (a security reset). Returns
    /// how many sessions ended.
    pub async fn reset_sessions(&self, user: UserId) -> Result<u64, GraphError> {
        let sessions = self
            .store
            .invalidate_sessions(user, None, self.why(Reason::PasswordChanged))
            .await?;
        // The write's event before the next write, which may fail: what ended stays ended.
        let n = sessions.len() as u64;
        self.publish(Event::SessionsEnded {
            user,
            sessions,
            reason: Reason::PasswordChanged,
        });
        self.end_browser_sign_ins(user).await?;
        Ok(n)
    }

    /// One session ends (a code used twice: 466), and every token derived from it. True when
    /// it was working.
    pub async fn end_session(
        &self,
        session: SessionId,
        reason: Reason,
    ) -> Result<bool, GraphError> {
        let why = self.why(reason);
        let Some(user) = self.store.invalidate_session(session, why).await? else {
            return Ok(false);
        };
        self.publish(Event::SessionsEnded {
            user,
            sessions: vec![session],
            reason,
        });
        Ok(true)
    }

    /// A new password (its argon2id hash: hash it off the async runtime), then 460 everywhere.
    /// Returns how many sessions ended.
    pub async fn change_password(&self, user: UserId, hash: String) -> Result<u64, GraphError> {
        let why = self.why(Reason::PasswordChanged);
        let Some(sessions) = self.store.set_password(user, hash, why).await? else {
            return Err(GraphError::param(format!("no user {user}")));
        };
        let n = sessions.len() as u64;
        self.publish(Event::PasswordChanged { user, sessions });
        self.end_browser_sign_ins(user).await?;
        Ok(n)
    }

    /// The person logs out of Facebook: short-lived tokens (and the Page tokens derived from
    /// them) fail with 467; long-lived ones keep working, as a mobile app's do.
    pub async fn logout(&self, user: UserId) -> Result<u64, GraphError> {
        let tokens = self
            .store
            .invalidate_short_lived_tokens(user, self.why(Reason::LoggedOut))
            .await?;
        let n = tokens.len() as u64;
        self.publish(Event::TokensEnded {
            user,
            tokens,
            reason: Reason::LoggedOut,
        });
        self.end_browser_sign_ins(user).await?;
        Ok(n)
    }

    /// Checkpointed (459) or unconfirmed (464) until set back to active.
    pub async fn set_account_status(
        &self,
        user: UserId,
        status: AccountStatus,
    ) -> Result<(), GraphError> {
        if !self.store.set_account_status(user, status).await? {
            return Err(GraphError::param(format!("no user {user}")));
        }
        self.publish(Event::PersonChanged { user });
        if status != AccountStatus::Active {
            self.end_browser_sign_ins(user).await?;
        }
        Ok(())
    }

    /// Every browser sign-in of the person ends (with a reset, a new password, a logout or a
    /// blocked account): their next dialog asks for the password.
    async fn end_browser_sign_ins(&self, user: UserId) -> Result<(), GraphError> {
        if self
            .store
            .end_browser_sessions(None, Some(user), self.now())
            .await?
            > 0
        {
            self.publish(Event::BrowserSignIn { user, on: false });
        }
        Ok(())
    }

    /// The apps the person has installed, with what they granted ("Apps and websites").
    pub async fn grants_of_user(&self, user: UserId) -> Result<Vec<Grant>, GraphError> {
        Ok(self.store.grants_of_user(user).await?)
    }

    /// "Sign out everywhere": every browser sign-in of the person ends; how many did.
    pub async fn end_every_browser_sign_in(&self, user: UserId) -> Result<u64, GraphError> {
        let ended = self
            .store
            .end_browser_sessions(None, Some(user), self.now())
            .await?;
        if ended > 0 {
            self.publish(Event::BrowserSignIn { user, on: false });
        }
        Ok(ended)
    }

    /// A browser signed in as `user`: `browser` is its session id (only its hash is kept).
    pub async fn start_browser_sign_in(
        &self,
        browser: &str,
        user: UserId,
    ) -> Result<(), GraphError> {
        let now = self.now();
        // Sign-ins last 30 days (the cookie's own limit); older ones are forgotten.
        let forget_before = now - 30 * 24 * 3600;
        self.store
            .start_browser_session(token::hash(browser), user, now, forget_before)
            .await?;
        self.publish(Event::BrowserSignIn { user, on: true });
        Ok(())
    }

    /// Whether the browser sign-in `browser` of `user` is still on.
    pub async fn browser_sign_in_live(
        &self,
        browser: &str,
        user: UserId,
    ) -> Result<bool, GraphError> {
        Ok(self
            .store
            .browser_session_live(token::hash(browser), user)
            .await?)
    }

    /// The browser signs out ("Not you?").
    pub async fn end_browser_sign_in(&self, browser: &str, user: UserId) -> Result<(), GraphError> {
        let ended = self
            .store
            .end_browser_sessions(Some(token::hash(browser)), None, self.now())
            .await?;
        if ended > 0 {
            self.publish(Event::BrowserSignIn { user, on: false });
        }
        Ok(())
    }

    /// Changes an app's call budgets per hour; the budgets now. Each is a positive number of
    /// calls or graphtoken's default. Calls already counted stay counted: a lower budget may
    /// refuse the next call at once.
    pub async fn change_rate_limits(
        &self,
        app: AppId,
        change: BudgetChange,
    ) -> Result<RateLimits, GraphError> {
        let given = [change.app, change.user, change.page];
        if given.iter().all(Option::is_none) {
            return Err(GraphError::param(
                "name at least one of the budgets app, user and page",
            ));
        }
        if given.contains(&Some(Some(0))) {
            return Err(GraphError::param(
                "a budget is a positive number of calls per hour",
            ));
        }
        let Some(now) = self.store.change_app_rate_limits(app, change).await? else {
            return Err(GraphError::param(format!("no app {app}")));
        };
        self.publish(Event::AppBudgetsChanged { app });
        Ok(now)
    }

    /// A new app secret. App tokens derive from the secret, so every app token of the old one
    /// (and the old `app_id|secret` literal) stops working. The new secret is returned once.
    pub async fn reset_secret(&self, app: AppId) -> Result<String, GraphError> {
        let secret = token::random_hex(32)?;
        if !self.store.set_app_secret(app, &secret).await? {
            return Err(GraphError::param(format!("no app {app}")));
        }
        self.publish(Event::AppSecretReset { app });
        Ok(secret)
    }
}

/// A callback to `app` at `url` with `payload` signed with its secret.
fn callback(
    kind: &'static str,
    url: &str,
    app: &App,
    asid: String,
    payload: &serde_json::Value,
) -> Callback {
    Callback {
        kind,
        url: url.to_string(),
        app_id: app.id.to_string(),
        user_id: asid,
        form: vec![(
            "signed_request".to_string(),
            signed_request::encode(&app.secret, payload),
        )],
    }
}
