//! Verifying a user's audit chain incrementally: each verification that holds
//! leaves a checkpoint (the last entry's `seq` and hash); the next one checks that
//! the checkpointed entry still has that hash and re-hashes only the entries after
//! it. Hashing runs on the blocking pool, a batch at a time, never on the async
//! workers. A full verification (from the first entry) is one flag away.
//!
//! What a checkpoint changes (docs/adr/0014-abuse-limits-and-audit-checkpoints.md): an edit
//! of an entry's stored event inside an already verified prefix is found by a
//! full verification, not an incremental one; a rewritten chain (hashes recomputed
//! to hide an edit) no longer matches its checkpoint and is found by both, which a
//! chain without checkpoints could not show at all.

use std::sync::Arc;

use crate::domain::audit::BadEntry;
use crate::domain::audit::ChainVerifier;
use crate::domain::{EventId, UserId, VerifyReport};
use crate::ports::{AuditCheckpoint, AuditCheckpoints, AuditStore, Clock};
use crate::{Error, Result};

/// Entries read and hashed per batch.
const BATCH: u32 = 500;

/// Verifies audit chains, resuming from checkpoints.
#[derive(Clone)]
pub struct AuditVerifier {
    store: Arc<dyn AuditStore>,
    checkpoints: Arc<dyn AuditCheckpoints>,
    clock: Arc<dyn Clock>,
}

impl AuditVerifier {
    /// The verifier over the audit store and its checkpoints.
    pub fn new(store: Arc<dyn AuditStore>, checkpoints: Arc<dyn AuditCheckpoints>, clock: Arc<dyn Clock>) -> Self {
        Self { store, checkpoints, clock }
    }

    /// Verifies `user_id`'s chain: after its checkpoint, or from the first entry
    /// when `full` (or when there is none yet). A chain that holds moves the
    /// checkpoint to its last entry.
    pub async fn verify(&self, user_id: UserId, full: bool) -> Result<VerifyReport> {
        let checkpoint = self.checkpoints.checkpoint(user_id).await?;
        // The checkpointed entry must still carry the hash it had when verified.
        let mut rewritten = None;
        if let Some(cp) = &checkpoint {
            let anchor = self.store.chain(user_id, cp.seq - 1, 1).await?.into_iter().next();
            match anchor {
                Some(e) if e.seq == cp.seq && e.hash == cp.hash => {}
                other => {
                    rewritten = Some(BadEntry {
                        seq: cp.seq,
                        event_id: other.map_or(EventId(uuid::Uuid::nil()), |e| e.event_id),
                        reason: "this entry no longer has the hash it had when the chain was last verified: the \
                                 chain was rewritten"
                            .to_owned(),
                    });
                }
            }
        }
        let (mut verifier, resumed) = match &checkpoint {
            Some(cp) if !full && rewritten.is_none() => (ChainVerifier::resume_after(cp.seq, cp.hash.clone()), cp.seq),
            _ => (ChainVerifier::default(), 0),
        };
        let mut after = resumed;
        loop {
            let batch = self.store.chain(user_id, after, BATCH).await?;
            let last = batch.last().map(|e| e.seq);
            let full_batch = batch.len() == BATCH as usize;
            verifier = tokio::task::spawn_blocking(move || {
                for e in &batch {
                    verifier.check(e);
                }
                verifier
            })
            .await
            .map_err(Error::internal)?;
            match last {
                Some(seq) if full_batch => after = seq,
                _ => break,
            }
        }
        let verified = verifier.verified_up_to().map(|(seq, hash)| AuditCheckpoint { seq, hash: hash.to_owned() });
        let mut report = verifier.report();
        report.from_checkpoint = u64::try_from(resumed).unwrap_or(0);
        if let Some(bad) = rewritten {
            // Whatever the entries say about themselves, the chain is not the one verified.
            let earlier = report.first_bad.as_ref().is_some_and(|b| b.seq < bad.seq);
            if !earlier {
                report.first_bad = Some(bad);
            }
            report.ok = false;
            return Ok(report);
        }
        if let Some(cp) = verified.filter(|cp| checkpoint.as_ref().is_none_or(|old| cp.seq > old.seq)) {
            self.checkpoints.save_checkpoint(user_id, &cp, self.clock.now()).await?;
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{CloudEvent, EventType};
    use crate::memory::MemoryStore;
    use crate::ports::SystemClock;

    async fn chain_of(store: &MemoryStore, user: UserId, n: usize) {
        for i in 0..n {
            let e = CloudEvent::new(
                "/t",
                EventType::TaskChanged,
                None,
                chrono::Utc::now(),
                user,
                serde_json::json!({ "n": i }),
            );
            store.append(&e, chrono::Utc::now()).await.expect("append");
        }
    }

    fn verifier(store: &Arc<MemoryStore>) -> AuditVerifier {
        AuditVerifier::new(store.clone(), store.clone(), Arc::new(SystemClock))
    }

    #[tokio::test]
    async fn resumes_after_the_checkpoint_and_detects_what_follows() {
        let store = Arc::new(MemoryStore::new());
        let user = UserId::new();
        chain_of(&store, user, 5).await;
        let v = verifier(&store);
        let first = v.verify(user, false).await.expect("verify");
        assert!(first.ok && first.entries_checked == 5 && first.from_checkpoint == 0, "{first:?}");
        chain_of(&store, user, 3).await;
        let second = v.verify(user, false).await.expect("verify");
        assert!(second.ok, "{second:?}");
        assert_eq!((second.entries_checked, second.from_checkpoint), (8, 5), "only the 3 new entries re-hashed");

        chain_of(&store, user, 3).await;
        store.tamper_audit(user, 10, |e| e.event["data"]["n"] = serde_json::json!(99));
        let r = v.verify(user, false).await.expect("verify");
        assert!(!r.ok);
        assert_eq!(r.first_bad.expect("bad").seq, 10, "an edit after the checkpoint is found incrementally");
        let again = v.verify(user, false).await.expect("verify");
        assert_eq!(again.first_bad.expect("bad").seq, 10, "a broken chain does not move the checkpoint");
    }

    #[tokio::test]
    async fn a_full_verification_finds_edits_inside_the_verified_prefix() {
        let store = Arc::new(MemoryStore::new());
        let user = UserId::new();
        chain_of(&store, user, 4).await;
        let v = verifier(&store);
        assert!(v.verify(user, false).await.expect("verify").ok);
        store.tamper_audit(user, 2, |e| e.event["data"]["n"] = serde_json::json!("forged"));
        let full = v.verify(user, true).await.expect("verify");
        assert!(!full.ok && full.from_checkpoint == 0);
        assert_eq!(full.first_bad.expect("bad").seq, 2);
    }

    #[tokio::test]
    async fn a_rewritten_chain_no_longer_matches_its_checkpoint() {
        let store = Arc::new(MemoryStore::new());
        let user = UserId::new();
        chain_of(&store, user, 3).await;
        let v = verifier(&store);
        assert!(v.verify(user, false).await.expect("verify").ok);
        // Forge entry 3 and recompute its hash: the chain alone still "verifies".
        store.tamper_audit(user, 3, |e| {
            e.event["data"]["n"] = serde_json::json!("forged");
            e.hash = crate::domain::audit::chain_hash(&e.prev_hash, &crate::domain::audit::canonical_json(&e.event));
        });
        for full in [false, true] {
            let r = v.verify(user, full).await.expect("verify");
            assert!(!r.ok, "full={full}: {r:?}");
            assert_eq!(r.first_bad.expect("bad").seq, 3);
        }
    }
}
