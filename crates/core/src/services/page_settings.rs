//! Call-to-action buttons and Instant Articles of a Page (spec §3).

use super::Services;
use crate::content::{CallToAction, InstantArticle};
use crate::error::GraphError;
use crate::events::{Change, Item};
use crate::model::{Id, PageId};

impl Services {
    /// The Page's buttons, oldest first.
    pub async fn call_to_actions_of_page(
        &self,
        page: PageId,
    ) -> Result<Vec<CallToAction>, GraphError> {
        Ok(self.store.call_to_actions_of_page(page).await?)
    }

    /// Stores a new button (its `id` is assigned here) and returns it.
    pub async fn add_call_to_action(
        &self,
        mut cta: CallToAction,
    ) -> Result<CallToAction, GraphError> {
        cta.id = self.store.insert_call_to_action(&cta).await?;
        self.content_changed(cta.page_id, Item::CallToAction(cta.id), Change::Created);
        Ok(cta)
    }

    /// False when the Page has no such button.
    pub async fn delete_call_to_action(&self, page: PageId, id: Id) -> Result<bool, GraphError> {
        let found = self.store.delete_call_to_action(page, id).await?;
        if found {
            self.content_changed(page, Item::CallToAction(id), Change::Deleted);
        }
        Ok(found)
    }

    /// The Page's articles, oldest first.
    pub async fn instant_articles_of_page(
        &self,
        page: PageId,
    ) -> Result<Vec<InstantArticle>, GraphError> {
        Ok(self.store.instant_articles_of_page(page).await?)
    }

    /// Stores a new article (its `id` is assigned here) and returns it.
    pub async fn add_instant_article(
        &self,
        mut article: InstantArticle,
    ) -> Result<InstantArticle, GraphError> {
        article.id = self.store.insert_instant_article(&article).await?;
        let item = Item::InstantArticle(article.id);
        self.content_changed(article.page_id, item, Change::Created);
        Ok(article)
    }

    /// False when the Page has no such article.
    pub async fn delete_instant_article(&self, page: PageId, id: Id) -> Result<bool, GraphError> {
        let found = self.store.delete_instant_article(page, id).await?;
        if found {
            self.content_changed(page, Item::InstantArticle(id), Change::Deleted);
        }
        Ok(found)
    }
}
