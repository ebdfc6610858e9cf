//! A backend-independent test suite for [`Store`]: every backend must pass it.
//!
//! Each check takes a freshly migrated, empty store and returns `Err` on a store failure (an
//! assertion failure panics, as in any test). [`run_suite`] runs them all; [`durability`] and
//! [`concurrency`] need to reopen or share a store, so they are called separately.

use std::sync::Arc;

use graphtoken_core::codes::{AuthCode, CodeKind, DeviceCode, DeviceState, Pkce, PkceMethod};
use graphtoken_core::content::PageInfo;
use graphtoken_core::events::Callback;
use graphtoken_core::model::{
    AccountStatus, App, AppId, AppMode, AppRole, Asid, BudgetChange, Grant, Invalidation, Page,
    PageId, PageTasks, Platform, Psid, RateLimits, Reason, Session, SessionId, StoredKind,
    TokenRecord, User, UserId,
};
use graphtoken_core::outbox::{Attempt, DeliveryStatus};
use graphtoken_core::store::{
    DeletedPerson, Redeemed, SessionToken, Store, StoreError, StoreResult, WorldRecords,
};
use graphtoken_core::tasks::{PageRole, Task, TaskSet};

pub const MAIN_APP: AppId = AppId(1001);
pub const OTHER_APP: AppId = AppId(1002);
pub const ALICE: UserId = UserId(1);
pub const BOB: UserId = UserId(2);
pub const CAROL: UserId = UserId(3);
pub const CAFE: PageId = PageId(5001);
pub const BAKERY: PageId = PageId(5000);

fn missing(what: &str) -> StoreError {
    StoreError::new(format!("{what} not found"))
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn tasks(page_id: PageId, user_id: UserId, tasks: TaskSet, since: i64) -> PageTasks {
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
        test_user_limit: 3,
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
        test_user_limit: 10,
        created_at: 101,
    };
    let user = |id, key: Option<&str>, name: &str, email: Option<&str>| User {
        id,
        key: key.map(Into::into),
        name: name.into(),
        email: email.map(Into::into),
        password_hash: email.map(|_| "$argon2id$v=19$fake".into()),
        status: AccountStatus::Active,
        created_at: 10 + id.0 as i64,
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
        pages: None,
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
        page_info: vec![(
            CAFE,
            PageInfo {
                about: Some("Coffee, all day".into()),
                emails: Some(strings(&["hello@cafe.example", "jobs@cafe.example"])),
                username: Some("cafe".into()),
                fan_count: Some(1234),
                cover: Some("https://cdn.example/cafe.jpg".into()),
                ..PageInfo::default()
            },
        )],
        asids: vec![(ALICE, MAIN_APP, Asid(9001)), (BOB, MAIN_APP, Asid(9002))],
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
    check!(invalidation_reports_what_it_ended);
    check!(settings);
    check!(world_is_idempotent);
    check!(migrate_is_idempotent);
    check!(content);
    check!(user_by_email);
    check!(codes);
    check!(codes_into_sessions);
    check!(device_codes);
    check!(test_users);
    check!(delete_user);
    check!(set_user_name);
    check!(outbox);
    check!(signin_throttle);
    check!(rate_counts);
    check!(faults);
    schema_versions(fresh()?).await?;
    Ok(())
}

/// A callback for the outbox checks.
pub fn callback(kind: &'static str) -> Callback {
    Callback {
        kind,
        url: "https://app.example/cb".into(),
        app_id: MAIN_APP.to_string(),
        user_id: "77".into(),
        form: vec![("signed_request".into(), "sig.payload".into())],
    }
}

/// The outbox: a callback is claimed by one caller at a time until its lease runs out, a try
/// is recorded, a retry is due when it says, finished ones are not claimed again.
pub async fn outbox<S: Store>(store: &S) -> StoreResult<()> {
    let a = store
        .enqueue_callback(&callback("deauthorize"), 1000)
        .await?;
    let b = store
        .enqueue_callback(&callback("data_deletion"), 1001)
        .await?;
    assert!(b > a);
    let listed = store.callbacks(10).await?;
    assert_eq!(listed.iter().map(|o| o.id).collect::<Vec<_>>(), [b, a]);
    assert_eq!(listed[0].status, DeliveryStatus::Pending);
    assert_eq!((listed[0].attempts, listed[0].created_at), (0, 1001));

    // Claimed by one: nobody else gets them while the lease runs.
    let claimed = store.claim_callbacks(10_000, 30_000, 10).await?;
    assert_eq!(claimed.iter().map(|o| o.id).collect::<Vec<_>>(), [a, b]);
    assert!(store.claim_callbacks(20_000, 30_000, 10).await?.is_empty());
    // The claimant died: when the lease runs out they are due again.
    let again = store.claim_callbacks(40_000, 30_000, 1).await?;
    assert_eq!(again.iter().map(|o| o.id).collect::<Vec<_>>(), [a]);

    // A failed try with a retry due later; a delivered one is done.
    let retry = Attempt {
        status: DeliveryStatus::Retrying,
        attempts: 1,
        last_error: Some("the app answered HTTP 503".into()),
        answer: None,
        next_at_ms: 100_000,
    };
    store.record_callback(a, &retry).await?;
    let delivered = Attempt {
        status: DeliveryStatus::Delivered,
        attempts: 1,
        last_error: None,
        answer: Some(r#"{"ok":true}"#.into()),
        next_at_ms: 0,
    };
    store.record_callback(b, &delivered).await?;
    assert!(store.claim_callbacks(99_999, 30_000, 10).await?.is_empty());
    let due = store.claim_callbacks(100_000, 30_000, 10).await?;
    assert_eq!(due.iter().map(|o| o.id).collect::<Vec<_>>(), [a]);
    assert_eq!(due[0].attempts, 1);
    let listed = store.callbacks(10).await?;
    assert_eq!(listed[0].status, DeliveryStatus::Delivered);
    assert_eq!(listed[0].answer.as_deref(), Some(r#"{"ok":true}"#));
    assert_eq!(listed[1].status, DeliveryStatus::Retrying);
    assert_eq!(
        listed[1].last_error.as_deref(),
        Some("the app answered HTTP 503")
    );
    Ok(())
}

/// Armed faults: kept with their spec, fired exactly `times` times however many callers fire
/// at once, capped in number, cleared one by one or all.
pub async fn faults<S: Store>(store: &S) -> StoreResult<()> {
    let a = store.arm_fault(r#"{"error":"expired"}"#, 3, 3).await?;
    let a = a.ok_or_else(|| missing("fault a"))?;
    assert_eq!(
        (a.spec.as_str(), a.times, a.fired),
        (r#"{"error":"expired"}"#, 3, 0)
    );
    let b = store
        .arm_fault("{}", 0, 3)
        .await?
        .ok_or_else(|| missing("fault b"))?;
    assert!(b.id > a.id);
    // Ten callers at once: three firings of `a` count, the others find it spent.
    let fired = futures_all((0..10).map(|_| store.fire_fault(a.id))).await?;
    let mut counted: Vec<u64> = fired.iter().flatten().copied().collect();
    counted.sort_unstable();
    assert_eq!(counted, [1, 2, 3]);
    // Until cleared: it never runs out.
    for n in 1..=5 {
        assert_eq!(store.fire_fault(b.id).await?, Some(n));
    }
    let listed = store.faults().await?;
    assert_eq!(
        listed.iter().map(|f| (f.id, f.fired)).collect::<Vec<_>>(),
        [(a.id, 3), (b.id, 5)]
    );
    assert!(!listed[0].armed() && listed[1].armed());
    // The cap counts spent faults too.
    store
        .arm_fault("{}", 1, 3)
        .await?
        .ok_or_else(|| missing("fault c"))?;
    assert_eq!(store.arm_fault("{}", 1, 3).await?, None);
    assert_eq!(store.clear_faults(Some(a.id)).await?, 1);
    assert_eq!(store.clear_faults(Some(a.id)).await?, 0);
    assert_eq!(store.fire_fault(a.id).await?, None);
    assert_eq!(store.clear_faults(None).await?, 2);
    assert!(store.faults().await?.is_empty());
    // Numbers are not reused.
    let d = store
        .arm_fault("{}", 1, 3)
        .await?
        .ok_or_else(|| missing("fault d"))?;
    assert!(d.id > b.id);
    Ok(())
}

/// A new database is at version 0; migrated, at the version the backend wants.
pub async fn schema_versions<S: Store>(store: S) -> StoreResult<()> {
    let before = store.schema().await?;
    assert_eq!(before.found, 0, "a new database");
    assert!(before.wanted >= 9, "{before:?}");
    store.migrate().await?;
    let after = store.schema().await?;
    assert_eq!(after.found, after.wanted);
    assert_eq!(after.wanted, before.wanted);
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
    assert_eq!(store.app(AppId(42)).await?, None);
    assert_eq!(store.app_by_key("nope").await?, None);
    // An app's budgets change in place: one set, one back to the default, one left as it is;
    // nothing else of the app changes.
    let was = store.app(MAIN_APP).await?.ok_or_else(|| missing("app"))?;
    assert!(was.rate_limits.page.is_some());
    let change = BudgetChange {
        app: Some(Some(u32::MAX)),
        user: None,
        page: Some(None),
    };
    let now = store.change_app_rate_limits(MAIN_APP, change).await?;
    let wanted = RateLimits {
        app: Some(u32::MAX),
        user: was.rate_limits.user,
        page: None,
    };
    assert_eq!(now, Some(wanted));
    let app = store.app(MAIN_APP).await?;
    assert_eq!(
        app,
        Some(App {
            rate_limits: wanted,
            ..was
        })
    );
    assert_eq!(store.change_app_rate_limits(AppId(42), change).await?, None);
    assert_eq!(store.user(UserId(42)).await?, None);
    assert_eq!(store.user_by_key("nope").await?, None);
    assert_eq!(store.page(PageId(42)).await?, None);
    assert_eq!(store.page_by_key("nope").await?, None);
    // The overview: the first by id, and every count.
    let o = store.overview(1).await?;
    assert_eq!((o.app_count, o.user_count, o.page_count), (2, 3, 2));
    assert_eq!(
        o.apps.first().map(|a| a.id),
        w.apps.iter().map(|a| a.id).min()
    );
    assert_eq!(
        o.apps[0].roles,
        w.apps
            .iter()
            .min_by_key(|a| a.id)
            .map(|a| a.roles.clone())
            .unwrap_or_default()
    );
    assert_eq!((o.users.len(), o.pages.len()), (1, 1));
    // A seeded profile reads back whole; a Page without one has none.
    for (page, info) in &w.page_info {
        assert_eq!(store.page_info(*page).await?.as_ref(), Some(info));
    }
    assert_eq!(store.page_info(BAKERY).await?, Some(PageInfo::default()));
    Ok(())
}

/// `pages_of_user` order, `page_tasks`, and per-Page replacement by `apply_world`.
pub async fn page_tasks<S: Store>(store: &S) -> StoreResult<()> {
    let w = world();
    store.apply_world(&w).await?;
    let mine = store.pages_of_user(ALICE).await?;
    let ids: Vec<PageId> = mine.iter().map(|(p, _)| p.id).collect();
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
    assert_eq!(
        store.grants_of_user(ALICE).await?,
        vec![w.grants[0].clone()]
    );
    assert_eq!(store.grants_of_user(CAROL).await?, vec![]);
    let mut g = w.grants[0].clone();
    g.granted.push("pages_manage_posts".into());
    g.declined.clear();
    g.last_login_at = 999;
    let (expected, seen) = (w.grants[0].clone(), g.clone());
    let stored = store
        .update_grant(
            ALICE,
            MAIN_APP,
            Box::new(move |old: Option<Grant>| {
                assert_eq!(old.as_ref(), Some(&expected));
                Some(seen.clone())
            }),
        )
        .await?;
    assert_eq!(stored, Some(g.clone()));
    assert_eq!(store.grant(ALICE, MAIN_APP).await?, Some(g));
    let new = Grant {
        user_id: CAROL,
        app_id: OTHER_APP,
        granted: strings(&["public_profile"]),
        declined: Vec::new(),
        pages: Some(vec![CAFE]),
        last_login_at: 5,
        created_at: 5,
    };
    let created = new.clone();
    store
        .update_grant(
            CAROL,
            OTHER_APP,
            Box::new(move |old: Option<Grant>| {
                assert_eq!(old, None);
                Some(created.clone())
            }),
        )
        .await?;
    assert_eq!(store.grant(CAROL, OTHER_APP).await?, Some(new));
    Ok(())
}

/// One asid per (person, app); a candidate taken by another pair is refused.
pub async fn asids<S: Store>(store: &S) -> StoreResult<()> {
    store.apply_world(&world()).await?;
    assert_eq!(
        store.ensure_asid(ALICE, MAIN_APP, Asid(7777)).await?,
        Some(Asid(9001))
    );
    assert_eq!(
        store.ensure_asid(CAROL, MAIN_APP, Asid(9003)).await?,
        Some(Asid(9003))
    );
    assert_eq!(
        store.ensure_asid(CAROL, MAIN_APP, Asid(9004)).await?,
        Some(Asid(9003))
    );
    assert_eq!(store.ensure_asid(CAROL, OTHER_APP, Asid(9001)).await?, None);
    assert_eq!(
        store.ensure_asid(CAROL, OTHER_APP, Asid(9005)).await?,
        Some(Asid(9005))
    );
    assert_eq!(
        store.resolve_asid(Asid(9001)).await?,
        Some((ALICE, MAIN_APP))
    );
    assert_eq!(
        store.resolve_asid(Asid(9005)).await?,
        Some((CAROL, OTHER_APP))
    );
    assert_eq!(store.resolve_asid(Asid(1)).await?, None);
    Ok(())
}

/// A User token record for `session`, distinguished by `n`.
pub fn user_token(n: u8, session_id: SessionId, user_id: UserId) -> TokenRecord {
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
    assert!(store.insert_token(&user).await?);
    let mut again = user.clone();
    again.expires_at = 0;
    assert!(
        !store.insert_token(&again).await?,
        "a second record of one hash"
    );
    assert_eq!(store.token(user.hash).await?, Some(user.clone()));
    assert_eq!(store.token([9; 32]).await?, None);
    // No token into a session that is not there (a person deleted meanwhile).
    let orphan = user_token(8, SessionId(s2.id.0 + 1000), ALICE);
    assert!(
        !store.insert_token(&orphan).await?,
        "a token without a session"
    );
    assert_eq!(store.token(orphan.hash).await?, None);
    // Many at once: each stored as one would be (the one already there is left as it is, and
    // none goes into a session that is not there), of two sessions, each checked once.
    let mut many: Vec<_> = (60..63).map(|n| user_token(n, s1.id, ALICE)).collect();
    many.push(user_token(63, s2.id, BOB));
    let orphans = [user_token(64, orphan.session_id, ALICE), orphan.clone()];
    let batch = [many.clone(), vec![again.clone()], orphans.to_vec()].concat();
    assert_eq!(store.insert_tokens(batch).await?, 4);
    for t in &many {
        assert_eq!(store.token(t.hash).await?.as_ref(), Some(t));
    }
    for t in &orphans {
        assert_eq!(store.token(t.hash).await?, None);
    }
    assert_eq!(store.token(user.hash).await?, Some(user.clone()));
    assert!(store.token_entry([9; 32]).await?.is_none());
    // A session info token: its kind comes back as it went in.
    let info = TokenRecord {
        kind: StoredKind::SessionInfo,
        ..user_token(65, s1.id, ALICE)
    };
    assert!(store.insert_token(&info).await?);
    assert_eq!(store.token(info.hash).await?, Some(info.clone()));

    let (loaded, session) = store
        .token_entry(user.hash)
        .await?
        .ok_or_else(|| missing("user token"))?;
    assert_eq!(loaded.token, user);
    assert_eq!(session, s1);
    assert_eq!(loaded.asid, Asid(9001));

    let page_token = |n: u8, page: PageId, user_id: UserId, session_id: SessionId| TokenRecord {
        kind: StoredKind::Page,
        page_id: Some(page),
        parent: Some(user.hash),
        long_lived: true,
        expires_at: 0,
        ..user_token(n, session_id, user_id)
    };
    let pt = page_token(2, CAFE, ALICE, s1.id);
    assert!(store.insert_token(&pt).await?);
    let (loaded, session) = store
        .token_entry(pt.hash)
        .await?
        .ok_or_else(|| missing("page token"))?;
    assert_eq!((loaded.token, session, loaded.asid), (pt, s1, Asid(9001)));

    let bt = page_token(3, BAKERY, BOB, s2.id);
    store.insert_token(&bt).await?;
    let (loaded, _) = store
        .token_entry(bt.hash)
        .await?
        .ok_or_else(|| missing("page token"))?;
    assert_eq!(
        (loaded.token.page_id, loaded.asid),
        (Some(BAKERY), Asid(9002))
    );
    Ok(())
}

/// The invalidating writes report exactly what they ended (the caches drop those entries and
/// nothing else): live sessions only, of one app or all; a logout's short-lived user tokens and
/// the Page tokens derived from them, never long-lived ones. A Page token is stored only while
/// its parent user token still works.
pub async fn invalidation_reports_what_it_ended<S: Store>(store: &S) -> StoreResult<()> {
    store.apply_world(&world()).await?;
    let why = |reason| Invalidation { at: 2000, reason };
    let a1 = store.create_session(ALICE, MAIN_APP, 1000).await?;
    let a2 = store.create_session(ALICE, MAIN_APP, 1001).await?;
    let b1 = store.create_session(BOB, MAIN_APP, 1002).await?;

    // Logout: short-lived user tokens and their Page tokens; the long-lived one stays.
    let short = user_token(11, a1.id, ALICE);
    let long = TokenRecord {
        long_lived: true,
        ..user_token(12, a1.id, ALICE)
    };
    let page_of_short = TokenRecord {
        kind: StoredKind::Page,
        page_id: Some(CAFE),
        parent: Some(short.hash),
        ..user_token(13, a1.id, ALICE)
    };
    for t in [&short, &long, &page_of_short] {
        store.insert_token(t).await?;
    }
    let mut ended = store
        .invalidate_short_lived_tokens(ALICE, why(Reason::LoggedOut))
        .await?;
    ended.sort_unstable();
    assert_eq!(ended, vec![short.hash, page_of_short.hash]);
    assert!(store
        .invalidate_short_lived_tokens(ALICE, why(Reason::LoggedOut))
        .await?
        .is_empty());
    // A Page token of a parent that no longer works is not stored.
    let orphan = TokenRecord {
        hash: [14; 32],
        ..page_of_short.clone()
    };
    assert!(
        !store.insert_token(&orphan).await?,
        "a Page token of a dead parent"
    );
    assert_eq!(store.token(orphan.hash).await?, None);

    // Sessions: only live ones, of the app asked for.
    assert_eq!(
        store
            .invalidate_session(a2.id, why(Reason::RevokedByApi))
            .await?,
        Some(ALICE)
    );
    let ended = store
        .invalidate_sessions(ALICE, Some(OTHER_APP), why(Reason::PasswordChanged))
        .await?;
    assert!(ended.is_empty());
    let ended = store
        .invalidate_sessions(ALICE, None, why(Reason::PasswordChanged))
        .await?;
    assert_eq!(ended, vec![a1.id]);

    // Uninstall: whether there was a grant, the sessions ended with it, and its callback put
    // in the outbox only when there was a grant.
    let notify = callback("deauthorize");
    let (had, ended, queued) = store
        .uninstall(BOB, MAIN_APP, why(Reason::AppNotAuthorized), Some(&notify))
        .await?;
    assert!(had);
    assert_eq!(ended, vec![b1.id]);
    let listed = store.callbacks(10).await?;
    assert_eq!(
        listed.iter().map(|o| Some(o.id)).collect::<Vec<_>>(),
        [queued]
    );
    assert_eq!(listed[0].callback, notify);
    let (had, ended, queued) = store
        .uninstall(BOB, MAIN_APP, why(Reason::AppNotAuthorized), Some(&notify))
        .await?;
    assert!(!had && ended.is_empty() && queued.is_none());
    assert_eq!(store.callbacks(10).await?.len(), 1);

    // A new password ends the person's live sessions in the same write.
    let c1 = store.create_session(CAROL, OTHER_APP, 1003).await?;
    let hash = "$argon2id$new".to_string();
    let ended = store
        .set_password(CAROL, hash.clone(), why(Reason::PasswordChanged))
        .await?;
    assert_eq!(ended, Some(vec![c1.id]));
    let carol = store.user(CAROL).await?.ok_or_else(|| missing("carol"))?;
    assert_eq!(carol.password_hash.as_deref(), Some(hash.as_str()));
    let nobody = store
        .set_password(UserId(424_242), hash, why(Reason::PasswordChanged))
        .await?;
    assert_eq!(nobody, None);
    Ok(())
}

pub async fn settings<S: Store>(store: &S) -> StoreResult<()> {
    assert_eq!(store.setting("signing_key").await?, None);
    store.put_setting("signing_key", "one").await?;
    store.put_setting("signing_key", "two").await?;
    store.put_setting("other", "").await?;
    assert_eq!(store.setting("signing_key").await?.as_deref(), Some("two"));
    assert_eq!(store.setting("other").await?.as_deref(), Some(""));
    // The first value stored stays, and every caller gets it; the token key is kept sealed and
    // read back open.
    assert_eq!(store.first_setting("signing_key", "three").await?, "two");
    assert_eq!(store.first_setting("first", "a").await?, "a");
    assert_eq!(store.first_setting("first", "b").await?, "a");
    let key = graphtoken_core::services::TOKEN_KEY;
    assert_eq!(store.first_setting(key, "k1").await?, "k1");
    assert_eq!(store.first_setting(key, "k2").await?, "k1");
    assert_eq!(store.setting(key).await?.as_deref(), Some("k1"));
    Ok(())
}

/// Applying a world twice changes nothing; a changed world updates rows but keeps `created_at`.
pub async fn world_is_idempotent<S: Store>(store: &S) -> StoreResult<()> {
    let w = world();
    assert!(store.apply_world(&w).await?.is_empty(), "nobody held tasks");
    // A Page's list replaces the whole set: the store reports who held tasks before.
    let mut replaced = store.apply_world(&w).await?;
    replaced.sort_unstable();
    assert_eq!(replaced, vec![(BAKERY, ALICE), (CAFE, ALICE), (CAFE, BOB)]);
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
        .map(|(l, session)| (session, l.token));
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
            assert_eq!(loaded.map(|(_, s)| s), Some(session));
            store.pages_of_user(ALICE).await.map(|p| p.len())
        }));
    }
    for h in handles {
        let pages = h.await.map_err(|e| StoreError::new(e.to_string()))??;
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

/// `user_by_email` ignores ASCII case; nobody has an unknown address.
pub async fn user_by_email<S: Store>(store: &S) -> StoreResult<()> {
    let w = world();
    store.apply_world(&w).await?;
    for email in ["alice@example.com", "ALICE@Example.COM"] {
        assert_eq!(
            store.user_by_email(email).await?.as_ref(),
            Some(&w.users[0])
        );
    }
    assert_eq!(store.user_by_email("bob@example.com").await?, None);
    assert_eq!(store.user_by_email("").await?, None);
    Ok(())
}

/// A dialog code of Alice's on the main app, distinguished by `n`.
pub fn auth_code(n: u8, kind: CodeKind, pkce: Option<Pkce>) -> AuthCode {
    AuthCode {
        hash: [n; 32],
        kind,
        app_id: MAIN_APP,
        user_id: ALICE,
        redirect_uri: "https://a.example/cb".into(),
        pkce,
        session_id: None,
        created_at: 1000,
        expires_at: 1600,
        used_at: None,
    }
}

/// A code redeemed into a session in one write: refused by its check or already used, nothing
/// changes; accepted, the session opens, its token is stored and the code records both.
pub async fn codes_into_sessions<S: Store>(store: &S) -> StoreResult<()> {
    store.apply_world(&world()).await?;
    let code = auth_code(4, CodeKind::Dialog, None);
    store.insert_code(&code).await?;
    let token =
        |n: u8| -> SessionToken { Box::new(move |s: &Session| user_token(n, s.id, s.user_id)) };
    let none = store
        .redeem_code_into_session([9; 32], 1100, Box::new(|_| true), token(5))
        .await?;
    assert_eq!(none, (None, None));
    // Refused by the check: the code stays unused and no session opens.
    let refused = store
        .redeem_code_into_session(code.hash, 1100, Box::new(|_| false), token(5))
        .await?;
    assert_eq!(refused, (Some(code.clone()), None));
    assert_eq!(store.code(code.hash).await?, Some(code.clone()));
    assert!(store.token_entry([5; 32]).await?.is_none());
    // Accepted: the check saw the code as stored.
    let (before, redeemed) = store
        .redeem_code_into_session(
            code.hash,
            1100,
            Box::new(|c: &AuthCode| c.hash == [4; 32] && c.used_at.is_none()),
            token(5),
        )
        .await?;
    assert_eq!(before, Some(code.clone()));
    let Redeemed { session, asid } =
        redeemed.ok_or_else(|| StoreError::new("no session opened"))?;
    // Alice's app-scoped id for the app, read in the same write.
    assert_eq!(asid, Some(Asid(9001)));
    assert_eq!(
        (session.user_id, session.app_id, session.created_at),
        (ALICE, MAIN_APP, 1100)
    );
    let (entry, of) = store
        .token_entry([5; 32])
        .await?
        .ok_or_else(|| StoreError::new("the token was not stored"))?;
    assert_eq!((entry.token.session_id, of.id), (session.id, session.id));
    let used = AuthCode {
        used_at: Some(1100),
        session_id: Some(session.id),
        ..code.clone()
    };
    assert_eq!(store.code(code.hash).await?, Some(used.clone()));
    // Used: the check is not asked, nothing more opens.
    let again = store
        .redeem_code_into_session(code.hash, 1200, Box::new(|_| true), token(6))
        .await?;
    assert_eq!(again, (Some(used), None));
    assert!(store.token_entry([6; 32]).await?.is_none());
    // A person without an app-scoped id for the app: none is read (the services draw one).
    let carols = AuthCode {
        user_id: CAROL,
        ..auth_code(7, CodeKind::Dialog, None)
    };
    store.insert_code(&carols).await?;
    let (_, redeemed) = store
        .redeem_code_into_session(carols.hash, 1100, Box::new(|_| true), token(7))
        .await?;
    let redeemed = redeemed.ok_or_else(|| StoreError::new("no session opened"))?;
    assert_eq!((redeemed.session.user_id, redeemed.asid), (CAROL, None));
    Ok(())
}

/// Codes: stored as given, redeemed once (a second redemption sees the first's `used_at` and
/// changes nothing), their session recorded; one session invalidated and read back.
pub async fn codes<S: Store>(store: &S) -> StoreResult<()> {
    store.apply_world(&world()).await?;
    let pkce = Pkce {
        method: PkceMethod::S256,
        challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
    };
    let dialog = auth_code(1, CodeKind::Dialog, Some(pkce));
    store.insert_code(&dialog).await?;
    let session = store.create_session(ALICE, MAIN_APP, 1000).await?;
    let client = AuthCode {
        session_id: Some(session.id),
        pkce: Some(Pkce {
            method: PkceMethod::Plain,
            challenge: "abc".into(),
        }),
        ..auth_code(2, CodeKind::Client, None)
    };
    store.insert_code(&client).await?;
    let plain = auth_code(3, CodeKind::Dialog, None);
    store.insert_code(&plain).await?;

    assert_eq!(store.redeem_code([9; 32], 1100).await?, None);
    assert_eq!(store.code(dialog.hash).await?, Some(dialog.clone()));
    assert_eq!(
        store.redeem_code(dialog.hash, 1100).await?,
        Some(dialog.clone())
    );
    // (A dialog code's session is recorded by `redeem_code_into_session`: `codes_into_sessions`.)
    let used = AuthCode {
        used_at: Some(1100),
        ..dialog.clone()
    };
    assert_eq!(store.code(dialog.hash).await?, Some(used.clone()));
    // A second redemption changes nothing, nor does a third.
    assert_eq!(
        store.redeem_code(dialog.hash, 1200).await?,
        Some(used.clone())
    );
    let third = store.redeem_code(dialog.hash, 1300).await?;
    assert_eq!(third, Some(used));
    // A client code keeps its own session.
    assert_eq!(
        store.redeem_code(client.hash, 1100).await?,
        Some(client.clone())
    );
    assert_eq!(
        store
            .code(client.hash)
            .await?
            .and_then(|c| c.session_id.zip(c.used_at)),
        Some((session.id, 1100))
    );
    assert_eq!(store.redeem_code(plain.hash, 1100).await?, Some(plain));

    // Ending the session ends its tokens; a second ending changes nothing.
    let token = user_token(1, session.id, ALICE);
    store.insert_token(&token).await?;
    let other = store.create_session(ALICE, MAIN_APP, 1001).await?;
    let why = Invalidation {
        at: 1500,
        reason: Reason::PasswordChanged,
    };
    // The session's person is reported, once.
    assert_eq!(
        store.invalidate_session(session.id, why).await?,
        Some(ALICE)
    );
    let later = Invalidation {
        at: 1600,
        reason: Reason::RevokedByApi,
    };
    assert_eq!(store.invalidate_session(session.id, later).await?, None);
    assert_eq!(store.invalidate_session(SessionId(9999), why).await?, None);
    let ended = store
        .session(session.id)
        .await?
        .ok_or_else(|| missing("session"))?;
    assert_eq!(ended.invalidated, Some(why));
    assert_eq!(
        store
            .token_entry(token.hash)
            .await?
            .map(|(_, s)| s.invalidated),
        Some(Some(why))
    );
    assert_eq!(store.session(other.id).await?, Some(other));
    assert_eq!(store.session(SessionId(9999)).await?, None);
    Ok(())
}

/// A pending device login for the main app, distinguished by `n`.
pub fn device_code(n: u8, user_code: &str, created_at: i64) -> DeviceCode {
    DeviceCode {
        hash: [n; 32],
        user_code: user_code.into(),
        app_id: MAIN_APP,
        scopes: strings(&["public_profile", "email"]),
        created_at,
        expires_at: created_at + 420,
        state: DeviceState::Pending,
        last_poll_at: None,
    }
}

/// Device logins: a live `user_code` is not given twice, an expired one is; lookup by user code
/// finds the newest; updates are stored and returned.
pub async fn device_codes<S: Store>(store: &S) -> StoreResult<()> {
    store.apply_world(&world()).await?;
    let first = device_code(1, "ABCD2345", 1000);
    assert!(store.insert_device_code(&first).await?);
    assert_eq!(store.device_code(first.hash).await?, Some(first.clone()));
    assert_eq!(store.device_code([9; 32]).await?, None);

    // Still live at 1419: refused, and nothing stored.
    let clash = device_code(2, "ABCD2345", 1419);
    assert!(!store.insert_device_code(&clash).await?);
    assert_eq!(store.device_code(clash.hash).await?, None);
    assert_eq!(
        store.device_code_by_user_code("ABCD2345").await?,
        Some(first.clone())
    );

    // Expired at 1420: the user code may be drawn again, and the new login is the one found.
    let reused = DeviceCode {
        scopes: Vec::new(),
        ..device_code(3, "ABCD2345", 1420)
    };
    assert!(store.insert_device_code(&reused).await?);
    assert_eq!(
        store.device_code_by_user_code("ABCD2345").await?,
        Some(reused.clone())
    );
    assert_eq!(store.device_code_by_user_code("abcd2345").await?, None);
    assert_eq!(store.device_code_by_user_code("ZZZZ9999").await?, None);

    let approved = store
        .update_device_code(
            reused.hash,
            Box::new(|d: &mut DeviceCode| {
                d.state = DeviceState::Approved { user_id: BOB };
                d.last_poll_at = Some(1425);
            }),
        )
        .await?;
    let expected = DeviceCode {
        state: DeviceState::Approved { user_id: BOB },
        last_poll_at: Some(1425),
        ..reused.clone()
    };
    assert_eq!(approved, Some(expected.clone()));
    assert_eq!(store.device_code(reused.hash).await?, Some(expected));
    for state in [DeviceState::Redeemed, DeviceState::Denied] {
        let changed = store
            .update_device_code(
                reused.hash,
                Box::new(move |d: &mut DeviceCode| d.state = state),
            )
            .await?;
        assert_eq!(changed.map(|d| d.state), Some(state));
        assert_eq!(
            store.device_code(reused.hash).await?.map(|d| d.state),
            Some(state)
        );
    }
    assert_eq!(
        store
            .update_device_code([9; 32], Box::new(|_: &mut DeviceCode| {}))
            .await?,
        None
    );
    assert_eq!(store.device_code(first.hash).await?, Some(first));
    Ok(())
}

/// A test user with id `id`, made at `at`.
fn test_person(id: UserId, at: i64) -> User {
    User {
        id,
        key: None,
        name: format!("Test User {id}"),
        email: Some(format!("test{id}@tfbnw.net")),
        password_hash: Some("$argon2id$v=19$fake".into()),
        status: AccountStatus::Active,
        created_at: at,
    }
}

/// Test users: stored with their person, listed per app oldest first, an id already a
/// person's refused.
pub async fn test_users<S: Store>(store: &S) -> StoreResult<()> {
    use graphtoken_core::codes::TestUserInsert::{AtLimit, IdTaken, Inserted};
    store.apply_world(&world()).await?;
    let (a, b, c) = (
        test_person(UserId(700), 50),
        test_person(UserId(600), 60),
        test_person(UserId(800), 40),
    );
    assert_eq!(store.insert_test_user(&a, MAIN_APP, 2).await?, Inserted);
    assert_eq!(store.insert_test_user(&b, MAIN_APP, 2).await?, Inserted);
    assert_eq!(store.insert_test_user(&c, OTHER_APP, 2).await?, Inserted);
    // The app has as many as it may: nothing is stored.
    let d = test_person(UserId(900), 70);
    assert_eq!(store.insert_test_user(&d, MAIN_APP, 2).await?, AtLimit);
    assert_eq!(store.user(d.id).await?, None);
    assert_eq!(store.user(a.id).await?, Some(a.clone()));
    assert_eq!(
        store.user_by_email("TEST700@tfbnw.net").await?,
        Some(a.clone())
    );

    // An id already a person's (a seeded one or a test user) is refused, and nothing changes.
    assert_eq!(
        store
            .insert_test_user(&test_person(ALICE, 70), OTHER_APP, 10)
            .await?,
        IdTaken
    );
    assert_eq!(
        store
            .insert_test_user(&test_person(a.id, 70), OTHER_APP, 10)
            .await?,
        IdTaken
    );
    assert_eq!(store.user(a.id).await?, Some(a.clone()));
    assert_eq!(store.test_user(ALICE).await?, None);

    let listed = store.test_users_of_app(MAIN_APP).await?;
    let ids: Vec<(UserId, AppId, i64)> = listed
        .iter()
        .map(|t| (t.user_id, t.app_id, t.created_at))
        .collect();
    assert_eq!(ids, [(a.id, MAIN_APP, 50), (b.id, MAIN_APP, 60)]);
    let other: Vec<UserId> = store
        .test_users_of_app(OTHER_APP)
        .await?
        .iter()
        .map(|t| t.user_id)
        .collect();
    assert_eq!(other, [c.id]);
    assert!(store.test_users_of_app(AppId(42)).await?.is_empty());
    assert_eq!(store.test_user(b.id).await?, Some(listed[1].clone()));
    assert_eq!(store.test_user(UserId(42)).await?, None);
    Ok(())
}

/// Deleting a person removes them and everything of theirs: grants, ids, tasks, roles,
/// sessions and tokens, content, codes, device logins they approved, test-user rows. Other
/// people keep theirs.
pub async fn delete_user<S: Store>(store: &S) -> StoreResult<()> {
    use graphtoken_core::content::{Author, Comment, Post};
    use graphtoken_core::messaging::Message;
    let w = world();
    store.apply_world(&w).await?;
    let session = store.create_session(ALICE, MAIN_APP, 1000).await?;
    let token = user_token(1, session.id, ALICE);
    store.insert_token(&token).await?;
    let page_token = TokenRecord {
        kind: StoredKind::Page,
        page_id: Some(CAFE),
        parent: Some(token.hash),
        long_lived: true,
        expires_at: 0,
        ..user_token(2, session.id, ALICE)
    };
    store.insert_token(&page_token).await?;
    let bob_session = store.create_session(BOB, MAIN_APP, 1000).await?;
    let bob_token = user_token(3, bob_session.id, BOB);
    store.insert_token(&bob_token).await?;
    store.ensure_psid(ALICE, CAFE, Psid(8001)).await?;
    let post = store
        .insert_post(&Post {
            id: 0,
            page_id: CAFE,
            app_id: Some(MAIN_APP),
            message: "hello".into(),
            link: None,
            published: true,
            created_at: 10,
            updated_at: 10,
        })
        .await?;
    let comment = |author| Comment {
        id: 0,
        post_id: post,
        app_id: None,
        author,
        message: "hi".into(),
        hidden: false,
        created_at: 20,
    };
    let hers = store.insert_comment(&comment(Author::User(ALICE))).await?;
    let bobs = store.insert_comment(&comment(Author::User(BOB))).await?;
    let conversation = store.ensure_conversation(CAFE, ALICE, 30).await?;
    let message = store
        .insert_message(&Message {
            id: 0,
            conversation_id: conversation,
            from_page: false,
            app_id: None,
            text: "hi".into(),
            created_at: 30,
        })
        .await?;
    let code = AuthCode {
        session_id: Some(session.id),
        ..auth_code(4, CodeKind::Client, None)
    };
    store.insert_code(&code).await?;
    let device = device_code(5, "ALIC2345", 1000);
    store.insert_device_code(&device).await?;
    store
        .update_device_code(
            device.hash,
            Box::new(|d: &mut DeviceCode| d.state = DeviceState::Approved { user_id: ALICE }),
        )
        .await?;
    let tester = test_person(UserId(700), 50);
    store.insert_test_user(&tester, MAIN_APP, 10).await?;
    // Alice holds the highest session id when she goes.
    let last = store.create_session(ALICE, MAIN_APP, 1001).await?;

    // What Alice was part of is reported: her grant and id's app, her Pages, the app whose
    // role she held.
    let gone = DeletedPerson {
        apps: vec![MAIN_APP],
        pages: vec![BAKERY, CAFE],
        roles: vec![MAIN_APP],
    };
    assert_eq!(store.delete_user(ALICE).await?, Some(gone));
    assert_eq!(store.delete_user(ALICE).await?, None);
    assert_eq!(store.user(ALICE).await?, None);
    assert_eq!(store.user_by_key("alice").await?, None);
    assert_eq!(store.user_by_email("alice@example.com").await?, None);
    assert_eq!(store.grant(ALICE, MAIN_APP).await?, None);
    assert_eq!(store.resolve_asid(Asid(9001)).await?, None);
    assert!(store.asids_of_user(ALICE).await?.is_empty());
    assert_eq!(store.resolve_psid(Psid(8001)).await?, None);
    assert!(store.pages_of_user(ALICE).await?.is_empty());
    assert_eq!(store.page_tasks(CAFE, ALICE).await?, None);
    let main = store.app(MAIN_APP).await?.ok_or_else(|| missing("app"))?;
    assert_eq!(main.roles, vec![(BOB, AppRole::Tester)]);
    assert_eq!(store.session(session.id).await?, None);
    assert_eq!(store.session(last.id).await?, None);
    // No session id is drawn twice (a user token's claims name its session).
    let next = store.create_session(BOB, MAIN_APP, 2000).await?;
    assert!(next.id.0 > last.id.0, "{next:?} after {last:?}");
    assert!(store.token_entry(token.hash).await?.is_none());
    assert!(store.token_entry(page_token.hash).await?.is_none());
    assert_eq!(store.token(token.hash).await?, None);
    assert_eq!(store.comment(hers).await?, None);
    assert_eq!(store.conversation(conversation).await?, None);
    assert_eq!(store.message(message).await?, None);
    assert_eq!(store.code(code.hash).await?, None);
    assert_eq!(store.device_code(device.hash).await?, None);

    // Everyone else keeps what is theirs.
    assert!(store.user(BOB).await?.is_some());
    assert!(store.grant(BOB, MAIN_APP).await?.is_some());
    assert!(store.token_entry(bob_token.hash).await?.is_some());
    assert!(store.comment(bobs).await?.is_some());
    assert_eq!(
        store.page_tasks(CAFE, BOB).await?.map(|t| t.user_id),
        Some(BOB)
    );
    assert!(store.test_user(tester.id).await?.is_some());

    // A test user goes with their test-user row.
    assert_eq!(
        store.delete_user(tester.id).await?,
        Some(DeletedPerson::default())
    );
    assert_eq!(store.test_user(tester.id).await?, None);
    assert!(store.test_users_of_app(MAIN_APP).await?.is_empty());
    assert_eq!(store.user(tester.id).await?, None);
    assert_eq!(store.delete_user(UserId(424242)).await?, None);
    Ok(())
}

/// A new name changes the name only: a password set meanwhile stays.
pub async fn set_user_name<S: Store>(store: &S) -> StoreResult<()> {
    store.apply_world(&world()).await?;
    let why = Invalidation {
        at: 100,
        reason: Reason::PasswordChanged,
    };
    store.set_password(ALICE, "new-hash".into(), why).await?;
    assert!(store.set_user_name(ALICE, "Alice Renamed").await?);
    let alice = store.user(ALICE).await?.ok_or_else(|| missing("user"))?;
    assert_eq!(alice.name, "Alice Renamed");
    assert_eq!(alice.password_hash.as_deref(), Some("new-hash"));
    assert_eq!(alice.email.as_deref(), Some("alice@example.com"));
    assert!(!store.set_user_name(UserId(424242), "Nobody").await?);
    Ok(())
}

/// A new, empty database on the PostgreSQL server at `base` (a URL whose user may create
/// databases, such as the test command's throwaway cluster); its URL.
///
/// It is named after this process (`gt_{pid}_{n}_{nanos}`). The databases of processes that
/// have ended are dropped first: nextest runs each test in a process of its own, and a run of
/// the whole suite would otherwise leave hundreds of them (about 10 MB each) on the disk.
pub fn fresh_postgres_database(base: &str) -> StoreResult<String> {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let me = std::process::id();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = format!("gt_{me}_{n}_{nanos}");
    let (head, query) = base.split_once('?').unwrap_or((base, ""));
    let server = head.rsplit_once('/').map_or(head, |(server, _)| server);
    let url = format!("{server}/{name}?{query}");
    on_postgres(base, move |client| async move {
        // Without /proc, whether a process has ended is not known: nothing is dropped.
        if std::path::Path::new("/proc/self").exists() {
            let rows = client
                .query(
                    "SELECT datname FROM pg_database WHERE datname LIKE 'gt\\_%'",
                    &[],
                )
                .await?;
            for row in rows {
                let old: String = row.get(0);
                // Only names made here (`gt_` and three numbers): nothing else is touched, and
                // the name needs no quoting.
                let parts: Vec<&str> = old.split('_').collect();
                let ours = parts.len() == 4
                    && parts[1..]
                        .iter()
                        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
                let ended = ours
                    && parts[1].parse::<u32>().is_ok_and(|pid| {
                        pid != me && !std::path::Path::new(&format!("/proc/{pid}")).exists()
                    });
                if ended {
                    // Another test may be dropping it too: that one's drop is enough.
                    let drop = format!("DROP DATABASE IF EXISTS {old} WITH (FORCE)");
                    let _ = client.batch_execute(&drop).await;
                }
            }
        }
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
    })?;
    Ok(url)
}

/// Runs `sql` (one or more statements) on the PostgreSQL database at `url`, on a connection of
/// its own: for tests that set up a database or act on the server itself.
pub fn postgres_batch(url: &str, sql: &str) -> StoreResult<()> {
    let sql = sql.to_owned();
    on_postgres(url, move |client| async move {
        client.batch_execute(&sql).await
    })
}

/// `work` on a connection of its own to the PostgreSQL database at `url`, on a thread and a
/// runtime of its own (the caller may be an async test).
fn on_postgres<T, F, W>(url: &str, work: W) -> StoreResult<T>
where
    T: Send + 'static,
    F: std::future::Future<Output = Result<T, tokio_postgres::Error>> + Send,
    W: FnOnce(tokio_postgres::Client) -> F + Send + 'static,
{
    let url = url.to_owned();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .map_err(|e| crate::postgres::describe(&e))?;
            let driver = tokio::spawn(connection);
            let done = work(client)
                .await
                .map_err(|e| crate::postgres::describe(&e));
            let _ = driver.await;
            done
        })
    })
    .join()
    .map_err(|_| StoreError::new("running SQL on PostgreSQL panicked"))?
    .map_err(|e| StoreError::new(format!("running SQL on PostgreSQL: {e}")))
}

/// The sign-in throttle's entries: a rule applied to them in one transaction; attempts sent at
/// once cannot slip between its check and its count; stale entries are forgotten.
pub async fn signin_throttle<S: Store>(store: &S) -> StoreResult<()> {
    use graphtoken_core::signin::{self, Key};
    let keys = Key::attempt("t@x.test", "192.0.2.1");
    let stored: Vec<String> = keys.iter().map(Key::stored).collect();
    let begin = |now: i64| {
        let keys = keys.clone();
        store.update_throttle(
            &stored,
            now,
            now - signin::WINDOW,
            Box::new(move |e| signin::begin(&keys, e, now)),
        )
    };
    // Sixteen at once: five start, the others must wait.
    let answers = futures_all((0..16).map(|_| begin(100))).await?;
    assert_eq!(
        answers.iter().filter(|a| a.is_ok()).count(),
        5,
        "{answers:?}"
    );
    assert_eq!(begin(100).await?, Err(30));
    // A success forgets the account's failures from this address.
    let keys2 = keys.clone();
    store
        .update_throttle(
            &stored,
            200,
            200 - signin::WINDOW,
            Box::new(move |e| {
                signin::succeed(&keys2, e);
                Ok(())
            }),
        )
        .await?
        .map_err(|w| StoreError::new(format!("told to wait {w} s")))?;
    assert_eq!(begin(200).await?, Ok(()));
    // Hours later nothing is remembered: the entries are read stale, pruned on the way, and
    // gone at the next look.
    let later = 200 + 3 * signin::WINDOW;
    let peek = || async {
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let record = std::sync::Arc::clone(&seen);
        store
            .update_throttle(
                &stored,
                later,
                later - signin::WINDOW,
                Box::new(move |e| {
                    // Replaced, not extended: a write may run twice.
                    *record
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = e.to_vec();
                    Ok(())
                }),
            )
            .await?
            .map_err(|w| StoreError::new(format!("told to wait {w} s")))?;
        let entries = seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        Ok::<_, StoreError>(entries)
    };
    let stale = peek().await?;
    assert!(stale.iter().all(Option::is_some), "{stale:?}");
    let gone = peek().await?;
    assert_eq!(gone, vec![None; stored.len()]);
    Ok(())
}

/// Runs futures at once (on the current task) and collects their results in order.
async fn futures_all<T, F>(futures: impl Iterator<Item = F>) -> StoreResult<Vec<T>>
where
    F: std::future::Future<Output = StoreResult<T>>,
{
    let pending: Vec<_> = futures.map(Box::pin).collect();
    let mut out = Vec::with_capacity(pending.len());
    // Polled together so that their store calls overlap.
    let mut pending: Vec<Option<_>> = pending.into_iter().map(Some).collect();
    let mut results: Vec<Option<StoreResult<T>>> = (0..pending.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (slot, result) in pending.iter_mut().zip(results.iter_mut()) {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(r) => {
                        *result = Some(r);
                        *slot = None;
                    }
                    std::task::Poll::Pending => done = false,
                }
            }
        }
        if done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    for r in results.into_iter().flatten() {
        out.push(r?);
    }
    Ok(out)
}

/// Shared rate-limit counts: calls handed on add up per counter and minute; what is read back
/// is everyone's count of the counters asked for, from the minute given; old counts go.
pub async fn rate_counts<S: Store>(store: &S) -> StoreResult<()> {
    let calls = vec![
        ("app:1".to_string(), 100, 3),
        ("user:1:7".to_string(), 100, 2),
        ("app:2".to_string(), 100, 9),
    ];
    let active = vec!["app:1".to_string(), "user:1:7".to_string()];
    let mut first = store.exchange_rate_counts(&calls, &active, 41).await?;
    first.sort();
    assert_eq!(
        first,
        vec![("app:1".into(), 100, 3), ("user:1:7".into(), 100, 2)]
    );
    // Another instance's calls add to the same minute; a later minute is its own.
    let more = vec![("app:1".to_string(), 100, 4), ("app:1".to_string(), 101, 1)];
    let mut second = store
        .exchange_rate_counts(&more, &["app:1".to_string()], 41)
        .await?;
    second.sort();
    assert_eq!(
        second,
        vec![("app:1".into(), 100, 7), ("app:1".into(), 101, 1)]
    );
    // Minutes before the window are not read; two hours on they are gone.
    let later = store
        .exchange_rate_counts(&[], &["app:1".to_string()], 101)
        .await?;
    assert_eq!(later, vec![("app:1".into(), 101, 1)]);
    let gone = store
        .exchange_rate_counts(&[], &["app:1".to_string(), "app:2".to_string()], 300)
        .await?;
    assert!(gone.is_empty(), "{gone:?}");
    // More counters than one query takes.
    let many: Vec<String> = (0..450).map(|i| format!("user:1:{i}")).collect();
    let calls: Vec<(String, i64, u32)> = many.iter().map(|k| (k.clone(), 300, 1)).collect();
    let all = store.exchange_rate_counts(&calls, &many, 250).await?;
    assert_eq!(all.len(), 450);
    Ok(())
}
