//! `GET /debug_token` (spec §2.4): the truth about a token, as Facebook tells it. An input
//! token that does not work is still HTTP 200, with `is_valid: false` and an `error` object.
//!
//! The answer is typed ([`Data`]) and written straight into the body by its `Serialize`: the
//! endpoint is hot (every server-side integration checks its tokens with it), and building a
//! `serde_json::Value` first cost an allocation for each key and each value.

use std::sync::Arc;

use serde_core::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::auth::{Caller, Inspection, LoadedToken, Principal};
use crate::error::GraphError;
use crate::model::{App, AppId, PageId, StoredKind};
use crate::permissions::{self, PUBLIC_PROFILE};
use crate::policy;
use crate::request::GraphRequest;
use crate::services::{KeptDebug, Services};
use crate::written::Written;

use super::json::AsText;
use super::require_get;

pub async fn debug_token(
    g: &Services,
    req: &GraphRequest,
    caller: &Caller,
) -> Result<Data, GraphError> {
    require_get(req, "debug_token")?;
    let viewer = policy::debug_token_viewer(caller)?;
    let input = req
        .params
        .non_empty("input_token")
        .ok_or_else(|| GraphError::param("The parameter input_token is required"))?;
    inspect(g, input, Some(viewer)).await
}

/// What `debug_token` says of a token: its `data` object.
pub enum Data {
    /// Not a token of ours, or not one that can be read.
    Unknown(GraphError),
    /// An app token.
    App(Arc<App>),
    /// A client token, which `debug_token` does not describe.
    Client,
    /// A user or Page token; `error` says why it does not work, if it does not. `page_ids`:
    /// the Pages its Page permissions name (empty when it has none, or does not work).
    Token {
        token: Arc<LoadedToken>,
        error: Option<GraphError>,
        page_ids: Vec<PageId>,
    },
    /// A working user or Page token's answer, as kept in its cached entry.
    Kept(Arc<KeptDebug>),
}

/// What `debug_token` says of `input`, as seen by the app `viewer` (any app when `None`: the
/// admin API's view).
pub async fn inspect(g: &Services, input: &str, viewer: Option<AppId>) -> Result<Data, GraphError> {
    let (principal, error) = match g.inspect(input).await? {
        Inspection::Unknown(e) => return Ok(Data::Unknown(e)),
        Inspection::Known { principal, error } => (principal, error),
    };
    policy::may_debug(viewer, principal.app().id)?;
    Ok(match principal {
        Principal::App(app) => Data::App(app),
        Principal::Client(_) => Data::Client,
        Principal::User(token) | Principal::Page(token) if error.is_some() => Data::Token {
            token,
            error,
            page_ids: Vec::new(),
        },
        Principal::User(token) | Principal::Page(token) => {
            if let Some(kept) = g.kept_debug(&token) {
                return Ok(Data::Kept(kept));
            }
            let needs_pages = token.token.kind != StoredKind::SessionInfo
                && token
                    .grant
                    .as_ref()
                    .is_some_and(|g| g.granted.iter().any(|s| permissions::is_page_scoped(s)));
            let (ticket, page_ids) = if needs_pages {
                let ticket = g.page_list_ticket(token.user.id);
                let ids = g.page_ids_of_user(token.user.id).await?;
                (
                    Some(ticket),
                    policy::chosen_page_ids(token.grant.as_deref(), &ids),
                )
            } else {
                (None, Vec::new())
            };
            // Written out once, and kept: while the token works, what it shows changes only
            // with its app, its grant or the person's Pages ([`KeptDebug`]).
            let working = Working {
                token: &token,
                page_ids: &page_ids,
            };
            match Written::of(&Whole(&working)) {
                Ok(body) => Data::Kept(g.keep_debug(&token, ticket, body)),
                Err(_) => Data::Token {
                    token,
                    error: None,
                    page_ids,
                },
            }
        }
    })
}

impl Serialize for Data {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if let Data::Kept(kept) = self {
            // The `data` object inside the answer kept whole.
            return kept
                .body
                .serialize_part(DATA..kept.body.len().saturating_sub(1), s);
        }
        let none: [&str; 0] = [];
        let mut d = s.serialize_map(None)?;
        match self {
            Data::Unknown(e) => {
                d.serialize_entry("error", &e.to_debug_json())?;
                d.serialize_entry("is_valid", &false)?;
                d.serialize_entry("scopes", &none)?;
            }
            Data::App(app) => {
                d.serialize_entry("app_id", &AsText(app.id))?;
                d.serialize_entry("type", "APP")?;
                d.serialize_entry("application", &app.name)?;
                d.serialize_entry("is_valid", &true)?;
                d.serialize_entry("scopes", &none)?;
            }
            Data::Client => {
                d.serialize_entry("error", &GraphError::bad_signature().to_debug_json())?;
                d.serialize_entry("is_valid", &false)?;
                d.serialize_entry("scopes", &none)?;
            }
            Data::Token {
                token,
                error,
                page_ids,
            } => describe(&mut d, token, error.as_ref(), page_ids)?,
            Data::Kept(_) => {} // Written above.
        }
        d.end()
    }
}

/// Where the `data` object starts in a `debug_token` answer written whole (`{"data":{…}}`).
const DATA: usize = r#"{"data":"#.len();

/// An answer whole: `{"data": …}`.
pub(super) struct Whole<T>(pub T);

impl<T: Serialize> Serialize for Whole<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry("data", &self.0)?;
        m.end()
    }
}

/// A working user or Page token's `data` object, as kept.
struct Working<'a> {
    token: &'a LoadedToken,
    page_ids: &'a [PageId],
}

impl Serialize for Working<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut d = s.serialize_map(None)?;
        describe(&mut d, self.token, None, self.page_ids)?;
        d.end()
    }
}

/// A user or Page token, in the field order of Facebook's captured answers.
fn describe<M: SerializeMap>(
    d: &mut M,
    t: &LoadedToken,
    error: Option<&GraphError>,
    page_ids: &[PageId],
) -> Result<(), M::Error> {
    d.serialize_entry("app_id", &AsText(t.app.id))?;
    // A token of a Page says PAGE (a session info token says what its source token says).
    let kind = if t.token.page_id.is_some() {
        "PAGE"
    } else {
        "USER"
    };
    d.serialize_entry("type", kind)?;
    d.serialize_entry("application", &t.app.name)?;
    // A session info token opens no data: no data access, no scopes.
    let session_info = t.token.kind == StoredKind::SessionInfo;
    if let Some(grant) = t.grant.as_ref().filter(|_| !session_info) {
        d.serialize_entry("data_access_expires_at", &grant.data_access_expires_at())?;
    }
    if let Some(e) = error {
        d.serialize_entry("error", &e.to_debug_json())?;
    }
    d.serialize_entry("expires_at", &t.token.expires_at)?;
    d.serialize_entry("is_valid", &error.is_none())?;
    if t.token.long_lived {
        d.serialize_entry("issued_at", &t.token.issued_at)?;
    }
    if let Some((page, _)) = &t.page {
        d.serialize_entry("profile_id", &AsText(page.id))?;
    }
    // An expired token still shows what it was granted; a revoked one shows nothing.
    let show_scopes = error.is_none_or(|e| e.subcode == Some(463));
    let mut scopes: Vec<&str> = match (&t.grant, show_scopes && !session_info) {
        (Some(grant), true) => grant.granted.iter().map(String::as_str).collect(),
        _ => Vec::new(),
    };
    scopes.sort_unstable();
    d.serialize_entry("scopes", &scopes)?;
    if error.is_none() && scopes.iter().any(|s| *s != PUBLIC_PROFILE) {
        d.serialize_entry(
            "granular_scopes",
            &Granular {
                scopes: &scopes,
                page_ids,
            },
        )?;
    }
    d.serialize_entry("user_id", &AsText(t.asid))?;
    Ok(())
}

/// `granular_scopes`: every scope but `public_profile`; Page permissions name their Pages (those
/// the person chose at login, when they chose).
struct Granular<'a> {
    scopes: &'a [&'a str],
    page_ids: &'a [PageId],
}

impl Serialize for Granular<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let targets = (!self.page_ids.is_empty()).then_some(self.page_ids);
        let mut seq = s.serialize_seq(None)?;
        for scope in self.scopes.iter().filter(|s| **s != PUBLIC_PROFILE) {
            seq.serialize_element(&Scope {
                scope,
                targets: targets.filter(|_| permissions::is_page_scoped(scope)),
            })?;
        }
        seq.end()
    }
}

struct Scope<'a> {
    scope: &'a str,
    targets: Option<&'a [PageId]>,
}

impl Serialize for Scope<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("scope", self.scope)?;
        if let Some(targets) = self.targets {
            m.serialize_entry("target_ids", &Ids(targets))?;
        }
        m.end()
    }
}

/// Page ids, as the strings Graph writes them.
struct Ids<'a>(&'a [PageId]);

impl Serialize for Ids<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|p| AsText(*p)))
    }
}
