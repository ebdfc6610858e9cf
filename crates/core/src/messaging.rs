//! Page messaging records (spec §3, MESSAGING task): conversations between a Page and a person
//! (one per Page × person; the person appears to the Page under their page-scoped id), and the
//! messages in them.
//!
//! A conversation's public id is `t_<n>`, a message's `m_<n>`; the store numbers both in
//! creation order.

use crate::model::{AppId, Id, PageId, Unix, UserId};

/// A conversation between a Page and one person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conversation {
    pub id: Id,
    pub page_id: PageId,
    pub user_id: UserId,
    /// When the newest message arrived (or the conversation started).
    pub updated_at: Unix,
    pub message_count: u64,
    /// The newest message's text.
    pub snippet: Option<String>,
}

impl Conversation {
    /// `t_<n>`.
    pub fn public_id(&self) -> String {
        format!("t_{}", self.id)
    }
}

/// One message in a conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Assigned by the store on insert.
    pub id: Id,
    pub conversation_id: Id,
    /// True when the Page sent it (Send API), false when the person did.
    pub from_page: bool,
    /// The app whose token sent it; `None` for people's messages.
    pub app_id: Option<AppId>,
    pub text: String,
    pub created_at: Unix,
}

impl Message {
    /// `m_<n>`.
    pub fn public_id(&self) -> String {
        format!("m_{}", self.id)
    }
}

/// The number in `t_<n>` (conversation) or `m_<n>` (message): `(prefix, n)`.
pub fn split_id(id: &str) -> Option<(char, Id)> {
    let (p, n) = id.split_once('_')?;
    let p = match p {
        "t" => 't',
        "m" => 'm',
        _ => return None,
    };
    Some((p, n.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert_eq!(split_id("t_12"), Some(('t', 12)));
        assert_eq!(split_id("m_3"), Some(('m', 3)));
        assert_eq!(split_id("12_3"), None);
        assert_eq!(split_id("t_x"), None);
    }
}
