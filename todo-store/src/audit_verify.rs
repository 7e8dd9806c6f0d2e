//! Checkpoints of verified audit chains (`audit_checkpoints`): the verifier
//! resumes after the last entry it verified instead of re-hashing the whole chain.
//! The append path (`audit.rs`) never touches this table.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use todo_core::domain::UserId;
use todo_core::ports::{AuditCheckpoint, AuditCheckpoints, truncate_micros};

use crate::backend::{Backend, SqlStore};
use crate::sql::RowExt;
use crate::sql::{Arg, Exec, Stmt};
use crate::writer::Lane;

#[async_trait]
impl<B: Backend> AuditCheckpoints for SqlStore<B> {
    async fn checkpoint(&self, user_id: UserId) -> todo_core::Result<Option<AuditCheckpoint>> {
        let stmt =
            Stmt::new("SELECT seq, hash FROM audit_checkpoints WHERE user_id = $1", vec![Arg::Uuid(user_id.as_uuid())]);
        let row = self.backend().connection().await?.row(&stmt).await?;
        let read = |r: &<B::Connection as Exec>::Row| -> crate::error::Result<AuditCheckpoint> {
            Ok(AuditCheckpoint { seq: r.int("seq")?, hash: r.text("hash")? })
        };
        Ok(row.as_ref().map(read).transpose()?)
    }

    /// Stores `cp` unless a checkpoint further along is stored.
    async fn save_checkpoint(&self, user_id: UserId, cp: &AuditCheckpoint, at: DateTime<Utc>) -> todo_core::Result<()> {
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
        self.write_one(Lane::Background, stmt).await?;
        Ok(())
    }
}
