//! Kill -9 the audit consumer in the middle of its batched appends, again and
//! again, while it works through a backlog; restart it each time. Every event
//! must be recorded exactly once, every user's chain must verify, and the group's
//! position must end at the head of the log: a batch's entries and its position
//! commit together or not at all.
//!
//! Two deployments: PostgreSQL with its SQL log (`audit-service`), and the
//! embedded SQLite file (`todo serve`, all services in one process). Needs
//! DATABASE_URL for the first (scripts/test provides it).

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use todo_core::domain::{AuditQuery, Email, TaskTitle, Timezone, User, UserId};
use todo_core::events::EventFactory;
use todo_core::ports::SystemClock;
use todo_core::service::audit::AuditService;
use todo_core::service::{NewTask, TaskPatch, TaskService};
use todo_store::testing::{PgDb, TempDir};

const USERS: usize = 8;
/// Changes per user: each writes three or two events (created / changed / ...).
const CHANGES_PER_USER: usize = 600;

/// Writes the backlog: USERS users, each CHANGES_PER_USER changes.
async fn backlog(store: &todo_store::Store) -> Vec<UserId> {
    let tasks =
        TaskService::new(store.tasks(), store.users(), Arc::new(SystemClock), EventFactory::new("/todo/chat-api"));
    let mut users = Vec::new();
    for u in 0..USERS {
        let user = User {
            id: UserId::new(),
            email: Email::parse(&format!("audit-kill-{u}@example.com")).unwrap(),
            password_hash: String::new(),
            timezone: Timezone::default(),
            created_at: chrono::Utc::now(),
        };
        store.users().create(&user).await.unwrap();
        users.push(user.id);
    }
    let writers: Vec<_> = users
        .iter()
        .map(|&user| {
            let tasks = tasks.clone();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for n in 0..CHANGES_PER_USER {
                    let title = TaskTitle::parse(&format!("change {n}")).unwrap();
                    if n < 10 {
                        ids.push(tasks.create(user, NewTask::titled(title)).await.unwrap().id);
                    } else {
                        let patch = TaskPatch { title: Some(title), ..Default::default() };
                        tasks.update(user, ids[n % 10], patch, None).await.unwrap();
                    }
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    users
}

/// The number of rows of `table` (optionally `WHERE cond`).
async fn count(store: &todo_store::Store, sql: &str) -> i64 {
    if let Some(pg) = store.as_postgres() {
        sqlx::query_scalar::<_, i64>(sql).fetch_one(pg.pool()).await.unwrap()
    } else {
        let sqlite = store.as_sqlite().unwrap();
        sqlx::query_scalar::<_, i64>(sql).fetch_one(sqlite.pool()).await.unwrap()
    }
}

/// Kills `start()`'s process at random moments `kills` times while the audit
/// trail grows, restarting it each time; then lets it finish and checks the trail.
async fn kill_mid_batch(store: &todo_store::Store, users: &[UserId], start: impl Fn() -> Child, kills: usize) {
    let events = count(store, "SELECT COUNT(*) FROM event_log").await;
    let mut child = start();
    let mut killed = 0;
    let mut seen_growing = Vec::new();
    let started = Instant::now();
    while killed < kills {
        // Wait until the consumer is appending, then kill it somewhere in a batch.
        let before = count(store, "SELECT COUNT(*) FROM audit_log").await;
        tokio::time::sleep(Duration::from_millis(rand::thread_rng().gen_range(20..150))).await;
        let now = count(store, "SELECT COUNT(*) FROM audit_log").await;
        if now == events {
            break;
        }
        if now == before {
            assert!(started.elapsed() < Duration::from_secs(120), "the audit consumer made no progress");
            continue;
        }
        child.kill().expect("kill -9");
        child.wait().ok();
        killed += 1;
        seen_growing.push(now);
        child = start();
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while count(store, "SELECT COUNT(*) FROM audit_log").await < events {
        assert!(Instant::now() < deadline, "the trail never caught up after the kills");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Let a last batch's position commit (it is in the batch's own transaction anyway).
    tokio::time::sleep(Duration::from_millis(500)).await;
    child.kill().ok();
    child.wait().ok();
    println!(
        "audit killed {killed} times mid-backlog (trail at {seen_growing:?} of {events} events); caught up in {:.1?}",
        started.elapsed()
    );
    assert!(killed >= 3.min(kills), "the consumer was killed while appending ({killed} kills)");

    let recorded = count(store, "SELECT COUNT(*) FROM audit_log").await;
    let distinct = count(store, "SELECT COUNT(DISTINCT event_id) FROM audit_log").await;
    assert_eq!(recorded, events, "every event recorded");
    assert_eq!(distinct, events, "none twice");
    let audit = AuditService::new(store.audit());
    for &user in users {
        let report = audit.verify(user).await.unwrap();
        assert!(report.ok, "user {user}'s chain verifies after the kills: {report:?}");
        let query = AuditQuery { user_id: user, task_id: None, event_type: None, limit: 1, before_seq: None };
        let page = store.audit().list(&query).await.unwrap();
        assert_eq!(page.items.first().map(|e| e.seq), Some(report.entries_checked as i64), "no gap in seq");
    }
    let unprocessed = count(
        store,
        "SELECT COUNT(*) FROM event_log WHERE seq > (SELECT seq FROM consumer_offsets WHERE group_name = 'audit')",
    )
    .await;
    if store.as_sqlite().is_some() {
        assert_eq!(unprocessed, 0, "the group's position is at the head of the log");
    }
}

fn quiet(mut c: Command) -> Child {
    c.env("RUST_LOG", "warn").stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("start the service")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn audit_killed_mid_batch_on_postgres_records_each_event_once() {
    let db = PgDb::create().await;
    let store = todo_store::connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    let users = backlog(&store).await;
    let start = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_audit-service"));
        // PostgreSQL and its SQL log: a broker the test run provides is not this deployment's.
        c.env_remove("KAFKA_BOOTSTRAP_SERVERS")
            .env("DATABASE_URL", &db.url)
            .env("JWT_SECRET", "audit-kill-test-secret-0123456789abcdefgh")
            .env("TODO_BIND", "127.0.0.1:0");
        quiet(c)
    };
    kill_mid_batch(&store, &users, start, 6).await;
    let position = count(
        &store,
        "SELECT COUNT(*) FROM event_log e, consumer_offsets o WHERE o.group_name = 'audit' AND (e.txid, e.seq) > (o.txid, o.seq)",
    )
    .await;
    assert_eq!(position, 0, "the group's position is at the head of the log");
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn audit_killed_mid_batch_in_the_embedded_mode_records_each_event_once() {
    let dir = TempDir::new();
    let url = dir.sqlite_url();
    let store = todo_store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let users = backlog(&store).await;
    let start = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_todo"));
        // The embedded mode: whatever database the test run provides is not its.
        c.arg("serve")
            .env_remove("DATABASE_URL")
            .env_remove("KAFKA_BOOTSTRAP_SERVERS")
            .env("TODO_DATA_DIR", dir.path())
            .env("TODO_BIND", "127.0.0.1:0");
        quiet(c)
    };
    kill_mid_batch(&store, &users, start, 6).await;
    store.close().await;
}
