//! The audit trail: append-only, one hash chain per user.
//!
//! `hash = sha256(prev_hash || canonical event)`, where `prev_hash` is the raw
//! 32 bytes of the previous entry's hash (32 zero bytes for a user's first entry)
//! and the canonical event is its JSON with object keys sorted and no whitespace.
//! Changing, removing or reordering any entry breaks every hash after it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::ids::{EventId, TaskId, UserId};

/// The `prev_hash` of a user's first entry: 64 zeros.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One recorded event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    /// Position in the user's chain, from 1.
    pub seq: i64,
    /// Whose chain this entry is in.
    pub user_id: UserId,
    /// The CloudEvents `id`.
    pub event_id: EventId,
    /// CloudEvents `type`.
    pub event_type: String,
    /// The task the event is about, if any.
    pub task_id: Option<TaskId>,
    /// The event's own `time`.
    pub occurred_at: DateTime<Utc>,
    /// When this entry was appended.
    pub recorded_at: DateTime<Utc>,
    /// The whole CloudEvent.
    #[schema(value_type = Object)]
    pub event: Value,
    /// Hex sha256 of the previous entry (zeros for the first).
    pub prev_hash: String,
    /// Hex `sha256(prev_hash || canonical event)`.
    pub hash: String,
}

/// A listing request: one user's entries, newest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditQuery {
    /// Whose entries.
    pub user_id: UserId,
    /// Only entries about this task.
    pub task_id: Option<TaskId>,
    /// Exact CloudEvents type, e.g. `todo.task.completed.v1`.
    pub event_type: Option<String>,
    /// Page size (the store fetches one more; see [`crate::domain::Page::cut`]).
    pub limit: u32,
    /// Only entries with a smaller `seq` (the previous page's last).
    pub before_seq: Option<i64>,
}

/// A page of audit entries, newest first.
pub type AuditPage = super::Page<AuditEntry>;

/// The result of recomputing a user's chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VerifyReport {
    /// Whether every entry checked holds.
    pub ok: bool,
    /// How many entries were checked.
    pub entries_checked: u64,
    /// The first entry that does not hold, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_bad: Option<BadEntry>,
    /// Of `entries_checked`, those verified by an earlier call (up to its
    /// checkpoint) and not re-hashed by this one; 0 for a full verification.
    #[serde(default)]
    pub from_checkpoint: u64,
}

/// The first entry whose hashes do not hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BadEntry {
    /// Its position in the chain.
    pub seq: i64,
    /// Its event's id.
    pub event_id: EventId,
    /// What does not hold (e.g. the hash does not match).
    pub reason: String,
}

/// JSON with object keys sorted (bytewise) and no insignificant whitespace.
pub fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// `hex(sha256(prev || canonical))`, `prev` given as hex.
pub fn chain_hash(prev_hex: &str, canonical: &str) -> String {
    let prev = hex::decode(prev_hex).unwrap_or_default();
    let mut h = Sha256::new();
    h.update(&prev);
    h.update(canonical.as_bytes());
    hex::encode(h.finalize())
}

/// Walks a user's chain in `seq` order, one batch after another.
#[derive(Clone, Debug)]
pub struct ChainVerifier {
    prev: String,
    next_seq: i64,
    checked: u64,
    bad: Option<BadEntry>,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self { prev: GENESIS_HASH.to_owned(), next_seq: 1, checked: 0, bad: None }
    }
}

impl ChainVerifier {
    /// A verifier that continues after entry `seq`, whose hash is `hash`: the prefix
    /// up to it was verified before and counts as checked.
    pub fn resume_after(seq: i64, hash: String) -> Self {
        Self { prev: hash, next_seq: seq + 1, checked: u64::try_from(seq).unwrap_or(0), bad: None }
    }

    /// The last entry that verified, when every entry so far did: `(seq, hash)`.
    pub fn verified_up_to(&self) -> Option<(i64, &str)> {
        (self.bad.is_none() && self.next_seq > 1).then(|| (self.next_seq - 1, self.prev.as_str()))
    }

    /// Checks the next entry; after the first bad one, the rest are only counted.
    pub fn check(&mut self, e: &AuditEntry) {
        self.checked += 1;
        if self.bad.is_some() {
            return;
        }
        let reason = if e.seq != self.next_seq {
            Some(format!("expected entry {} here, found {}", self.next_seq, e.seq))
        } else if e.prev_hash != self.prev {
            Some("prev_hash does not match the previous entry's hash".to_owned())
        } else if chain_hash(&e.prev_hash, &canonical_json(&e.event)) != e.hash {
            Some("hash does not match the recorded event".to_owned())
        } else if e.event.get("id").and_then(Value::as_str) != Some(e.event_id.to_string().as_str()) {
            Some("event_id does not match the recorded event".to_owned())
        } else {
            None
        };
        if let Some(reason) = reason {
            self.bad = Some(BadEntry { seq: e.seq, event_id: e.event_id, reason });
        }
        self.prev = e.hash.clone();
        self.next_seq = e.seq + 1;
    }

    /// The report of the entries fed so far.
    pub fn report(self) -> VerifyReport {
        VerifyReport { ok: self.bad.is_none(), entries_checked: self.checked, first_bad: self.bad, from_checkpoint: 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_sorts_keys_recursively() {
        let v = json!({"b": 1, "a": {"d": [1, {"z": 0, "y": "x"}], "c": null}});
        assert_eq!(canonical_json(&v), r#"{"a":{"c":null,"d":[1,{"y":"x","z":0}]},"b":1}"#);
    }

    #[test]
    fn chain_detects_tampering() {
        let user = UserId::new();
        let mut prev = GENESIS_HASH.to_owned();
        let mut entries = vec![];
        for seq in 1..=3 {
            let id = EventId::new();
            let event = json!({"id": id.to_string(), "n": seq});
            let hash = chain_hash(&prev, &canonical_json(&event));
            entries.push(AuditEntry {
                seq,
                user_id: user,
                event_id: id,
                event_type: "t".into(),
                task_id: None,
                occurred_at: Utc::now(),
                recorded_at: Utc::now(),
                event,
                prev_hash: prev.clone(),
                hash: hash.clone(),
            });
            prev = hash;
        }
        let verify = |es: &[AuditEntry]| {
            let mut v = ChainVerifier::default();
            es.iter().for_each(|e| v.check(e));
            v.report()
        };
        assert!(verify(&entries).ok);
        let mut tampered = entries.clone();
        tampered[1].event["n"] = json!(99);
        let r = verify(&tampered);
        assert!(!r.ok);
        assert_eq!(r.first_bad.unwrap().seq, 2);
        assert_eq!(r.entries_checked, 3);
        let mut removed = entries.clone();
        removed.remove(0);
        assert_eq!(verify(&removed).first_bad.unwrap().seq, 2);
    }
}
