//! Foreground first, end to end: the conditions of the "0 req/s chat" run in
//! docs/benchmarks.md, reproduced. A large backlog of log records waits for every
//! consumer group when the services start; concurrent clients then chat (a chat
//! turn is a write). Every turn must be answered while the consumers are still
//! working the backlog off — a request's write waits behind at most one
//! background batch, never behind the backlog (ADR 16) — and the backlog must then
//! drain completely, each record audited once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use todo_core::domain::{Email, TaskTitle, UserId};
use todo_core::events::EventFactory;
use todo_core::ports::{Change, Ports};
use todo_core::service::{NewTask, TaskService};
use todo_tests::{AppOptions, Backend, Env, TestApp, eventually};

/// Tasks created before the services start: two log records each (`task-events`
/// and `task-updates`), so the audit group has twice as many to chain.
const BACKLOG_TASKS: usize = 20_000;
/// Concurrent chat clients, and the turns each sends.
const CLIENTS: usize = 8;
const TURNS: usize = 4;
/// Generous: the failure this guards against is a turn waiting for the whole
/// backlog (the old run answered nothing within wrk's 2 s timeout).
const TURN_BOUND: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_is_answered_while_the_consumers_work_off_a_backlog_sqlite() {
    chat_during_backlog(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_is_answered_while_the_consumers_work_off_a_backlog_postgres() {
    chat_during_backlog(Backend::Postgres).await;
}

/// Commits `n` task creations of `user`, 500 to a transaction, with no consumer
/// running: each one's events join the backlog.
async fn pile_up(ports: &Ports, user: UserId, n: usize) {
    let tasks =
        TaskService::new(ports.tasks.clone(), ports.users.clone(), ports.clock.clone(), EventFactory::new("/test"));
    let mut done = 0;
    while done < n {
        let mut change = Change::default();
        for i in done..(done + 500).min(n) {
            let title = TaskTitle::parse(&format!("backlog task {i}")).expect("a title");
            let (_, planned) = tasks.plan_create(user, NewTask::titled(title)).await.expect("plan");
            change.merge(planned);
        }
        ports.tasks.commit(change).await.expect("commit a slice of the backlog");
        done = (done + 500).min(n);
    }
}

async fn chat_during_backlog(backend: Backend) {
    let env = Arc::new(Env::new(backend).await);
    let api = TestApp::on_env(env.clone(), AppOptions { api_only: true, ..AppOptions::default() }).await;
    let mut tokens = Vec::new();
    for c in 0..CLIENTS {
        tokens.push(api.register(&format!("client{c}@example.com")).await);
    }
    api.register("ada@example.com").await;
    let ports = api.stop().await;
    let ada = ports.users.by_email(&Email::parse("ada@example.com").unwrap()).await.unwrap().expect("ada").id;
    pile_up(&ports, ada, BACKLOG_TASKS).await;
    let records = 2 * BACKLOG_TASKS as i64;

    // Every consumer group starts with the whole backlog ahead of it.
    let app = Arc::new(TestApp::on_env(env, AppOptions::default()).await);
    let started = Instant::now();
    // The clients start once the consumers are at work.
    eventually(60, "the audit group starts on the backlog", || {
        let audit = app.ports.audit.clone();
        async move { (!audit.chain(ada, 0, 1).await.ok()?.is_empty()).then_some(()) }
    })
    .await;
    let clients = tokens.into_iter().enumerate().map(|(c, token)| {
        let app = app.clone();
        tokio::spawn(async move {
            let mut slowest = Duration::ZERO;
            for turn in 0..TURNS {
                let sent = Instant::now();
                let message = format!("add call client {c} turn {turn} tomorrow at 5pm");
                let a = app.post("/api/v1/chat", &token, json!({ "message": message })).await;
                assert_eq!(a.status, StatusCode::OK, "{message}: {:?}", a.body);
                assert_eq!(a.body["actions"][0]["tool"], "add_task", "{:?}", a.body);
                slowest = slowest.max(sent.elapsed());
            }
            slowest
        })
    });
    let mut slowest = Duration::ZERO;
    for client in clients {
        slowest = slowest.max(client.await.expect("a chat client"));
    }
    let chatted = started.elapsed();
    // The turns did not wait for the backlog: the audit chain is not complete yet.
    let audited_all = !app.ports.audit.chain(ada, records - 1, 1).await.expect("read the chain").is_empty();
    assert!(
        !audited_all,
        "the backlog drained before the {} chat turns were answered ({chatted:?}): grow BACKLOG_TASKS so the test \
         shows requests passing a backlog",
        CLIENTS * TURNS
    );
    assert!(slowest < TURN_BOUND, "a chat turn took {slowest:?} behind the backlog");

    // Then the backlog drains, every record audited exactly once.
    eventually(300, "the audit group works off the backlog", || {
        let audit = app.ports.audit.clone();
        async move { (!audit.chain(ada, records - 1, 1).await.ok()?.is_empty()).then_some(()) }
    })
    .await;
    assert!(app.ports.audit.chain(ada, records, 1).await.unwrap().is_empty(), "no record audited twice");
    let lagged = started.elapsed();
    eprintln!(
        "{backend:?}: {} chat turns answered in {chatted:?} (slowest {slowest:?}); the backlog of {records} records \
         drained in {lagged:?}",
        CLIENTS * TURNS
    );
}
