//! The admin API's event routes (spec §7): what ends or narrows tokens, on demand.

use serde_json::{json, Value};

use crate::{Admin, ClientError};

/// Path segments are seed keys or numeric ids; anything else is percent-encoded.
fn seg(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl Admin {
    /// The person removes the app in their settings (190/458).
    pub fn remove_app(&self, user: &str, app: &str) -> Result<Value, ClientError> {
        let path = format!("/_admin/users/{}/apps/{}/remove", seg(user), seg(app));
        self.call("POST", &path, Some(json!({})))
    }

    /// The person asks the app to delete their data (the data-deletion callback).
    pub fn data_deletion(&self, user: &str, app: &str) -> Result<Value, ClientError> {
        let path = format!(
            "/_admin/users/{}/apps/{}/data_deletion",
            seg(user),
            seg(app)
        );
        self.call("POST", &path, Some(json!({})))
    }

    /// The deauthorize and data-deletion callbacks sent so far.
    pub fn callbacks(&self) -> Result<Value, ClientError> {
        self.call("GET", "/_admin/callbacks", None)
    }

    /// A new password (190/460 everywhere).
    pub fn change_password(&self, user: &str, password: &str) -> Result<Value, ClientError> {
        let path = format!("/_admin/users/{}/password", seg(user));
        self.call("POST", &path, Some(json!({ "password": password })))
    }

    /// A security reset of every session (190/460).
    pub fn invalidate_user(&self, user: &str) -> Result<Value, ClientError> {
        let path = format!("/_admin/users/{}/invalidate", seg(user));
        self.call("POST", &path, Some(json!({})))
    }

    /// The person logs out (190/467 for short-lived tokens).
    pub fn logout(&self, user: &str) -> Result<Value, ClientError> {
        let path = format!("/_admin/users/{}/logout", seg(user));
        self.call("POST", &path, Some(json!({})))
    }

    /// `active`, `checkpointed` (190/459) or `unconfirmed` (190/464).
    pub fn set_status(&self, user: &str, status: &str) -> Result<Value, ClientError> {
        let path = format!("/_admin/users/{}/status", seg(user));
        self.call("POST", &path, Some(json!({ "status": status })))
    }

    /// A new app secret, returned once.
    pub fn reset_secret(&self, app: &str) -> Result<Value, ClientError> {
        let path = format!("/_admin/apps/{}/reset_secret", seg(app));
        self.call("POST", &path, Some(json!({})))
    }

    /// An app's call budgets per hour: `budgets` names those that change (`app`, `user`,
    /// `page`), each a number or `null` for graphtoken's default. The budgets in force.
    pub fn set_rate_limits(&self, app: &str, budgets: Value) -> Result<Value, ClientError> {
        let path = format!("/_admin/apps/{}/rate_limits", seg(app));
        self.call("POST", &path, Some(budgets))
    }

    /// A person's tasks on a Page (an empty list removes them: 190/492 for their Page tokens).
    pub fn set_page_tasks(
        &self,
        page: &str,
        user: &str,
        tasks: &[String],
    ) -> Result<Value, ClientError> {
        let path = format!("/_admin/pages/{}/tasks", seg(page));
        self.call("POST", &path, Some(json!({ "user": user, "tasks": tasks })))
    }
}
