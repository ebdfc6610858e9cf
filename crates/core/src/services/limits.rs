//! Rate-limit accounting of calls (spec §6): what a call counts against, through the pure
//! counters of [`crate::ratelimit`].

use super::Services;
use crate::auth::{Caller, Principal};
use crate::error::GraphError;
use crate::model::{Id, PageId};
use crate::ratelimit::{Budgets, Call, Usage};

impl Services {
    /// Counts the call of `caller` on `node` (the first path segment; `None` for
    /// `debug_token`) and refuses it when a budget is spent. `usage` is set either way, for the
    /// response headers.
    pub async fn admit(
        &self,
        caller: &Caller,
        node: Option<&str>,
        usage: &mut Option<Usage>,
    ) -> Result<(), GraphError> {
        let call = self.call_of(caller, node).await?;
        let budgets = Budgets::of(caller.principal.app());
        let (u, refused) = self.limiter.admit(&call, budgets, self.now());
        *usage = Some(u);
        match refused {
            None => Ok(()),
            Some((limit, minutes)) => Err(limit.error(minutes)),
        }
    }

    /// The caller's usage now, without counting a call (for answers that never reach the
    /// Graph, such as injected faults, which still carry the usage headers).
    pub async fn peek_usage(
        &self,
        caller: &Caller,
        node: Option<&str>,
    ) -> Result<Usage, GraphError> {
        let call = self.call_of(caller, node).await?;
        let budgets = Budgets::of(caller.principal.app());
        Ok(self.limiter.account(&call, budgets, self.now(), false).0)
    }

    /// What a call of this caller on `node` counts against. The person's own app-scoped id is
    /// never a Page, so the common `/{my-id}` costs no lookup.
    async fn call_of(&self, caller: &Caller, node: Option<&str>) -> Result<Call, GraphError> {
        let page = match (&caller.principal, node.and_then(|n| n.parse::<Id>().ok())) {
            (Principal::User(t), Some(id)) if id != t.asid.0 && id != t.user.id.0 => {
                self.page(PageId(id)).await?.map(|p| p.id)
            }
            _ => None,
        };
        Ok(Call::of(&caller.principal, page))
    }
}

impl Services {
    /// Exchanges rate-limit counts with the other instances on a shared database: hands on the
    /// calls counted here since the last exchange and learns everyone's. The server calls it
    /// every so often; on a database only this process uses it does nothing. Bookkeeping: no
    /// event.
    pub async fn share_rate_limits(&self) -> Result<(), GraphError> {
        if !self.store.shared() {
            return Ok(());
        }
        let now = self.now();
        let (calls, active) = self.limiter.take_unshared(now);
        if active.is_empty() {
            return Ok(());
        }
        let since = now.div_euclid(60) - 59;
        match self
            .store
            .exchange_rate_counts(&calls, &active, since)
            .await
        {
            Ok(counts) => {
                self.limiter.learn(&counts, now);
                Ok(())
            }
            Err(e) => {
                // Handed on next time, not lost.
                self.limiter.give_back(&calls, now);
                Err(e.into())
            }
        }
    }
}
