//! The stash of read connections against a real server (needs `DATABASE_URL`).

use std::time::Duration;

use super::*;
use crate::backend::Internals as _;
use crate::options::StoreOptions;
use crate::sql::RowExt as _;

async fn store() -> crate::PostgresStore {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL: this test needs PostgreSQL (scripts/pg-local)");
    crate::PostgresStore::connect(&url, &StoreOptions { max_connections: 3, ..StoreOptions::default() })
        .await
        .expect("connect to DATABASE_URL")
}

async fn pid(conn: &mut ReadConn) -> i64 {
    let row = conn.row(&Stmt::new("SELECT pg_backend_pid()::bigint AS pid", vec![])).await.expect("select");
    row.expect("a row").int("pid").expect("pid")
}

/// A read that ran to the end leaves its connection for the next read, as
/// it is; one cut short (its future dropped mid-query) does not: the next
/// read gets a connection with nothing pending, and the right answer.
#[tokio::test]
async fn only_finished_reads_are_reused() {
    let store = store().await;
    let backend = store.backend();
    let first = pid(&mut backend.connection().await.expect("acquire")).await;
    let again = pid(&mut backend.connection().await.expect("acquire")).await;
    assert_eq!(again, first, "a finished read's connection is the next read's");

    let mut conn = backend.connection().await.expect("acquire");
    let slow = Stmt::new("SELECT pg_sleep(2), 1::bigint AS x", vec![]);
    assert!(tokio::time::timeout(Duration::from_millis(100), conn.rows(&slow)).await.is_err(), "cut short");
    drop(conn);
    assert!(backend.reads.idle.lock().expect("stash lock").is_empty(), "the cut-short connection is not stashed");
    let mut next = backend.connection().await.expect("acquire");
    assert_ne!(pid(&mut next).await, first, "a read cut short does not leave its connection to the next");
    let row = next.row(&Stmt::new("SELECT 7::bigint AS x", vec![])).await.expect("select").expect("a row");
    assert_eq!(row.int("x").expect("x"), 7, "the next read gets its own answer");
    drop(next);
    assert!(backend.reads.idle.lock().expect("stash lock").len() <= backend.reads.keep);
    tokio::time::timeout(Duration::from_secs(10), store.close()).await.expect("close gives stashed connections back");
}

/// More readers than read connections all get their turn: each waits in order
/// for a permit, whatever the stash hands to newcomers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_readers_all_get_their_turn() {
    let store = store().await;
    let mut readers = Vec::new();
    for _ in 0..24 {
        let store = store.clone();
        readers.push(tokio::spawn(async move {
            let mut slowest = Duration::ZERO;
            for _ in 0..20 {
                let t = Instant::now();
                let mut conn = store.backend().connection().await.expect("acquire");
                slowest = slowest.max(t.elapsed());
                conn.rows(&Stmt::new("SELECT pg_sleep(0.001)", vec![])).await.expect("select");
            }
            slowest
        }));
    }
    for r in readers {
        let slowest = tokio::time::timeout(Duration::from_secs(30), r).await.expect("every reader finishes").unwrap();
        // 24 readers on one connection, ~1.5 ms a read: a turn comes within
        // about 24 reads, far below a second, unless some reader starves.
        assert!(slowest < Duration::from_secs(1), "a reader waited {slowest:?} for a connection");
    }
    assert!(store.backend().reads.idle.lock().expect("stash lock").len() <= store.backend().reads.keep);
    store.close().await;
}
