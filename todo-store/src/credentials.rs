//! API tokens and calendar feeds on both backends, stored as the SHA-256 of
//! their secret and found by it (`api_tokens`, `calendar_feeds`, migration 0007).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use todo_core::domain::{ApiToken, CalendarFeed, Scopes, SecretHash, TokenId, TokenName, UserId};
use todo_core::ports::{ApiTokenStore, CalendarFeedStore, truncate_micros};

use crate::backend::{Backend, SqlStore};
use crate::error::{Result, StoreError};
use crate::sql::RowExt;
use crate::sql::{Arg, Exec, Stmt};
use crate::writer::Lane;

/// The columns [`read_token`] reads.
const TOKEN_COLUMNS: &str = "id, user_id, name, scopes, token_hash, created_at, last_used_at, expires_at";
/// The columns [`read_feed`] reads.
const FEED_COLUMNS: &str = "user_id, secret_hash, created_at";

#[async_trait]
impl<B: Backend> ApiTokenStore for SqlStore<B> {
    async fn create_token(&self, t: &ApiToken) -> todo_core::Result<()> {
        let stmt = Stmt::new(
            format!("INSERT INTO api_tokens ({TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"),
            vec![
                Arg::Uuid(t.id.as_uuid()),
                Arg::Uuid(t.user_id.as_uuid()),
                Arg::Text(t.name.as_str().to_owned()),
                Arg::Text(t.scopes.as_str().to_owned()),
                Arg::Text(t.hash.as_str().to_owned()),
                Arg::Time(truncate_micros(t.created_at)),
                Arg::OptTime(t.last_used_at.map(truncate_micros)),
                Arg::OptTime(t.expires_at.map(truncate_micros)),
            ],
        );
        self.write_one(Lane::Foreground, stmt)
            .await
            .map_err(|e| e.on_unique(|_| StoreError::Conflict(format!("token {} exists", t.id))))?;
        Ok(())
    }

    /// `user_id`'s tokens, newest first.
    async fn tokens(&self, user_id: UserId) -> todo_core::Result<Vec<ApiToken>> {
        let stmt = Stmt::new(
            format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC, id DESC"),
            vec![Arg::Uuid(user_id.as_uuid())],
        );
        let rows = self.backend().connection().await?.rows(&stmt).await?;
        Ok(rows.iter().map(read_token).collect::<Result<_>>()?)
    }

    async fn token_by_hash(&self, hash: &SecretHash) -> todo_core::Result<Option<ApiToken>> {
        let stmt = Stmt::new(
            format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1"),
            vec![Arg::Text(hash.as_str().to_owned())],
        );
        let row = self.backend().connection().await?.row(&stmt).await?;
        Ok(row.map(|r| read_token(&r)).transpose()?)
    }

    /// Deletes `user_id`'s token `id`; whether there was one.
    async fn revoke_token(&self, user_id: UserId, id: TokenId) -> todo_core::Result<bool> {
        let stmt = Stmt::new(
            "DELETE FROM api_tokens WHERE id = $1 AND user_id = $2",
            vec![Arg::Uuid(id.as_uuid()), Arg::Uuid(user_id.as_uuid())],
        );
        Ok(self.write_one(Lane::Foreground, stmt).await? > 0)
    }

    /// Records a use of token `id` (background work: it never holds up requests).
    async fn touch_token(&self, id: TokenId, at: DateTime<Utc>) -> todo_core::Result<()> {
        let stmt = Stmt::new(
            "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1",
            vec![Arg::Uuid(id.as_uuid()), Arg::Time(truncate_micros(at))],
        );
        self.write_one(Lane::Background, stmt).await?;
        Ok(())
    }
}

#[async_trait]
impl<B: Backend> CalendarFeedStore for SqlStore<B> {
    /// Stores `feed` as its user's feed, replacing the previous one.
    async fn put_feed(&self, feed: &CalendarFeed) -> todo_core::Result<()> {
        let stmt = Stmt::new(
            format!(
                "INSERT INTO calendar_feeds ({FEED_COLUMNS}) VALUES ($1, $2, $3) ON CONFLICT (user_id) DO UPDATE \
                 SET secret_hash = excluded.secret_hash, created_at = excluded.created_at"
            ),
            vec![
                Arg::Uuid(feed.user_id.as_uuid()),
                Arg::Text(feed.hash.as_str().to_owned()),
                Arg::Time(truncate_micros(feed.created_at)),
            ],
        );
        self.write_one(Lane::Foreground, stmt)
            .await
            .map_err(|e| e.on_unique(|_| StoreError::Conflict("a feed with this secret exists".into())))?;
        Ok(())
    }

    async fn feed(&self, user_id: UserId) -> todo_core::Result<Option<CalendarFeed>> {
        Ok(self.feed_where("user_id = $1", Arg::Uuid(user_id.as_uuid())).await?)
    }

    async fn feed_by_hash(&self, hash: &SecretHash) -> todo_core::Result<Option<CalendarFeed>> {
        Ok(self.feed_where("secret_hash = $1", Arg::Text(hash.as_str().to_owned())).await?)
    }

    /// Deletes `user_id`'s feed; whether there was one.
    async fn delete_feed(&self, user_id: UserId) -> todo_core::Result<bool> {
        let stmt = Stmt::new("DELETE FROM calendar_feeds WHERE user_id = $1", vec![Arg::Uuid(user_id.as_uuid())]);
        Ok(self.write_one(Lane::Foreground, stmt).await? > 0)
    }
}

impl<B: Backend> SqlStore<B> {
    async fn feed_where(&self, condition: &str, arg: Arg) -> Result<Option<CalendarFeed>> {
        let stmt = Stmt::new(format!("SELECT {FEED_COLUMNS} FROM calendar_feeds WHERE {condition}"), vec![arg]);
        let row = self.backend().connection().await?.row(&stmt).await?;
        row.map(|r| read_feed(&r)).transpose()
    }
}

fn read_token(r: &impl RowExt) -> Result<ApiToken> {
    let corrupt = |e: todo_core::domain::ValidationError| StoreError::corrupt(format!("api_tokens: {e}"));
    Ok(ApiToken {
        id: TokenId(r.uuid("id")?),
        user_id: UserId(r.uuid("user_id")?),
        name: TokenName::parse(&r.text("name")?).map_err(corrupt)?,
        scopes: Scopes::from_stored(&r.text("scopes")?).map_err(corrupt)?,
        hash: SecretHash::from_stored(&r.text("token_hash")?).map_err(corrupt)?,
        created_at: r.time("created_at")?,
        last_used_at: r.opt_time("last_used_at")?,
        expires_at: r.opt_time("expires_at")?,
    })
}

fn read_feed(r: &impl RowExt) -> Result<CalendarFeed> {
    Ok(CalendarFeed {
        user_id: UserId(r.uuid("user_id")?),
        hash: SecretHash::from_stored(&r.text("secret_hash")?)
            .map_err(|e| StoreError::corrupt(format!("calendar_feeds: {e}")))?,
        created_at: r.time("created_at")?,
    })
}
