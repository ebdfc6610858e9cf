//! Applying a seed world: references resolved against the file and the store, generated ids and
//! secrets kept from an earlier apply (so re-applying changes nothing), one transaction.

use std::collections::HashMap;

use crate::content::{Author, Comment, Post};
use crate::error::GraphError;
use crate::events::{Event, Touched};
use crate::model::{
    AccountStatus, App, AppId, AppMode, AppRole, Asid, Grant, Id, Page, PageId, PageTasks,
    Platform, Psid, RateLimits, User, UserId,
};
use crate::services::Services;
use crate::store::{SeedMessage, SeedPost, WorldRecords};
use crate::tasks::PageRole;
use crate::token;
use crate::world::{Ref, SeedError, World, WorldApp, WorldPage, WorldUser};

/// Why a world was not applied. Nothing of it was written.
#[derive(Debug)]
pub enum ApplyError {
    /// A problem in the file, at a line.
    Seed(SeedError),
    /// Something broke inside graphtoken.
    Internal(GraphError),
}

impl std::fmt::Display for ApplyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApplyError::Seed(e) => e.fmt(f),
            ApplyError::Internal(e) => write!(f, "{} ({})", e, e.detail().unwrap_or("no detail")),
        }
    }
}

impl std::error::Error for ApplyError {}

impl From<GraphError> for ApplyError {
    fn from(e: GraphError) -> Self {
        ApplyError::Internal(e)
    }
}

impl From<crate::store::StoreError> for ApplyError {
    fn from(e: crate::store::StoreError) -> Self {
        ApplyError::Internal(e.into())
    }
}

impl From<token::RandomError> for ApplyError {
    fn from(e: token::RandomError) -> Self {
        ApplyError::Internal(e.into())
    }
}

/// What an apply wrote, for the log.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    pub apps: usize,
    pub users: usize,
    pub pages: usize,
    pub grants: usize,
    pub posts: usize,
    pub messages: usize,
}

#[derive(Clone, Copy)]
enum Kind {
    App,
    User,
    Page,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::App => "app",
            Kind::User => "user",
            Kind::Page => "page",
        }
    }
}

struct Resolver<'a> {
    source: &'a str,
    keys: [HashMap<String, Id>; 3],
    ids: [Vec<Id>; 3],
}

impl Resolver<'_> {
    fn err(&self, line: u32, problem: String) -> ApplyError {
        ApplyError::Seed(SeedError {
            source: self.source.to_string(),
            line,
            problem,
        })
    }

    /// A reference: a key of this file, an id of this file, or an id already in the store.
    async fn resolve(&self, g: &Services, kind: Kind, r: &Ref) -> Result<Id, ApplyError> {
        let k = kind as usize;
        if let Some(id) = self.keys[k].get(&r.text) {
            return Ok(*id);
        }
        if let Ok(id) = r.text.parse::<Id>() {
            let known = self.ids[k].contains(&id)
                || match kind {
                    Kind::App => g.store.app(AppId(id)).await?.is_some(),
                    Kind::User => g.store.user(UserId(id)).await?.is_some(),
                    Kind::Page => g.store.page(PageId(id)).await?.is_some(),
                };
            if known {
                return Ok(id);
            }
        }
        Err(self.err(
            r.line,
            format!(
                "unknown {} `{}` (not a key in this file, nor the id of a {} that exists)",
                kind.name(),
                r.text,
                kind.name()
            ),
        ))
    }

    /// Records an item's id and key. Apps and Pages share one id space (`/{id}` must name
    /// one thing), so an app and a Page may not have the same id either.
    fn place(
        &mut self,
        kind: Kind,
        line: u32,
        key: Option<&str>,
        id: Id,
    ) -> Result<(), ApplyError> {
        let k = kind as usize;
        if self.ids[k].contains(&id) {
            return Err(self.err(line, format!("duplicate {} id {id}", kind.name())));
        }
        let other = match kind {
            Kind::App => Some(Kind::Page),
            Kind::Page => Some(Kind::App),
            Kind::User => None,
        };
        if let Some(o) = other.filter(|o| self.ids[*o as usize].contains(&id)) {
            let problem = format!(
                "{} id {id} is already the id of a {} in this file",
                kind.name(),
                o.name()
            );
            return Err(self.err(line, problem));
        }
        self.ids[k].push(id);
        if let Some(key) = key {
            self.keys[k].insert(key.to_string(), id);
        }
        Ok(())
    }
}

/// Settles an item's id against the store: the id written, else the id its key already has.
fn settle_id<T, F>(
    existing_by_key: Option<T>,
    given: Option<Id>,
    id_of: F,
    r: &Resolver<'_>,
    kind: Kind,
    line: u32,
    key: Option<&str>,
) -> Result<Id, ApplyError>
where
    F: Fn(&T) -> Id,
{
    let by_key = existing_by_key.as_ref().map(&id_of);
    match (given, by_key) {
        (Some(id), Some(other)) if id != other => Err(r.err(
            line,
            format!(
                "{} key `{}` already belongs to {} {other}, not {id}",
                kind.name(),
                key.unwrap_or_default(),
                kind.name()
            ),
        )),
        (Some(id), _) => Ok(id),
        (None, Some(id)) => Ok(id),
        (None, None) => Ok(token::random_id()?),
    }
}

/// Applies a world in one transaction. Re-applying the same world changes nothing.
pub async fn apply(g: &Services, world: &World) -> Result<Applied, ApplyError> {
    let now = g.now();
    let mut r = Resolver {
        source: &world.source,
        keys: Default::default(),
        ids: Default::default(),
    };
    let mut out = WorldRecords::default();

    // Ids first, so references can point forwards.
    // An app's or Page's id may not already name something else in the store.
    let taken = |kind: Kind, id: Id| async move {
        let page = matches!(kind, Kind::App) && g.store.page(PageId(id)).await?.is_some();
        let app = matches!(kind, Kind::Page) && g.store.app(AppId(id)).await?.is_some();
        let asid = g.store.resolve_asid(Asid(id)).await?.is_some();
        Ok::<_, ApplyError>(match (page, app, asid) {
            (true, _, _) => Some("a page's id"),
            (_, true, _) => Some("an app's id"),
            (_, _, true) => Some("a person's app-scoped id"),
            _ => None,
        })
    };

    let mut app_ids = Vec::new();
    for a in &world.apps {
        let by_key = match &a.key {
            Some(k) => g.store.app_by_key(k).await?,
            None => None,
        };
        let id = settle_id(
            by_key,
            a.id.map(|i| i.0),
            |x: &App| x.id.0,
            &r,
            Kind::App,
            a.line,
            a.key.as_deref(),
        )?;
        if let Some(what) = taken(Kind::App, id).await? {
            return Err(r.err(a.line, format!("app id {id} is already {what}")));
        }
        r.place(Kind::App, a.line, a.key.as_deref(), id)?;
        app_ids.push(id);
    }
    let mut user_ids = Vec::new();
    for u in &world.users {
        let by_key = match &u.key {
            Some(k) => g.store.user_by_key(k).await?,
            None => None,
        };
        let id = settle_id(
            by_key,
            u.id.map(|i| i.0),
            |x: &User| x.id.0,
            &r,
            Kind::User,
            u.line,
            u.key.as_deref(),
        )?;
        r.place(Kind::User, u.line, u.key.as_deref(), id)?;
        user_ids.push(id);
    }
    let mut page_ids = Vec::new();
    for p in &world.pages {
        let by_key = match &p.key {
            Some(k) => g.store.page_by_key(k).await?,
            None => None,
        };
        let id = settle_id(
            by_key,
            p.id.map(|i| i.0),
            |x: &Page| x.id.0,
            &r,
            Kind::Page,
            p.line,
            p.key.as_deref(),
        )?;
        if let Some(what) = taken(Kind::Page, id).await? {
            return Err(r.err(p.line, format!("page id {id} is already {what}")));
        }
        r.place(Kind::Page, p.line, p.key.as_deref(), id)?;
        page_ids.push(id);
    }

    for (a, id) in world.apps.iter().zip(app_ids) {
        out.apps.push(app_record(g, &r, a, id, now).await?);
    }
    for (u, id) in world.users.iter().zip(user_ids) {
        out.users.push(user_record(g, u, id, now).await?);
    }
    for (p, id) in world.pages.iter().zip(page_ids) {
        let (page, tasks) = page_records(g, &r, p, id, now).await?;
        out.pages.push(page);
        out.page_tasks.push((PageId(id), tasks));
    }
    for gr in &world.grants {
        let user = UserId(r.resolve(g, Kind::User, &gr.user).await?);
        let app = AppId(r.resolve(g, Kind::App, &gr.app).await?);
        if out
            .grants
            .iter()
            .any(|x: &Grant| x.user_id == user && x.app_id == app)
        {
            return Err(r.err(gr.line, "duplicate grant for this user and app".into()));
        }
        let existing = g.store.grant(user, app).await?;
        out.grants.push(Grant {
            user_id: user,
            app_id: app,
            granted: gr.granted.clone(),
            declined: gr.declined.clone(),
            last_login_at: existing.as_ref().map_or(now, |e| e.last_login_at),
            created_at: existing.as_ref().map_or(now, |e| e.created_at),
        });
        out.asids.push((user, app, Asid(token::random_id()?)));
    }

    for p in &world.posts {
        let page = PageId(r.resolve(g, Kind::Page, &p.page).await?);
        let app = match &p.app {
            Some(a) => Some(AppId(r.resolve(g, Kind::App, a).await?)),
            None => None,
        };
        let created = p.created_time.unwrap_or(now);
        let mut comments = Vec::new();
        for (i, c) in p.comments.iter().enumerate() {
            let user = UserId(r.resolve(g, Kind::User, &c.user).await?);
            let comment = Comment {
                id: 0,
                post_id: 0,
                app_id: None,
                author: Author::User(user),
                message: c.message.clone(),
                hidden: c.hidden,
                created_at: created.max(now),
            };
            comments.push((format!("{}#{}", p.key, i + 1), comment));
        }
        out.posts.push(SeedPost {
            key: p.key.clone(),
            post: Post {
                id: 0,
                page_id: page,
                app_id: app,
                message: p.message.clone(),
                link: None,
                published: p.published,
                created_at: created,
                updated_at: created,
            },
            comments,
        });
    }
    for m in &world.messages {
        let page = PageId(r.resolve(g, Kind::Page, &m.page).await?);
        let user = UserId(r.resolve(g, Kind::User, &m.user).await?);
        out.messages.push(SeedMessage {
            key: m.key.clone(),
            page_id: page,
            user_id: user,
            psid: Psid(token::random_id()?),
            text: m.message.clone(),
            created_at: m.created_time.unwrap_or(now),
        });
    }

    let applied = Applied {
        apps: out.apps.len(),
        users: out.users.len(),
        pages: out.pages.len(),
        grants: out.grants.len(),
        posts: out.posts.len(),
        messages: out.messages.len(),
    };
    // A Page's task list replaces the whole set: people left out of it lose their tasks (the
    // store says who held tasks before, read in its transaction).
    let mut tasks = g.store.apply_world(&out).await?;
    for (page, held) in &out.page_tasks {
        tasks.extend(held.iter().map(|t| (*page, t.user_id)));
    }
    g.publish(Event::WorldApplied(Box::new(Touched {
        apps: out.apps.iter().map(|a| a.id).collect(),
        users: out.users.iter().map(|u| u.id).collect(),
        pages: out.pages.iter().map(|p| p.id).collect(),
        grants: out.grants.iter().map(|g| (g.user_id, g.app_id)).collect(),
        tasks,
    })));
    Ok(applied)
}

async fn app_record(
    g: &Services,
    r: &Resolver<'_>,
    a: &WorldApp,
    id: Id,
    now: i64,
) -> Result<App, ApplyError> {
    let id = AppId(id);
    let existing = g.store.app(id).await?;
    let mut roles = Vec::new();
    for (who, role) in &a.roles {
        roles.push((UserId(r.resolve(g, Kind::User, who).await?), *role));
    }
    let keep = |f: fn(&App) -> &String| existing.as_ref().map(|e| f(e).clone());
    Ok(App {
        id,
        key: a.key.clone(),
        name: a.name.clone(),
        secret: match (&a.secret, keep(|e| &e.secret)) {
            (Some(s), _) => s.clone(),
            (None, Some(s)) => s,
            (None, None) => token::random_hex(32)?,
        },
        client_token: match (&a.client_token, keep(|e| &e.client_token)) {
            (Some(s), _) => s.clone(),
            (None, Some(s)) => s,
            (None, None) => token::random_hex(32)?,
        },
        mode: a.mode,
        platform: a.platform,
        require_appsecret_proof: a.require_appsecret_proof,
        redirect_uris: a.redirect_uris.clone(),
        advanced_access: a.advanced_access.clone(),
        deauthorize_callback_url: a.deauthorize_callback_url.clone(),
        data_deletion_url: a.data_deletion_url.clone(),
        review_approved_at: a.review_approved_at,
        roles,
        rate_limits: a.rate_limits,
        test_user_limit: a
            .test_user_limit
            .unwrap_or(crate::model::DEFAULT_TEST_USER_LIMIT),
        created_at: existing.map_or(now, |e| e.created_at),
    })
}

async fn user_record(g: &Services, u: &WorldUser, id: Id, now: i64) -> Result<User, ApplyError> {
    let id = UserId(id);
    let existing = g.store.user(id).await?;
    let old_hash = existing.as_ref().and_then(|e| e.password_hash.clone());
    let password_hash = match (&u.password, old_hash) {
        // The same password as before keeps its hash: re-applying changes nothing.
        (Some(p), Some(h)) if g.verify_hash(p, &h).await => Some(h),
        (Some(p), _) => Some(g.hash_password(p).await?),
        (None, h) => h,
    };
    Ok(User {
        id,
        key: u.key.clone(),
        name: u.name.clone(),
        email: u.email.clone(),
        password_hash,
        status: existing
            .as_ref()
            .map_or(AccountStatus::Active, |e| e.status),
        created_at: existing.map_or(now, |e| e.created_at),
    })
}

async fn page_records(
    g: &Services,
    r: &Resolver<'_>,
    p: &WorldPage,
    id: Id,
    now: i64,
) -> Result<(Page, Vec<PageTasks>), ApplyError> {
    let id = PageId(id);
    let existing = g.store.page(id).await?;
    let mut tasks = Vec::new();
    for (who, set) in &p.tasks {
        let user = UserId(r.resolve(g, Kind::User, who).await?);
        let since = g.store.page_tasks(id, user).await?.map_or(now, |t| t.since);
        tasks.push(PageTasks {
            page_id: id,
            user_id: user,
            tasks: *set,
            since,
        });
    }
    let page = Page {
        id,
        key: p.key.clone(),
        name: p.name.clone(),
        category: p.category.clone(),
        created_at: existing.map_or(now, |e| e.created_at),
    };
    Ok((page, tasks))
}

/// The password of the demo world's person.
pub const DEMO_PASSWORD: &str = "graphtoken-demo";

/// The world created on first start without a seed: one app, one person who administers it and
/// two Pages (Admin of one, Editor of the other).
pub fn demo_world() -> World {
    let me = |line| Ref {
        text: "demo".into(),
        line,
    };
    World {
        source: "<demo world>".into(),
        apps: vec![WorldApp {
            line: 1,
            key: Some("demo".into()),
            id: None,
            name: "Demo App".into(),
            secret: None,
            client_token: None,
            mode: AppMode::Development,
            platform: Platform::Web,
            require_appsecret_proof: false,
            redirect_uris: vec!["http://localhost:3000/auth/facebook/callback".into()],
            advanced_access: Vec::new(),
            deauthorize_callback_url: None,
            data_deletion_url: None,
            review_approved_at: None,
            roles: vec![(me(1), AppRole::Administrator)],
            rate_limits: RateLimits::default(),
            test_user_limit: None,
        }],
        users: vec![WorldUser {
            line: 2,
            key: Some("demo".into()),
            id: None,
            name: "Demo User".into(),
            email: Some("demo@example.com".into()),
            password: Some(DEMO_PASSWORD.into()),
        }],
        pages: vec![
            WorldPage {
                line: 3,
                key: Some("demo-page".into()),
                id: None,
                name: "Demo Page".into(),
                category: "Internet Company".into(),
                tasks: vec![(me(3), PageRole::Admin.tasks())],
            },
            WorldPage {
                line: 4,
                key: Some("demo-bakery".into()),
                id: None,
                name: "Demo Bakery".into(),
                category: "Local business".into(),
                tasks: vec![(me(4), PageRole::Editor.tasks())],
            },
        ],
        grants: Vec::new(),
        posts: Vec::new(),
        messages: Vec::new(),
    }
}
