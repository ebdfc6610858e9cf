//! Applying a seed world: references resolved against the file and the store, generated ids and
//! secrets kept from an earlier apply (so re-applying changes nothing), one transaction.

use std::collections::HashMap;

use crate::content::{Author, Comment, PageInfo, Post};
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
use crate::world::{Item, Ref, Referent, SeedError, World, WorldApp, WorldPage, WorldUser};

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

/// Apps, people and Pages as the resolver sees them: where their ids are kept, and how the
/// store finds one by id or by key.
trait Seeded: Referent + Sized {
    /// The slot of the kind in the resolver's tables.
    const SLOT: usize;
    /// Apps and Pages share one id space (`/{id}` must name one thing).
    const SHARES_IDS_WITH: Option<usize>;
    fn exists(g: &Services, id: Id) -> impl std::future::Future<Output = Result<bool, ApplyError>>;
}

impl Seeded for App {
    const SLOT: usize = 0;
    const SHARES_IDS_WITH: Option<usize> = Some(2);
    async fn exists(g: &Services, id: Id) -> Result<bool, ApplyError> {
        Ok(g.store.app(AppId(id)).await?.is_some())
    }
}

impl Seeded for User {
    const SLOT: usize = 1;
    const SHARES_IDS_WITH: Option<usize> = None;
    async fn exists(g: &Services, id: Id) -> Result<bool, ApplyError> {
        Ok(g.store.user(UserId(id)).await?.is_some())
    }
}

impl Seeded for Page {
    const SLOT: usize = 2;
    const SHARES_IDS_WITH: Option<usize> = Some(0);
    async fn exists(g: &Services, id: Id) -> Result<bool, ApplyError> {
        Ok(g.store.page(PageId(id)).await?.is_some())
    }
}

const NAMES: [&str; 3] = [App::NAME, User::NAME, Page::NAME];

struct Resolver<'a> {
    world: &'a World,
    keys: [HashMap<String, Id>; 3],
    ids: [Vec<Id>; 3],
}

impl Resolver<'_> {
    fn err(&self, at: usize, problem: String) -> ApplyError {
        ApplyError::Seed(self.world.error(at, problem))
    }

    /// A reference: a key of this file, an id of this file, or an id already in the store.
    async fn resolve<K: Seeded>(&self, g: &Services, r: &Ref<K>) -> Result<Id, ApplyError> {
        if let Some(id) = self.keys[K::SLOT].get(&r.text) {
            return Ok(*id);
        }
        if let Ok(id) = r.text.parse::<Id>() {
            if self.ids[K::SLOT].contains(&id) || K::exists(g, id).await? {
                return Ok(id);
            }
        }
        Err(self.err(
            r.at,
            format!(
                "unknown {} `{}` (not a key in this file, nor the id of a {} that exists)",
                K::NAME,
                r.text,
                K::NAME
            ),
        ))
    }

    /// Records an item's id and key.
    fn place<K: Seeded>(&mut self, at: usize, key: Option<&str>, id: Id) -> Result<(), ApplyError> {
        if self.ids[K::SLOT].contains(&id) {
            return Err(self.err(at, format!("duplicate {} id {id}", K::NAME)));
        }
        if let Some(o) = K::SHARES_IDS_WITH.filter(|o| self.ids[*o].contains(&id)) {
            let problem = format!(
                "{} id {id} is already the id of a {} in this file",
                K::NAME,
                NAMES[o]
            );
            return Err(self.err(at, problem));
        }
        self.ids[K::SLOT].push(id);
        if let Some(key) = key {
            self.keys[K::SLOT].insert(key.to_string(), id);
        }
        Ok(())
    }

    /// Settles an item's id against the store: the id written, else the id its key already
    /// has, else a new one; then records it.
    fn settle<K: Seeded>(
        &mut self,
        at: usize,
        key: Option<&str>,
        given: Option<Id>,
        by_key: Option<Id>,
    ) -> Result<Id, ApplyError> {
        let id = match (given, by_key) {
            (Some(id), Some(other)) if id != other => {
                return Err(self.err(
                    at,
                    format!(
                        "{} key `{}` already belongs to {} {other}, not {id}",
                        K::NAME,
                        key.unwrap_or_default(),
                        K::NAME
                    ),
                ))
            }
            (Some(id), _) | (None, Some(id)) => id,
            (None, None) => token::random_id()?,
        };
        self.place::<K>(at, key, id)?;
        Ok(id)
    }
}

/// Applies a world in one transaction. Re-applying the same world changes nothing.
pub async fn apply(g: &Services, world: &World) -> Result<Applied, ApplyError> {
    let now = g.now();
    let mut r = Resolver {
        world,
        keys: Default::default(),
        ids: Default::default(),
    };
    let mut out = WorldRecords::default();

    // Ids first, so references can point forwards.
    // An app's or Page's id may not already name something else in the store.
    let taken = |id: Id, app: bool| async move {
        let page = app && g.store.page(PageId(id)).await?.is_some();
        let other_app = !app && g.store.app(AppId(id)).await?.is_some();
        let asid = g.store.resolve_asid(Asid(id)).await?.is_some();
        Ok::<_, ApplyError>(match (page, other_app, asid) {
            (true, _, _) => Some("a page's id"),
            (_, true, _) => Some("an app's id"),
            (_, _, true) => Some("a person's app-scoped id"),
            _ => None,
        })
    };

    let mut app_ids = Vec::new();
    for a in &world.apps {
        let by_key = match &a.key {
            Some(k) => g.store.app_by_key(k).await?.map(|x| x.id.0),
            None => None,
        };
        let id = r.settle::<App>(a.at, a.key.as_deref(), a.id.map(|i| i.0), by_key)?;
        if let Some(what) = taken(id, true).await? {
            return Err(r.err(a.at, format!("app id {id} is already {what}")));
        }
        app_ids.push(id);
    }
    let mut user_ids = Vec::new();
    for u in &world.users {
        let by_key = match &u.key {
            Some(k) => g.store.user_by_key(k).await?.map(|x| x.id.0),
            None => None,
        };
        user_ids.push(r.settle::<User>(u.at, u.key.as_deref(), u.id.map(|i| i.0), by_key)?);
    }
    let mut page_ids = Vec::new();
    for p in &world.pages {
        let by_key = match &p.key {
            Some(k) => g.store.page_by_key(k).await?.map(|x| x.id.0),
            None => None,
        };
        let id = r.settle::<Page>(p.at, p.key.as_deref(), p.id.map(|i| i.0), by_key)?;
        if let Some(what) = taken(id, false).await? {
            return Err(r.err(p.at, format!("page id {id} is already {what}")));
        }
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
        let info = PageInfo {
            about: p.about.clone(),
            description: p.description.clone(),
            website: p.website.clone(),
            phone: p.phone.clone(),
            emails: p.emails.clone(),
            username: p.username.clone(),
            fan_count: p.fan_count,
            cover: p.cover.clone(),
        };
        if info != PageInfo::default() {
            out.page_info.push((PageId(id), info));
        }
    }
    for gr in &world.grants {
        let user = UserId(r.resolve(g, &gr.user).await?);
        let app = AppId(r.resolve(g, &gr.app).await?);
        if out
            .grants
            .iter()
            .any(|x: &Grant| x.user_id == user && x.app_id == app)
        {
            return Err(r.err(gr.at, "duplicate grant for this user and app".into()));
        }
        let existing = g.store.grant(user, app).await?;
        out.grants.push(Grant {
            user_id: user,
            app_id: app,
            granted: gr.permissions_granted(),
            declined: gr.declined.clone(),
            pages: existing.as_ref().and_then(|e| e.pages.clone()),
            last_login_at: existing.as_ref().map_or(now, |e| e.last_login_at),
            created_at: existing.as_ref().map_or(now, |e| e.created_at),
        });
        out.asids.push((user, app, Asid(token::random_id()?)));
    }

    for p in &world.posts {
        let page = PageId(r.resolve(g, &p.page).await?);
        let app = match &p.app {
            Some(a) => Some(AppId(r.resolve(g, a).await?)),
            None => None,
        };
        let created = p.created_time.unwrap_or(now);
        let mut comments = Vec::new();
        for (i, c) in p.comments.iter().enumerate() {
            let user = UserId(r.resolve(g, &c.user).await?);
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
        let page = PageId(r.resolve(g, &m.page).await?);
        let user = UserId(r.resolve(g, &m.user).await?);
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
        roles.push((UserId(r.resolve(g, who).await?), *role));
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
    for (who, set) in p.task_holders() {
        let user = UserId(r.resolve(g, who).await?);
        let since = g.store.page_tasks(id, user).await?.map_or(now, |t| t.since);
        tasks.push(PageTasks {
            page_id: id,
            user_id: user,
            tasks: set,
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
    let me = || Ref::new("demo", 0);
    let item = |value| Item { at: 0, value };
    let page = |key: &str, name: &str, category: &str, role| WorldPage {
        key: Some(key.into()),
        id: None,
        name: name.into(),
        category: category.into(),
        tasks: None,
        roles: Some(vec![(me(), role)]),
        about: None,
        description: None,
        website: None,
        phone: None,
        emails: None,
        username: None,
        fan_count: None,
        cover: None,
    };
    World {
        source: "<demo world>".into(),
        apps: vec![Item {
            at: 0,
            value: WorldApp {
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
                roles: vec![(me(), AppRole::Administrator)],
                rate_limits: RateLimits::default(),
                test_user_limit: None,
            },
        }],
        users: vec![Item {
            at: 0,
            value: WorldUser {
                key: Some("demo".into()),
                id: None,
                name: "Demo User".into(),
                email: Some("demo@example.com".into()),
                password: Some(DEMO_PASSWORD.into()),
            },
        }],
        pages: vec![
            item(page(
                "demo-page",
                "Demo Page",
                "Internet Company",
                PageRole::Admin,
            )),
            item(page(
                "demo-bakery",
                "Demo Bakery",
                "Local business",
                PageRole::Editor,
            )),
        ],
        ..World::default()
    }
}
