//! Page messaging (spec §3): conversations between a Page and a person, and their messages.

use super::Services;
use crate::error::GraphError;
use crate::events::{Change, Item};
use crate::messaging::{Conversation, Message};
use crate::model::{AppId, Id, PageId, UserId};

impl Services {
    pub async fn conversation(&self, id: Id) -> Result<Option<Conversation>, GraphError> {
        Ok(self.store.conversation(id).await?)
    }

    /// The Page's conversations, most recently updated first.
    pub async fn conversations_of_page(
        &self,
        page: PageId,
    ) -> Result<Vec<Conversation>, GraphError> {
        Ok(self.store.conversations_of_page(page).await?)
    }

    pub async fn message(&self, id: Id) -> Result<Option<Message>, GraphError> {
        Ok(self.store.message(id).await?)
    }

    /// The conversation's messages, oldest first.
    pub async fn messages_of_conversation(
        &self,
        conversation: Id,
    ) -> Result<Vec<Message>, GraphError> {
        Ok(self.store.messages_of_conversation(conversation).await?)
    }

    /// A message between the Page and the person, in their conversation (started when there is
    /// none): from the Page when `from_page`, else from the person. `app` is the app whose token
    /// sent it (`None`: Facebook itself). A person writing to the Page gets their page-scoped id
    /// for it; the Page writes only to a page-scoped id it already knows.
    pub async fn add_message(
        &self,
        page: PageId,
        user: UserId,
        from_page: bool,
        app: Option<AppId>,
        text: String,
    ) -> Result<Message, GraphError> {
        let now = self.now();
        if !from_page {
            self.psid(user, page).await?;
        }
        let conversation = self.store.ensure_conversation(page, user, now).await?;
        let mut m = Message {
            id: 0,
            conversation_id: conversation,
            from_page,
            app_id: app,
            text,
            created_at: now,
        };
        m.id = self.store.insert_message(&m).await?;
        self.content_changed(page, Item::Message(m.id), Change::Created);
        Ok(m)
    }
}
