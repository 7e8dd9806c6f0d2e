//! Run with: cargo run -p todo-core --example custom_handler --features test-util
//!
//! A handler of your own, driven by the consumer runner: it reads `task-events`
//! as consumer group `completion-tally` and counts each user's completed tasks.
//! The runner gives it at-least-once delivery (it commits the group's position
//! only after `handle` returned) and dead-letters what it cannot read: the
//! malformed record appended below ends up in `task-events.dlq`, headers naming
//! why. The same handler runs unchanged over the SQL event log of todo-store or
//! over Kafka (todo-kafka's `KafkaEventLog`): the runner only sees the
//! `EventLog` port.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use async_trait::async_trait;
use todo_core::consumer::{self, EventHandler, RetryPolicy};
use todo_core::domain::{Email, EventId, TaskTitle, Timezone, User, UserId};
use todo_core::events::{CloudEvent, DomainEvent, EventFactory, EventType, Topic};
use todo_core::memory::MemoryStore;
use todo_core::ports::{Ports, Record, StartFrom, dlq_headers};
use todo_core::service::{NewTask, TaskService};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// Counts completed tasks per user.
struct CompletionTally {
    /// Events already counted: a record may be delivered twice (after a crash
    /// before its commit), so the effect is keyed on the event id. A real handler
    /// claims the id in the transaction of its effect (`Change::claims`).
    seen: Mutex<HashSet<EventId>>,
    completed: Mutex<BTreeMap<UserId, usize>>,
    /// Records handled so far, for `main` to wait on.
    progress: watch::Sender<usize>,
}

#[async_trait]
impl EventHandler for CompletionTally {
    fn name(&self) -> String {
        "completion-tally".to_owned()
    }

    fn topics(&self) -> Vec<Topic> {
        vec![Topic::TaskEvents]
    }

    async fn handle(&self, event: &CloudEvent, _record: &Record) -> todo_core::Result<()> {
        // An event of a type this build does not know is an error: the runner
        // retries it, then dead-letters it.
        let decoded = event.decode().map_err(todo_core::Error::internal)?;
        if let DomainEvent::Task(EventType::TaskCompleted, data) = decoded
            && self.seen.lock().unwrap().insert(event.id)
        {
            *self.completed.lock().unwrap().entry(data.user_id).or_default() += 1;
        }
        self.progress.send_modify(|n| *n += 1);
        Ok(())
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let store = Arc::new(MemoryStore::new());
    let ports = Ports::from_one(store.clone());
    let tasks = TaskService::new(
        ports.tasks.clone(),
        ports.users.clone(),
        ports.clock.clone(),
        EventFactory::new("/examples/custom-handler"),
    );

    let (progress, mut handled) = watch::channel(0);
    let tally = Arc::new(CompletionTally { seen: Mutex::default(), completed: Mutex::default(), progress });
    let shutdown = CancellationToken::new();
    let runner =
        tokio::spawn(consumer::run(ports.log.clone(), tally.clone(), RetryPolicy::default(), shutdown.clone()));

    // Two users; Ada completes two tasks, Grace one.
    let mut users = Vec::new();
    for (email, done) in [("ada@example.com", 2), ("grace@example.com", 1)] {
        let user = User {
            id: UserId::new(),
            email: Email::parse(email)?,
            password_hash: String::new(),
            timezone: Timezone::default(),
            created_at: ports.clock.now(),
        };
        ports.users.create(&user).await?;
        for i in 0..3 {
            let task = tasks.create(user.id, NewTask::titled(TaskTitle::parse(&format!("task {i}"))?)).await?;
            if i < done {
                tasks.complete(user.id, task.id, None).await?;
            }
        }
        users.push((email, user.id));
    }
    // A record no handler can read, appended to the topic outside any task change.
    let topic = ports.log.topic_names().name(Topic::TaskEvents);
    ports.log.append(&topic, None, b"not a CloudEvent", &[]).await?;

    // 6 creations + 3 completions reach the handler. The malformed record does
    // not: the runner dead-letters it, and the dead letter says where it came
    // from and why.
    tokio::time::timeout(Duration::from_secs(30), handled.wait_for(|n| *n >= 9)).await.context("handler")??;
    let dlq = ports.log.topic_names().dlq(Topic::TaskEvents);
    let mut sub = ports.log.subscribe("example-dlq-reader", &[dlq], StartFrom::Earliest).await?;
    let letter = tokio::time::timeout(Duration::from_secs(30), sub.next()).await.context("dead letter")??;
    shutdown.cancel();
    runner.await??;

    let completed = tally.completed.lock().unwrap().clone();
    for (email, id) in &users {
        println!("{email}: {} completed", completed.get(id).copied().unwrap_or(0));
    }
    anyhow::ensure!(completed.values().sum::<usize>() == 3, "expected 3 completions, got {completed:?}");
    println!(
        "dead-lettered by {}: {}",
        letter.header(dlq_headers::CONSUMER_GROUP).unwrap_or("?"),
        letter.header(dlq_headers::ERROR).unwrap_or("?"),
    );
    Ok(())
}
