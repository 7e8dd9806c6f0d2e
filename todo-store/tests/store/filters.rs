//! The filter contract on SQLite and PostgreSQL: the table of queries, and
//! generated filters over generated tasks listing exactly what the in-memory
//! evaluator gives (10,000 filters per backend).

use todo_core::contract::filters;
use todo_store::{Store, StoreOptions};

use crate::support::{PgDb, TempDir};

/// Generated task sets per backend, and filters per set: 10,000 listings.
const CASES: u32 = 100;
const FILTERS_PER_CASE: usize = 100;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime")
}

async fn connect(url: &str) -> Store {
    let store = todo_store::connect_with(url, &StoreOptions::default()).await.expect("connect");
    store.migrate().await.expect("migrate");
    store
}

#[tokio::test]
async fn sqlite_filter_table() {
    let dir = TempDir::new();
    let store = connect(&dir.sqlite_url()).await;
    filters::table(&*store.tasks()).await;
}

#[tokio::test]
async fn postgres_filter_table() {
    let db = PgDb::create().await;
    let store = connect(&db.url).await;
    filters::table(&*store.tasks()).await;
    store.close().await;
}

#[test]
fn sqlite_filters_match_memory() {
    let rt = runtime();
    let dir = TempDir::new();
    let store = rt.block_on(connect(&dir.sqlite_url()));
    let n = filters::equivalence(&rt, &*store.tasks(), CASES, FILTERS_PER_CASE);
    assert!(n >= 10_000, "{n} filters");
}

#[test]
fn postgres_filters_match_memory() {
    let rt = runtime();
    let (db, store) = rt.block_on(async {
        let db = PgDb::create().await;
        let store = connect(&db.url).await;
        (db, store)
    });
    let n = filters::equivalence(&rt, &*store.tasks(), CASES, FILTERS_PER_CASE);
    rt.block_on(store.close());
    drop(db);
    assert!(n >= 10_000, "{n} filters");
}

#[tokio::test]
async fn sqlite_saved_filters_meet_the_contract() {
    let dir = TempDir::new();
    let store = connect(&dir.sqlite_url()).await;
    todo_core::contract::saved_filters::run_all(&*store.saved_filters()).await;
}

#[tokio::test]
async fn postgres_saved_filters_meet_the_contract() {
    let db = PgDb::create().await;
    let store = connect(&db.url).await;
    todo_core::contract::saved_filters::run_all(&*store.saved_filters()).await;
    store.close().await;
}
