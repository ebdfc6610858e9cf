//! Test users (spec §2.10): people an app makes for itself, capped per app.

use super::Services;
use crate::codes::{TestUser, TestUserInsert};
use crate::error::GraphError;
use crate::events::Event;
use crate::model::{AccountStatus, App, AppId, Asid, User, UserId};
use crate::token;

impl Services {
    /// The app's test users, oldest first.
    pub async fn test_users_of_app(&self, app: AppId) -> Result<Vec<TestUser>, GraphError> {
        Ok(self.store.test_users_of_app(app).await?)
    }

    /// The test-user record of a person, if they are one.
    pub async fn test_user(&self, user: UserId) -> Result<Option<TestUser>, GraphError> {
        Ok(self.store.test_user(user).await?)
    }

    /// Stores a new test user of `app` under a fresh 15-digit id that names nothing else, with
    /// `email` made from the name and the id; `(#2900)` when the app has as many as it may.
    pub async fn add_test_user(
        &self,
        app: &App,
        name: &str,
        email_of: impl Fn(UserId) -> String,
        password_hash: String,
    ) -> Result<User, GraphError> {
        for _ in 0..8 {
            let n = token::random_id()?;
            if !self.id_is_free(n).await? {
                continue;
            }
            let id = UserId(n);
            let user = User {
                id,
                key: None,
                name: name.to_string(),
                email: Some(email_of(id)),
                password_hash: Some(password_hash.clone()),
                status: AccountStatus::Active,
                created_at: self.now(),
            };
            match self
                .store
                .insert_test_user(&user, app.id, app.test_user_limit)
                .await?
            {
                TestUserInsert::Inserted => {
                    self.publish(Event::TestUserCreated {
                        user: id,
                        app: app.id,
                    });
                    return Ok(user);
                }
                TestUserInsert::AtLimit => return Err(GraphError::too_many_test_accounts()),
                TestUserInsert::IdTaken => {}
            }
        }
        Err(GraphError::internal_because(
            "could not allocate a test user id in 8 draws",
        ))
    }

    /// A test user's app-scoped id for the app that made them: their own id, where it is free.
    pub async fn test_user_asid(&self, user: UserId, app: AppId) -> Result<Asid, GraphError> {
        self.asid_or(user, app, Some(Asid(user.0))).await
    }

    /// Deletes a person and everything of theirs (grants, sessions, tokens, ids, tasks, roles,
    /// content): their tokens fail from now on. False when there was no such person.
    pub async fn delete_user(&self, user: UserId) -> Result<bool, GraphError> {
        let Some(gone) = self.store.delete_user(user).await? else {
            return Ok(false);
        };
        self.publish(Event::PersonDeleted {
            user,
            apps: gone.apps,
            pages: gone.pages,
            roles: gone.roles,
        });
        Ok(true)
    }

    /// A new name for a person. False when there is no such person.
    pub async fn rename_user(&self, user: UserId, name: &str) -> Result<bool, GraphError> {
        if !self.store.set_user_name(user, name).await? {
            return Ok(false);
        }
        self.publish(Event::PersonChanged { user });
        Ok(true)
    }
}
