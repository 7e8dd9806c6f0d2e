//! Run with: cargo run -p todo-core --example in_memory_tasks --features test-util
//!
//! The task use cases on the in-memory adapters of every port (feature
//! `test-util`): no database, no broker. A user's tasks are created, completed
//! and listed with a filter query; every change also left its events in the
//! store's outbox, which is printed at the end.

use std::sync::Arc;

use anyhow::Context as _;
use todo_core::domain::{Email, Priority, Tags, TaskTitle, Timezone, User, UserId};
use todo_core::events::{EventFactory, Topic};
use todo_core::memory::{ManualClock, MemoryStore};
use todo_core::ports::{Clock, Ports};
use todo_core::service::{ListParams, NewTask, TaskService};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // One in-memory store behind every port, and a clock we set by hand.
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::at("2026-11-26T09:00:00Z"));
    let ports = Ports::from_one(store.clone()).with_clock(clock.clone());

    let user = User {
        id: UserId::new(),
        email: Email::parse("ada@example.com")?,
        password_hash: String::new(),
        timezone: Timezone::parse("Europe/London")?,
        created_at: clock.now(),
    };
    ports.users.create(&user).await.context("create user")?;

    let tasks = TaskService::new(ports.tasks, ports.users, ports.clock, EventFactory::new("/examples/in-memory"));
    let milk = tasks
        .create(
            user.id,
            NewTask {
                tags: Some(Tags::parse(["groceries"])?),
                due_at: Some(clock.now() + chrono::Duration::hours(8)),
                ..NewTask::titled(TaskTitle::parse("buy milk")?)
            },
        )
        .await?;
    tasks
        .create(
            user.id,
            NewTask { priority: Some(Priority::parse("high")?), ..NewTask::titled(TaskTitle::parse("file taxes")?) },
        )
        .await?;
    let done = tasks.complete(user.id, milk.id, Some(milk.version)).await?;
    println!("completed {:?} (version {})", done.title.as_str(), done.version);

    // Filter queries are the same language as `GET /api/v1/tasks?filter=` (docs/filters.md).
    for filter in ["status:all", "p1", "today & #groceries & completed"] {
        let params = ListParams { filter: Some(filter.to_owned()), ..ListParams::default() };
        let page = tasks.list_with(user.id, params).await?;
        let titles: Vec<&str> = page.items.iter().map(|t| t.title.as_str()).collect();
        println!("filter {filter:?}: {titles:?}");
    }

    // The changes and their events were committed together (transactional outbox).
    let records = store.records(Topic::TaskEvents);
    for r in &records {
        println!("task-events: {}", r.header("ce_type").unwrap_or("?"));
    }
    anyhow::ensure!(records.len() == 3, "expected 3 task events, got {}", records.len());
    Ok(())
}
