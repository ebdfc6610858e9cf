//! Tokens and tasks for the Page tests (content, settings, insights, messaging, the policy
//! matrix).

use serde_json::json;

use super::Server;

/// A user token of `user` for `app` with `pages_show_list` and `scopes`.
pub fn user_token(s: &Server, user: &str, app: &str, scopes: &[&str]) -> String {
    let mut all = vec!["pages_show_list"];
    all.extend_from_slice(scopes);
    s.issue(user, app, &all, false)
}

/// A Page token of `page` for `user` through `app`, with `scopes` granted.
pub fn page_token(s: &Server, user: &str, app: &str, page: &str, scopes: &[&str]) -> String {
    let t = user_token(s, user, app, scopes);
    s.page_token(page, &t)
}

/// Sets `user`'s tasks on `page` through the admin API.
pub fn set_tasks(s: &Server, page: &str, user: &str, tasks: &[&str]) {
    let r = s.admin_post(
        &format!("/_admin/pages/{page}/tasks"),
        json!({"user": user, "tasks": tasks}),
    );
    assert_eq!(r.status, 200, "set tasks: {}", r.text);
}
