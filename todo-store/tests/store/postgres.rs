//! PostgreSQL: contracts, commit order under concurrent writers, exact `Latest`,
//! exclusive groups.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use todo_core::contract::event_log::{self, LogFixture};
use todo_core::contract::task_repo::{self, RepoFixture, Repos};
use todo_core::events::Topic;
use todo_core::ports::{EventLog, StartFrom};
use todo_store::{PostgresStore, StoreError, StoreKind, StoreOptions};

use crate::support::{PgDb, concurrent_appends, groups_are_exclusive};

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
    async fn open(&self) -> Repos {
        let store = todo_store::connect(&self.0.url).await.expect("connect");
        assert_eq!(store.kind(), StoreKind::Postgres);
        store.migrate().await.expect("migrate");
        Repos::of(Arc::new(store.as_postgres().expect("a PostgreSQL store").clone()))
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
