//! Run with: cargo run -p todo-store --example sqlite_tasks
//!
//! The task use cases on the SQLite store: a database file is created and
//! migrated, tasks are written through `TaskService` (each change and its events
//! in one transaction: the transactional outbox), the store is closed and opened
//! again, and the tasks and their events are read back: the events from the
//! store's embedded event log, as a consumer group would. `todo_store::connect`
//! takes a PostgreSQL URL (`postgres://...`) just the same.
//!
//! This file is also the `main.rs` of the crate that `scripts/sdk-check` builds
//! outside the workspace (dependencies: todo-core, todo-store, tokio, anyhow).

use std::time::Duration;

use anyhow::Context as _;
use todo_core::domain::{Email, Tags, TaskTitle, Timezone, User, UserId};
use todo_core::events::{CloudEvent, EventFactory, Topic};
use todo_core::ports::StartFrom;
use todo_core::service::{ListParams, NewTask, TaskService};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("todo-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let url = format!("sqlite://{}", dir.join("todo.db").display());
    let result = run(&url).await;
    std::fs::remove_dir_all(&dir)?;
    result
}

async fn run(url: &str) -> anyhow::Result<()> {
    let store = todo_store::connect(url).await.context("open the database")?;
    store.migrate().await.context("migrate")?;
    let ports = store.ports();

    let user = User {
        id: UserId::new(),
        email: Email::parse("ada@example.com")?,
        password_hash: String::new(),
        timezone: Timezone::parse("Europe/Paris")?,
        created_at: ports.clock.now(),
    };
    ports.users.create(&user).await.context("create user")?;
    let tasks = TaskService::new(ports.tasks, ports.users, ports.clock, EventFactory::new("/examples/sqlite"));
    for (title, tag) in [("write the report", "work"), ("call the plumber", "home"), ("review the budget", "work")] {
        let new = NewTask { tags: Some(Tags::parse([tag])?), ..NewTask::titled(TaskTitle::parse(title)?) };
        tasks.create(user.id, new).await?;
    }
    let page = tasks.list_with(user.id, ListParams { filter: Some("#home".to_owned()), ..Default::default() }).await?;
    let plumber = page.items.first().context("the #home task")?;
    tasks.complete(user.id, plumber.id, Some(plumber.version)).await?;
    store.close().await;

    // Everything is on disk: open the file again.
    let store = todo_store::connect(url).await.context("reopen the database")?;
    let ports = store.ports();
    let tasks = TaskService::new(ports.tasks, ports.users, ports.clock, EventFactory::new("/examples/sqlite"));
    for filter in ["#work", "completed"] {
        let page =
            tasks.list_with(user.id, ListParams { filter: Some(filter.to_owned()), ..Default::default() }).await?;
        let titles: Vec<&str> = page.items.iter().map(|t| t.title.as_str()).collect();
        println!("{filter}: {titles:?}");
    }

    // The outbox: three creations and a completion, in commit order.
    let topic = ports.log.topic_names().name(Topic::TaskEvents);
    let mut sub = ports.log.subscribe("sqlite-example", &[topic], StartFrom::Earliest).await?;
    for _ in 0..4 {
        let record = tokio::time::timeout(Duration::from_secs(10), sub.next()).await.context("no event")??;
        let event = CloudEvent::from_json_bytes(&record.payload)?;
        println!("offset {}: {} {}", record.offset, event.ty, event.subject.unwrap_or_default());
        sub.commit(&record).await?;
    }
    sub.close().await?;
    store.close().await;
    Ok(())
}
