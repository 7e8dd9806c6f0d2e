//! `todo converse --now <RFC3339> --tz <IANA> -- "turn 1" "turn 2" ...`: the
//! conversation's equivalent of `todo parse`. The turns run as one conversation
//! of a fresh user on an in-memory SQLite store, through the services the server
//! uses (the chat service, and the recurring-task service after each turn, as
//! the embedded mode runs it), with the clock standing still at `--now`. Prints
//! `{"replies": [...], "tasks": [Task, ...]}`: every task of that user, any
//! status, as the API shows them.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::json;
use todo_core::consumer::{Delivery, EventHandler};
use todo_core::domain::query::{StatusFilter, TaskQuery};
use todo_core::domain::{Email, Task, Timezone, User, UserId};
use todo_core::events::{CloudEvent, EventFactory, Topic};
use todo_core::ports::{Clock, StartFrom, Subscription};
use todo_core::service::chat::{ChatRequest, ChatService, RuleBasedInterpreter};
use todo_core::service::recurring::{RECURRING_GROUP, RecurringTaskHandler};
use todo_core::service::{FilterService, TaskService};

use crate::role::API_SOURCE;

/// A clock that stands still.
struct FixedClock(DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// Runs `turns` and prints the replies and the user's tasks as JSON.
pub async fn run(now: Option<&str>, tz: &str, turns: &[String]) -> anyhow::Result<()> {
    let now = match now {
        Some(n) => DateTime::parse_from_rfc3339(n).context("--now must be RFC 3339")?.with_timezone(&Utc),
        None => Utc::now(),
    };
    let now = todo_core::ports::truncate_micros(now);
    let timezone = Timezone::parse(tz).map_err(|_| anyhow::anyhow!("--tz {tz:?} is not an IANA time zone"))?;
    let (replies, tasks) = converse(now, timezone, turns).await?;
    println!("{}", serde_json::to_string(&json!({"replies": replies, "tasks": tasks}))?);
    Ok(())
}

/// The replies to `turns`, and every task of their user afterwards.
pub async fn converse(now: DateTime<Utc>, tz: Timezone, turns: &[String]) -> anyhow::Result<(Vec<String>, Vec<Task>)> {
    let store = todo_store::connect("sqlite::memory:").await.context("open an in-memory store")?;
    store.migrate().await.context("migrate the in-memory store")?;
    let clock: Arc<dyn Clock> = Arc::new(FixedClock(now));
    let user = User {
        id: UserId::new(),
        email: Email::parse("converse@example.com")?,
        // No password signs in as this user: the conversation is all there is.
        password_hash: "!".to_owned(),
        timezone: tz,
        created_at: now,
    };
    store.users().create(&user).await.context("create the user")?;
    let service =
        |source: &str| TaskService::new(store.tasks(), store.users(), clock.clone(), EventFactory::new(source));
    let tasks = service(API_SOURCE);
    let chat = ChatService::new(tasks.clone(), store.conversations(), clock.clone(), Arc::new(RuleBasedInterpreter))
        .with_saved_filters(FilterService::new(tasks.clone(), store.saved_filters()));
    let recurring = RecurringTaskHandler::new(service("/todo/recurring-task"));
    let log = store.event_log();
    let topics = vec![log.topic_names().name(Topic::TaskEvents)];
    let mut sub = log.subscribe(RECURRING_GROUP, &topics, StartFrom::Earliest).await?;
    // Join the group before the first turn (its lag is known once it has): the
    // log is empty, so waiting for a record only activates it, and giving up
    // the wait loses nothing.
    while sub.lag().await?.is_none() {
        let _ = tokio::time::timeout(Duration::from_millis(20), sub.next()).await;
    }

    let mut conversation = None;
    let mut replies = Vec::with_capacity(turns.len());
    for turn in turns {
        let req = ChatRequest { message: turn.clone(), conversation_id: conversation };
        match chat.send(user.id, req).await {
            Ok(r) => {
                conversation = Some(r.conversation_id);
                replies.push(r.reply);
            }
            Err(e) => replies.push(format!("error: {e}")),
        }
        settle(&mut *sub, &recurring).await?;
    }

    let mut all = Vec::new();
    let mut q = TaskQuery::new(user.id, now);
    q.status = StatusFilter::All;
    q.limit = 200;
    loop {
        let page = tasks.list(&q).await?;
        all.extend(page.items);
        match page.next_cursor {
            Some(c) => q.cursor = Some(todo_core::domain::Cursor::decode(&c, q.sort)?),
            None => break,
        }
    }
    store.close().await;
    Ok((replies, all))
}

/// Lets the recurring-task service handle every event of the turn, as it would
/// in the server a moment later.
async fn settle(sub: &mut dyn Subscription, handler: &RecurringTaskHandler) -> anyhow::Result<()> {
    while sub.lag().await?.unwrap_or(0) > 0 {
        let batch = sub.next_batch(100, Duration::ZERO).await?;
        let deliveries: Vec<Delivery> = batch
            .iter()
            .filter_map(|r| {
                CloudEvent::from_json_bytes(&r.payload).ok().map(|event| Delivery { event, record: r.clone() })
            })
            .collect();
        handler.handle_batch(&deliveries, None).await?;
        sub.commit_batch(&batch).await?;
    }
    Ok(())
}
