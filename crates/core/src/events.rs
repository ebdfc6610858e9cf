//! The events that end or narrow what tokens may do (spec §7), each with the reason
//! (`error_subcode`) the affected tokens then fail with. See docs/invalidation.md.

use crate::error::GraphError;
use crate::model::{AccountStatus, Id, Invalidation, PageTasks};
use crate::permissions::PUBLIC_PROFILE;
use crate::service::Graph;
use crate::store::Store;
use crate::tasks::TaskSet;
use crate::token;

/// 466: the app removed itself (`DELETE /{user-id}/permissions`).
pub const REVOKED_BY_API: u32 = 466;
/// 458: the person removed the app in their settings.
pub const APP_REMOVED: u32 = 458;
/// 460: password changed, or Facebook reset the sessions for security.
pub const PASSWORD_CHANGED: u32 = 460;
/// 467: the person logged out.
pub const LOGGED_OUT: u32 = 467;

impl<S: Store> Graph<S> {
    fn why(&self, subcode: u32) -> Invalidation {
        Invalidation {
            at: self.now(),
            subcode,
        }
    }

    /// The app is uninstalled for the person: the grant goes (the next login asks again) and
    /// every session with the app — so every user and Page token derived from them — fails with
    /// `subcode` (466 through the API, 458 from the person's settings). False if the app was
    /// not installed.
    pub async fn uninstall(&self, user: Id, app: Id, subcode: u32) -> Result<bool, GraphError> {
        let had = self.store().uninstall(user, app, self.why(subcode)).await?;
        self.forget_grant(user, app);
        self.forget_tokens();
        Ok(had)
    }

    /// One permission revoked (`DELETE /{user-id}/permissions/{permission}`): tokens stay valid,
    /// their scopes lose it, and it is reported `declined`.
    pub async fn revoke_permission(
        &self,
        user: Id,
        app: Id,
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
        self.store()
            .update_grant(user, app, move |old| {
                let mut g = old?;
                if !g.has(&p) {
                    return None;
                }
                g.granted.retain(|x| *x != p);
                g.declined.push(p);
                Some(g)
            })
            .await?;
        self.forget_grant(user, app);
        Ok(())
    }

    /// Every session of the person, in every app, fails with 460 (password change or security
    /// reset). Returns how many sessions ended.
    pub async fn reset_sessions(&self, user: Id) -> Result<u64, GraphError> {
        let n = self
            .store()
            .invalidate_sessions(user, None, self.why(PASSWORD_CHANGED))
            .await?;
        self.forget_tokens();
        Ok(n)
    }

    /// A new password (its argon2id hash: hash it off the async runtime), then 460 everywhere.
    pub async fn change_password(&self, user: Id, hash: String) -> Result<u64, GraphError> {
        if !self.store().set_password(user, Some(hash)).await? {
            return Err(GraphError::param(format!("no user {user}")));
        }
        self.forget_user(user);
        self.reset_sessions(user).await
    }

    /// The person logs out of Facebook: short-lived tokens (and the Page tokens derived from
    /// them) fail with 467; long-lived ones keep working, as a mobile app's do.
    pub async fn logout(&self, user: Id) -> Result<u64, GraphError> {
        let n = self
            .store()
            .invalidate_short_lived_tokens(user, self.why(LOGGED_OUT))
            .await?;
        self.forget_tokens();
        Ok(n)
    }

    /// Checkpointed (459) or unconfirmed (464) until set back to active.
    pub async fn set_account_status(
        &self,
        user: Id,
        status: AccountStatus,
    ) -> Result<(), GraphError> {
        if !self.store().set_account_status(user, status).await? {
            return Err(GraphError::param(format!("no user {user}")));
        }
        self.forget_user(user);
        Ok(())
    }

    /// A new app secret. App tokens derive from the secret, so every app token of the old one
    /// (and the old `app_id|secret` literal) stops working. The new secret is returned once.
    pub async fn reset_secret(&self, app: Id) -> Result<String, GraphError> {
        let secret = token::random_hex(32)?;
        if !self.store().set_app_secret(app, &secret).await? {
            return Err(GraphError::param(format!("no app {app}")));
        }
        self.forget_app(app);
        Ok(secret)
    }

    /// A person's tasks on a Page. Losing every task makes their Page tokens for that Page fail
    /// with 492 on their next use; changed tasks take effect on the next call.
    pub async fn set_page_tasks(
        &self,
        page: Id,
        user: Id,
        tasks: TaskSet,
    ) -> Result<Option<PageTasks>, GraphError> {
        let now = self.now();
        let t = self.store().set_page_tasks(page, user, tasks, now).await?;
        self.forget_tasks(page, user);
        Ok(t)
    }
}
