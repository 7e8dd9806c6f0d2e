//! Raw database baselines for `scripts/bench`: the same SQL our API runs, without
//! our code around it, on the same schema, pragmas and server.
//!
//! Run with: `cargo bench -p todo-store --bench raw -- <mode> [options]`
//!
//! - `create sqlite <dir> <seconds>`: one writer, one transaction per task, the
//!   same rows `POST /api/v1/tasks` of the bench's body writes: the task row and
//!   its three event rows (`task-events`, `task-updates`, `reminders`, with their
//!   `ce_type`/`ce_id` headers) in one multi-row INSERT (WAL, `synchronous=FULL`,
//!   as the store opens it).
//! - `create postgres <url> <clients> <seconds>`: the same, from `clients`
//!   connections at once.
//! - `create-one-event sqlite|postgres ...`: the task row and one event row with
//!   no headers: the baseline `scripts/bench` used until 2026-11-30, kept to
//!   compare with earlier runs.
//! - `list sqlite <dir> <seconds>` / `list postgres <url> <clients> <seconds>`:
//!   200 tasks of one user, then the API's first-page query (pending, 50 by due
//!   date descending), every column of every row read into Rust values.
//!
//! Prints one line: `<operations per second>`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::{Connection, Executor, PgConnection, Row, SqliteConnection};
use uuid::Uuid;

const TASK_INSERT: &str = "INSERT INTO tasks (id, user_id, title_sort, search_text, title, description, status, \
     priority, priority_rank, tags, due_sort_asc, due_sort_desc, due_at, all_day, remind_at, recurrence, repeat_from, \
     series_id, created_at, updated_at, completed_at, version) VALUES ($1, $2, $3, $4, $5, $6, 'pending', 'medium', \
     1, $7, $8, $9, $10, FALSE, $11, NULL, 'due', NULL, $12, $13, NULL, 1)";
/// The event rows of one create, as the API writes them: topic and `ce_type`.
const CREATE_EVENTS: [(&str, &str); 3] = [
    ("task-events", "todo.task.created.v1"),
    ("task-updates", "todo.task.changed.v1"),
    ("reminders", "todo.reminder.scheduled.v1"),
];
const LIST: &str = "SELECT id, user_id, title, description, status, priority, tags, due_at, all_day, remind_at, \
     recurrence, repeat_from, series_id, created_at, updated_at, completed_at, version FROM tasks \
     WHERE user_id = $1 AND status = $2 ORDER BY due_sort_desc DESC, id DESC LIMIT 51";

type Time = DateTime<Utc>;
/// The columns of [`LIST`] as SQLite returns them.
type SqliteTask = (
    (String, String, String, String, String, String),
    (String, Option<i64>, bool, Option<i64>, Option<String>, String),
    (Option<String>, i64, i64, Option<i64>, i64),
);
/// The columns of [`LIST`] as PostgreSQL returns them.
type PgTask = (
    (Uuid, Uuid, String, String, String, String),
    (Vec<String>, Option<Time>, bool, Option<Time>, Option<String>, String),
    (Option<Uuid>, Time, Time, Option<Time>, i64),
);

/// `INSERT` of `n` event rows in one statement.
fn event_insert(n: usize) -> String {
    let rows: Vec<String> = (0..n)
        .map(|i| {
            let p = |k: usize| format!("${}", i * 6 + k);
            format!("({}, {}, {}, {}, {}, {})", p(1), p(2), p(3), p(4), p(5), p(6))
        })
        .collect();
    format!("INSERT INTO event_log (topic, key, event_id, payload, headers, created_at) VALUES {}", rows.join(", "))
}

/// Each event row of one create: (topic, event id, payload, headers).
fn events(user: Uuid, task: Uuid, all: bool) -> Vec<(&'static str, String, Vec<u8>, serde_json::Value)> {
    let n = if all { CREATE_EVENTS.len() } else { 1 };
    CREATE_EVENTS[..n]
        .iter()
        .map(|(topic, ty)| {
            let id = Uuid::now_v7().to_string();
            let headers = if all { serde_json::json!([["ce_type", ty], ["ce_id", id]]) } else { serde_json::json!([]) };
            (*topic, id, payload(user, task, ty), headers)
        })
        .collect()
}

/// A CloudEvent of about the size ours have.
fn payload(user: Uuid, task: Uuid, ty: &str) -> Vec<u8> {
    serde_json::json!({
        "specversion": "1.0", "id": Uuid::now_v7(), "source": "/todo/chat-api", "type": ty,
        "subject": task, "time": Utc::now(), "datacontenttype": "application/json", "userid": user,
        "data": {"event_type": "created", "task_id": task, "user_id": user, "timestamp": Utc::now(),
            "task_data": {"id": task, "user_id": user, "title": "bench task", "description": "", "status": "pending",
                "priority": "medium", "tags": ["bench"], "due_at": "2026-12-01T09:00:00Z", "all_day": false,
                "remind_at": null, "recurrence": null, "repeat_from": "due", "series_id": null,
                "created_at": Utc::now(), "updated_at": Utc::now(), "completed_at": null, "version": 1}}
    })
    .to_string()
    .into_bytes()
}

fn due(i: u64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_795_000_000 + (i % 9) as i64 * 86_400, 0).expect("a time")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let arg = |i: usize| args.get(i).cloned().ok_or_else(|| format!("missing argument {i}: see the file's docs"));
    let secs = |i: usize| -> Result<Duration, Box<dyn std::error::Error>> { Ok(Duration::from_secs(arg(i)?.parse()?)) };
    let rate = match (arg(0)?.as_str(), arg(1)?.as_str()) {
        (m @ ("create" | "create-one-event"), "sqlite") => sqlite_create(&arg(2)?, secs(3)?, m == "create").await?,
        ("list", "sqlite") => sqlite_list(&arg(2)?, secs(3)?).await?,
        (m @ ("create" | "create-one-event"), "postgres") => {
            pg_create(&arg(2)?, arg(3)?.parse()?, secs(4)?, m == "create").await?
        }
        ("list", "postgres") => pg_list(&arg(2)?, arg(3)?.parse()?, secs(4)?).await?,
        (m, b) => return Err(format!("unknown mode {m} {b}").into()),
    };
    println!("{rate:.1}");
    Ok(())
}

/// A migrated store at `url`; the connections below are opened with its settings.
async fn migrated(url: &str) -> Result<(), Box<dyn std::error::Error>> {
    let store = todo_store::connect(url).await?;
    store.migrate().await?;
    store.close().await;
    Ok(())
}

async fn sqlite(dir: &str) -> Result<SqliteConnection, Box<dyn std::error::Error>> {
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
    let path = std::path::Path::new(dir).join("raw.db");
    migrated(&format!("sqlite://{}", path.display())).await?;
    let opts = SqliteConnectOptions::new()
        .filename(path)
        .foreign_keys(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full);
    Ok(SqliteConnection::connect_with(&opts).await?)
}

async fn sqlite_create(dir: &str, secs: Duration, all: bool) -> Result<f64, Box<dyn std::error::Error>> {
    let mut c = sqlite(dir).await?;
    let insert = event_insert(if all { CREATE_EVENTS.len() } else { 1 });
    let user = Uuid::now_v7();
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < secs {
        let task = Uuid::now_v7();
        let now = Utc::now().timestamp_micros();
        let mut tx = c.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query(TASK_INSERT)
            .bind(task.to_string())
            .bind(user.to_string())
            .bind("bench task")
            .bind("bench task")
            .bind("bench task")
            .bind("")
            .bind("[\"bench\"]")
            .bind(due(n).timestamp_micros())
            .bind(-due(n).timestamp_micros())
            .bind(due(n).timestamp_micros())
            .bind(Option::<i64>::None)
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let mut q = sqlx::query(&insert);
        for (topic, id, payload, headers) in events(user, task, all) {
            q = q.bind(topic).bind(user.to_string()).bind(id).bind(payload).bind(headers.to_string()).bind(now);
        }
        q.execute(&mut *tx).await?;
        tx.commit().await?;
        n += 1;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

async fn sqlite_list(dir: &str, secs: Duration) -> Result<f64, Box<dyn std::error::Error>> {
    let mut c = sqlite(dir).await?;
    let user = Uuid::now_v7();
    let mut tx = c.begin().await?;
    for i in 0..200u64 {
        let now = Utc::now().timestamp_micros();
        sqlx::query(TASK_INSERT)
            .bind(Uuid::now_v7().to_string())
            .bind(user.to_string())
            .bind(format!("seed {i}"))
            .bind(format!("seed {i}"))
            .bind(format!("seed {i}"))
            .bind("")
            .bind("[]")
            .bind(due(i).timestamp_micros())
            .bind(-due(i).timestamp_micros())
            .bind(due(i).timestamp_micros())
            .bind(Option::<i64>::None)
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < secs {
        let rows = sqlx::query(LIST).bind(user.to_string()).bind("pending").fetch_all(&mut c).await?;
        for r in &rows {
            // Every column, as the store reads it.
            let row: SqliteTask = (
                (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?, r.try_get(5)?),
                (r.try_get(6)?, r.try_get(7)?, r.try_get(8)?, r.try_get(9)?, r.try_get(10)?, r.try_get(11)?),
                (r.try_get(12)?, r.try_get(13)?, r.try_get(14)?, r.try_get(15)?, r.try_get(16)?),
            );
            std::hint::black_box(row);
        }
        n += 1;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// Runs `work` on `clients` connections at once for `secs`; operations per second.
async fn on_clients<F, Fut>(
    url: &str,
    clients: usize,
    secs: Duration,
    work: F,
) -> Result<f64, Box<dyn std::error::Error>>
where
    F: Fn(PgConnection, Arc<AtomicU64>, Instant) -> Fut + Send + Sync + 'static + Clone,
    Fut: std::future::Future<Output = Result<(), sqlx::Error>> + Send + 'static,
{
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now() + Duration::from_millis(200);
    let end = start + secs;
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let c = PgConnection::connect(url).await?;
        tasks.push(tokio::spawn(work.clone()(c, done.clone(), end)));
    }
    tokio::time::sleep_until(start.into()).await;
    let before = done.load(Ordering::Relaxed);
    for t in tasks {
        t.await??;
    }
    Ok((done.load(Ordering::Relaxed) - before) as f64 / secs.as_secs_f64())
}

async fn pg_create(url: &str, clients: usize, secs: Duration, all: bool) -> Result<f64, Box<dyn std::error::Error>> {
    migrated(url).await?;
    let user = Uuid::now_v7();
    let insert: &'static str = event_insert(if all { CREATE_EVENTS.len() } else { 1 }).leak();
    on_clients(url, clients, secs, move |mut c, done, end| async move {
        let mut i = 0u64;
        while Instant::now() < end {
            let task = Uuid::now_v7();
            let now = Utc::now();
            let mut tx = c.begin().await?;
            sqlx::query(TASK_INSERT)
                .bind(task)
                .bind(user)
                .bind("bench task")
                .bind("bench task")
                .bind("bench task")
                .bind("")
                .bind(vec!["bench".to_owned()])
                .bind(due(i).timestamp_micros())
                .bind(-due(i).timestamp_micros())
                .bind(due(i))
                .bind(Option::<DateTime<Utc>>::None)
                .bind(now)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            let mut q = sqlx::query(insert);
            for (topic, id, payload, headers) in events(user, task, all) {
                q = q.bind(topic).bind(user.to_string()).bind(id).bind(payload).bind(headers).bind(now);
            }
            q.execute(&mut *tx).await?;
            tx.commit().await?;
            done.fetch_add(1, Ordering::Relaxed);
            i += 1;
        }
        Ok(())
    })
    .await
}

async fn pg_list(url: &str, clients: usize, secs: Duration) -> Result<f64, Box<dyn std::error::Error>> {
    migrated(url).await?;
    let user = Uuid::now_v7();
    let mut c = PgConnection::connect(url).await?;
    c.execute("BEGIN").await?;
    for i in 0..200u64 {
        let now = Utc::now();
        sqlx::query(TASK_INSERT)
            .bind(Uuid::now_v7())
            .bind(user)
            .bind(format!("seed {i}"))
            .bind(format!("seed {i}"))
            .bind(format!("seed {i}"))
            .bind("")
            .bind(Vec::<String>::new())
            .bind(due(i).timestamp_micros())
            .bind(-due(i).timestamp_micros())
            .bind(due(i))
            .bind(Option::<DateTime<Utc>>::None)
            .bind(now)
            .bind(now)
            .execute(&mut c)
            .await?;
    }
    c.execute("COMMIT").await?;
    on_clients(url, clients, secs, move |mut c, done, end| async move {
        while Instant::now() < end {
            let rows = sqlx::query(LIST).bind(user).bind("pending").fetch_all(&mut c).await?;
            for r in &rows {
                // Every column, as the store reads it.
                let row: PgTask = (
                    (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?, r.try_get(5)?),
                    (r.try_get(6)?, r.try_get(7)?, r.try_get(8)?, r.try_get(9)?, r.try_get(10)?, r.try_get(11)?),
                    (r.try_get(12)?, r.try_get(13)?, r.try_get(14)?, r.try_get(15)?, r.try_get(16)?),
                );
                std::hint::black_box(row);
            }
            done.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    })
    .await
}
