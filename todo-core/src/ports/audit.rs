//! The audit trail's storage and its verified checkpoints.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::Checkpoint;
use crate::Result;
use crate::domain::{AuditEntry, AuditPage, AuditQuery, UserId};
use crate::events::CloudEvent;

/// The last entry of a verified prefix of a user's audit chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditCheckpoint {
    /// The entry's position in the user's chain.
    pub seq: i64,
    /// The entry's hash when it was verified.
    pub hash: String,
}

/// Checkpoints of verified audit-chain prefixes: verification resumes after them.
#[async_trait]
pub trait AuditCheckpoints: Send + Sync {
    /// `user_id`'s checkpoint, if the chain was verified before.
    async fn checkpoint(&self, user_id: UserId) -> Result<Option<AuditCheckpoint>>;
    /// Stores `checkpoint` for `user_id` (replacing an older one; one with a smaller
    /// `seq` than the stored one is ignored).
    async fn save_checkpoint(&self, user_id: UserId, checkpoint: &AuditCheckpoint, at: DateTime<Utc>) -> Result<()>;
}

/// The audit trail's storage: append-only, one hash chain per user.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends `event` to its user's chain (`seq` = previous + 1, `prev_hash` = the
    /// previous entry's hash, `hash` = [`crate::domain::audit::chain_hash`] of the
    /// canonical event), atomically and serialised per user.
    /// [`crate::Error::Duplicate`] when the event id is already recorded.
    async fn append(&self, event: &CloudEvent, recorded_at: DateTime<Utc>) -> Result<AuditEntry>;

    /// Appends `events` in order, each to its user's chain, in one transaction with
    /// `checkpoint` (see [`Checkpoint`]): all or nothing. Events already recorded are
    /// skipped (redelivery); returns how many were appended.
    async fn append_batch(
        &self,
        events: &[CloudEvent],
        recorded_at: DateTime<Utc>,
        checkpoint: Option<&Checkpoint>,
    ) -> Result<usize>;

    /// One page of a user's entries, newest first.
    async fn list(&self, query: &AuditQuery) -> Result<AuditPage>;

    /// A user's entries in chain order with `seq > after_seq`, at most `limit`.
    async fn chain(&self, user_id: UserId, after_seq: i64, limit: u32) -> Result<Vec<AuditEntry>>;
}
