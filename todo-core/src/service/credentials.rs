//! API tokens (minted, listed, revoked; presented as `Authorization: Bearer`)
//! and calendar feed secrets (created, rotated, revoked; presented in the
//! feed's URL). Secrets are shown once and stored as their SHA-256.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::credential::{API_TOKEN_PREFIX, TOKENS_PER_USER_MAX, is_api_token, is_secret_shaped, random_secret};
use crate::domain::query::PAGE_MAX;
use crate::domain::{
    ApiToken, CalendarFeed, Principal, Scopes, SecretHash, StatusFilter, Task, TaskQuery, TokenId, TokenName,
    TokenView, UserId, ValidationError,
};
use crate::ports::{ApiTokenStore, CalendarFeedStore, Clock};
use crate::service::TaskService;
use crate::{Error, Result};

/// How stale `last_used_at` may get before a use records it again (one write a
/// minute at most per token, not one per request).
const TOUCH_EVERY: Duration = Duration::seconds(60);

/// `POST /api/v1/auth/tokens`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What the token is for, e.g. "Claude Desktop".
    pub name: TokenName,
    /// `["read"]` or `["read", "write"]`.
    pub scopes: Scopes,
    /// When the token stops working (RFC 3339); never, without it.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A token just minted: the only time its secret is shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MintedToken {
    /// The token's id.
    pub id: TokenId,
    /// What the user calls it.
    pub name: TokenName,
    /// What it may do.
    pub scopes: Scopes,
    /// When it was minted.
    pub created_at: DateTime<Utc>,
    /// After this instant the token is refused.
    pub expires_at: Option<DateTime<Utc>>,
    /// The secret to send as `Authorization: Bearer <token>`; it is not stored and
    /// cannot be shown again.
    pub token: String,
}

/// Mints, lists, revokes and checks API tokens.
#[derive(Clone)]
pub struct TokenService {
    store: Arc<dyn ApiTokenStore>,
    clock: Arc<dyn Clock>,
}

impl TokenService {
    /// The service over the token store.
    pub fn new(store: Arc<dyn ApiTokenStore>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// A new token for `user_id` (at most [`TOKENS_PER_USER_MAX`] at once).
    pub async fn mint(&self, user_id: UserId, new: NewToken) -> Result<MintedToken> {
        let now = self.clock.now();
        if new.expires_at.is_some_and(|e| e <= now) {
            return Err(ValidationError::new("expires_at", "expires_at must be in the future").into());
        }
        if self.store.tokens(user_id).await?.len() >= TOKENS_PER_USER_MAX {
            return Err(ValidationError::new(
                "name",
                format!("you have {TOKENS_PER_USER_MAX} tokens, the most there may be; revoke one first"),
            )
            .into());
        }
        let secret = format!("{API_TOKEN_PREFIX}{}", random_secret());
        let token = ApiToken {
            id: TokenId::new(),
            user_id,
            name: new.name,
            scopes: new.scopes,
            hash: SecretHash::of(&secret),
            created_at: now,
            last_used_at: None,
            expires_at: new.expires_at,
        };
        self.store.create_token(&token).await?;
        tracing::info!(user = %user_id, token = %token.id, scopes = token.scopes.as_str(), "api token minted");
        Ok(MintedToken {
            id: token.id,
            name: token.name,
            scopes: token.scopes,
            created_at: token.created_at,
            expires_at: token.expires_at,
            token: secret,
        })
    }

    /// `user_id`'s tokens, newest first (never their secrets).
    pub async fn list(&self, user_id: UserId) -> Result<Vec<TokenView>> {
        Ok(self.store.tokens(user_id).await?.iter().map(TokenView::from).collect())
    }

    /// Revokes `user_id`'s token `id`: it stops working at once.
    /// [`Error::NotFound`] when `user_id` has no such token.
    pub async fn revoke(&self, user_id: UserId, id: TokenId) -> Result<()> {
        if self.store.revoke_token(user_id, id).await? {
            tracing::info!(user = %user_id, token = %id, "api token revoked");
            Ok(())
        } else {
            Err(Error::NotFound("token"))
        }
    }

    /// Who `bearer` (an API token) lets in: `None` when it is malformed, unknown,
    /// revoked or expired.
    pub async fn authenticate(&self, bearer: &str) -> Result<Option<Principal>> {
        let Some(secret) = bearer.strip_prefix(API_TOKEN_PREFIX) else { return Ok(None) };
        if !is_secret_shaped(secret) {
            return Ok(None);
        }
        let Some(token) = self.store.token_by_hash(&SecretHash::of(bearer)).await? else { return Ok(None) };
        let now = self.clock.now();
        if token.is_expired(now) {
            return Ok(None);
        }
        if token.last_used_at.is_none_or(|t| now - t >= TOUCH_EVERY)
            && let Err(e) = self.store.touch_token(token.id, now).await
        {
            tracing::warn!(token = %token.id, error = %e, "recording a token's use failed");
        }
        Ok(Some(Principal { user_id: token.user_id, scopes: token.scopes, token: Some(token.id) }))
    }

    /// Whether `bearer` looks like an API token (not a session JWT).
    pub fn is_api_token(bearer: &str) -> bool {
        is_api_token(bearer)
    }
}

/// A user's calendar feed, as the API shows it (its URL only when just made).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FeedStatus {
    /// When the current address was made (creation or the last rotation).
    pub created_at: DateTime<Utc>,
}

/// Tasks in a feed at most; beyond, the feed holds the ones due first.
pub const FEED_MAX_TASKS: usize = 5_000;

/// Creates, rotates, revokes and resolves calendar feed secrets, and gathers a
/// feed's tasks.
#[derive(Clone)]
pub struct CalendarService {
    feeds: Arc<dyn CalendarFeedStore>,
    tasks: TaskService,
}

impl CalendarService {
    /// The service over the feed store and the tasks it lists.
    pub fn new(feeds: Arc<dyn CalendarFeedStore>, tasks: TaskService) -> Self {
        Self { feeds, tasks }
    }

    /// Makes `user_id`'s feed; returns its secret (shown once).
    /// [`Error::Conflict`] when the user has one already.
    pub async fn create(&self, user_id: UserId) -> Result<(String, FeedStatus)> {
        if self.feeds.feed(user_id).await?.is_some() {
            return Err(Error::Conflict(
                "you have a calendar feed already: rotate it for a new address, or revoke it".into(),
            ));
        }
        self.put(user_id).await
    }

    /// Replaces `user_id`'s feed secret: the old address answers 404 from now on.
    /// [`Error::NotFound`] when the user has no feed.
    pub async fn rotate(&self, user_id: UserId) -> Result<(String, FeedStatus)> {
        if self.feeds.feed(user_id).await?.is_none() {
            return Err(Error::NotFound("calendar feed"));
        }
        self.put(user_id).await
    }

    async fn put(&self, user_id: UserId) -> Result<(String, FeedStatus)> {
        let secret = random_secret();
        let feed = CalendarFeed { user_id, hash: SecretHash::of(&secret), created_at: self.tasks.clock().now() };
        self.feeds.put_feed(&feed).await?;
        tracing::info!(user = %user_id, "calendar feed address made");
        Ok((secret, FeedStatus { created_at: feed.created_at }))
    }

    /// Deletes `user_id`'s feed. [`Error::NotFound`] when there is none.
    pub async fn revoke(&self, user_id: UserId) -> Result<()> {
        if self.feeds.delete_feed(user_id).await? {
            tracing::info!(user = %user_id, "calendar feed revoked");
            Ok(())
        } else {
            Err(Error::NotFound("calendar feed"))
        }
    }

    /// `user_id`'s feed, if any.
    pub async fn status(&self, user_id: UserId) -> Result<Option<FeedStatus>> {
        Ok(self.feeds.feed(user_id).await?.map(|f| FeedStatus { created_at: f.created_at }))
    }

    /// The user whose feed `secret` opens, if any.
    pub async fn resolve(&self, secret: &str) -> Result<Option<UserId>> {
        if !is_secret_shaped(secret) {
            return Ok(None);
        }
        Ok(self.feeds.feed_by_hash(&SecretHash::of(secret)).await?.map(|f| f.user_id))
    }

    /// The dated tasks of `user_id`'s feed, earliest due first (at most
    /// [`FEED_MAX_TASKS`]); completed ones too when `include_completed`.
    pub async fn tasks(&self, user_id: UserId, include_completed: bool) -> Result<Vec<Task>> {
        let mut q = TaskQuery::new(user_id, self.tasks.clock().now());
        q.status = if include_completed { StatusFilter::All } else { StatusFilter::Pending };
        // Every task with a due date: the lower bound (the earliest a due date may
        // be) drops those without one.
        q.due_after = DateTime::from_timestamp(0, 0);
        q.limit = PAGE_MAX;
        let mut out = Vec::new();
        loop {
            let page = self.tasks.list(&q).await?;
            out.extend(page.items);
            match page.next_cursor {
                Some(c) if out.len() < FEED_MAX_TASKS => {
                    q.cursor = Some(crate::domain::Cursor::decode(&c, q.sort)?);
                }
                _ => break,
            }
        }
        out.truncate(FEED_MAX_TASKS);
        Ok(out)
    }

    /// `user_id`'s time zone (the feed's).
    pub async fn timezone(&self, user_id: UserId) -> Result<crate::domain::Timezone> {
        self.tasks.timezone(user_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::TokenName;
    use crate::memory::{ManualClock, MemoryStore};

    fn new_token(scopes: Scopes, expires_at: Option<DateTime<Utc>>) -> NewToken {
        NewToken { name: TokenName::parse("t").unwrap(), scopes, expires_at }
    }

    #[tokio::test]
    async fn tokens_expire_and_uses_are_recorded_once_a_minute() {
        let store = Arc::new(MemoryStore::new());
        let clock = Arc::new(ManualClock::at("2026-11-26T09:00:00Z"));
        let svc = TokenService::new(store.clone(), clock.clone());
        let user = UserId::new();
        let in_an_hour = clock.now() + Duration::hours(1);
        let minted = svc.mint(user, new_token(Scopes::READ, Some(in_an_hour))).await.unwrap();
        assert!(minted.token.starts_with(API_TOKEN_PREFIX));
        let p = svc.authenticate(&minted.token).await.unwrap().expect("a valid token");
        assert_eq!((p.user_id, p.scopes, p.token), (user, Scopes::READ, Some(minted.id)));
        let first_use = svc.list(user).await.unwrap()[0].last_used_at;
        assert_eq!(first_use, Some(clock.now()));
        clock.advance(Duration::seconds(30));
        svc.authenticate(&minted.token).await.unwrap().expect("still valid");
        assert_eq!(svc.list(user).await.unwrap()[0].last_used_at, first_use, "not rewritten within a minute");
        clock.advance(Duration::hours(1));
        assert_eq!(svc.authenticate(&minted.token).await.unwrap(), None, "expired");
        // Tampered, truncated and foreign strings are refused without a match.
        let mut tampered = minted.token.clone();
        tampered.pop();
        tampered.push('x');
        for bad in [tampered.as_str(), &minted.token[..20], "eyJhbGciOi", ""] {
            assert_eq!(svc.authenticate(bad).await.unwrap(), None, "{bad}");
        }
        assert!(svc.mint(user, new_token(Scopes::READ, Some(clock.now()))).await.is_err(), "expiry in the past");
    }

    #[tokio::test]
    async fn at_most_fifty_tokens_a_user() {
        let store = Arc::new(MemoryStore::new());
        let svc = TokenService::new(store, Arc::new(ManualClock::at("2026-11-26T09:00:00Z")));
        let user = UserId::new();
        for _ in 0..TOKENS_PER_USER_MAX {
            svc.mint(user, new_token(Scopes::READ_WRITE, None)).await.unwrap();
        }
        let e = svc.mint(user, new_token(Scopes::READ, None)).await.unwrap_err();
        assert!(matches!(e, Error::Validation(_)), "{e}");
        svc.mint(UserId::new(), new_token(Scopes::READ, None)).await.expect("another user has their own");
    }
}
