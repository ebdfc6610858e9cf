//! Seeded Page content (posts, followers' comments, incoming messages), written inside
//! [`crate::world::apply_world`]'s transaction.
//!
//! Each item is created once: its seed key is recorded in `seed_keys` with the row it created,
//! and an item whose key is already recorded is left as it is (even if the app has since edited
//! or deleted the row), so re-applying a seed file creates nothing twice.

use graphtoken_core::content::Author;
use graphtoken_core::model::Id;
use graphtoken_core::store::{SeedMessage, SeedPost, StoreError, StoreResult};

use crate::args;
use crate::db::Db;
use crate::rows::Sql;

fn seeded(db: &dyn Db, kind: &str, key: &str) -> StoreResult<Option<Id>> {
    let what = "loading a seed key";
    db.one(
        "SELECT id FROM seed_keys WHERE kind = ?1 AND key = ?2",
        args![kind, key],
        |r| r.get::<i64>(0),
        what,
    )
    .map(|id| id.map(|id| id as Id))
}

fn record(db: &dyn Db, kind: &str, key: &str, id: Id) -> StoreResult<()> {
    let what = "recording a seed key";
    db.execute(
        "INSERT INTO seed_keys (kind, key, id) VALUES (?1, ?2, ?3)",
        args![kind, key, id.sql()],
        what,
    )?;
    Ok(())
}

/// Creates the post unless its key is recorded, then each comment not yet recorded (while the
/// post still exists).
pub(crate) fn seed_post(db: &dyn Db, p: &SeedPost) -> StoreResult<()> {
    let what = "storing a seeded post";
    let post_id = match seeded(db, "post", &p.key)? {
        Some(id) => id,
        None => {
            let id = crate::content::next_id(db, "post")?;
            let post = &p.post;
            db.execute(
                "INSERT INTO posts (id, page_id, app_id, message, link, published, created_at, \
                 updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                args![
                    id.sql(),
                    post.page_id.sql(),
                    post.app_id.map(|a| a.sql()),
                    post.message,
                    post.link,
                    post.published,
                    post.created_at,
                    post.updated_at
                ],
                what,
            )?;
            record(db, "post", &p.key, id)?;
            id
        }
    };
    if crate::content::post(db, post_id)?.is_none() {
        return Ok(());
    }
    let what = "storing a seeded comment";
    for (key, c) in &p.comments {
        if seeded(db, "comment", key)?.is_some() {
            continue;
        }
        let id = crate::content::next_id(db, "comment")?;
        let user = match c.author {
            Author::User(u) => Some(u.sql()),
            Author::Page => None,
        };
        db.execute(
            "INSERT INTO comments (id, post_id, app_id, user_id, message, hidden, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            args![
                id.sql(),
                post_id.sql(),
                c.app_id.map(|a| a.sql()),
                user,
                c.message,
                c.hidden,
                c.created_at
            ],
            what,
        )?;
        record(db, "comment", key, id)?;
    }
    Ok(())
}

/// Creates the message unless its key is recorded, with the person's page-scoped id and the
/// conversation when they are missing.
pub(crate) fn seed_message(db: &dyn Db, m: &SeedMessage) -> StoreResult<()> {
    if seeded(db, "message", &m.key)?.is_some() {
        return Ok(());
    }
    let what = "storing a seeded message";
    if crate::psids::ensure_psid(db, m.user_id, m.page_id, m.psid)?.is_none() {
        return Err(StoreError::new(format!(
            "{what}: page-scoped id {} is already taken",
            m.psid
        )));
    }
    db.execute(
        "INSERT INTO conversations (page_id, user_id, updated_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT (page_id, user_id) DO NOTHING",
        args![m.page_id.sql(), m.user_id.sql(), m.created_at],
        what,
    )?;
    let conversation: i64 = db.required(
        "SELECT id FROM conversations WHERE page_id = ?1 AND user_id = ?2",
        args![m.page_id.sql(), m.user_id.sql()],
        |r| r.get(0),
        what,
    )?;
    let id: i64 = db.insert(
        "INSERT INTO messages (conversation_id, from_page, app_id, message, created_at) \
         VALUES (?1, 0, NULL, ?2, ?3)",
        args![conversation, m.text, m.created_at],
        what,
    )?;
    db.execute(
        "UPDATE conversations SET updated_at = CASE WHEN updated_at > ?1 THEN updated_at ELSE ?1 END \
         WHERE id = ?2",
        args![m.created_at, conversation],
        what,
    )?;
    record(db, "message", &m.key, id as Id)
}

#[cfg(test)]
mod tests {
    use graphtoken_core::content::{Author, Comment, Post};
    use graphtoken_core::model::Psid;
    use graphtoken_core::store::{
        ContentStore, DirectoryStore, SeedMessage, SeedPost, Store, StoreResult,
    };

    use crate::conformance::{world, BOB, CAFE, MAIN_APP};
    use crate::SqliteStore;

    #[tokio::test(flavor = "multi_thread")]
    async fn seeded_content_is_created_once() -> StoreResult<()> {
        let store = SqliteStore::open("sqlite::memory:")?;
        store.migrate().await?;
        let comment = |text: &str| Comment {
            id: 0,
            post_id: 0,
            app_id: None,
            author: Author::User(BOB),
            message: text.into(),
            hidden: false,
            created_at: 20,
        };
        let mut w = world();
        w.posts.push(SeedPost {
            key: "p".into(),
            post: Post {
                id: 0,
                page_id: CAFE,
                app_id: Some(MAIN_APP),
                message: "hello".into(),
                link: None,
                published: true,
                created_at: 10,
                updated_at: 10,
            },
            comments: vec![("p#1".into(), comment("one"))],
        });
        w.messages.push(SeedMessage {
            key: "m".into(),
            page_id: CAFE,
            user_id: BOB,
            psid: Psid(777_000_001),
            text: "hi".into(),
            created_at: 30,
        });
        store.apply_world(&w).await?;
        store.apply_world(&w).await?;
        let posts = store.posts_of_page(CAFE).await?;
        assert_eq!(posts.len(), 1);
        assert_eq!(store.comments_of_post(posts[0].id).await?.len(), 1);
        // A comment added at the end of the list is created by the next apply.
        w.posts[0].comments.push(("p#2".into(), comment("two")));
        store.apply_world(&w).await?;
        let texts: Vec<String> = store
            .comments_of_post(posts[0].id)
            .await?
            .into_iter()
            .map(|c| c.message)
            .collect();
        assert_eq!(texts, ["one", "two"]);
        let convs = store.conversations_of_page(CAFE).await?;
        assert_eq!(convs.len(), 1);
        assert_eq!((convs[0].message_count, convs[0].updated_at), (1, 30));
        assert_eq!(
            store.resolve_psid(Psid(777_000_001)).await?,
            Some((BOB, CAFE))
        );
        Ok(())
    }
}
