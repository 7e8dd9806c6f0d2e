//! The contract suites against the in-memory adapters.

use std::sync::Arc;

use async_trait::async_trait;
use todo_core::contract::audit::{self, AuditFixture};
use todo_core::contract::conversations::{self, ConversationFixture};
use todo_core::contract::event_log::{self, LogFixture};
use todo_core::contract::reminders::{self, ReminderFixture};
use todo_core::contract::task_repo::{self, RepoFixture};
use todo_core::domain::UserId;
use todo_core::memory::MemoryStore;
use todo_core::ports::{AuditStore, ConversationStore, EventLog, Ports};

struct MemoryLog(MemoryStore);

#[async_trait]
impl LogFixture for MemoryLog {
    async fn open(&self) -> Arc<dyn EventLog> {
        Arc::new(self.0.clone())
    }
}

#[tokio::test]
async fn memory_event_log_meets_the_contract() {
    event_log::run_all(|| async { Box::new(MemoryLog(MemoryStore::new())) as Box<dyn LogFixture> }).await;
}

struct MemoryRepos;

#[async_trait]
impl RepoFixture for MemoryRepos {
    async fn open(&self) -> Ports {
        Ports::from_one(Arc::new(MemoryStore::new()))
    }
}

#[tokio::test]
async fn memory_task_repository_meets_the_contract() {
    task_repo::run_all(|| async { Box::new(MemoryRepos) as Box<dyn RepoFixture> }).await;
}

struct MemoryAudit(MemoryStore);

#[async_trait]
impl AuditFixture for MemoryAudit {
    async fn open(&self) -> Arc<dyn AuditStore> {
        Arc::new(self.0.clone())
    }

    async fn tamper(&self, user_id: UserId, seq: i64, event_text: &str) {
        let event = serde_json::from_str(event_text).unwrap_or_else(|_| serde_json::Value::String(event_text.into()));
        self.0.tamper_audit(user_id, seq, |e| e.event = event);
    }
}

#[tokio::test]
async fn memory_audit_store_meets_the_contract() {
    audit::run_all(|| async { Box::new(MemoryAudit(MemoryStore::new())) as Box<dyn AuditFixture> }).await;
}

struct MemoryReminders;

#[async_trait]
impl ReminderFixture for MemoryReminders {
    async fn open(&self) -> Ports {
        Ports::from_one(Arc::new(MemoryStore::new()))
    }
}

#[tokio::test]
async fn memory_reminder_store_meets_the_contract() {
    reminders::run_all(|| async { Box::new(MemoryReminders) as Box<dyn ReminderFixture> }).await;
}

struct MemoryConversations;

#[async_trait]
impl ConversationFixture for MemoryConversations {
    async fn open(&self) -> Arc<dyn ConversationStore> {
        Arc::new(MemoryStore::new())
    }
}

#[tokio::test]
async fn memory_conversation_store_meets_the_contract() {
    conversations::run_all(|| async { Box::new(MemoryConversations) as Box<dyn ConversationFixture> }).await;
}

#[tokio::test]
async fn memory_filter_table() {
    todo_core::contract::filters::table(&MemoryStore::new()).await;
    assert!(todo_core::contract::filters::table_len() >= 150);
}

#[test]
fn memory_filters_match_the_reference() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let n = todo_core::contract::filters::equivalence(&rt, &MemoryStore::new(), 100, 100);
    assert!(n >= 10_000, "{n} filters checked");
}

#[tokio::test]
async fn memory_saved_filters_meet_the_contract() {
    todo_core::contract::saved_filters::run_all(&MemoryStore::new()).await;
}

#[tokio::test]
async fn memory_store_commits_checkpoints_with_effects() {
    todo_core::contract::checkpoint::run_all(|| async { (Ports::from_one(Arc::new(MemoryStore::new())), ()) }).await;
}

struct MemoryLimits;

#[async_trait]
impl todo_core::contract::limits::LimitFixture for MemoryLimits {
    async fn open(&self) -> Ports {
        Ports::from_one(Arc::new(MemoryStore::new()))
    }
}

#[tokio::test]
async fn memory_limit_stores_meet_the_contract() {
    todo_core::contract::limits::run_all(|| async {
        Box::new(MemoryLimits) as Box<dyn todo_core::contract::limits::LimitFixture>
    })
    .await;
}

struct MemoryCredentials;

#[async_trait::async_trait]
impl todo_core::contract::credentials::CredentialFixture for MemoryCredentials {
    async fn open(&self) -> Ports {
        Ports::from_one(Arc::new(MemoryStore::new()))
    }
}

#[tokio::test]
async fn memory_store_keeps_credentials_by_hash() {
    todo_core::contract::credentials::run_all(|| async {
        Box::new(MemoryCredentials) as Box<dyn todo_core::contract::credentials::CredentialFixture>
    })
    .await;
}
