//! Pages: who holds which task, the authorization of Page operations by the one policy, and a
//! Page's editable information.

use std::sync::Arc;

use super::caches::PagesTickets;
use super::Services;
use crate::auth::{Caller, LoadedToken};
use crate::cache::Ticket;
use crate::content::PageInfo;
use crate::error::GraphError;
use crate::events::Event;
use crate::model::{Page, PageId, PageTasks, User, UserId};
use crate::policy::{self, Operation};
use crate::store::{KeptAnswer, KeptDebug, MadeFrom};
use crate::tasks::TaskSet;
use crate::written::Written;

impl Services {
    /// May the caller do `op` on Page `page`? The tasks the person behind the token (user and
    /// Page tokens) holds there, judged by the one policy (`crate::policy`).
    pub async fn authorize(
        &self,
        caller: &Caller,
        page: PageId,
        op: &Operation,
    ) -> Result<(), GraphError> {
        let tasks = match caller.principal.loaded() {
            Some(t) => self.page_tasks(page, t.user.id).await?,
            None => None,
        };
        policy::check(caller, page, tasks.as_ref(), op)
    }

    /// A person's tasks on a Page. Losing every task makes their Page tokens for that Page fail
    /// with 492 on their next use; changed tasks take effect on the next call.
    pub async fn set_page_tasks(
        &self,
        page: PageId,
        user: UserId,
        tasks: TaskSet,
    ) -> Result<Option<PageTasks>, GraphError> {
        let now = self.now();
        let t = self.store.set_page_tasks(page, user, tasks, now).await?;
        self.publish(Event::PageTasksChanged { page, user });
        Ok(t)
    }

    /// The Pages a person has tasks on, ordered by Page id.
    ///
    /// Through the caches: the person's Page ids, then each Page and its tasks (dropped by the
    /// events that change them), so `debug_token` and `/me/accounts` read no store when warm.
    pub async fn pages_of_user(
        &self,
        user: UserId,
    ) -> Result<Vec<(Arc<Page>, PageTasks)>, GraphError> {
        let cache = &self.caches.user_pages;
        if let Some(ids) = cache.get(&user) {
            let mut pages = Vec::with_capacity(ids.len());
            for id in ids.iter() {
                if let (Some(page), Some(tasks)) =
                    (self.page(*id).await?, self.page_tasks(*id, user).await?)
                {
                    pages.push((page, tasks));
                }
            }
            return Ok(pages);
        }
        let pages = self.load_pages_of_user(user).await?.1;
        Ok(pages.into_iter().map(|(p, t)| (Arc::new(p), t)).collect())
    }

    /// A user token's `/me/accounts` answer for `fields` (as sent), kept in its cached entry,
    /// while it is still the answer: the token's grant is the one it was made under, and
    /// nothing it was read from has left the caches since ([`KeptAnswer`]).
    pub(crate) fn kept_accounts(
        &self,
        t: &LoadedToken,
        fields: Option<&str>,
    ) -> Option<Arc<KeptAnswer>> {
        let kept = t.entry.pages_stored.answer()?;
        let current = MadeFrom::same(kept.grant.as_ref(), t.grant.as_ref())
            && kept.fields.as_deref() == fields
            && self.caches.pages_unchanged(t.user.id, &kept.seen);
        current.then_some(kept)
    }

    /// A working token's `debug_token` answer kept in its cached entry, while it is still the
    /// answer: the token's app and grant are the ones it was made under, and the person's Page
    /// list, if it names their Pages, has not left its cache since ([`KeptDebug`]).
    pub(crate) fn kept_debug(&self, t: &LoadedToken) -> Option<Arc<KeptDebug>> {
        let kept = t.entry.pages_stored.debug()?;
        let current = MadeFrom::same(kept.grant.as_ref(), t.grant.as_ref())
            && kept.app.is(&t.app)
            && kept
                .pages
                .is_none_or(|p| self.caches.user_pages.unchanged(&t.user.id, p));
        current.then_some(kept)
    }

    /// The ticket of a person's Page list, to be taken before [`page_ids_of_user`] when the
    /// answer made from it may be kept ([`Services::keep_debug`]).
    ///
    /// [`page_ids_of_user`]: Services::page_ids_of_user
    pub(crate) fn page_list_ticket(&self, user: UserId) -> Ticket {
        self.caches.user_pages.ticket(&user)
    }

    /// Keeps `body`, the `data` object of working token `t`'s `debug_token` answer, in its
    /// cached entry, room permitting; `pages`: the ticket of the person's Page list when it
    /// names their Pages, taken before they were read.
    pub(crate) fn keep_debug(
        &self,
        t: &LoadedToken,
        pages: Option<Ticket>,
        body: Written,
    ) -> Arc<KeptDebug> {
        let kept = Arc::new(KeptDebug {
            body,
            app: MadeFrom::new(&t.app),
            grant: t.grant.as_ref().map(MadeFrom::new),
            pages,
        });
        t.entry
            .pages_stored
            .keep_debug(Arc::clone(&kept), &self.caches.page_token_room);
        kept
    }

    /// Tickets for what a person's Pages are read from, to be taken before [`pages_of_user`]
    /// when its answer may be kept ([`Services::keep_accounts`]).
    ///
    /// [`pages_of_user`]: Services::pages_of_user
    pub(crate) fn pages_tickets(&self) -> PagesTickets {
        self.caches.pages_tickets()
    }

    /// Keeps `body`, `t`'s `/me/accounts` answer for `fields` showing the Pages `shown` (and
    /// their tokens when it `holds_tokens`), in its cached entry, room permitting; made under
    /// `tickets`, taken before the Pages were read.
    pub(crate) fn keep_accounts(
        &self,
        t: &LoadedToken,
        (fields, holds_tokens): (Option<&str>, bool),
        (tickets, shown): (&PagesTickets, impl Iterator<Item = PageId>),
        body: Written,
    ) -> Arc<KeptAnswer> {
        let kept = Arc::new(KeptAnswer {
            body,
            fields: fields.map(Box::from),
            holds_tokens,
            grant: t.grant.as_ref().map(MadeFrom::new),
            seen: tickets.seen(t.user.id, shown),
        });
        t.entry.pages_stored.keep(Arc::clone(&kept));
        kept
    }

    /// The ids of the Pages a person has tasks on, ordered by Page id, through the cache (all
    /// `debug_token` needs of them).
    pub async fn page_ids_of_user(&self, user: UserId) -> Result<Arc<Vec<PageId>>, GraphError> {
        let cache = &self.caches.user_pages;
        if let Some(ids) = cache.get(&user) {
            return Ok(ids);
        }
        Ok(self.load_pages_of_user(user).await?.0)
    }

    /// A person's Pages from the store, their ids cached for next time (unless an event
    /// touched the person while they were read).
    async fn load_pages_of_user(
        &self,
        user: UserId,
    ) -> Result<(Arc<Vec<PageId>>, Vec<(Page, PageTasks)>), GraphError> {
        let cache = &self.caches.user_pages;
        let ticket = cache.ticket(&user);
        let pages = self.store.pages_of_user(user).await?;
        let ids = Arc::new(pages.iter().map(|(p, _)| p.id).collect::<Vec<_>>());
        cache.put(user, Arc::clone(&ids), ticket);
        Ok((ids, pages))
    }

    /// The people with tasks on a Page, ordered by person id.
    pub async fn people_of_page(&self, page: PageId) -> Result<Vec<(User, PageTasks)>, GraphError> {
        Ok(self.store.people_of_page(page).await?)
    }

    /// The Page's about/description/website/phone (all unset when there is no such Page).
    pub async fn page_info(&self, page: PageId) -> Result<PageInfo, GraphError> {
        Ok(self.store.page_info(page).await?.unwrap_or_default())
    }

    /// Sets the fields of `info` that are `Some` (an empty string clears one). False when there
    /// is no such Page.
    pub async fn set_page_info(&self, page: PageId, info: &PageInfo) -> Result<bool, GraphError> {
        let found = self.store.set_page_info(page, info).await?;
        if found {
            self.publish(Event::PageChanged { page });
        }
        Ok(found)
    }
}
