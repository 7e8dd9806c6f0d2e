//! Checkpoints of verified audit chains (`audit_checkpoints`): the verifier
//! resumes after the last entry it verified instead of re-hashing the whole chain.
//! The append path (`audit.rs`) never touches this table.

use chrono::{DateTime, Utc};
use todo_core::domain::UserId;
use todo_core::ports::{AuditCheckpoint, truncate_micros};

use crate::engine::{Backend, Engine, write_one};
use crate::error::Result;
use crate::rows::RowExt;
use crate::sql::{Arg, Exec, Stmt};
use crate::writer::Lane;

impl<B: Backend> Engine<B> {
    /// `user_id`'s checkpoint.
    pub async fn audit_checkpoint(&self, user_id: UserId) -> Result<Option<AuditCheckpoint>> {
        let stmt =
            Stmt::new("SELECT seq, hash FROM audit_checkpoints WHERE user_id = $1", vec![Arg::Uuid(user_id.as_uuid())]);
        let row = self.backend.connection().await?.row(&stmt).await?;
        row.map(|r| Ok(AuditCheckpoint { seq: r.int("seq")?, hash: r.text("hash")? })).transpose()
    }

    /// Stores `cp` unless a checkpoint further along is stored.
    pub async fn save_audit_checkpoint(&self, user_id: UserId, cp: &AuditCheckpoint, at: DateTime<Utc>) -> Result<()> {
        let stmt = Stmt::new(
            "INSERT INTO audit_checkpoints (user_id, seq, hash, verified_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, \
             verified_at = excluded.verified_at WHERE audit_checkpoints.seq <= excluded.seq",
            vec![
                Arg::Uuid(user_id.as_uuid()),
                Arg::Int(cp.seq),
                Arg::Text(cp.hash.clone()),
                Arg::Time(truncate_micros(at)),
            ],
        );
        write_one(&self.backend, Lane::Background, stmt).await.map(drop)
    }
}

/// Implements `AuditCheckpoints` for a store with a field `engine: Arc<Engine<_>>`.
macro_rules! impl_audit_checkpoints {
    ($store:ty) => {
        #[::async_trait::async_trait]
        impl ::todo_core::ports::AuditCheckpoints for $store {
            async fn checkpoint(
                &self,
                user_id: ::todo_core::domain::UserId,
            ) -> ::todo_core::Result<Option<::todo_core::ports::AuditCheckpoint>> {
                Ok(self.engine.audit_checkpoint(user_id).await?)
            }

            async fn save_checkpoint(
                &self,
                user_id: ::todo_core::domain::UserId,
                checkpoint: &::todo_core::ports::AuditCheckpoint,
                at: ::chrono::DateTime<::chrono::Utc>,
            ) -> ::todo_core::Result<()> {
                Ok(self.engine.save_audit_checkpoint(user_id, checkpoint, at).await?)
            }
        }
    };
}
pub(crate) use impl_audit_checkpoints;
