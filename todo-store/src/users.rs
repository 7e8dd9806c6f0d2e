//! [`UserRepository`] on both backends: the `users` table.

use async_trait::async_trait;
use todo_core::domain::{Email, User, UserId};
use todo_core::ports::UserRepository;

use crate::backend::{Backend, SqlStore};
use crate::error::{Result, StoreError};
use crate::rows::{USER_COLUMNS, insert_user, read_user};
use crate::sql::{Arg, Exec, Stmt};
use crate::writer::Lane;

#[async_trait]
impl<B: Backend> UserRepository for SqlStore<B> {
    async fn create(&self, user: &User) -> todo_core::Result<()> {
        self.write_one(Lane::Foreground, insert_user(user)).await.map_err(|e| {
            e.on_unique(|what| {
                StoreError::Conflict(if what.contains("email") {
                    "an account with this e-mail exists".to_owned()
                } else {
                    format!("user {} exists", user.id)
                })
            })
        })?;
        Ok(())
    }

    async fn by_email(&self, email: &Email) -> todo_core::Result<Option<User>> {
        Ok(self.user_where("email = $1", Arg::Text(email.as_str().to_owned())).await?)
    }

    async fn by_id(&self, id: UserId) -> todo_core::Result<Option<User>> {
        Ok(self.user_where("id = $1", Arg::Uuid(id.as_uuid())).await?)
    }
}

impl<B: Backend> SqlStore<B> {
    async fn user_where(&self, condition: &str, arg: Arg) -> Result<Option<User>> {
        let stmt = Stmt::new(format!("SELECT {USER_COLUMNS} FROM users WHERE {condition}"), vec![arg]);
        let row = self.backend().connection().await?.row(&stmt).await?;
        row.map(|r| read_user(&r)).transpose()
    }
}
