//! SQL for Page messaging (see `graphtoken_core::messaging`): conversations and messages
//! (migration 4).

use graphtoken_core::messaging::{Conversation, Message};
use graphtoken_core::model::{Id, PageId, Unix, UserId};
use graphtoken_core::store::StoreResult;

use crate::args;
use crate::db::{Db, Row};
use crate::rows::{self, Sql};

const CONVERSATION_SELECT: &str = "SELECT c.id, c.page_id, c.user_id, c.updated_at, \
     (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id), \
     (SELECT m.message FROM messages m WHERE m.conversation_id = c.id ORDER BY m.id DESC LIMIT 1) \
     FROM conversations c";
const MESSAGE_COLS: &str = "id, conversation_id, from_page, app_id, message, created_at";

fn conversation_row(r: &Row) -> StoreResult<Conversation> {
    Ok(Conversation {
        id: rows::id(r, 0)?,
        page_id: rows::id(r, 1)?,
        user_id: rows::id(r, 2)?,
        updated_at: r.get(3)?,
        message_count: r.get::<i64>(4)? as u64,
        snippet: r.get(5)?,
    })
}

fn message_row(r: &Row) -> StoreResult<Message> {
    Ok(Message {
        id: rows::id(r, 0)?,
        conversation_id: rows::id(r, 1)?,
        from_page: r.get(2)?,
        app_id: rows::opt_id(r, 3)?,
        text: r.get(4)?,
        created_at: r.get(5)?,
    })
}

/// The conversation of a Page and a person, started if there is none; in the caller's
/// transaction.
pub(crate) fn ensure_conversation(
    db: &dyn Db,
    page: PageId,
    user: UserId,
    at: Unix,
) -> StoreResult<Id> {
    let what = "starting a conversation";
    db.execute(
        "INSERT INTO conversations (page_id, user_id, updated_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT (page_id, user_id) DO NOTHING",
        args![page.sql(), user.sql(), at],
        what,
    )?;
    let id: i64 = db.required(
        "SELECT id FROM conversations WHERE page_id = ?1 AND user_id = ?2",
        args![page.sql(), user.sql()],
        |r| r.get(0),
        what,
    )?;
    Ok(id as Id)
}

pub(crate) fn conversation(db: &dyn Db, id: Id) -> StoreResult<Option<Conversation>> {
    db.one(
        &format!("{CONVERSATION_SELECT} WHERE c.id = ?1"),
        args![id.sql()],
        conversation_row,
        "loading a conversation",
    )
}

pub(crate) fn conversations_of_page(db: &dyn Db, page: PageId) -> StoreResult<Vec<Conversation>> {
    let what = "listing a Page's conversations";
    db.all(
        &format!(
            "{CONVERSATION_SELECT} WHERE c.page_id = ?1 ORDER BY c.updated_at DESC, c.id DESC"
        ),
        args![page.sql()],
        conversation_row,
        what,
    )
}

/// Stores a message and bumps its conversation's `updated_at`, in the caller's transaction.
pub(crate) fn insert_message(db: &dyn Db, m: &Message) -> StoreResult<Id> {
    let what = "storing a message";
    let id: i64 = db.insert(
        "INSERT INTO messages (conversation_id, from_page, app_id, message, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
        args![
            m.conversation_id.sql(),
            m.from_page,
            m.app_id.map(|a| a.sql()),
            m.text,
            m.created_at
        ],
        what,
    )?;
    db.execute(
        "UPDATE conversations SET updated_at = CASE WHEN updated_at > ?1 THEN updated_at ELSE ?1 END \
         WHERE id = ?2",
        args![m.created_at, m.conversation_id.sql()],
        what,
    )?;
    Ok(id as Id)
}

pub(crate) fn message(db: &dyn Db, id: Id) -> StoreResult<Option<Message>> {
    db.one(
        &format!("SELECT {MESSAGE_COLS} FROM messages WHERE id = ?1"),
        args![id.sql()],
        message_row,
        "loading a message",
    )
}

pub(crate) fn messages_of_conversation(db: &dyn Db, conv: Id) -> StoreResult<Vec<Message>> {
    let what = "listing a conversation's messages";
    db.all(
        &format!("SELECT {MESSAGE_COLS} FROM messages WHERE conversation_id = ?1 ORDER BY id"),
        args![conv.sql()],
        message_row,
        what,
    )
}

#[cfg(test)]
mod tests {
    use graphtoken_core::messaging::Message;
    use graphtoken_core::store::{ContentStore, DirectoryStore, Store, StoreResult};

    use crate::conformance::{world, ALICE, BAKERY, BOB, CAFE, MAIN_APP};
    use crate::SqliteStore;

    fn message(conversation: u64, from_page: bool, text: &str, at: i64) -> Message {
        Message {
            id: 0,
            conversation_id: conversation,
            from_page,
            app_id: from_page.then_some(MAIN_APP),
            text: text.into(),
            created_at: at,
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn conversations_and_messages() -> StoreResult<()> {
        let store = SqliteStore::open("sqlite::memory:")?;
        store.migrate().await?;
        store.apply_world(&world()).await?;

        let bob = store.ensure_conversation(CAFE, BOB, 10).await?;
        assert_eq!(store.ensure_conversation(CAFE, BOB, 20).await?, bob);
        let alice = store.ensure_conversation(CAFE, ALICE, 30).await?;
        assert_ne!(alice, bob);
        store.ensure_conversation(BAKERY, BOB, 40).await?;

        let empty = store.conversation(bob).await?.unwrap();
        assert_eq!((empty.message_count, empty.snippet), (0, None));
        assert_eq!(empty.updated_at, 10);

        let m1 = store.insert_message(&message(bob, false, "hi", 50)).await?;
        let m2 = store
            .insert_message(&message(bob, true, "hello", 60))
            .await?;
        assert!(m2 > m1);

        let list = store.conversations_of_page(CAFE).await?;
        let ids: Vec<u64> = list.iter().map(|c| c.id).collect();
        assert_eq!(ids, [bob, alice], "most recently updated first");
        assert_eq!(list[0].message_count, 2);
        assert_eq!(list[0].snippet.as_deref(), Some("hello"));
        assert_eq!(list[0].updated_at, 60);

        let msgs = store.messages_of_conversation(bob).await?;
        let texts: Vec<&str> = msgs.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts, ["hi", "hello"]);
        assert_eq!(
            store.message(m2).await?,
            Some(Message {
                id: m2,
                ..message(bob, true, "hello", 60)
            })
        );
        assert_eq!(store.message(m2 + 100).await?, None);
        assert_eq!(store.conversation(9999).await?, None);
        Ok(())
    }
}
