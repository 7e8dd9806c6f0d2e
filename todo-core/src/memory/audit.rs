//! The audit trail in memory: hash-chained entries and verification checkpoints.

use super::*;

#[async_trait]
impl AuditStore for MemoryStore {
    async fn append(&self, event: &CloudEvent, recorded_at: DateTime<Utc>) -> Result<AuditEntry> {
        let mut st = self.lock();
        // An event id is recorded once in the whole trail, whichever user it names.
        if st.audit.values().flatten().any(|e| e.event_id == event.id) {
            return Err(Error::Duplicate(format!("audit/{}", event.id)));
        }
        let chain = st.audit.entry(event.userid).or_default();
        let entry = next_entry(chain, event, recorded_at)?;
        chain.push(entry.clone());
        Ok(entry)
    }

    async fn append_batch(
        &self,
        events: &[CloudEvent],
        recorded_at: DateTime<Utc>,
        checkpoint: Option<&Checkpoint>,
    ) -> Result<usize> {
        let mut st = self.lock();
        let mut recorded: HashSet<EventId> = st.audit.values().flatten().map(|e| e.event_id).collect();
        let mut appended = 0;
        for event in events {
            if !recorded.insert(event.id) {
                continue;
            }
            let chain = st.audit.entry(event.userid).or_default();
            let entry = next_entry(chain, event, recorded_at)?;
            chain.push(entry);
            appended += 1;
        }
        let stored = self.store_checkpoint(&mut st, checkpoint);
        drop(st);
        if let Some(cp) = stored {
            cp.mark_stored();
        }
        Ok(appended)
    }

    async fn list(&self, q: &AuditQuery) -> Result<AuditPage> {
        let st = self.lock();
        let items: Vec<AuditEntry> = st
            .audit
            .get(&q.user_id)
            .into_iter()
            .flatten()
            .rev()
            .filter(|e| q.before_seq.is_none_or(|b| e.seq < b))
            .filter(|e| q.task_id.is_none_or(|t| e.task_id == Some(t)))
            .filter(|e| q.event_type.as_ref().is_none_or(|t| &e.event_type == t))
            .take(q.limit as usize + 1)
            .cloned()
            .collect();
        Ok(AuditPage::cut(items, q.limit, |e| e.seq.to_string()))
    }

    async fn chain(&self, user_id: UserId, after_seq: i64, limit: u32) -> Result<Vec<AuditEntry>> {
        let st = self.lock();
        Ok(st
            .audit
            .get(&user_id)
            .into_iter()
            .flatten()
            .filter(|e| e.seq > after_seq)
            .take(limit as usize)
            .cloned()
            .collect())
    }
}

#[async_trait]
impl crate::ports::AuditCheckpoints for MemoryStore {
    async fn checkpoint(&self, user_id: UserId) -> Result<Option<crate::ports::AuditCheckpoint>> {
        Ok(self.lock().audit_checkpoints.get(&user_id).cloned())
    }

    async fn save_checkpoint(
        &self,
        user_id: UserId,
        checkpoint: &crate::ports::AuditCheckpoint,
        _at: DateTime<Utc>,
    ) -> Result<()> {
        let mut st = self.lock();
        let keep = st.audit_checkpoints.get(&user_id).is_some_and(|c| c.seq > checkpoint.seq);
        if !keep {
            st.audit_checkpoints.insert(user_id, checkpoint.clone());
        }
        Ok(())
    }
}

impl MemoryStore {
    /// Replaces a stored audit entry (for tamper-detection tests).
    pub fn tamper_audit(&self, user_id: UserId, seq: i64, f: impl FnOnce(&mut AuditEntry)) {
        let mut st = self.lock();
        if let Some(e) = st.audit.get_mut(&user_id).and_then(|c| c.iter_mut().find(|e| e.seq == seq)) {
            f(e);
        }
    }
}

/// The entry that appends `event` to `chain`: the next `seq`, linked to the last
/// entry's hash.
fn next_entry(chain: &[AuditEntry], event: &CloudEvent, recorded_at: DateTime<Utc>) -> Result<AuditEntry> {
    let json = serde_json::to_value(event).map_err(Error::internal)?;
    let prev_hash = chain.last().map_or_else(|| GENESIS_HASH.to_owned(), |e| e.hash.clone());
    Ok(AuditEntry {
        seq: chain.len() as i64 + 1,
        user_id: event.userid,
        event_id: event.id,
        event_type: event.ty.clone(),
        task_id: event.subject.as_deref().and_then(|s| s.parse().ok()),
        occurred_at: truncate_micros(event.time),
        recorded_at: truncate_micros(recorded_at),
        hash: chain_hash(&prev_hash, &canonical_json(&json)),
        prev_hash,
        event: json,
    })
}
