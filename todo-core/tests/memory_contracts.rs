//! The contract suites against the in-memory adapters.

use std::sync::Arc;

use async_trait::async_trait;
use todo_core::contract::event_log::{self, LogFixture};
use todo_core::contract::task_repo::{self, RepoFixture, Repos};
use todo_core::memory::MemoryStore;
use todo_core::ports::EventLog;

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
    async fn open(&self) -> Repos {
        Repos::of(Arc::new(MemoryStore::new()))
    }
}

#[tokio::test]
async fn memory_task_repository_meets_the_contract() {
    task_repo::run_all(|| async { Box::new(MemoryRepos) as Box<dyn RepoFixture> }).await;
}
