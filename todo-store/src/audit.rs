//! The audit trail on both backends: one hash chain per user in `audit_log`,
//! appended under a per-user lock, never updated (a trigger rejects it).
//!
//! The stored `event` is the canonical JSON text that was hashed, byte for byte, so
//! a verifier reading it back recomputes the same hash; an entry whose text was
//! changed fails verification from that entry on.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use todo_core::domain::audit::{GENESIS_HASH, canonical_json, chain_hash};
use todo_core::domain::{AuditEntry, AuditPage, AuditQuery, EventId, TaskId, UserId};
use todo_core::events::{CloudEvent, EventType};
use todo_core::ports::{AuditStore, Checkpoint, truncate_micros};

use crate::backend::{Backend, SqlStore};
use crate::error::{Result, StoreError};
use crate::sql::RowExt;
use crate::sql::{Arg, Dialect, Exec, Stmt};
use crate::writer::Lane;

/// The columns [`read_entry`] reads.
const AUDIT_COLUMNS: &str =
    "user_id, seq, event_id, event_type, task_id, occurred_at, recorded_at, event, prev_hash, hash";

#[async_trait]
impl<B: Backend> AuditStore for SqlStore<B> {
    /// Appends `event` to its user's chain.
    async fn append(&self, event: &CloudEvent, recorded_at: DateTime<Utc>) -> todo_core::Result<AuditEntry> {
        let json = serde_json::to_value(event).map_err(|e| StoreError::Internal(format!("event to JSON: {e}")))?;
        let dialect = self.backend().dialect();
        let work = Arc::new((event.clone(), json, truncate_micros(recorded_at)));
        let entry = self
            .write(Lane::Background, false, move |c| {
                let work = work.clone();
                Box::pin(async move {
                    let (event, json, recorded_at) = &*work;
                    append_entry(c, dialect, event, json.clone(), *recorded_at).await
                })
            })
            .await?;
        Ok(entry)
    }

    /// Appends `events` to their users' chains in one transaction with
    /// `checkpoint`, skipping events recorded before; returns how many it appended.
    async fn append_batch(
        &self,
        events: &[CloudEvent],
        recorded_at: DateTime<Utc>,
        checkpoint: Option<&Checkpoint>,
    ) -> todo_core::Result<usize> {
        // Per user, in batch order; users in id order, so that two writers lock
        // chains in the same order (PostgreSQL) and never deadlock.
        let mut chains: BTreeMap<UserId, Vec<(CloudEvent, Value)>> = BTreeMap::new();
        for event in events {
            let json = serde_json::to_value(event).map_err(|e| StoreError::Internal(format!("event to JSON: {e}")))?;
            chains.entry(event.userid).or_default().push((event.clone(), json));
        }
        let checkpoint = self.own_checkpoint(checkpoint)?;
        if chains.is_empty() && checkpoint.is_none() {
            return Ok(0);
        }
        let dialect = self.backend().dialect();
        let work = Arc::new((chains, truncate_micros(recorded_at), checkpoint.as_ref().map(|(_, s)| s.clone())));
        let appended = self
            .write(Lane::Background, false, move |c| {
                let work = work.clone();
                Box::pin(async move {
                    let (chains, recorded_at, position) = &*work;
                    let mut appended = 0;
                    for (user, events) in chains {
                        appended += append_chain(c, dialect, *user, events, *recorded_at).await?;
                    }
                    if let Some(p) = position {
                        c.run(p).await?;
                    }
                    Ok(appended)
                })
            })
            .await?;
        if let Some((cp, _)) = checkpoint {
            cp.mark_stored();
        }
        Ok(appended)
    }

    /// One page of a user's entries, newest first.
    async fn list(&self, q: &AuditQuery) -> todo_core::Result<AuditPage> {
        let mut s = Stmt::new(
            format!("SELECT {AUDIT_COLUMNS} FROM audit_log WHERE user_id = $1"),
            vec![Arg::Uuid(q.user_id.as_uuid())],
        );
        if let Some(before) = q.before_seq {
            let p = s.bind(Arg::Int(before));
            s.push(&format!(" AND seq < {p}"));
        }
        if let Some(task) = q.task_id {
            let p = s.bind(Arg::Uuid(task.as_uuid()));
            s.push(&format!(" AND task_id = {p}"));
        }
        if let Some(ty) = &q.event_type {
            let p = s.bind(Arg::Text(ty.clone()));
            s.push(&format!(" AND event_type = {p}"));
        }
        let limit = s.bind(Arg::Int(i64::from(q.limit) + 1));
        s.push(&format!(" ORDER BY seq DESC LIMIT {limit}"));
        let rows = self.backend().connection().await?.rows(&s).await?;
        let items = rows.iter().map(read_entry).collect::<Result<Vec<_>>>()?;
        Ok(AuditPage::cut(items, q.limit, |e| e.seq.to_string()))
    }

    /// A user's entries with `seq > after_seq` in chain order, at most `limit`.
    async fn chain(&self, user_id: UserId, after_seq: i64, limit: u32) -> todo_core::Result<Vec<AuditEntry>> {
        let s = Stmt::new(
            format!("SELECT {AUDIT_COLUMNS} FROM audit_log WHERE user_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"),
            vec![Arg::Uuid(user_id.as_uuid()), Arg::Int(after_seq), Arg::Int(i64::from(limit))],
        );
        let rows = self.backend().connection().await?.rows(&s).await?;
        Ok(rows.iter().map(read_entry).collect::<Result<_>>()?)
    }
}

#[cfg(feature = "test-util")]
impl<B: Backend> SqlStore<B> {
    /// Overwrites the stored event text of entry `seq` of `user_id` with
    /// `event_json` (any text), going around the append-only guard, and returns
    /// how many rows changed (0 or 1). Only for tests that show tampering is
    /// detected: PostgreSQL disables the `audit_log_append_only` trigger with
    /// `ALTER TABLE ... DISABLE TRIGGER` inside the tampering transaction (the
    /// table's owner may; the ALTER's lock keeps every other session out until the
    /// trigger is enabled again in the same transaction); SQLite drops the two
    /// triggers and re-creates them from their stored definitions, also in one
    /// transaction.
    pub async fn tamper_audit_event(&self, user_id: UserId, seq: i64, event_json: &str) -> todo_core::Result<u64> {
        let s = Stmt::new(
            "UPDATE audit_log SET event = $1 WHERE user_id = $2 AND seq = $3",
            vec![Arg::Text(event_json.to_owned()), Arg::Uuid(user_id.as_uuid()), Arg::Int(seq)],
        );
        Ok(self.run_unguarded(s).await?)
    }
}

/// Rows per multi-row `INSERT` into `audit_log` (11 bind values each).
const AUDIT_ROWS_PER_INSERT: usize = 200;

/// Appends `events` (all of `user`'s, in order) to `user`'s chain inside an open
/// write transaction, skipping those recorded before; returns how many it appended.
async fn append_chain<C: Exec>(
    c: &mut C,
    dialect: Dialect,
    user: UserId,
    events: &[(CloudEvent, Value)],
    recorded_at: DateTime<Utc>,
) -> Result<usize> {
    if let Some(lock) = dialect.lock_audit_chain(user) {
        c.run(&lock).await?;
    }
    let mut seen = recorded(c, events).await?;
    let (mut seq, mut hash) = chain_head(c, user).await?;
    let mut rows = Vec::new();
    for (event, json) in events {
        if !seen.insert(event.id) {
            continue;
        }
        let canonical = canonical_json(json);
        seq += 1;
        let next = chain_hash(&hash, &canonical);
        let topic = EventType::parse(&event.ty).ok().map(|t| t.topic().as_str().to_owned());
        rows.push(vec![
            Arg::Uuid(user.as_uuid()),
            Arg::Int(seq),
            Arg::Uuid(event.id.as_uuid()),
            Arg::Text(event.ty.clone()),
            Arg::OptUuid(event.subject.as_deref().and_then(|s| s.parse::<uuid::Uuid>().ok())),
            Arg::OptText(topic),
            Arg::Time(truncate_micros(event.time)),
            Arg::Time(recorded_at),
            Arg::Text(canonical),
            Arg::Text(std::mem::replace(&mut hash, next.clone())),
            Arg::Text(next),
        ]);
    }
    let appended = rows.len();
    for chunk in rows.chunks(AUDIT_ROWS_PER_INSERT) {
        let mut s = Stmt::new(format!("INSERT INTO audit_log ({AUDIT_INSERT_COLUMNS}) VALUES "), vec![]);
        for (i, row) in chunk.iter().enumerate() {
            let params: Vec<String> = row.iter().cloned().map(|a| s.bind(a)).collect();
            s.push(&format!("{}({})", if i == 0 { "" } else { ", " }, params.join(", ")));
        }
        c.run(&s).await.map_err(|e| {
            e.on_unique(|what| {
                StoreError::Internal(format!("audit chain of user {user}: appends were not serialised ({what})"))
            })
        })?;
    }
    Ok(appended)
}

/// The ids among `events` that the trail holds already.
async fn recorded<C: Exec>(c: &mut C, events: &[(CloudEvent, Value)]) -> Result<HashSet<EventId>> {
    let mut s = Stmt::new("SELECT event_id FROM audit_log WHERE event_id IN (", vec![]);
    let params: Vec<String> = events.iter().map(|(e, _)| s.bind(Arg::Uuid(e.id.as_uuid()))).collect();
    s.push(&params.join(", "));
    s.push(")");
    let rows = c.rows(&s).await?;
    rows.iter().map(|r| Ok(EventId(r.uuid("event_id")?))).collect()
}

/// The `seq` and `hash` of the last entry of `user`'s chain (0 and the genesis
/// hash for an empty one).
async fn chain_head<C: Exec>(c: &mut C, user: UserId) -> Result<(i64, String)> {
    let last = Stmt::new(
        "SELECT seq, hash FROM audit_log WHERE user_id = $1 ORDER BY seq DESC LIMIT 1",
        vec![Arg::Uuid(user.as_uuid())],
    );
    Ok(match c.row(&last).await? {
        Some(row) => (row.int("seq")?, row.text("hash")?),
        None => (0, GENESIS_HASH.to_owned()),
    })
}

/// The columns an append writes.
const AUDIT_INSERT_COLUMNS: &str =
    "user_id, seq, event_id, event_type, task_id, topic, occurred_at, recorded_at, event, prev_hash, hash";

/// Appends one entry inside an open write transaction.
async fn append_entry<C: Exec>(
    c: &mut C,
    dialect: Dialect,
    event: &CloudEvent,
    json: Value,
    recorded_at: DateTime<Utc>,
) -> Result<AuditEntry> {
    let user_id = event.userid;
    if let Some(lock) = dialect.lock_audit_chain(user_id) {
        c.run(&lock).await?;
    }
    let (prev_seq, prev_hash) = chain_head(c, user_id).await?;
    let canonical = canonical_json(&json);
    let entry = AuditEntry {
        seq: prev_seq + 1,
        user_id,
        event_id: event.id,
        event_type: event.ty.clone(),
        task_id: event.subject.as_deref().and_then(|s| s.parse().ok()),
        occurred_at: truncate_micros(event.time),
        recorded_at,
        hash: chain_hash(&prev_hash, &canonical),
        prev_hash,
        event: json,
    };
    let topic = EventType::parse(&entry.event_type).ok().map(|t| t.topic().as_str().to_owned());
    let insert = Stmt::new(
        format!("INSERT INTO audit_log ({AUDIT_INSERT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"),
        vec![
            Arg::Uuid(user_id.as_uuid()),
            Arg::Int(entry.seq),
            Arg::Uuid(entry.event_id.as_uuid()),
            Arg::Text(entry.event_type.clone()),
            Arg::OptUuid(entry.task_id.map(|t| t.as_uuid())),
            Arg::OptText(topic),
            Arg::Time(entry.occurred_at),
            Arg::Time(entry.recorded_at),
            Arg::Text(canonical),
            Arg::Text(entry.prev_hash.clone()),
            Arg::Text(entry.hash.clone()),
        ],
    );
    c.run(&insert).await.map_err(|e| {
        e.on_unique(|what| {
            if what.contains("event_id") {
                StoreError::Duplicate(format!("audit/{}", event.id))
            } else {
                StoreError::Internal(format!(
                    "audit entry {} of user {user_id} exists: appends were not serialised",
                    entry.seq
                ))
            }
        })
    })?;
    Ok(entry)
}

/// Reads the [`AUDIT_COLUMNS`] of a row. An `event` text that is not JSON (only
/// tampering makes one) comes back as a JSON string of that text, so verification
/// reports the entry instead of failing to read the chain.
fn read_entry(row: &impl RowExt) -> Result<AuditEntry> {
    let text = row.text("event")?;
    let event = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Ok(AuditEntry {
        seq: row.int("seq")?,
        user_id: UserId(row.uuid("user_id")?),
        event_id: EventId(row.uuid("event_id")?),
        event_type: row.text("event_type")?,
        task_id: row.opt_uuid("task_id")?.map(TaskId),
        occurred_at: row.time("occurred_at")?,
        recorded_at: row.time("recorded_at")?,
        event,
        prev_hash: row.text("prev_hash")?,
        hash: row.text("hash")?,
    })
}
