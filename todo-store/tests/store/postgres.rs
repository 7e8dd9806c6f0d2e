//! PostgreSQL: contracts, commit order under concurrent writers, exact `Latest`,
//! exclusive groups.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use todo_core::contract::event_log::{self, LogFixture};
use todo_core::contract::task_repo::{self, RepoFixture};
use todo_core::domain::{TaskId, UserId};
use todo_core::events::{CloudEvent, EventFactory, EventType, Topic};
use todo_core::ports::{EventLog, Ports, StartFrom, WebhookTarget};
use todo_core::service::audit::AuditService;
use todo_store::{PostgresStore, StoreError, StoreKind, StoreOptions};

use crate::support::{
    PgDb, StoreFixture, audit_appends_per_sec, concurrent_appends, fire_all_due, groups_are_exclusive,
    meets_the_store_contracts, schedule_tasks,
};

async fn open(db: &PgDb, max_connections: u32) -> PostgresStore {
    let options = StoreOptions { max_connections, ..StoreOptions::default() };
    let store = PostgresStore::connect(&db.url, &options).await.expect("connect to the test database");
    store.migrate().await.expect("migrate");
    store
}

/// A database of its own; every `open` is a new store on it (a restart).
struct PgFixture(PgDb);

#[async_trait]
impl LogFixture for PgFixture {
    async fn open(&self) -> Arc<dyn EventLog> {
        Arc::new(open(&self.0, 10).await)
    }
}

#[async_trait]
impl RepoFixture for PgFixture {
    async fn open(&self) -> Ports {
        let store = todo_store::connect(&self.0.url).await.expect("connect");
        assert_eq!(store.kind(), StoreKind::Postgres);
        store.migrate().await.expect("migrate");
        Ports::from_one(Arc::new(store.as_postgres().expect("a PostgreSQL store").clone()))
    }
}

#[tokio::test]
async fn postgres_event_log_meets_the_contract() {
    event_log::run_all(|| async { Box::new(PgFixture(PgDb::create().await)) as Box<dyn LogFixture> }).await;
}

#[tokio::test]
async fn postgres_task_repository_meets_the_contract() {
    task_repo::run_all(|| async { Box::new(PgFixture(PgDb::create().await)) as Box<dyn RepoFixture> }).await;
}

#[tokio::test]
async fn postgres_groups_are_exclusive() {
    let db = PgDb::create().await;
    let store = open(&db, 10).await;
    store.ping().await.expect("ping");
    groups_are_exclusive(Arc::new(store)).await;
}

/// 16 writers × 50 appends, some holding their transaction open, read by a
/// consumer at the same time: no record is skipped by a later-committing smaller seq.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_concurrent_writers_are_read_once_in_order() {
    let db = PgDb::create().await;
    let options = StoreOptions { max_connections: 32, ..StoreOptions::default() };
    let store = todo_store::connect_with(&db.url, &options).await.expect("connect");
    store.migrate().await.expect("migrate");
    let stats = concurrent_appends(store, 16, 50).await;
    eprintln!("postgres: {stats}");
}

/// A group that starts at `Latest` gets exactly what commits after it joined: not a
/// record committed before (even by a transaction newer than a running one), and
/// the record of a transaction that was running when it joined.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_latest_start_is_exact_around_running_transactions() {
    let db = PgDb::create().await;
    let store = open(&db, 10).await;
    let topic = store.topic_names().name(Topic::TaskUpdates);
    let slow = {
        let (store, topic) = (store.clone(), topic.clone());
        tokio::spawn(async move {
            store.append_holding(&topic, b"running", Duration::from_millis(1500)).await.expect("slow append");
        })
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    store.append(&topic, Some("k"), b"before", &[]).await.expect("append");
    let mut sub = store.subscribe("late", std::slice::from_ref(&topic), StartFrom::Latest).await.expect("subscribe");
    store.append(&topic, Some("k"), b"after", &[]).await.expect("append");
    slow.await.expect("slow writer");
    let mut got = Vec::new();
    for _ in 0..2 {
        let r =
            tokio::time::timeout(Duration::from_secs(10), sub.next()).await.expect("a record arrives").expect("read");
        got.push(String::from_utf8_lossy(&r.payload).into_owned());
        sub.commit(&r).await.expect("commit");
    }
    assert_eq!(got, ["running", "after"], "in commit-safe order: the older transaction first");
    assert!(
        tokio::time::timeout(Duration::from_millis(1500), sub.next()).await.is_err(),
        "\"before\" is never delivered"
    );
}

#[tokio::test]
async fn an_unreachable_server_is_unavailable() {
    let err = todo_store::connect("postgres://todo:todo@127.0.0.1:1/todo").await.err().expect("no server on port 1");
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    let core = todo_core::Error::from(err);
    assert!(core.to_string().contains("refused"), "the cause is kept: {core}");
    assert!(core.is_transient());
}

/// A fresh database behind a [`StoreFixture`].
async fn fresh() -> StoreFixture {
    let db = PgDb::create().await;
    let url = db.url.clone();
    StoreFixture::connect(&url, db).await
}

#[tokio::test]
async fn postgres_stores_meet_the_contracts() {
    meets_the_store_contracts(fresh).await;
}

/// The trigger rejects every UPDATE, DELETE and TRUNCATE of `audit_log` (even one
/// that matches no row) with a clear error; the tamper hook goes around it for
/// its own transaction only, and verification then reports the tampered entry.
#[tokio::test]
async fn postgres_audit_log_is_append_only() {
    let f = fresh().await;
    let audit = f.store.audit();
    let user = UserId::new();
    let now = chrono::Utc::now();
    for n in 0..3 {
        let e = CloudEvent::new("/test", EventType::TaskChanged, None, now, user, serde_json::json!({ "n": n }));
        audit.append(&e, now).await.expect("append");
    }
    let pool = f.store.as_postgres().expect("postgres").pool();
    for sql in [
        "UPDATE audit_log SET event = '{}'",
        "UPDATE audit_log SET hash = hash WHERE seq = 2",
        "DELETE FROM audit_log WHERE seq = 3",
        "DELETE FROM audit_log WHERE seq = -1",
        "TRUNCATE audit_log",
    ] {
        let err = sqlx::query(sql).execute(pool).await.expect_err(sql);
        let db = err.as_database_error().expect("a database error");
        assert!(db.message().starts_with("audit_log is append-only"), "{sql}: {}", db.message());
        assert_eq!(db.code().as_deref(), Some("42501"), "{sql}: insufficient_privilege");
    }
    let service = AuditService::new(audit.clone());
    assert!(service.verify(user).await.expect("verify").ok, "nothing changed");

    let mut changed = audit.chain(user, 1, 1).await.expect("chain")[0].event.clone();
    changed["data"]["n"] = serde_json::json!(42);
    let n = f.store.tamper_audit_event(user, 2, &changed.to_string()).await.expect("tamper");
    assert_eq!(n, 1);
    let report = service.verify(user).await.expect("verify");
    let bad = report.first_bad.expect("the tampered entry is reported");
    assert_eq!((bad.seq, report.entries_checked), (2, 3));
    let err = sqlx::query("DELETE FROM audit_log").execute(pool).await.expect_err("the trigger is back on");
    assert!(err.to_string().contains("append-only"), "{err}");
    let enabled: String =
        sqlx::query_scalar("SELECT tgenabled::text FROM pg_trigger WHERE tgname = 'audit_log_append_only'")
            .fetch_one(pool)
            .await
            .expect("trigger state");
    assert_eq!(enabled, "O", "enabled again after the hook");
}

/// Two instances fire the same 200 due reminders at once: each fires exactly once
/// (`FOR UPDATE SKIP LOCKED`), with one notification and one event each; then two
/// webhook dispatchers claim the 200 deliveries at once, each delivery once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_concurrent_fire_due_fires_each_once() {
    const N: usize = 200;
    let db = PgDb::create().await;
    let first = todo_store::connect(&db.url).await.expect("connect");
    first.migrate().await.expect("migrate");
    let second = todo_store::connect(&db.url).await.expect("connect a second instance");
    let at: chrono::DateTime<chrono::Utc> = "2026-11-26T09:00:00Z".parse().expect("time");
    let tasks = schedule_tasks(&first, 10, N, at).await;
    let started = std::time::Instant::now();
    let run = |store: todo_store::Store| {
        let hook = WebhookTarget { url: "http://127.0.0.1:9/hook".into() };
        tokio::spawn(async move {
            let reminders = store.reminders();
            let mut fired = Vec::new();
            loop {
                let batch = reminders.fire_due(at, 10, &EventFactory::new("/test"), Some(&hook)).await.expect("fire");
                if batch.is_empty() && reminders.next_due().await.expect("next_due").is_none() {
                    return fired;
                }
                fired.extend(batch);
            }
        })
    };
    let (a, b) = (run(first.clone()), run(second.clone()));
    let (a, b) = (a.await.expect("instance 1"), b.await.expect("instance 2"));
    let secs = started.elapsed().as_secs_f64();
    let mut fired: Vec<TaskId> = a.iter().chain(&b).map(|n| n.task_id).collect();
    assert_eq!(fired.len(), N, "every reminder fired once: {} + {}", a.len(), b.len());
    fired.sort();
    fired.dedup();
    assert_eq!(fired.len(), N, "no reminder fired twice");
    let mut expected: Vec<TaskId> = tasks.iter().map(|t| t.id).collect();
    expected.sort();
    assert_eq!(fired, expected);
    let pool = first.as_postgres().expect("postgres").pool();
    let (notifications, events): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM notifications), \
         (SELECT count(*) FROM event_log WHERE headers @> '[[\"ce_type\", \"todo.reminder.due.v1\"]]')",
    )
    .fetch_one(pool)
    .await
    .expect("counts");
    assert_eq!((notifications, events), (N as i64, N as i64), "one notification and one event per reminder");
    eprintln!(
        "postgres: {N} reminders fired by 2 instances in {secs:.2} s ({:.0}/s, batches of 10): {} + {}",
        N as f64 / secs,
        a.len(),
        b.len()
    );

    let claim = |store: todo_store::Store| {
        tokio::spawn(async move {
            let reminders = store.reminders();
            let mut claimed = Vec::new();
            loop {
                let batch = reminders.claim_webhooks(at, 7, 30).await.expect("claim");
                if batch.is_empty() {
                    return claimed;
                }
                claimed.extend(batch.into_iter().map(|d| d.id));
            }
        })
    };
    let (a, b) = (claim(first.clone()), claim(second.clone()));
    let (a, b) = (a.await.expect("dispatcher 1"), b.await.expect("dispatcher 2"));
    let mut claimed: Vec<_> = a.iter().chain(&b).copied().collect();
    claimed.sort();
    claimed.dedup();
    assert_eq!((claimed.len(), a.len() + b.len()), (N, N), "every delivery claimed once: {} + {}", a.len(), b.len());
}

/// Figures for the report: audit appends and reminder firing on PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_audit_and_firing_throughput() {
    let f = fresh().await;
    let appends = audit_appends_per_sec(&f.store, 10, 2000).await;
    let concurrent = {
        let started = std::time::Instant::now();
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let store = f.store.clone();
                tokio::spawn(async move { audit_appends_per_sec(&store, 10, 250).await })
            })
            .collect();
        for h in handles {
            h.await.expect("writer");
        }
        2000.0 / started.elapsed().as_secs_f64()
    };
    let at: chrono::DateTime<chrono::Utc> = "2026-11-26T09:00:00Z".parse().expect("time");
    schedule_tasks(&f.store, 20, 1000, at).await;
    let (fired, secs) = fire_all_due(&f.store, at, 100).await;
    assert_eq!(fired, 1000);
    eprintln!(
        "postgres: {appends:.0} audit appends/s sequential, {concurrent:.0}/s from 8 writers; \
         fire_due: {fired} reminders in {secs:.2} s ({:.0}/s, batches of 100)",
        fired as f64 / secs
    );
}
