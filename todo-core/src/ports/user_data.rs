//! What a user keeps besides tasks: conversations, saved filters, API tokens,
//! calendar feeds.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Result;
use crate::domain::{Conversation, ConversationId, FilterId, Message, SavedFilter, UserId};

/// Chat conversations, scoped to their user.
#[async_trait]
pub trait ConversationStore: Send + Sync {
    /// Stores a new conversation.
    async fn create(&self, c: &Conversation) -> Result<()>;

    /// The conversation if it exists and belongs to `user_id`.
    async fn get(&self, user_id: UserId, id: ConversationId) -> Result<Option<Conversation>>;

    /// Saves `last_listing`, `context`, `updated_at` and `version`.
    async fn save(&self, c: &Conversation) -> Result<()>;

    /// Appends a message; its `seq` is assigned by the store and returned.
    async fn append(&self, user_id: UserId, m: &Message) -> Result<Message>;

    /// Messages of the user's conversation with `seq > after_seq`, oldest first, at most `limit`.
    async fn messages(&self, user_id: UserId, id: ConversationId, after_seq: i64, limit: u32) -> Result<Vec<Message>>;
}

/// Saved filters, scoped to their user: another user's filter does not exist.
/// Names are unique per user by [`crate::domain::FilterName::key`].
#[async_trait]
pub trait SavedFilterStore: Send + Sync {
    /// Stores a new filter; [`crate::Error::Conflict`] when the user has one of that name.
    async fn create(&self, f: &SavedFilter) -> Result<()>;

    /// The filter if it exists and belongs to `user_id`.
    async fn get(&self, user_id: UserId, id: FilterId) -> Result<Option<SavedFilter>>;

    /// The user's filters, by name key then id.
    async fn list(&self, user_id: UserId) -> Result<Vec<SavedFilter>>;

    /// Replaces the name, query and `updated_at` of the user's filter `f.id`;
    /// [`crate::Error::NotFound`] or [`crate::Error::Conflict`] (the name is taken).
    async fn update(&self, f: &SavedFilter) -> Result<()>;

    /// Deletes the user's filter; [`crate::Error::NotFound`] when there is none.
    async fn delete(&self, user_id: UserId, id: FilterId) -> Result<()>;
}

/// API tokens, stored by the hash of their secret.
#[async_trait]
pub trait ApiTokenStore: Send + Sync {
    /// Stores a new token; [`crate::Error::Conflict`] when its id or hash exists.
    async fn create_token(&self, token: &crate::domain::ApiToken) -> Result<()>;

    /// `user_id`'s tokens, newest first.
    async fn tokens(&self, user_id: UserId) -> Result<Vec<crate::domain::ApiToken>>;

    /// The token whose secret has this hash, whoever it belongs to.
    async fn token_by_hash(&self, hash: &crate::domain::SecretHash) -> Result<Option<crate::domain::ApiToken>>;

    /// Deletes `user_id`'s token `id`; `false` when `user_id` has no such token.
    async fn revoke_token(&self, user_id: UserId, id: crate::domain::TokenId) -> Result<bool>;

    /// Records that the token was used at `at`.
    async fn touch_token(&self, id: crate::domain::TokenId, at: DateTime<Utc>) -> Result<()>;
}

/// Calendar feeds: one per user, stored by the hash of the secret in its URL.
#[async_trait]
pub trait CalendarFeedStore: Send + Sync {
    /// Stores `feed` as its user's feed, replacing the previous one (whose secret
    /// stops working at once).
    async fn put_feed(&self, feed: &crate::domain::CalendarFeed) -> Result<()>;

    /// `user_id`'s feed, if any.
    async fn feed(&self, user_id: UserId) -> Result<Option<crate::domain::CalendarFeed>>;

    /// The feed whose secret has this hash.
    async fn feed_by_hash(&self, hash: &crate::domain::SecretHash) -> Result<Option<crate::domain::CalendarFeed>>;

    /// Deletes `user_id`'s feed; `false` when there was none.
    async fn delete_feed(&self, user_id: UserId) -> Result<bool>;
}
