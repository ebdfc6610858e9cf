//! A backend-independent test suite for [`Store`]: every backend must pass it.
//!
//! Each check takes a freshly migrated, empty store and returns `Err` on a store failure (an
//! assertion failure panics, as in any test). [`run_suite`] runs them all; [`durability`] and
//! [`concurrency`] need to reopen or share a store, so they are called separately.

use std::sync::Arc;

use graphtoken_core::model::{
    AccountStatus, App, AppMode, AppRole, Grant, Page, PageTasks, Platform, RateLimits, StoredKind,
    TokenRecord, User,
};
use graphtoken_core::store::{Store, StoreError, StoreResult, WorldRecords};
use graphtoken_core::tasks::{PageRole, Task, TaskSet};

pub const MAIN_APP: u64 = 1001;
pub const OTHER_APP: u64 = 1002;
pub const ALICE: u64 = 1;
pub const BOB: u64 = 2;
pub const CAROL: u64 = 3;
pub const CAFE: u64 = 5001;
pub const BAKERY: u64 = 5000;

fn missing(what: &str) -> StoreError {
    StoreError(format!("{what} not found"))
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn tasks(page_id: u64, user_id: u64, tasks: TaskSet, since: i64) -> PageTasks {
    PageTasks {
        page_id,
        user_id,
        tasks,
        since,
    }
}

/// A small world: two apps, three people, two Pages (listed out of id order), grants, asids.
pub fn world() -> WorldRecords {
    let main = App {
        id: MAIN_APP,
        key: Some("main".into()),
        name: "Main App".into(),
        secret: "s3cret".into(),
        client_token: "ctok".into(),
        mode: AppMode::Live,
        platform: Platform::Web,
        require_appsecret_proof: true,
        redirect_uris: strings(&["https://a.example/cb", "https://b.example/cb"]),
        advanced_access: strings(&["pages_show_list"]),
        deauthorize_callback_url: Some("https://a.example/deauth".into()),
        data_deletion_url: Some("https://a.example/deletion".into()),
        review_approved_at: Some(1_700_000_000),
        roles: vec![(ALICE, AppRole::Administrator), (BOB, AppRole::Tester)],
        rate_limits: RateLimits {
            app: Some(10),
            user: None,
            page: Some(3),
        },
        created_at: 100,
    };
    let other = App {
        id: OTHER_APP,
        key: None,
        name: "Other".into(),
        secret: "x".into(),
        client_token: "y".into(),
        mode: AppMode::Development,
        platform: Platform::Native,
        require_appsecret_proof: false,
        redirect_uris: Vec::new(),
        advanced_access: Vec::new(),
        deauthorize_callback_url: None,
        data_deletion_url: None,
        review_approved_at: None,
        roles: Vec::new(),
        rate_limits: RateLimits::default(),
        created_at: 101,
    };
    let user = |id, key: Option<&str>, name: &str, email: Option<&str>| User {
        id,
        key: key.map(Into::into),
        name: name.into(),
        email: email.map(Into::into),
        password_hash: email.map(|_| "$argon2id$v=19$fake".into()),
        status: AccountStatus::Active,
        created_at: 10 + id as i64,
    };
    let page = |id, key: &str, name: &str| Page {
        id,
        key: Some(key.into()),
        name: name.into(),
        category: "Restaurant".into(),
        created_at: 20,
    };
    let grant = |user_id, granted: &[&str], declined: &[&str]| Grant {
        user_id,
        app_id: MAIN_APP,
        granted: strings(granted),
        declined: strings(declined),
        last_login_at: 200,
        created_at: 150,
    };
    WorldRecords {
        apps: vec![main, other],
        users: vec![
            user(
                ALICE,
                Some("alice"),
                "Alice Example",
                Some("alice@example.com"),
            ),
            user(BOB, None, "Bob", None),
            user(CAROL, Some("carol"), "Carol C", None),
        ],
        pages: vec![page(CAFE, "cafe", "Cafe"), page(BAKERY, "bakery", "Bakery")],
        page_tasks: vec![
            (
                CAFE,
                vec![
                    tasks(CAFE, ALICE, PageRole::Admin.tasks(), 30),
                    tasks(CAFE, BOB, PageRole::Analyst.tasks(), 31),
                ],
            ),
            (
                BAKERY,
                vec![tasks(BAKERY, ALICE, PageRole::Advertiser.tasks(), 32)],
            ),
        ],
        grants: vec![
            grant(
                ALICE,
                &["public_profile", "email", "pages_show_list"],
                &["user_friends"],
            ),
            grant(BOB, &["public_profile"], &[]),
        ],
        asids: vec![(ALICE, MAIN_APP, 9001), (BOB, MAIN_APP, 9002)],
        posts: Vec::new(),
        messages: Vec::new(),
    }
}

/// Runs every single-store check, each on a fresh store from `fresh` (migrated here).
pub async fn run_suite<S: Store>(mut fresh: impl FnMut() -> StoreResult<S>) -> StoreResult<()> {
    macro_rules! check {
        ($f:ident) => {{
            let store = fresh()?;
            store.migrate().await?;
            $f(&store).await?;
        }};
    }
    check!(records);
    check!(page_tasks);
    check!(grants);
    check!(asids);
    check!(sessions_and_tokens);
    check!(settings);
    check!(world_is_idempotent);
    check!(migrate_is_idempotent);
    check!(content);
    Ok(())
}

/// Apps (with roles), people and Pages read back by id and key; `is_empty`.
pub async fn records<S: Store>(store: &S) -> StoreResult<()> {
    assert!(store.is_empty().await?);
    let w = world();
    store.apply_world(&w).await?;
    assert!(!store.is_empty().await?);
    for app in &w.apps {
        assert_eq!(store.app(app.id).await?.as_ref(), Some(app));
        if let Some(key) = &app.key {
            assert_eq!(store.app_by_key(key).await?.as_ref(), Some(app));
        }
    }
    for user in &w.users {
        assert_eq!(store.user(user.id).await?.as_ref(), Some(user));
        if let Some(key) = &user.key {
            assert_eq!(store.user_by_key(key).await?.as_ref(), Some(user));
        }
    }
    for page in &w.pages {
        assert_eq!(store.page(page.id).await?.as_ref(), Some(page));
        if let Some(key) = &page.key {
            assert_eq!(store.page_by_key(key).await?.as_ref(), Some(page));
        }
    }
    assert_eq!(store.app(42).await?, None);
    assert_eq!(store.app_by_key("nope").await?, None);
    assert_eq!(store.user(42).await?, None);
    assert_eq!(store.user_by_key("nope").await?, None);
    assert_eq!(store.page(42).await?, None);
    assert_eq!(store.page_by_key("nope").await?, None);
    Ok(())
}

/// `pages_of_user` order, `page_tasks`, and per-Page replacement by `apply_world`.
pub async fn page_tasks<S: Store>(store: &S) -> StoreResult<()> {
    let w = world();
    store.apply_world(&w).await?;
    let mine = store.pages_of_user(ALICE).await?;
    let ids: Vec<u64> = mine.iter().map(|(p, _)| p.id).collect();
    assert_eq!(ids, vec![BAKERY, CAFE]);
    assert_eq!(mine[1].1, tasks(CAFE, ALICE, PageRole::Admin.tasks(), 30));
    assert_eq!(mine[0].0, w.pages[1]);
    assert!(store.pages_of_user(CAROL).await?.is_empty());
    let bob = store.page_tasks(CAFE, BOB).await?;
    assert_eq!(
        bob,
        Some(tasks(CAFE, BOB, TaskSet::of(&[Task::Analyze]), 31))
    );
    assert_eq!(store.page_tasks(BAKERY, BOB).await?, None);

    // Replace the Cafe's list: Bob loses his task, Carol gains one; the Bakery is untouched.
    let carol = tasks(CAFE, CAROL, PageRole::Editor.tasks(), 40);
    let changed = WorldRecords {
        page_tasks: vec![(CAFE, vec![carol.clone()])],
        ..WorldRecords::default()
    };
    store.apply_world(&changed).await?;
    assert_eq!(store.page_tasks(CAFE, BOB).await?, None);
    assert_eq!(store.page_tasks(CAFE, ALICE).await?, None);
    assert_eq!(store.page_tasks(CAFE, CAROL).await?, Some(carol));
    assert_eq!(store.pages_of_user(ALICE).await?.len(), 1);
    Ok(())
}

/// Grants read back; `put_grant` inserts and replaces.
pub async fn grants<S: Store>(store: &S) -> StoreResult<()> {
    let w = world();
    store.apply_world(&w).await?;
    assert_eq!(
        store.grant(ALICE, MAIN_APP).await?.as_ref(),
        Some(&w.grants[0])
    );
    assert_eq!(store.grant(CAROL, MAIN_APP).await?, None);
    let mut g = w.grants[0].clone();
    g.granted.push("pages_manage_posts".into());
    g.declined.clear();
    g.last_login_at = 999;
    let (expected, seen) = (w.grants[0].clone(), g.clone());
    let stored = store
        .update_grant(ALICE, MAIN_APP, move |old| {
            assert_eq!(old, Some(expected));
            Some(seen)
        })
        .await?;
    assert_eq!(stored, Some(g.clone()));
    assert_eq!(store.grant(ALICE, MAIN_APP).await?, Some(g));
    let new = Grant {
        user_id: CAROL,
        app_id: OTHER_APP,
        granted: strings(&["public_profile"]),
        declined: Vec::new(),
        last_login_at: 5,
        created_at: 5,
    };
    let created = new.clone();
    store
        .update_grant(CAROL, OTHER_APP, move |old| {
            assert_eq!(old, None);
            Some(created)
        })
        .await?;
    assert_eq!(store.grant(CAROL, OTHER_APP).await?, Some(new));
    Ok(())
}

/// One asid per (person, app); a candidate taken by another pair is refused.
pub async fn asids<S: Store>(store: &S) -> StoreResult<()> {
    store.apply_world(&world()).await?;
    assert_eq!(store.ensure_asid(ALICE, MAIN_APP, 7777).await?, Some(9001));
    assert_eq!(store.ensure_asid(CAROL, MAIN_APP, 9003).await?, Some(9003));
    assert_eq!(store.ensure_asid(CAROL, MAIN_APP, 9004).await?, Some(9003));
    assert_eq!(store.ensure_asid(CAROL, OTHER_APP, 9001).await?, None);
    assert_eq!(store.ensure_asid(CAROL, OTHER_APP, 9005).await?, Some(9005));
    assert_eq!(store.resolve_asid(9001).await?, Some((ALICE, MAIN_APP)));
    assert_eq!(store.resolve_asid(9005).await?, Some((CAROL, OTHER_APP)));
    assert_eq!(store.resolve_asid(1).await?, None);
    Ok(())
}

/// A User token record for `session`, distinguished by `n`.
pub fn user_token(n: u8, session_id: i64, user_id: u64) -> TokenRecord {
    TokenRecord {
        hash: [n; 32],
        kind: StoredKind::User,
        app_id: MAIN_APP,
        user_id,
        page_id: None,
        session_id,
        parent: None,
        long_lived: false,
        issued_at: 1000,
        expires_at: 1000 + 3600,
        invalidated: None,
        tasks_since: None,
    }
}

/// Sessions, token insert/no-overwrite, and `token_entry` for User and Page tokens.
pub async fn sessions_and_tokens<S: Store>(store: &S) -> StoreResult<()> {
    let w = world();
    store.apply_world(&w).await?;
    let s1 = store.create_session(ALICE, MAIN_APP, 1000).await?;
    let s2 = store.create_session(BOB, MAIN_APP, 1001).await?;
    assert!(s2.id > s1.id);
    assert_eq!(
        (s1.user_id, s1.app_id, s1.created_at, s1.invalidated),
        (ALICE, MAIN_APP, 1000, None)
    );

    let user = user_token(1, s1.id, ALICE);
    store.insert_token(&user).await?;
    let mut again = user.clone();
    again.expires_at = 0;
    store.insert_token(&again).await?;
    assert_eq!(store.token(user.hash).await?, Some(user.clone()));
    assert_eq!(store.token([9; 32]).await?, None);
    assert!(store.token_entry([9; 32]).await?.is_none());

    let loaded = store
        .token_entry(user.hash)
        .await?
        .ok_or_else(|| missing("user token"))?;
    assert_eq!(loaded.token, user);
    assert_eq!(loaded.session, s1);
    assert_eq!(loaded.asid, 9001);

    let page_token = |n: u8, page: u64, user_id: u64, session_id: i64| TokenRecord {
        kind: StoredKind::Page,
        page_id: Some(page),
        parent: Some(user.hash),
        long_lived: true,
        expires_at: 0,
        ..user_token(n, session_id, user_id)
    };
    let pt = page_token(2, CAFE, ALICE, s1.id);
    store.insert_token(&pt).await?;
    let loaded = store
        .token_entry(pt.hash)
        .await?
        .ok_or_else(|| missing("page token"))?;
    assert_eq!((loaded.token, loaded.session, loaded.asid), (pt, s1, 9001));

    let bt = page_token(3, BAKERY, BOB, s2.id);
    store.insert_token(&bt).await?;
    let loaded = store
        .token_entry(bt.hash)
        .await?
        .ok_or_else(|| missing("page token"))?;
    assert_eq!((loaded.token.page_id, loaded.asid), (Some(BAKERY), 9002));
    Ok(())
}

pub async fn settings<S: Store>(store: &S) -> StoreResult<()> {
    assert_eq!(store.setting("signing_key").await?, None);
    store.put_setting("signing_key", "one").await?;
    store.put_setting("signing_key", "two").await?;
    store.put_setting("other", "").await?;
    assert_eq!(store.setting("signing_key").await?.as_deref(), Some("two"));
    assert_eq!(store.setting("other").await?.as_deref(), Some(""));
    Ok(())
}

/// Applying a world twice changes nothing; a changed world updates rows but keeps `created_at`.
pub async fn world_is_idempotent<S: Store>(store: &S) -> StoreResult<()> {
    let w = world();
    store.apply_world(&w).await?;
    store.apply_world(&w).await?;
    records_match(store, &w).await?;

    let mut changed = w.clone();
    changed.apps[0].name = "Renamed".into();
    changed.apps[0].created_at = 5555;
    changed.apps[0].roles = vec![
        (BOB, AppRole::Tester),
        (ALICE, AppRole::Developer),
        (ALICE, AppRole::Administrator),
    ];
    changed.users[1].email = Some("bob@example.com".into());
    changed.users[1].created_at = 5555;
    changed.pages[0].category = "Cafe".into();
    changed.pages[0].created_at = 5555;
    changed.grants[0].granted.pop();
    changed.grants[0].created_at = 5555;
    store.apply_world(&changed).await?;

    let mut expected = changed.clone();
    expected.apps[0].created_at = w.apps[0].created_at;
    expected.apps[0].roles.sort();
    expected.users[1].created_at = w.users[1].created_at;
    expected.pages[0].created_at = w.pages[0].created_at;
    expected.grants[0].created_at = w.grants[0].created_at;
    records_match(store, &expected).await?;
    assert_eq!(
        expected.apps[0].role_of(ALICE),
        Some(AppRole::Administrator)
    );
    Ok(())
}

async fn records_match<S: Store>(store: &S, w: &WorldRecords) -> StoreResult<()> {
    for app in &w.apps {
        assert_eq!(store.app(app.id).await?.as_ref(), Some(app));
    }
    for user in &w.users {
        assert_eq!(store.user(user.id).await?.as_ref(), Some(user));
    }
    for page in &w.pages {
        assert_eq!(store.page(page.id).await?.as_ref(), Some(page));
    }
    for (page, list) in &w.page_tasks {
        for t in list {
            assert_eq!(store.page_tasks(*page, t.user_id).await?.as_ref(), Some(t));
        }
    }
    for g in &w.grants {
        assert_eq!(store.grant(g.user_id, g.app_id).await?.as_ref(), Some(g));
    }
    for &(user, app, asid) in &w.asids {
        assert_eq!(store.resolve_asid(asid).await?, Some((user, app)));
    }
    Ok(())
}

pub async fn migrate_is_idempotent<S: Store>(store: &S) -> StoreResult<()> {
    store.apply_world(&world()).await?;
    store.migrate().await?;
    assert_eq!(
        store.user(ALICE).await?.map(|u| u.name),
        Some("Alice Example".into())
    );
    Ok(())
}

/// Writes through one store, drops it, reopens with `open` and reads everything back.
pub async fn durability<S: Store>(open: impl Fn() -> StoreResult<S>) -> StoreResult<()> {
    let w = world();
    let (session, token) = {
        let store = open()?;
        store.migrate().await?;
        store.apply_world(&w).await?;
        let session = store.create_session(ALICE, MAIN_APP, 1000).await?;
        let token = user_token(7, session.id, ALICE);
        store.insert_token(&token).await?;
        store.put_setting("k", "v").await?;
        (session, token)
    };
    let store = open()?;
    store.migrate().await?;
    records_match(&store, &w).await?;
    assert_eq!(store.setting("k").await?.as_deref(), Some("v"));
    let loaded = store
        .token_entry(token.hash)
        .await?
        .map(|l| (l.session, l.token));
    assert_eq!(loaded, Some((session.clone(), token)));
    let next = store.create_session(BOB, MAIN_APP, 1001).await?;
    assert!(next.id > session.id);
    Ok(())
}

/// Many concurrent readers and writers on one store (tokio tasks on a multi-thread runtime).
pub async fn concurrency<S: Store>(store: Arc<S>) -> StoreResult<()> {
    store.migrate().await?;
    store.apply_world(&world()).await?;
    let mut handles = Vec::new();
    for n in 0..32u8 {
        let store = Arc::clone(&store);
        handles.push(tokio::spawn(async move {
            let session = store.create_session(ALICE, MAIN_APP, i64::from(n)).await?;
            let token = user_token(100 + n, session.id, ALICE);
            store.insert_token(&token).await?;
            let loaded = store.token_entry(token.hash).await?;
            assert_eq!(loaded.map(|l| l.session), Some(session));
            store.pages_of_user(ALICE).await.map(|p| p.len())
        }));
    }
    for h in handles {
        let pages = h.await.map_err(|e| StoreError(e.to_string()))??;
        assert_eq!(pages, 2);
    }
    Ok(())
}

/// Posts and comments: numbers grow and are never reused, lists are oldest first, edits and
/// deletes report whether there was something to change, deleting a post takes its comments.
pub async fn content<S: Store>(store: &S) -> StoreResult<()> {
    use graphtoken_core::content::{Author, Comment, Post};
    store.apply_world(&world()).await?;
    let post = |page, message: &str| Post {
        id: 0,
        page_id: page,
        app_id: Some(MAIN_APP),
        message: message.into(),
        link: None,
        published: true,
        created_at: 10,
        updated_at: 10,
    };
    let a = store.insert_post(&post(CAFE, "a")).await?;
    let b = store.insert_post(&post(CAFE, "b")).await?;
    let mut other = post(BAKERY, "c");
    other.app_id = None;
    other.link = Some("https://example.com".into());
    other.published = false;
    let c = store.insert_post(&other).await?;
    assert!(a < b && b < c);
    let got = store.post(c).await?.ok_or_else(|| missing("post c"))?;
    assert_eq!(got, Post { id: c, ..other });
    let cafe: Vec<String> = store
        .posts_of_page(CAFE)
        .await?
        .into_iter()
        .map(|p| p.message)
        .collect();
    assert_eq!(cafe, ["a", "b"]);
    assert!(store.edit_post(a, "a2", 20).await?);
    let edited = store.post(a).await?.ok_or_else(|| missing("post a"))?;
    assert_eq!(
        (
            edited.message.as_str(),
            edited.updated_at,
            edited.created_at
        ),
        ("a2", 20, 10)
    );
    assert!(!store.edit_post(999, "x", 20).await?);

    let comment = |post, author, message: &str| Comment {
        id: 0,
        post_id: post,
        app_id: None,
        author,
        message: message.into(),
        hidden: false,
        created_at: 30,
    };
    let x = store
        .insert_comment(&comment(b, Author::User(ALICE), "x"))
        .await?;
    let y = store.insert_comment(&comment(b, Author::Page, "y")).await?;
    assert!(x < y);
    assert!(store.update_comment(x, None, Some(true)).await?);
    assert!(store.update_comment(y, Some("y2"), None).await?);
    let listed = store.comments_of_post(b).await?;
    assert_eq!(listed.len(), 2);
    assert_eq!(
        (listed[0].id, listed[0].hidden, listed[0].author),
        (x, true, Author::User(ALICE))
    );
    assert_eq!(
        (
            listed[1].message.as_str(),
            listed[1].hidden,
            listed[1].author
        ),
        ("y2", false, Author::Page)
    );
    assert!(store.delete_comment(x).await?);
    assert!(!store.delete_comment(x).await?);
    assert!(store.comment(x).await?.is_none());
    assert!(store.delete_post(b).await?);
    assert!(store.comment(y).await?.is_none());
    assert!(store.post(b).await?.is_none());
    assert!(!store.delete_post(b).await?);
    // Numbers are not reused after the newest is deleted.
    assert!(store.delete_post(c).await?);
    let d = store.insert_post(&post(CAFE, "d")).await?;
    assert!(d > c);
    let z = store.insert_comment(&comment(d, Author::Page, "z")).await?;
    assert!(z > y);
    Ok(())
}
