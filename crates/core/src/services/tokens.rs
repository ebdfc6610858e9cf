//! Tokens and sessions: loading a token through the caches and judging it ([`crate::auth`]),
//! logins, and minting user and Page tokens.

use std::sync::Arc;

use super::{Services, LONG_LIVED, SHORT_LIVED};
use crate::auth::{self, Caller, Inspection, LoadedToken, Principal};
use crate::error::GraphError;
use crate::events::Event;
use crate::model::{
    App, AppId, Asid, Grant, PageId, Session, StoredKind, TokenHash, TokenRecord, Unix, User,
    UserId,
};
use crate::permissions;
use crate::store::{SessionSeen, TokenEntry};
use crate::token::{self, Form};

/// A freshly minted user token.
#[derive(Clone)]
pub struct Issued {
    pub access_token: String,
    pub expires_in: i64,
    pub record: TokenRecord,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued")
            .field("access_token", &"<redacted>")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

impl Services {
    /// A token's entry and its session, through their caches: no query when both are cached,
    /// one (which fills both) when the token is not. A cached entry keeps a copy of its session
    /// ([`SessionSeen`]), used while the sessions cache says no session of its shard was dropped
    /// since; otherwise the session is looked up and the entry cached again with the new copy.
    ///
    /// A long-lived user token not cached whose claims check out ([`token::Claims`]) is not
    /// read from the store at all: its claims are its record (see [`Services::claimed`]).
    async fn entry(
        &self,
        hash: TokenHash,
        token: Option<&str>,
    ) -> Result<Option<(Arc<TokenEntry>, Session)>, GraphError> {
        let c = &self.caches;
        // Taken before the entry is read: an entry dropped meanwhile (its token ended) is not
        // put back renewed.
        let token_ticket = c.tokens.ticket(&hash);
        if let Some(entry) = c.tokens.get(&hash) {
            if let Some(seen) = &entry.session {
                if c.sessions.unchanged(&seen.session.id, seen.ticket) {
                    let session = seen.session.clone();
                    return Ok(Some((entry, session)));
                }
            }
            let id = entry.token.session_id;
            let ticket = c.sessions.ticket(&id);
            let Some(session) = self.session(id).await? else {
                return Ok(None);
            };
            let session = (*session).clone();
            let renewed = TokenEntry {
                session: Some(SessionSeen {
                    session: session.clone(),
                    ticket,
                }),
                ..(*entry).clone()
            };
            // The request goes on with the entry that stays cached, so what it learns (a Page
            // token stored) is kept.
            let renewed = Arc::new(renewed);
            c.tokens.put(hash, Arc::clone(&renewed), token_ticket);
            return Ok(Some((renewed, session)));
        }
        if let Some(token) = token {
            if let Some(claimed) = self.claimed(hash, token).await? {
                return Ok(Some(claimed));
            }
        }
        // The session's id is known only once the token is read: tickets for every shard.
        let session_tickets = c.sessions.tickets();
        let Some((mut entry, session)) = self.store.token_entry(hash).await? else {
            return Ok(None);
        };
        let ticket = session_tickets.of(&session.id);
        entry.session = Some(SessionSeen {
            session: session.clone(),
            ticket,
        });
        let entry = Arc::new(entry);
        c.tokens.put(hash, Arc::clone(&entry), token_ticket);
        c.sessions
            .put(session.id, Arc::new(session.clone()), ticket);
        Ok(Some((entry, session)))
    }

    /// The entry of a long-lived user token from its claims, without the store: when they name
    /// a session that exists and carry this database's tag for them and that session, its
    /// person, app and start included ([`token::Unchecked::check`]). Such a token was stored,
    /// with exactly these fields (its person and app are its session's), before it was handed
    /// out; a row goes only with its person, whose sessions go with them (a session's number is
    /// not drawn again, and were it drawn again, for another person, app or second, the tag
    /// would not check out); and nothing ends a long-lived user token alone (a logout ends
    /// short-lived ones: those are read from the store). So the record is the stored one, and
    /// what ends it (its session, its grant, its person, its app) is judged as for any other.
    /// `None`: read the store.
    ///
    /// The entry is cached while the tokens cache has room, and now and then once it is full
    /// ([`Cache::admit`](crate::cache::Cache::admit)): a large world's tokens do not each evict
    /// another, but a new set of busy tokens still finds its way in.
    async fn claimed(
        &self,
        hash: TokenHash,
        token: &str,
    ) -> Result<Option<(Arc<TokenEntry>, Session)>, GraphError> {
        let Some(unchecked) = token::claims_of(token).filter(|u| u.claims.long_lived) else {
            return Ok(None);
        };
        // No key (none stored, or the store could not be read): the store will say.
        let Ok(Some(key)) = self.stored_token_key().await else {
            return Ok(None);
        };
        let c = &self.caches;
        let id = unchecked.claims.session;
        let (token_ticket, ticket) = (c.tokens.ticket(&hash), c.sessions.ticket(&id));
        let Some(session) = self.session(id).await? else {
            return Ok(None);
        };
        let Some(claims) = unchecked.check(key, &session) else {
            return Ok(None);
        };
        let record = TokenRecord {
            hash,
            kind: StoredKind::User,
            app_id: session.app_id,
            user_id: session.user_id,
            page_id: None,
            session_id: claims.session,
            parent: None,
            long_lived: true,
            issued_at: claims.issued_at,
            expires_at: claims.expires_at,
            invalidated: None,
            tasks_since: None,
        };
        let session = (*session).clone();
        let mut entry = TokenEntry::new(record, claims.asid);
        entry.session = Some(SessionSeen {
            session: session.clone(),
            ticket,
        });
        let entry = Arc::new(entry);
        c.tokens.admit(hash, Arc::clone(&entry), token_ticket);
        Ok(Some((entry, session)))
    }

    /// A stored token (`token`, whose key is `hash`) with its context, assembled from the caches
    /// (one query on a miss, more only when the shared parts are not cached either; none for a
    /// long-lived user token whose claims stand for its row: [`Services::claimed`]). A token
    /// whose person, app or Page is gone (a deleted test user) is no token at all.
    async fn load(
        &self,
        hash: TokenHash,
        token: &str,
    ) -> Result<Option<Arc<LoadedToken>>, GraphError> {
        let Some((entry, session)) = self.entry(hash, Some(token)).await? else {
            return Ok(None);
        };
        let t = &entry.token;
        let (Some(app), Some(user)) = (self.app(t.app_id).await?, self.user(t.user_id).await?)
        else {
            return Ok(None);
        };
        let grant = self.grant(t.user_id, t.app_id).await?;
        let page = match t.page_id {
            Some(p) => {
                let Some(page) = self.page(p).await? else {
                    return Ok(None);
                };
                Some((page, self.page_tasks(p, t.user_id).await?))
            }
            None => None,
        };
        Ok(Some(Arc::new(LoadedToken {
            entry,
            session,
            app,
            user,
            grant,
            page,
        })))
    }

    /// Everything known about a token string, and why it does not work if it does not.
    pub async fn inspect(&self, token: &str) -> Result<Inspection, GraphError> {
        match token::form(token) {
            Form::Garbage => Ok(Inspection::Unknown(GraphError::cannot_parse())),
            Form::Pipe { app, rest } => {
                let Some(app) = self.app(app).await? else {
                    return Ok(Inspection::Unknown(GraphError::unknown_app_in_token()));
                };
                let principal = if token::secrets_equal(rest, &app.secret)
                    || token::secrets_equal(token, &token::app_token(app.id, &app.secret))
                {
                    Principal::App(app)
                } else if token::secrets_equal(rest, &app.client_token) {
                    Principal::Client(app)
                } else {
                    return Ok(Inspection::Unknown(GraphError::bad_signature()));
                };
                Ok(Inspection::Known {
                    principal,
                    error: None,
                })
            }
            Form::Stored => {
                let Some(loaded) = self.load(token::hash(token), token).await? else {
                    return Ok(Inspection::Unknown(GraphError::not_decrypted()));
                };
                let error = self.validity(&loaded);
                // A token of a Page (a Page token, or a session info token of one) speaks
                // for the Page; any other for its person.
                let principal = if loaded.token.page_id.is_some() {
                    Principal::Page(loaded)
                } else {
                    Principal::User(loaded)
                };
                Ok(Inspection::Known { principal, error })
            }
        }
    }

    /// The caller behind a token that must work. A session info token never does: it is for
    /// `debug_token`'s `input_token` only.
    pub async fn authenticate(&self, token: &str) -> Result<Caller, GraphError> {
        match self.inspect(token).await? {
            Inspection::Unknown(e) => Err(e),
            Inspection::Known {
                principal: Principal::User(t) | Principal::Page(t),
                ..
            } if t.token.kind == StoredKind::SessionInfo => Err(GraphError::debug_only()),
            Inspection::Known { error: Some(e), .. } => Err(e),
            Inspection::Known {
                principal,
                error: None,
            } => Ok(Caller {
                token: token.to_string(),
                principal,
            }),
        }
    }

    /// Why a stored token does not work now, or `None` if it does ([`auth::validity`]).
    pub fn validity(&self, t: &LoadedToken) -> Option<GraphError> {
        auth::validity(t, self.now())
    }

    /// Why a working token may not read data now ([`auth::data_access`]).
    pub fn data_access(&self, t: &LoadedToken) -> Option<GraphError> {
        auth::data_access(t, self.now())
    }

    // ---- minting --------------------------------------------------------------------------

    /// A login: the person consents to `scopes` for the app (they join the grant), a session
    /// starts, and a user token comes out — short-lived, or long-lived as mobile SDKs get.
    pub async fn login(
        &self,
        user: &User,
        app: &App,
        scopes: &[String],
        long_lived: bool,
    ) -> Result<Issued, GraphError> {
        if let Some(bad) = scopes.iter().find(|s| !permissions::is_known(s)) {
            return Err(GraphError::invalid_scope(bad));
        }
        let now = self.now();
        let (user_id, app_id, scopes) = (user.id, app.id, scopes.to_vec());
        self.store
            .update_grant(
                user.id,
                app.id,
                Box::new(move |old: Option<Grant>| {
                    let mut grant = Grant::at_login(old, user_id, app_id, now);
                    for s in &scopes {
                        grant.declined.retain(|d| d != s);
                        if !grant.has(s) {
                            grant.granted.push(s.clone());
                        }
                    }
                    Some(grant)
                }),
            )
            .await?;
        self.publish(Event::GrantChanged {
            user: user.id,
            app: app.id,
        });
        self.open_session(user.id, app.id, long_lived).await
    }

    /// A new session of the person with the app (their grant is already in place) and its
    /// first user token; the person gets an app-scoped id if they had none.
    pub async fn open_session(
        &self,
        user: UserId,
        app: AppId,
        long_lived: bool,
    ) -> Result<Issued, GraphError> {
        let asid = self.asid(user, app).await?;
        let session = self.store.create_session(user, app, self.now()).await?;
        // The write's event first: it stands even if minting the first token fails.
        self.publish(Event::SessionStarted {
            session: session.id,
            user,
            app,
        });
        self.mint(&session, asid, long_lived).await
    }

    /// A new user token in an existing session, whose person has `asid` in its app.
    pub async fn mint_user_token(
        &self,
        session: &Session,
        asid: Asid,
        long_lived: bool,
    ) -> Result<Issued, GraphError> {
        let issued = self.mint(session, asid, long_lived).await?;
        self.publish(Event::TokenIssued {
            session: session.id,
            user: session.user_id,
            app: session.app_id,
            page: None,
        });
        Ok(issued)
    }

    /// A session info token of the working user or Page token `of`: stored in the same
    /// session (for the same Page), it lives as long as `of` does and as its session works, and
    /// reads no data. Returns the token and its `expires_in` (`None`: it never expires, as a
    /// Page token from a long-lived user token).
    pub async fn mint_session_info(
        &self,
        of: &LoadedToken,
    ) -> Result<(String, Option<i64>), GraphError> {
        let access_token = token::mint_session_info(&self.stamps)?;
        let now = self.now();
        let record = TokenRecord {
            hash: token::hash(&access_token),
            kind: StoredKind::SessionInfo,
            // Stored only while the user token it comes from (or its Page token's) still works:
            // a logout between the check of `of` and this write leaves none behind.
            parent: of.token.parent.or(Some(of.token.hash)),
            issued_at: now,
            invalidated: None,
            ..of.token.clone()
        };
        if !self.store.insert_token(&record).await? {
            return Err(GraphError::not_decrypted());
        }
        // "Another token" on the timeline, not a Page token, even when it came from one.
        self.publish(Event::TokenIssued {
            session: record.session_id,
            user: record.user_id,
            app: record.app_id,
            page: None,
        });
        let expires_in =
            (record.expires_at != 0).then(|| record.expires_at.saturating_sub(now).max(0));
        Ok((access_token, expires_in))
    }

    async fn mint(
        &self,
        session: &Session,
        asid: Asid,
        long_lived: bool,
    ) -> Result<Issued, GraphError> {
        let minted = token::mint(&self.stamps)?;
        let key = self.minting_key().await?;
        let issued = user_token_of(session, asid, key, minted, long_lived, self.now());
        // Not stored: the session went (its person was deleted) since it was read. A token
        // that would never work is not handed out; the caller's own token no longer works.
        if !self.store.insert_token(&issued.record).await? {
            return Err(GraphError::not_decrypted());
        }
        Ok(issued)
    }

    /// Many user tokens at once ([`Bulk`]), for load tests (`graphtoken bench populate`): each
    /// person logs in to the app with `scopes` (a session and its first token, as
    /// [`Services::login`]), and the rest of the `count` tokens, spread over those sessions, are
    /// stored in writes of up to `per_write`, in the order of their hashes: each write fills one
    /// stretch of the store's index instead of touching pages all over it. Each write's tokens
    /// go to `sink` once they are stored (the logins' first), in that order, and are not kept:
    /// only one write's worth is held at a time (holding all of them, ten million tokens had
    /// the kernel handing out fresh memory for half of the time; docs/benchmarks.md). Returns
    /// how many were made.
    pub async fn populate(
        &self,
        people: &[User],
        app: &App,
        scopes: &[String],
        bulk: Bulk,
        mut sink: impl FnMut(Vec<String>) -> Result<(), GraphError>,
    ) -> Result<usize, GraphError> {
        let Bulk {
            count,
            long_lived,
            per_write,
        } = bulk;
        let mut first = Vec::new();
        let mut sessions = Vec::new();
        for user in people.iter().take(count) {
            let login = self.login(user, app, scopes, long_lived).await?;
            // As stored: the claims' tag covers its start.
            let session = self
                .session(login.record.session_id)
                .await?
                .ok_or_else(|| GraphError::internal_because("a new session was not found"))?;
            sessions.push(((*session).clone(), self.asid(user.id, app.id).await?));
            first.push(login.access_token);
        }
        let mut made = first.len();
        sink(first)?;
        if sessions.is_empty() {
            return Ok(made);
        }
        let now = self.now();
        let key = self.minting_key().await?;
        let mut turn = sessions.iter().cycle();
        let per_write = per_write.max(1);
        while made < count {
            let n = per_write.min(count - made);
            // Stamps follow one another, within a write and from one write to the next, and
            // a stored key starts with its stamp: sorting only confirms the order.
            let mut more: Vec<Issued> = token::mint_many(&self.stamps, n)?
                .into_iter()
                .zip(turn.by_ref())
                .map(|(t, (session, asid))| user_token_of(session, *asid, key, t, long_lived, now))
                .collect();
            more.sort_unstable_by_key(|t| t.record.hash);
            let (tokens, records): (Vec<String>, Vec<TokenRecord>) =
                more.into_iter().map(|t| (t.access_token, t.record)).unzip();
            let issued: Vec<_> = records
                .iter()
                .map(|r| Event::TokenIssued {
                    session: r.session_id,
                    user: r.user_id,
                    app: r.app_id,
                    page: None,
                })
                .collect();
            self.store.insert_tokens(records).await?;
            for event in issued {
                self.publish(event);
            }
            if tokens.is_empty() {
                break;
            }
            made += tokens.len();
            sink(tokens)?;
        }
        Ok(made)
    }

    /// The Page token a user token yields for a Page the person has tasks on (spec §1): it
    /// inherits the user token's expiry, and never expires when the user token is long-lived.
    /// The same user token always yields the same Page token, so nothing is minted twice.
    /// `keyed` is the user token's [`token::PageTokens`], made once for all its Pages; once
    /// stored, the token's cached entry remembers the text ([`PagesStored::token`]).
    ///
    /// [`PagesStored::token`]: crate::store::PagesStored::token
    pub async fn page_token(
        &self,
        keyed: &token::PageTokens,
        parent: &LoadedToken,
        page: PageId,
        tasks_since: Unix,
    ) -> Result<String, GraphError> {
        let page_token = keyed.token(page, tasks_since);
        let room = &self.caches.page_token_room;
        if parent.entry.pages_stored.knows(page, tasks_since) {
            // Known stored; its text is remembered now if there was no room before.
            parent
                .entry
                .pages_stored
                .add(page, tasks_since, &page_token, room);
            return Ok(page_token);
        }
        let record = TokenRecord {
            hash: token::hash(&page_token),
            kind: StoredKind::Page,
            app_id: parent.app.id,
            user_id: parent.user.id,
            page_id: Some(page),
            session_id: parent.token.session_id,
            parent: Some(parent.token.hash),
            long_lived: parent.token.long_lived,
            issued_at: self.now(),
            expires_at: if parent.token.long_lived {
                0
            } else {
                parent.token.expires_at
            },
            invalidated: None,
            tasks_since: Some(tasks_since),
        };
        // Stored once, and only while the parent works: no event for a token that was not
        // stored. The parent's cached entry remembers it, so the next call asks nothing.
        let known = self.caches.tokens.get(&record.hash).is_some()
            || self.entry(record.hash, None).await?.is_some();
        let stored = known || self.store.insert_token(&record).await?;
        if stored && !known {
            self.publish(Event::TokenIssued {
                session: record.session_id,
                user: record.user_id,
                app: record.app_id,
                page: Some(page),
            });
        }
        if stored {
            parent
                .entry
                .pages_stored
                .add(page, tasks_since, &page_token, room);
        }
        Ok(page_token)
    }
}

/// A new user token of `session` (whose person has `asid` in its app): `minted` ([`token::mint`])
/// with its claims under `key` (as it is without a key), and its record.
fn user_token_of(
    session: &Session,
    asid: Asid,
    key: Option<&token::TokenKey>,
    minted: String,
    long_lived: bool,
    now: Unix,
) -> Issued {
    let mut record = user_token_record(session, TokenHash::default(), long_lived, now);
    let access_token = match key {
        Some(key) => token::with_claims(minted, key, token::Claims::of(&record, asid), session),
        None => minted,
    };
    record.hash = token::hash(&access_token);
    Issued {
        record,
        access_token,
        expires_in: lifetime(long_lived),
    }
}

/// The record of a new user token of `session` whose key is `hash`.
pub(super) fn user_token_record(
    session: &Session,
    hash: TokenHash,
    long_lived: bool,
    now: Unix,
) -> TokenRecord {
    TokenRecord {
        hash,
        kind: StoredKind::User,
        app_id: session.app_id,
        user_id: session.user_id,
        page_id: None,
        session_id: session.id,
        parent: None,
        long_lived,
        issued_at: now,
        expires_at: now.saturating_add(lifetime(long_lived)),
        invalidated: None,
        tasks_since: None,
    }
}

/// How long a new user token lives, in seconds.
fn lifetime(long_lived: bool) -> i64 {
    if long_lived {
        LONG_LIVED
    } else {
        SHORT_LIVED
    }
}

/// How many tokens [`Services::populate`] makes, whether long-lived, and how many one write
/// stores at most.
#[derive(Clone, Copy, Debug)]
pub struct Bulk {
    pub count: usize,
    pub long_lived: bool,
    pub per_write: usize,
}
