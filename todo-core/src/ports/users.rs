//! User accounts, sign-in throttling and the LLM budget.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Result;
use crate::domain::{Email, User, UserId};

/// User accounts.
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// Stores a new user; [`crate::Error::Conflict`] when the e-mail is taken.
    async fn create(&self, user: &User) -> Result<()>;
    /// The user with this e-mail address.
    async fn by_email(&self, email: &Email) -> Result<Option<User>>;
    /// The user with this id.
    async fn by_id(&self, id: UserId) -> Result<Option<User>>;
}

/// The sign-in attempts counted in one throttling window of an (account, client) pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttemptWindow {
    /// Attempts in the window, the one just counted included.
    pub attempts: u64,
    /// When the window began.
    pub started: DateTime<Utc>,
}

/// Sign-in attempts per (account, client address), for throttling (shared by every
/// instance of the API). Keyed on the pair, so that guessing from one address
/// never locks the account's owner out from another.
#[async_trait]
pub trait LoginAttempts: Send + Sync {
    /// Counts one attempt of `account` from `client` at `at` and returns the window
    /// with it, as one atomic step: concurrent attempts each see a distinct count,
    /// so no number of parallel guesses gets past the limit. A window that began at
    /// or before `at - window` starts over at `at`.
    async fn count_attempt(
        &self,
        account: &str,
        client: &str,
        at: DateTime<Utc>,
        window: chrono::Duration,
    ) -> Result<AttemptWindow>;
    /// Forgets the attempts of `account` from `client` (after a successful sign-in).
    async fn clear(&self, account: &str, client: &str) -> Result<()>;
    /// Forgets every window that began at or before `before`; returns how many.
    async fn prune(&self, before: DateTime<Utc>) -> Result<u64>;
}

/// The per-user daily budget of LLM calls, counted where every API instance sees it.
#[async_trait]
pub trait LlmBudget: Send + Sync {
    /// Takes one call from `user_id`'s budget of `limit` calls on `day` (UTC);
    /// `false` when the budget is spent. Atomic: concurrent turns never overspend.
    async fn take_call(&self, user_id: UserId, day: chrono::NaiveDate, limit: u32) -> Result<bool>;
}
