//! Page messaging's Graph surface (spec §3, MESSAGING task, `pages_messaging`):
//! `GET /{page-id}/conversations`, `GET /{conversation-id}` (`t_<n>`) with its `messages` edge,
//! `GET /{message-id}` (`m_<n>`), and the Send API `POST /{page-id}/messages` to a page-scoped
//! id. Every call is under the policy's MESSAGING operation (a Page token of that Page).
//!
//! The person in a conversation appears to the Page under their page-scoped id (PSID). Sending
//! to a person the Page has no conversation with starts one (graphtoken has no 24-hour window).
//!
//! A message the Page sent through an app in development mode is visible only to callers whose
//! person has a role on that app (spec §4, as posts and comments are): hidden messages are left
//! out of every list, count and snippet, `GET /m_<n>` answers as for an unknown object, and a
//! conversation whose every message is hidden is hidden as a whole.

use serde_json::{json, Map, Value};

use crate::auth::Caller;
use crate::error::GraphError;
use crate::fields::{self, selection, Field};
use crate::messaging::{self, Conversation, Message};
use crate::model::{Id, Page, PageId, Psid, UserId};
use crate::policy::MESSAGING;
use crate::request::{GraphRequest, Method};
use crate::services::Services;
use crate::timefmt;

use super::paging::{self, EdgeQuery, Window};

const CONVERSATION_FIELDS: &[&str] = super::catalogue::CONVERSATION;
const CONVERSATION_DEFAULTS: &[&str] = &["id", "updated_time"];

const MESSAGE_FIELDS: &[&str] = &[
    "id",
    "message",
    "created_time",
    "from",
    "to",
    "attachments",
    "shares",
    "sticker",
    "tags",
];
const MESSAGE_DEFAULTS: &[&str] = &["id", "created_time"];

/// Whether a path segment names a conversation or a message.
pub fn is_object(segment: &str) -> bool {
    messaging::split_id(segment).is_some()
}

/// `(#100) No matching user found` (Send API, subcode 2018001).
fn no_matching_user() -> GraphError {
    GraphError::new(100, "OAuthException", "(#100) No matching user found").with_subcode(2018001)
}

// ---- /{page-id}/conversations, /{page-id}/messages ---------------------------------------------

pub async fn page_edge(
    g: &Services,
    req: &GraphRequest,
    caller: &Caller,
    page: &Page,
    edge: &str,
) -> Result<Value, GraphError> {
    match (req.method, edge) {
        (Method::Get, "conversations") => {
            read_conversations(g, req, caller, page, &EdgeQuery::from_request(req)?).await
        }
        (Method::Post, "messages") => send(g, req, caller, page).await,
        _ => Err(GraphError::unknown_object(
            &page.id.to_string(),
            req.method.as_str(),
        )),
    }
}

/// `GET /{page-id}/conversations`, and the Page field `conversations{messages{message}}`:
/// MESSAGING, then one window of conversations.
pub async fn read_conversations(
    g: &Services,
    req: &GraphRequest,
    caller: &Caller,
    page: &Page,
    q: &EdgeQuery,
) -> Result<Value, GraphError> {
    g.authorize(caller, page.id, &MESSAGING).await?;
    let v = View { g, req, caller };
    v.conversations(
        page,
        q.fields.as_deref(),
        q.fields_param.as_deref(),
        &q.window,
    )
    .await
}

/// The Send API: `recipient={"id": "<psid>"}`, `message={"text": "..."}`, optional
/// `messaging_type` → `{"recipient_id", "message_id"}`.
async fn send(
    g: &Services,
    req: &GraphRequest,
    caller: &Caller,
    page: &Page,
) -> Result<Value, GraphError> {
    g.authorize(caller, page.id, &MESSAGING).await?;
    if let Some(t) = req.params.non_empty("messaging_type") {
        if !matches!(t, "RESPONSE" | "UPDATE" | "MESSAGE_TAG") {
            return Err(GraphError::param(format!(
                "Param messaging_type must be one of {{RESPONSE, UPDATE, MESSAGE_TAG}} - got \"{t}\""
            )));
        }
    }
    let recipient = req
        .params
        .non_empty("recipient")
        .ok_or_else(|| GraphError::param("The parameter recipient is required"))?;
    let recipient: Value = serde_json::from_str(recipient)
        .map_err(|_| GraphError::param("param recipient must be a JSON object"))?;
    let psid_text = match recipient.get("id") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(no_matching_user()),
    };
    let psid: Psid = psid_text.parse().map_err(|_| no_matching_user())?;
    let user = match g.resolve_psid(psid).await? {
        Some((user, p)) if p == page.id => user,
        _ => return Err(no_matching_user()),
    };
    let text = req
        .params
        .non_empty("message")
        .and_then(|m| serde_json::from_str::<Value>(m).ok())
        .and_then(|m| m.get("text").and_then(Value::as_str).map(str::to_string))
        .filter(|t| !t.is_empty())
        .ok_or_else(|| GraphError::param("Must send either message or sender action"))?;
    let app = Some(caller.principal.app().id);
    let m = g.add_message(page.id, user, true, app, text).await?;
    Ok(json!({ "recipient_id": psid.to_string(), "message_id": m.public_id() }))
}

// ---- /t_<n>, /t_<n>/messages, /m_<n> ------------------------------------------------------------

pub async fn object(
    g: &Services,
    req: &GraphRequest,
    caller: &Caller,
    segment: &str,
    rest: &[&str],
) -> Result<Value, GraphError> {
    let not_found = || GraphError::unknown_object(segment, req.method.as_str());
    let (kind, n) = messaging::split_id(segment).ok_or_else(not_found)?;
    if req.method != Method::Get {
        return Err(not_found());
    }
    let fields = req.params.get("fields").map(fields::parse).transpose()?;
    let v = View { g, req, caller };
    match kind {
        't' => {
            let c = g.conversation(n).await?.ok_or_else(not_found)?;
            let c = v.visible_conversation(c).await?.ok_or_else(not_found)?;
            g.authorize(caller, c.page_id, &MESSAGING).await?;
            let page = v.page(c.page_id).await?;
            match rest {
                [] => v.conversation(&page, &c, fields.as_deref()).await,
                ["messages"] => v.messages(&page, &c, &EdgeQuery::from_request(req)?).await,
                _ => Err(GraphError::unknown_path(&format!("/{}", rest.join("/")))),
            }
        }
        _ => {
            let m = g.message(n).await?.ok_or_else(not_found)?;
            if !g.visible(caller, m.app_id).await? {
                return Err(not_found());
            }
            let c = g
                .conversation(m.conversation_id)
                .await?
                .ok_or_else(not_found)?;
            g.authorize(caller, c.page_id, &MESSAGING).await?;
            let page = v.page(c.page_id).await?;
            if !rest.is_empty() {
                return Err(GraphError::unknown_path(&format!("/{}", rest.join("/"))));
            }
            v.message(&page, &c, &m, fields.as_deref()).await
        }
    }
}

// ---- rendering ----------------------------------------------------------------------------------

struct View<'a> {
    g: &'a Services,
    req: &'a GraphRequest,
    caller: &'a Caller,
}

impl View<'_> {
    /// The conversation's messages the caller may see, oldest first.
    async fn visible_messages(&self, c: &Conversation) -> Result<Vec<Message>, GraphError> {
        let all = self.g.messages_of_conversation(c.id).await?;
        self.g.visible_only(self.caller, all, |m| m.app_id).await
    }

    /// The conversation as the caller sees it: `None` when it has messages and every one is
    /// hidden; otherwise its count, snippet and time from the visible messages only.
    async fn visible_conversation(
        &self,
        c: Conversation,
    ) -> Result<Option<Conversation>, GraphError> {
        let all = self.g.messages_of_conversation(c.id).await?;
        let total = all.len();
        let shown = self.g.visible_only(self.caller, all, |m| m.app_id).await?;
        if shown.len() == total {
            return Ok(Some(c));
        }
        let Some(newest) = shown.last() else {
            return Ok(None);
        };
        Ok(Some(Conversation {
            updated_at: newest.created_at,
            message_count: shown.len() as u64,
            snippet: Some(newest.text.clone()),
            ..c
        }))
    }

    async fn page(&self, id: PageId) -> Result<std::sync::Arc<Page>, GraphError> {
        self.g
            .page(id)
            .await?
            .ok_or_else(|| GraphError::internal_because("a conversation of a Page that is gone"))
    }

    /// `{"id": "<psid>", "name"}` for the person, `{"id": "<page-id>", "name"}` for the Page.
    async fn person(&self, page: &Page, user: UserId) -> Result<Value, GraphError> {
        let name = self
            .g
            .user(user)
            .await?
            .map(|u| u.name.clone())
            .unwrap_or_default();
        let psid = self.g.psid(user, page.id).await?;
        Ok(json!({"name": name, "id": psid.to_string()}))
    }

    fn page_party(page: &Page) -> Value {
        json!({"name": page.name, "id": page.id.to_string()})
    }

    async fn conversations(
        &self,
        page: &Page,
        fields: Option<&[Field]>,
        fields_param: Option<&str>,
        w: &Window,
    ) -> Result<Value, GraphError> {
        let mut all = Vec::new();
        for c in self.g.conversations_of_page(page.id).await? {
            if let Some(c) = self.visible_conversation(c).await? {
                all.push(c);
            }
        }
        // Hidden messages may have moved a conversation's time back.
        all.sort_by_key(|c| std::cmp::Reverse(c.updated_at));
        // Most recently updated first: positional cursors (1-based).
        let keys: Vec<Id> = (1..=all.len() as Id).collect();
        let (range, more_before, more_after) = w.apply(&keys);
        let ends = (!range.is_empty()).then(|| (keys[range.start], keys[range.end - 1]));
        let mut items = Vec::with_capacity(range.len());
        for c in &all[range] {
            items.push(self.conversation(page, c, fields).await?);
        }
        Ok(paging::page(
            self.req,
            paging::Slice {
                edge_path: paging::EdgePath {
                    node: &page.id,
                    edge: "conversations",
                },
                fields: fields_param,
                items,
                first_last: ends,
                more_before,
                more_after,
                limit: w.limit,
            },
        ))
    }

    async fn conversation(
        &self,
        page: &Page,
        c: &Conversation,
        fields: Option<&[Field]>,
    ) -> Result<Value, GraphError> {
        let mut out = Map::new();
        for f in selection(fields, CONVERSATION_DEFAULTS) {
            let v = match f.name.as_str() {
                "id" => Some(json!(c.public_id())),
                "link" => Some(json!(format!("/{}/inbox/{}/", page.id, c.id))),
                "updated_time" => Some(json!(timefmt::graph_time(c.updated_at))),
                "message_count" => Some(json!(c.message_count)),
                "unread_count" => Some(json!(0)),
                "snippet" => Some(json!(c.snippet.clone().unwrap_or_default())),
                "can_reply" => Some(json!(true)),
                "is_subscribed" => Some(json!(true)),
                "participants" | "senders" => Some(json!({"data": [
                    self.person(page, c.user_id).await?,
                    Self::page_party(page),
                ]})),
                "messages" => {
                    let q = EdgeQuery::from_field(&f)?;
                    Some(Box::pin(self.messages(page, c, &q)).await?)
                }
                other if CONVERSATION_FIELDS.contains(&other) => None,
                other => return Err(GraphError::unknown_field(other, "UnifiedThread")),
            };
            if let Some(v) = v {
                out.insert(f.name.clone(), v);
            }
        }
        Ok(Value::Object(out))
    }

    /// The conversation's messages, newest first.
    async fn messages(
        &self,
        page: &Page,
        c: &Conversation,
        q: &EdgeQuery,
    ) -> Result<Value, GraphError> {
        let (fields, fields_param, w) = (q.fields.as_deref(), q.fields_param.as_deref(), &q.window);
        let all: Vec<Message> = self.visible_messages(c).await?.into_iter().rev().collect();
        let keys: Vec<Id> = all
            .iter()
            .map(|m| super::content::newest_first_key(m.id))
            .collect();
        let (range, more_before, more_after) = w.apply(&keys);
        let ends = (!range.is_empty()).then(|| (keys[range.start], keys[range.end - 1]));
        let mut items = Vec::with_capacity(range.len());
        for m in &all[range] {
            items.push(self.message(page, c, m, fields).await?);
        }
        Ok(paging::page(
            self.req,
            paging::Slice {
                edge_path: paging::EdgePath {
                    node: &c.public_id(),
                    edge: "messages",
                },
                fields: fields_param,
                items,
                first_last: ends,
                more_before,
                more_after,
                limit: w.limit,
            },
        ))
    }

    async fn message(
        &self,
        page: &Page,
        c: &Conversation,
        m: &Message,
        fields: Option<&[Field]>,
    ) -> Result<Value, GraphError> {
        let mut out = Map::new();
        for f in selection(fields, MESSAGE_DEFAULTS) {
            let v = match f.name.as_str() {
                "id" => Some(json!(m.public_id())),
                "message" => Some(json!(m.text)),
                "created_time" => Some(json!(timefmt::graph_time(m.created_at))),
                "from" | "to" => {
                    let person = self.person(page, c.user_id).await?;
                    let page_party = Self::page_party(page);
                    let (from, to) = if m.from_page {
                        (page_party, person)
                    } else {
                        (person, page_party)
                    };
                    Some(if f.name == "from" {
                        from
                    } else {
                        json!({ "data": [to] })
                    })
                }
                other if MESSAGE_FIELDS.contains(&other) => None,
                other => return Err(GraphError::unknown_field(other, "Message")),
            };
            if let Some(v) = v {
                out.insert(f.name.clone(), v);
            }
        }
        Ok(Value::Object(out))
    }
}
