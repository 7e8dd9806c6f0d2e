//! SQLite: contracts, exclusive groups, concurrent writers and durability.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use todo_core::contract::event_log::{self, LogFixture};
use todo_core::contract::task_repo::{self, RepoFixture};
use todo_core::domain::{Email, TaskTitle, Timezone, User, UserId};
use todo_core::events::{CloudEvent, EventFactory, EventType, Topic};
use todo_core::ports::{EventLog, Ports, StartFrom, SystemClock, TaskRepository, UserRepository};
use todo_core::service::{NewTask, TaskService};
use todo_store::{SqliteStore, StoreKind, StoreOptions};

use crate::support::{
    StoreFixture, TempDir, audit_appends_per_sec, fire_all_due, groups_are_exclusive, meets_the_store_contracts,
    schedule_tasks,
};

async fn open(path: &std::path::Path) -> SqliteStore {
    let store = SqliteStore::open(path, &StoreOptions::default()).await.expect("open the database");
    store.migrate().await.expect("migrate");
    store
}

/// A database file of its own; every `open` is a new store on it (a restart).
struct SqliteFile {
    _dir: TempDir,
    path: PathBuf,
}

impl SqliteFile {
    fn new() -> Self {
        let dir = TempDir::new();
        let path = dir.path().join("todo.db");
        Self { _dir: dir, path }
    }
}

#[async_trait]
impl LogFixture for SqliteFile {
    async fn open(&self) -> Arc<dyn EventLog> {
        Arc::new(open(&self.path).await)
    }
}

#[async_trait]
impl RepoFixture for SqliteFile {
    async fn open(&self) -> Ports {
        Ports::from_one(Arc::new(open(&self.path).await))
    }
}

struct SqliteMemory;

#[async_trait]
impl RepoFixture for SqliteMemory {
    async fn open(&self) -> Ports {
        let store = todo_store::connect("sqlite::memory:").await.expect("connect");
        assert_eq!(store.kind(), StoreKind::Sqlite);
        store.migrate().await.expect("migrate");
        Ports::from_one(Arc::new(store.as_sqlite().expect("a SQLite store").clone()))
    }
}

#[tokio::test]
async fn sqlite_event_log_meets_the_contract() {
    event_log::run_all(|| async { Box::new(SqliteFile::new()) as Box<dyn LogFixture> }).await;
}

#[tokio::test]
async fn sqlite_task_repository_meets_the_contract() {
    task_repo::run_all(|| async { Box::new(SqliteFile::new()) as Box<dyn RepoFixture> }).await;
}

#[tokio::test]
async fn sqlite_in_memory_task_repository_meets_the_contract() {
    task_repo::run_all(|| async { Box::new(SqliteMemory) as Box<dyn RepoFixture> }).await;
}

#[tokio::test]
async fn sqlite_groups_are_exclusive() {
    let file = SqliteFile::new();
    groups_are_exclusive(Arc::new(open(&file.path).await)).await;
}

#[tokio::test]
async fn connect_creates_the_directory_and_uses_wal_with_full_sync() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}/nested/deeper/todo.db", dir.path().display());
    let store = todo_store::connect(&url).await.expect("connect creates the file and its directory");
    store.migrate().await.expect("migrate");
    assert!(dir.path().join("nested/deeper/todo.db").exists());
    let sqlite = store.as_sqlite().expect("sqlite");
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(sqlite.pool()).await.expect("journal_mode");
    assert_eq!(mode, "wal");
    let sync: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(sqlite.pool()).await.expect("synchronous");
    assert_eq!(sync, 2, "synchronous=FULL: every commit is on disk before it is reported");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(sqlite.pool()).await.expect("foreign_keys");
    assert_eq!(fk, 1);
    store.event_log().ping().await.expect("ping");
}

#[tokio::test]
async fn committed_data_survives_reopening() {
    let file = SqliteFile::new();
    let user = User {
        id: UserId::new(),
        email: Email::parse("durable@example.com").expect("email"),
        password_hash: "x".into(),
        timezone: Timezone::default(),
        created_at: chrono::Utc::now(),
    };
    let task = {
        let store = Arc::new(open(&file.path).await);
        store.create(&user).await.expect("create user");
        let service = TaskService::new(store.clone(), store.clone(), Arc::new(SystemClock), EventFactory::new("/test"));
        service
            .create(user.id, NewTask::titled(TaskTitle::parse("still here").expect("title")))
            .await
            .expect("create task")
        // The store is dropped without closing, as when a process ends.
    };
    let store = open(&file.path).await;
    assert_eq!(store.get(user.id, task.id).await.expect("get"), Some(task.clone()), "the task survived");
    assert_eq!(store.by_id(user.id).await.expect("by id").map(|u| u.email), Some(user.email));
    let topic = store.topic_names().name(Topic::TaskEvents);
    let mut sub = store.subscribe("durability", &[topic], StartFrom::Earliest).await.expect("subscribe");
    let record =
        tokio::time::timeout(Duration::from_secs(5), sub.next()).await.expect("the event survived").expect("read");
    assert_eq!(record.header("ce_type"), Some("todo.task.created.v1"));
    assert_eq!(record.key, Some(user.id.to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_concurrent_writers_are_read_once_in_order() {
    let file = SqliteFile::new();
    let url = format!("sqlite://{}", file.path.display());
    let store = todo_store::connect(&url).await.expect("connect");
    store.migrate().await.expect("migrate");
    let stats = crate::support::concurrent_appends(store, 8, 50).await;
    eprintln!("sqlite: {stats}");
}

/// A fresh database file behind a [`StoreFixture`].
async fn fresh() -> StoreFixture {
    let dir = TempDir::new();
    let url = format!("sqlite://{}", dir.path().join("todo.db").display());
    StoreFixture::connect(&url, dir).await
}

#[tokio::test]
async fn sqlite_stores_meet_the_contracts() {
    meets_the_store_contracts(fresh).await;
}

#[tokio::test]
async fn sqlite_in_memory_stores_meet_the_contracts() {
    meets_the_store_contracts(|| StoreFixture::connect("sqlite::memory:", ())).await;
}

/// Triggers reject every UPDATE and DELETE of `audit_log`; the tamper hook puts
/// them back after it has gone around them.
#[tokio::test]
async fn sqlite_audit_log_is_append_only() {
    let f = fresh().await;
    let user = UserId::new();
    let e = CloudEvent::new("/test", EventType::TaskChanged, None, chrono::Utc::now(), user, serde_json::json!({}));
    f.store.audit().append(&e, chrono::Utc::now()).await.expect("append");
    f.store.tamper_audit_event(user, 1, "{}").await.expect("tamper");
    let pool = f.store.as_sqlite().expect("sqlite").pool();
    for sql in ["UPDATE audit_log SET event = '{}'", "DELETE FROM audit_log", "DELETE FROM audit_log WHERE seq = 1"] {
        let err = sqlx::query(sql).execute(pool).await.expect_err(sql);
        assert!(err.to_string().contains("audit_log is append-only"), "{sql}: {err}");
    }
    let chain = f.store.audit().chain(user, 0, 10).await.expect("chain");
    assert_eq!(chain.len(), 1, "nothing was removed");
    assert_eq!(chain[0].event, serde_json::json!({}), "only the hook changed the entry");
}

/// Figures for the report: audit appends and reminder firing on a SQLite file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_audit_and_firing_throughput() {
    let f = fresh().await;
    let appends = audit_appends_per_sec(&f.store, 10, 2000).await;
    let at: chrono::DateTime<chrono::Utc> = "2026-11-26T09:00:00Z".parse().expect("time");
    schedule_tasks(&f.store, 20, 1000, at).await;
    let (fired, secs) = fire_all_due(&f.store, at, 100).await;
    assert_eq!(fired, 1000);
    eprintln!(
        "sqlite: {appends:.0} audit appends/s (sequential); fire_due: {fired} reminders in {secs:.2} s ({:.0}/s, batches of 100)",
        fired as f64 / secs
    );
}
