//! Nodes (`/me`, `/{id}`) and their edges: User (`accounts`, `permissions`), Page, Application.
//!
//! A field that exists on a node type but has no value here is omitted, as Facebook omits what a
//! token may not see; a field that does not exist is `(#100) Tried accessing nonexisting field`.

use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{json, Map, Value};

use crate::auth::{Caller, Principal};
use crate::content::PageInfo;
use crate::error::GraphError;
use crate::fields::{self, selected, selection, Field};
use crate::model::{
    App, AppId, Asid, Grant, Id, Page, PageId, PageTasks, Psid, Reason, User, UserId,
};
use crate::permissions::PUBLIC_PROFILE;
use crate::policy;
use crate::request::{GraphRequest, Method};
use crate::services::Services;
use crate::timefmt;
use crate::token::PageTokens;
use crate::written::Written;

use super::page_view::{PageView, Shown};
use super::paging::{self, EdgeQuery};
use super::reply::Reply;
use super::require_get;

pub(super) const USER_FIELDS: &[&str] = super::catalogue::USER;
pub(super) const PAGE_FIELDS: &[&str] = super::catalogue::PAGE;
pub(super) const APP_FIELDS: &[&str] = super::catalogue::APPLICATION;

/// The Page fields served from its profile (`PageInfo`).
const PROFILE_FIELDS: &[&str] = &[
    "about",
    "description",
    "website",
    "phone",
    "username",
    "emails",
    "cover",
    "fan_count",
    "followers_count",
    "link",
];

/// A Page's `cover`: the photo's URL as `source`, with the ids and offsets Facebook sends.
fn cover(page: PageId, source: &str) -> Value {
    // The cover photo has no node of its own here; its id is derived from the Page's.
    let id = format!("{}01", page.0);
    json!({
        "cover_id": id,
        "offset_x": 0,
        "offset_y": 0,
        "source": source,
        "id": id,
    })
}

/// The id a person is known by to the caller: their app-scoped id for the caller's app, or
/// (to a Page's token) their page-scoped id for that Page.
#[derive(Clone, Copy, Debug)]
enum SeenAs {
    App(Asid),
    Page(Psid),
}

impl SeenAs {
    fn number(self) -> u64 {
        match self {
            SeenAs::App(a) => a.0,
            SeenAs::Page(p) => p.0,
        }
    }
}

/// What a path's first segment names.
enum Node {
    User { user: Arc<User>, seen: SeenAs },
    Page(Arc<Page>),
    App(Arc<App>),
}

impl Node {
    fn type_name(&self) -> &'static str {
        match self {
            Node::User { .. } => "User",
            Node::Page(_) => "Page",
            Node::App(_) => "Application",
        }
    }
}

pub async fn handle(
    g: &Services,
    req: &GraphRequest,
    caller: &Caller,
    segment: &str,
    rest: &[&str],
) -> Result<Reply, GraphError> {
    // Data calls need data access (90 days since the person last used the app, spec §1);
    // removing the app or a permission does not (it must work to end an expired relation).
    let ending_a_grant = req.method == Method::Delete && rest.first() == Some(&"permissions");
    if let (Some(t), false) = (caller.principal.loaded(), ending_a_grant) {
        if let Some(e) = g.data_access(t) {
            return Err(e);
        }
    }
    // `t_<n>` and `m_<n>`: Page conversations and messages.
    if super::messaging::is_object(segment) {
        return Box::pin(super::messaging::object(g, req, caller, segment, rest))
            .await
            .map(Reply::from);
    }
    // `<page-id>_<post-id>` and `<post-id>_<comment-id>`: the Page content store.
    if segment.contains('_') {
        return Box::pin(super::content::object(g, req, caller, segment, rest))
            .await
            .map(Reply::from);
    }
    let node = resolve(g, req, caller, segment).await?;
    let fields = req.params.get("fields").map(fields::parse).transpose()?;
    let ctx = Ctx {
        g,
        req,
        caller,
        page_tokens: OnceLock::new(),
        warnings: Mutex::new(Vec::new()),
    };
    let result = match (&node, rest) {
        (Node::Page(page), []) if req.method == Method::Post => {
            Box::pin(super::page_settings::update(g, req, caller, page)).await
        }
        // Test users (spec §2.10): the app's edge, and deleting or updating one of them.
        (Node::App(app), ["accounts"] | ["accounts", "test-users"]) => {
            Box::pin(super::test_users::app_edge(g, req, caller, app)).await
        }
        (Node::App(app), ["roles"]) => Box::pin(super::app_roles::roles(g, req, caller, app)).await,
        (Node::User { user, .. }, []) if matches!(req.method, Method::Delete | Method::Post) => {
            Box::pin(super::test_users::node(g, req, caller, segment, user)).await
        }
        (_, []) => {
            require_get(req, segment)?;
            let mut answer = ctx.render(&node, fields.as_deref()).await?;
            ctx.add_debug(&mut answer);
            Ok(answer)
        }
        (Node::User { user, seen }, ["accounts"]) => {
            require_get(req, segment)?;
            let q = EdgeQuery::from_request(req)?;
            return Box::pin(ctx.accounts(user, seen.number(), &q)).await;
        }
        (Node::User { user, seen }, ["ids_for_pages"]) => {
            let asid = Asid(seen.number());
            Box::pin(super::psids::ids_for_pages(g, req, caller, user, asid)).await
        }
        (Node::User { user, seen }, ["ids_for_apps"]) => {
            let psid = Psid(seen.number());
            Box::pin(super::psids::ids_for_apps(g, req, caller, user, psid)).await
        }
        (Node::Page(page), [edge, tail @ ..]) if super::page_edges::is_edge(edge) => {
            let answer = super::page_edges::endpoint(g, req, caller, page, edge, tail);
            Box::pin(answer)
                .await
                .unwrap_or_else(|| Err(GraphError::unknown_path(&format!("/{edge}"))))
        }
        (Node::User { user, .. }, ["permissions"]) if req.method == Method::Delete => {
            match req.params.non_empty("permission") {
                Some(p) => ctx.revoke(user, p).await,
                None => ctx.uninstall(user).await,
            }
        }
        (Node::User { user, .. }, ["permissions", permission]) if req.method == Method::Delete => {
            ctx.revoke(user, permission).await
        }
        (Node::User { user, .. }, ["permissions"]) => {
            require_get(req, segment)?;
            let p = &req.params;
            ctx.permissions(user, p.non_empty("permission"), p.non_empty("status"))
                .await
        }
        (Node::User { user, .. }, ["permissions", permission]) => {
            require_get(req, segment)?;
            ctx.permissions(user, Some(permission), None).await
        }
        (_, [edge]) if is_edge_of_another_type(edge) => {
            Err(GraphError::unknown_field(edge, node.type_name()))
        }
        _ => Err(GraphError::unknown_path(&format!("/{}", rest.join("/")))),
    };
    result.map(Reply::from)
}

/// Graph API Debug Mode: `debug=all`, `info` or `warning` (each shows warnings, the only
/// messages graphtoken has).
fn debug_mode(req: &GraphRequest) -> bool {
    matches!(req.params.get("debug"), Some("all" | "info" | "warning"))
}

fn is_edge_of_another_type(edge: &str) -> bool {
    matches!(
        edge,
        "accounts" | "permissions" | "assigned_users" | "roles" | "ids_for_pages" | "ids_for_apps"
    )
}

/// The node a segment names, as this caller may see it.
async fn resolve(
    g: &Services,
    req: &GraphRequest,
    caller: &Caller,
    segment: &str,
) -> Result<Node, GraphError> {
    let app_id = caller.principal.app().id;
    if segment == "me" {
        return match &caller.principal {
            Principal::User(t) => Ok(Node::User {
                user: Arc::clone(&t.user),
                seen: SeenAs::App(t.asid),
            }),
            Principal::Page(t) => match &t.page {
                Some((page, _)) => Ok(Node::Page(Arc::clone(page))),
                None => Err(GraphError::internal_because("Page token without a Page")),
            },
            Principal::App(_) | Principal::Client(_) => Err(GraphError::active_token_required()),
        };
    }
    let not_found = || GraphError::unknown_object(segment, req.method.as_str());
    let id: Id = segment.parse().map_err(|_| not_found())?;
    // People are known to an app only by their app-scoped id for that app.
    if let Some((user, app)) = g.resolve_asid(Asid(id)).await? {
        if app != app_id {
            return Err(not_found());
        }
        let user = g.user(user).await?.ok_or_else(not_found)?;
        return Ok(Node::User {
            user,
            seen: SeenAs::App(Asid(id)),
        });
    }
    if let Some(page) = g.page(PageId(id)).await? {
        return Ok(Node::Page(page));
    }
    if let Some(app) = g.app(AppId(id)).await? {
        return Ok(Node::App(app));
    }
    // A page-scoped id is known to that Page's token only.
    match g.resolve_psid(Psid(id)).await? {
        Some((user, page)) if caller_is_page(caller, page) => {
            let user = g.user(user).await?.ok_or_else(not_found)?;
            Ok(Node::User {
                user,
                seen: SeenAs::Page(Psid(id)),
            })
        }
        _ => Err(not_found()),
    }
}

fn caller_is_page(caller: &Caller, page: PageId) -> bool {
    matches!(&caller.principal, Principal::Page(t) if t.page.as_ref().is_some_and(|(p, _)| p.id == page))
}

struct Ctx<'a> {
    g: &'a Services,
    req: &'a GraphRequest,
    caller: &'a Caller,
    /// The caller's token keyed for its Page tokens, once the first is asked for.
    page_tokens: OnceLock<PageTokens>,
    /// Graph API Debug Mode's warnings (`debug=all|info|warning`): fields left out for a
    /// permission the person did not grant.
    warnings: Mutex<Vec<String>>,
}

impl Ctx<'_> {
    /// Notes a field left out because `permission` was not granted, for Debug Mode.
    fn warn_missing_permission(&self, field: &str, permission: &str) {
        if debug_mode(self.req) {
            if let Ok(mut w) = self.warnings.lock() {
                w.push(format!(
                    "Field {field} is only accessible on User object, if {permission} \
                     permission is granted by the user"
                ));
            }
        }
    }

    /// Debug Mode: `"__debug__": {"messages": [{"message", "type": "warning"}]}` after the
    /// answer's own keys, when there is something to say.
    fn add_debug(&self, answer: &mut Value) {
        let Ok(mut warnings) = self.warnings.lock() else {
            return;
        };
        let (Value::Object(out), false) = (answer, warnings.is_empty()) else {
            return;
        };
        let messages: Vec<Value> = warnings
            .drain(..)
            .map(|m| json!({"message": m, "type": "warning"}))
            .collect();
        out.insert("__debug__".into(), json!({ "messages": messages }));
    }

    async fn render(&self, node: &Node, fields: Option<&[Field]>) -> Result<Value, GraphError> {
        match node {
            Node::User { user, seen } => self.user(user, seen.number(), fields).await,
            Node::Page(page) => {
                let tasks = self.caller_tasks(page.id).await?;
                self.page(page, tasks.as_ref(), fields).await
            }
            Node::App(app) => self.app(app, fields),
        }
    }

    /// The caller's own person, when the caller is a user token.
    fn caller_user(&self) -> Option<UserId> {
        match &self.caller.principal {
            Principal::User(t) => Some(t.user.id),
            _ => None,
        }
    }

    /// The caller person's tasks on a Page (user tokens only).
    async fn caller_tasks(&self, page: PageId) -> Result<Option<PageTasks>, GraphError> {
        match self.caller_user() {
            Some(user) => Ok(self.g.page_tasks(page, user).await?),
            None => Ok(None),
        }
    }

    /// The grant the person whose data is read gave the caller's app, while it still opens
    /// their data: once data access has lapsed (90 days), the app's token reads no more than
    /// `/permissions` says (`expired`).
    async fn granted(&self, user: UserId, permission: &str) -> Result<bool, GraphError> {
        let now = self.g.now();
        let holds = |g: &Grant| g.has(permission) && g.opens_data(now);
        if let Some(t) = self.caller.principal.loaded() {
            if t.user.id == user {
                return Ok(t.grant.as_deref().is_some_and(holds));
            }
        }
        let app = self.caller.principal.app().id;
        Ok(self.g.grant(user, app).await?.as_deref().is_some_and(holds))
    }

    async fn user(
        &self,
        user: &User,
        asid: u64,
        fields: Option<&[Field]>,
    ) -> Result<Value, GraphError> {
        let mut out = Map::new();
        for f in selection(fields, &["name"]) {
            // A field that needs a permission the person has not granted is left out.
            if let Some(needs) = policy::user_field_permission(&f.name) {
                if !self.granted(user.id, needs).await? {
                    self.warn_missing_permission(&f.name, needs);
                    continue;
                }
            }
            let v = match f.name.as_str() {
                "id" => Some(json!(asid.to_string())),
                "name" => Some(json!(user.name)),
                "first_name" => Some(json!(user.first_name())),
                "last_name" => Some(json!(user.last_name())),
                "short_name" => Some(json!(user.first_name())),
                "name_format" => Some(json!("{first} {last}")),
                "email" => user.email.as_ref().map(|e| json!(e)),
                "picture" => Some(picture(self.req, asid, &f)),
                "installed" => Some(json!(self.granted(user.id, PUBLIC_PROFILE).await?)),
                "accounts" => {
                    let q = EdgeQuery::from_field(&f)?;
                    let edge = self.accounts(user, asid, &q);
                    Some(Box::pin(edge).await?.into_value()?)
                }
                "permissions" => Some(self.permissions(user, None, None).await?),
                other if USER_FIELDS.contains(&other) => None,
                other => return Err(GraphError::unknown_field(other, "User")),
            };
            if let Some(v) = v {
                out.insert(f.name.clone(), v);
            }
        }
        Ok(Value::Object(out))
    }

    async fn page(
        &self,
        page: &Arc<Page>,
        tasks: Option<&PageTasks>,
        fields: Option<&[Field]>,
    ) -> Result<Value, GraphError> {
        let view = self.page_with(page, tasks, fields, &["name"]).await?;
        super::json::to_value(&view)
    }

    async fn page_with(
        &self,
        page: &Arc<Page>,
        tasks: Option<&PageTasks>,
        fields: Option<&[Field]>,
        defaults: &'static [&'static str],
    ) -> Result<PageView, GraphError> {
        let mut view = PageView::new(Arc::clone(page));
        // What seeds and `POST /{page-id}` said of the Page, read once when a field needs it.
        let mut profile: Option<PageInfo> = None;
        for f in selected(fields, defaults) {
            let shown = match f.name() {
                "id" => Some(Shown::Id),
                "name" => Some(Shown::Name),
                "category" => Some(Shown::Category),
                "category_list" => Some(Shown::CategoryList(category_id(&page.category))),
                "tasks" => tasks.map(|t| Shown::Tasks(t.tasks)),
                "access_token" => self
                    .page_access_token(page.id, tasks)
                    .await?
                    .map(Shown::AccessToken),
                _ => {
                    if profile.is_none() && PROFILE_FIELDS.contains(&f.name()) {
                        profile = Some(self.g.page_info(page.id).await?);
                    }
                    self.page_field(page, tasks, &f.field(), profile.as_ref())
                        .await?
                        .map(Shown::Json)
                }
            };
            if let Some(shown) = shown {
                view.push(f.key(), shown);
            }
        }
        Ok(view)
    }

    /// A Page field other than those [`PageView`] shows from the Page itself.
    async fn page_field(
        &self,
        page: &Page,
        tasks: Option<&PageTasks>,
        f: &Field,
        info: Option<&PageInfo>,
    ) -> Result<Option<Value>, GraphError> {
        Ok(match f.name.as_str() {
            "perms" => tasks.map(|t| json!(crate::tasks::legacy_perms(t.tasks))),
            "link" => Some(json!(format!(
                "https://www.facebook.com/{}",
                info.and_then(|i| i.username.clone())
                    .unwrap_or_else(|| page.id.to_string())
            ))),
            "fan_count" | "followers_count" => {
                Some(json!(info.and_then(|i| i.fan_count).unwrap_or(0)))
            }
            "about" => info.and_then(|i| i.about.clone()).map(Value::from),
            "description" => info.and_then(|i| i.description.clone()).map(Value::from),
            "website" => info.and_then(|i| i.website.clone()).map(Value::from),
            "phone" => info.and_then(|i| i.phone.clone()).map(Value::from),
            "username" => info.and_then(|i| i.username.clone()).map(Value::from),
            "emails" => info
                .and_then(|i| i.emails.clone())
                .filter(|e| !e.is_empty())
                .map(|e| json!(e)),
            "cover" => info
                .and_then(|i| i.cover.clone())
                .map(|source| cover(page.id, &source)),
            "is_published" => Some(json!(true)),
            "is_verified" => Some(json!(false)),
            "verification_status" => Some(json!("not_verified")),
            "picture" => Some(picture(self.req, page.id.0, f)),
            // Edges as fields: rendered as their endpoints answer, under the same checks;
            // a refusal fails the whole request, as on Facebook.
            edge if super::page_edges::is_field(edge) => {
                let q = EdgeQuery::from_field(f)?;
                let (g, req, caller) = (self.g, self.req, self.caller);
                let read = super::page_edges::field(g, req, caller, page, edge, &q);
                Box::pin(read).await.transpose()?
            }
            other if PAGE_FIELDS.contains(&other) => None,
            other => return Err(GraphError::unknown_field(other, "Page")),
        })
    }

    /// A Page token for the caller: only a user token whose person has a task on the Page and
    /// whose grant includes `pages_show_list` gets one (spec §2.8; omitted otherwise).
    async fn page_access_token(
        &self,
        page: PageId,
        tasks: Option<&PageTasks>,
    ) -> Result<Option<String>, GraphError> {
        let (Some(t), Some(tasks)) = (policy::page_token_parent(self.caller, tasks), tasks) else {
            return Ok(None);
        };
        // Known stored, and its text remembered in the caller's cached entry: not derived again.
        if let Some(known) = t.pages_stored.token(page, tasks.since) {
            return Ok(Some(known));
        }
        let keyed = self
            .page_tokens
            .get_or_init(|| PageTokens::new(&self.caller.token));
        Ok(Some(self.g.page_token(keyed, t, page, tasks.since).await?))
    }

    fn app(&self, app: &App, fields: Option<&[Field]>) -> Result<Value, GraphError> {
        let own = policy::sees_app_settings(self.caller, app.id);
        let mut out = Map::new();
        for f in selection(fields, &["link", "name"]) {
            let v = match f.name.as_str() {
                "id" => Some(json!(app.id.to_string())),
                "name" => Some(json!(app.name)),
                "link" => Some(json!(format!(
                    "https://www.facebook.com/games/?app_id={}",
                    app.id
                ))),
                "created_time" => Some(json!(timefmt::graph_time(app.created_at))),
                "deauth_callback_url" if own => {
                    app.deauthorize_callback_url.as_ref().map(|u| json!(u))
                }
                "supported_platforms" => Some(json!([match app.platform {
                    crate::model::Platform::Web => "WEB",
                    crate::model::Platform::Native => "NATIVE_OR_DESKTOP",
                }])),
                other if APP_FIELDS.contains(&other) => None,
                other => return Err(GraphError::unknown_field(other, "Application")),
            };
            if let Some(v) = v {
                out.insert(f.name.clone(), v);
            }
        }
        Ok(Value::Object(out))
    }

    /// `/{user}/accounts`: the Pages the person has tasks on, with Page tokens, for the person's
    /// own user token with `pages_show_list` (without it the list is empty, as on Facebook).
    /// An answer of the default fields, or some of them, on one page is kept written out in the
    /// token's cached entry and given again while nothing it was made from changed
    /// ([`KeptAnswer`]).
    ///
    /// [`KeptAnswer`]: crate::services::KeptAnswer
    async fn accounts(&self, user: &User, asid: u64, q: &EdgeQuery) -> Result<Reply, GraphError> {
        let (fields, fields_param, w) = (q.fields.as_deref(), q.fields_param.as_deref(), &q.window);
        if !policy::pages_access(self.caller, user.id)? {
            return Ok(json!({ "data": [] }).into());
        }
        let token = self.caller.principal.loaded();
        let plain = |fs: &[Field]| {
            fs.iter()
                .all(|f| f.is_plain() && ACCOUNTS.contains(&&*f.name))
        };
        let keepable = token.filter(|_| w.is_default() && fields.is_none_or(plain));
        if let Some(kept) = keepable.and_then(|t| self.g.kept_accounts(t, fields_param)) {
            return Ok(Reply::Kept(kept));
        }
        let tickets = keepable.map(|_| self.g.pages_tickets());
        // Only the Pages the person let the caller's app use at login.
        let grant = token.and_then(|t| t.grant.as_deref());
        let pages = policy::chosen_pages(grant, self.g.pages_of_user(user.id).await?);
        let ids: Vec<Id> = pages.iter().map(|(p, _)| p.id.0).collect();
        let (range, more_before, more_after) = w.apply(&ids);
        let shown = &pages[range];
        let mut items = Vec::with_capacity(shown.len());
        for (page, tasks) in shown {
            items.push(self.page_with(page, Some(tasks), fields, ACCOUNTS).await?);
        }
        let ends = shown
            .first()
            .zip(shown.last())
            .map(|(a, b)| (a.0.id.0, b.0.id.0));
        let answer = paging::paged(
            self.req,
            paging::Slice {
                edge_path: paging::EdgePath {
                    node: &asid,
                    edge: "accounts",
                },
                fields: fields_param,
                items,
                first_last: ends,
                more_before,
                more_after,
                limit: w.limit,
            },
        );
        // Whole on one page, the answer carries nothing of the request: kept for the token.
        match (keepable, tickets) {
            (Some(t), Some(tickets)) if !more_before && !more_after => {
                let body = Written::of(&answer).map_err(GraphError::internal_because)?;
                let seen = (&tickets, shown.iter().map(|(p, _)| p.id));
                let tokens = fields.is_none_or(|fs| fs.iter().any(|f| f.name == "access_token"));
                let asked = (fields_param, tokens);
                Ok(Reply::Kept(self.g.keep_accounts(t, asked, seen, body)))
            }
            _ => Ok(Reply::Accounts(answer)),
        }
    }

    /// `DELETE /{user}/permissions`: the app removes itself; every token of the person for the
    /// app, and the Page tokens derived from them, fail with 190/466 from now on.
    async fn uninstall(&self, user: &User) -> Result<Value, GraphError> {
        policy::grant_access(self.caller, user.id)?;
        let app = self.caller.principal.app();
        self.g.uninstall(user.id, app, Reason::RevokedByApi).await?;
        Ok(json!({ "success": true }))
    }

    /// `DELETE /{user}/permissions/{permission}`: one permission revoked; tokens stay valid.
    async fn revoke(&self, user: &User, permission: &str) -> Result<Value, GraphError> {
        policy::grant_access(self.caller, user.id)?;
        let app = self.caller.principal.app().id;
        if !crate::permissions::is_known(permission) {
            return Err(GraphError::param(format!(
                "Invalid permission: {permission}"
            )));
        }
        self.g.revoke_permission(user.id, app, permission).await?;
        Ok(json!({ "success": true }))
    }

    /// `/{user}/permissions`: what the person granted and declined to the caller's app.
    async fn permissions(
        &self,
        user: &User,
        permission: Option<&str>,
        status: Option<&str>,
    ) -> Result<Value, GraphError> {
        policy::grant_access(self.caller, user.id)?;
        let app = self.caller.principal.app().id;
        let grant = self.g.grant(user.id, app).await?;
        let mut data = Vec::new();
        if let Some(grant) = grant {
            // Once data access has lapsed (90 days without the app), what was granted is
            // `expired` until the person logs in again (spec §2.6's third status).
            let held = if grant.opens_data(self.g.now()) {
                "granted"
            } else {
                "expired"
            };
            let granted = grant
                .granted
                .iter()
                .filter(|p| *p != PUBLIC_PROFILE)
                .chain(grant.granted.iter().filter(|p| *p == PUBLIC_PROFILE))
                .map(|p| (p, held));
            let declined = grant.declined.iter().map(|p| (p, "declined"));
            for (p, s) in granted.chain(declined) {
                if permission.is_none_or(|want| want == p) && status.is_none_or(|want| want == s) {
                    data.push(json!({"permission": p, "status": s}));
                }
            }
        }
        Ok(Value::Object(Map::from_iter([(
            "data".into(),
            Value::Array(data),
        )])))
    }
}

/// The fields of a Page in `/me/accounts` when none are asked for, in their order: all shown
/// from the Page, the person's tasks there and the Page token, so an answer of them is kept.
const ACCOUNTS: &[&str] = &[
    "access_token",
    "category",
    "category_list",
    "name",
    "id",
    "tasks",
];

/// `picture`: `{"data":{height,is_silhouette,url,width}}`, served by graphtoken itself.
fn picture(req: &GraphRequest, id: Id, f: &Field) -> Value {
    let side = match f.modifier("type") {
        Some("small") => 50,
        Some("normal") => 100,
        Some("large") => 200,
        Some("album") => 50,
        _ => 50,
    };
    let width: u32 = f
        .modifier("width")
        .and_then(|w| w.parse().ok())
        .unwrap_or(side);
    let height: u32 = f
        .modifier("height")
        .and_then(|h| h.parse().ok())
        .unwrap_or(width);
    json!({"data": {
        "height": height,
        "is_silhouette": true,
        "url": format!("{}/_static/silhouette.svg?id={id}&width={width}&height={height}", req.base_url),
        "width": width,
    }})
}

/// A stable id for a Page category (`category_list`): Facebook's where graphtoken knows it.
fn category_id(category: &str) -> u64 {
    match category {
        "Internet Company" => 2256,
        "Product/service" | "Product/Service" => 2201,
        "Community" => 2612,
        "Local business" | "Local Business" => 2500,
        "Brand" => 1605186416478696,
        _ => {
            // FNV-1a: stable across runs and machines.
            let h = category.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
            });
            100_000 + h % 900_000
        }
    }
}
