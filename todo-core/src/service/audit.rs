//! The audit service: records every event once in its user's hash chain, lists
//! a user's entries, and recomputes the chain on demand.

use std::sync::Arc;

use async_trait::async_trait;

use crate::consumer::{Delivery, EventHandler};
use crate::domain::audit::ChainVerifier;
use crate::domain::{AuditPage, AuditQuery, UserId, VerifyReport};
use crate::events::{CloudEvent, Topic};
use crate::ports::{AuditStore, Checkpoint, Clock, Record};
use crate::{Error, Result};

/// Consumer group and span name.
pub const AUDIT_GROUP: &str = "audit";

/// Entries read per batch while verifying.
const VERIFY_BATCH: u32 = 500;

/// Records every event of the three topics.
pub struct AuditRecorder {
    store: Arc<dyn AuditStore>,
    clock: Arc<dyn Clock>,
}

impl AuditRecorder {
    /// A recorder appending to `store`, stamping entries with `clock`.
    pub fn new(store: Arc<dyn AuditStore>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }
}

#[async_trait]
impl EventHandler for AuditRecorder {
    fn name(&self) -> String {
        AUDIT_GROUP.to_owned()
    }

    fn topics(&self) -> Vec<Topic> {
        Topic::ALL.to_vec()
    }

    async fn handle(&self, event: &CloudEvent, _record: &Record) -> Result<()> {
        match self.store.append(event, self.clock.now()).await {
            Ok(_) | Err(Error::Duplicate(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The whole batch in one transaction: each user's chain grows by that user's
    /// events, in order; events recorded before are skipped.
    fn max_batch(&self) -> usize {
        usize::MAX
    }

    async fn handle_batch(&self, batch: &[Delivery], checkpoint: Option<&Checkpoint>) -> Result<()> {
        let events: Vec<CloudEvent> = batch.iter().map(|d| d.event.clone()).collect();
        self.store.append_batch(&events, self.clock.now(), checkpoint).await.map(drop)
    }
}

/// Reading the trail.
#[derive(Clone)]
pub struct AuditService {
    store: Arc<dyn AuditStore>,
}

impl AuditService {
    /// The service over `store`.
    pub fn new(store: Arc<dyn AuditStore>) -> Self {
        Self { store }
    }

    /// One page of a user's entries, newest first.
    pub async fn list(&self, query: &AuditQuery) -> Result<AuditPage> {
        self.store.list(query).await
    }

    /// Recomputes `user_id`'s whole chain and reports the first entry that does not hold.
    pub async fn verify(&self, user_id: UserId) -> Result<VerifyReport> {
        let mut verifier = ChainVerifier::default();
        let mut after = 0;
        loop {
            let batch = self.store.chain(user_id, after, VERIFY_BATCH).await?;
            for e in &batch {
                verifier.check(e);
            }
            match batch.last() {
                Some(last) if batch.len() == VERIFY_BATCH as usize => after = last.seq,
                _ => return Ok(verifier.report()),
            }
        }
    }
}
