//! Scale-out: two instances of every service on PostgreSQL + Kafka (6 partitions
//! per topic), each killed with SIGKILL at a random moment and restarted while
//! several users make 2,000 changes through two chat-api instances in turn. The
//! services are black boxes: processes, HTTP, WebSocket, Kafka and SQL.
//!
//! Checked afterwards: every effect exactly once (one successor per completed
//! occurrence, one notification per due reminder, one audit entry per event, every
//! chain verifies); every WebSocket client of a user got every change of that
//! user once and in order, reconnecting through the other sync instance with its
//! last cursor, and nothing of another user. Printed: how long the work of a
//! killed instance waited for the group to rebalance, and audit throughput with
//! one and two instances (docs/benchmarks.md, "Scale-out").
//!
//! Needs DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS; scripts/test runs it as its own
//! step: `cargo test -p todo-services --test scale_out -- --ignored --test-threads 1`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use rand::Rng;
use rand::seq::SliceRandom;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection, Row};
use todo_core::events::{CloudEvent, Topic, TopicNames};
use todo_core::ports::{EventLog, StartFrom};
use todo_kafka::{KafkaConfig, KafkaEventLog};
use todo_store::testing::PgDb;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

const USERS: usize = 8;
const CHANGES: usize = 2000;
const PARTITIONS: i32 = 6;
/// Consumer session timeout of the services: how long a killed member's partitions wait.
const SESSION_TIMEOUT_MS: u64 = 6000;

fn servers() -> String {
    std::env::var("KAFKA_BOOTSTRAP_SERVERS")
        .expect("KAFKA_BOOTSTRAP_SERVERS is not set: start a broker with `export $(scripts/kafka-local start)`")
}

/// Where processes log (kept after a failure for a look).
fn log_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("todo-scale-out-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("log dir");
    dir
}

mod clients;
mod deploy;
mod load;

use clients::*;
use deploy::*;
use load::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "the scale-out step of scripts/test (needs PostgreSQL and Kafka; about 2 minutes)"]
async fn two_of_every_service_killed_at_random_keep_every_effect_exactly_once() {
    let t0 = Instant::now();
    let pg = PgDb::create().await;
    let logs = log_dir();
    let dep = Deployment::new(&pg.url, &logs);
    migrate(&dep);
    let mut stack = Stack::start(dep.clone(), &["chat-api", "sync", "audit", "notification", "recurring"]).await;
    eprintln!("scale-out: 10 instances ready after {:.1} s (logs in {})", t0.elapsed().as_secs_f64(), logs.display());

    let api = Api {
        http: reqwest::Client::new(),
        addrs: stack.addrs("chat-api"),
        turn: Arc::new(std::sync::atomic::AtomicUsize::new(0)),
        failovers: Arc::new(std::sync::atomic::AtomicUsize::new(0)),
    };
    let mut users = Vec::new();
    for n in 0..USERS {
        users.push(register(&api, n).await);
    }

    // Two WebSocket clients per user, one on each sync instance.
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut clients = Vec::new();
    for (n, u) in users.iter().enumerate() {
        for first in 0..2 {
            let (got, task) = ws_client(stack.addrs("sync"), u.token.clone(), first, stop_rx.clone());
            clients.push((n, first, got, task));
        }
    }

    // Live updates across instances: each user's first change goes through one
    // chat-api instance, and both of the user's clients (one per sync instance)
    // must see it. Repeated until they do (a sync instance that just started
    // may not have its partitions yet).
    let t_warm = Instant::now();
    for (n, u) in users.iter().enumerate() {
        for round in 0.. {
            let body = json!({"title": format!("warm-up {round}")});
            let (status, task) =
                api.call_on(n + round, Method::POST, "/api/v1/tasks", Some(&u.token), Some(&body)).await;
            assert_eq!(status, StatusCode::CREATED, "{task}");
            let seen =
                || clients.iter().filter(|c| c.0 == n).all(|(_, _, got, _)| !got.lock().unwrap().messages.is_empty());
            let deadline = Instant::now() + Duration::from_secs(3);
            while !seen() && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            if seen() {
                break;
            }
            assert!(round < 10, "user {n}'s clients saw none of 10 changes");
        }
    }
    eprintln!(
        "scale-out: every client on either sync instance sees changes made through either chat-api instance ({:.1} s)",
        t_warm.elapsed().as_secs_f64()
    );

    // The load: CHANGES changes, USERS users at once, while one instance of each
    // service is killed at a random moment and restarted.
    let load_start = chrono::Utc::now();
    let stats = Arc::new(Mutex::new(LoadStats::default()));
    let mut writers = Vec::new();
    for u in &users {
        let (api, token, stats) = (api.clone(), u.token.clone(), stats.clone());
        writers.push(tokio::spawn(async move { load(api, token, CHANGES / USERS, stats).await }));
    }
    // Five random moments in the first 20 s of the load, one per service.
    let mut kills = Vec::new();
    let mut order: Vec<&'static str> = vec!["chat-api", "sync", "audit", "notification", "recurring"];
    order.shuffle(&mut rand::thread_rng());
    let mut moments: Vec<u64> = (0..order.len()).map(|_| rand::thread_rng().gen_range(1000..20_000)).collect();
    moments.sort_unstable();
    let started = Instant::now();
    for (service, at_ms) in order.into_iter().zip(moments) {
        let wait = Duration::from_millis(at_ms).saturating_sub(started.elapsed());
        tokio::time::sleep(wait).await;
        let i = rand::thread_rng().gen_range(0..2);
        let at = chrono::Utc::now();
        stack.kill(service, i);
        tokio::time::sleep(Duration::from_millis(rand::thread_rng().gen_range(300..1500))).await;
        let restarting = Instant::now();
        stack.restart(service, i).await;
        eprintln!(
            "scale-out: killed {service}-{i}, restarted and ready in {:.1} s",
            restarting.elapsed().as_secs_f64()
        );
        kills.push((service, at));
    }
    for w in writers {
        w.await.unwrap();
    }
    let load_secs = (chrono::Utc::now() - load_start).num_milliseconds() as f64 / 1000.0;
    let s = stats.lock().unwrap().clone();
    assert!(s.changes >= CHANGES, "{s:?}");
    eprintln!(
        "scale-out: {} changes in {load_secs:.1} s ({:.0}/s) through 2 chat-api instances; {} calls failed over to the \
         other instance ({} of them had gone through); reminders due until {}",
        s.changes,
        s.changes as f64 / load_secs,
        api.failovers.load(std::sync::atomic::Ordering::Relaxed),
        s.retried,
        s.last_reminder.map(|t| t.to_rfc3339()).unwrap_or_default()
    );

    let mut db = PgConnection::connect(&pg.url).await.unwrap();
    // Every reminder is due by now plus a margin.
    if let Some(last) = s.last_reminder {
        let wait = (last - chrono::Utc::now()).num_milliseconds() + 3000;
        if wait > 0 {
            tokio::time::sleep(Duration::from_millis(wait as u64)).await;
        }
    }

    // One successor per completed occurrence.
    eventually(60, "every completed occurrence has its successor", || {
        let url = pg.url.clone();
        async move {
            let mut db = PgConnection::connect(&url).await.map_err(|e| e.to_string())?;
            let waiting = scalar(
                &mut db,
                "SELECT count(*) FROM (SELECT series_id FROM tasks WHERE recurrence IS NOT NULL GROUP BY series_id \
                 HAVING count(*) FILTER (WHERE status = 'pending') = 0) w",
            )
            .await;
            if waiting == 0 { Ok(()) } else { Err(format!("{waiting} series without a pending occurrence")) }
        }
    })
    .await;
    let series: Vec<(i64, i64)> = sqlx::query(
        "SELECT count(*) FILTER (WHERE status = 'completed'), count(*) FILTER (WHERE status = 'pending') \
         FROM tasks WHERE recurrence IS NOT NULL GROUP BY series_id",
    )
    .fetch_all(&mut db)
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect();
    let completed: i64 = series.iter().map(|(c, _)| c).sum();
    assert!(completed >= (s.recurring_completed as i64), "{completed} completed occurrences");
    for (c, p) in &series {
        assert_eq!(*p, 1, "a series with {c} completed occurrences has {p} pending ones");
        assert!(*c <= 1, "each occurrence was completed once, so a series has at most one completed: {c}");
    }
    eprintln!("scale-out: {completed} completed occurrences, each with exactly one successor");

    // One notification per due reminder, none for those not due.
    eventually(30, "every due reminder fired once", || {
        let url = pg.url.clone();
        async move {
            let mut db = PgConnection::connect(&url).await.map_err(|e| e.to_string())?;
            let unfired = scalar(
                &mut db,
                "SELECT count(*) FROM tasks t WHERE t.remind_at < now() - interval '2 seconds' AND t.status = 'pending' \
                 AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.task_id = t.id)",
            )
            .await;
            if unfired == 0 { Ok(()) } else { Err(format!("{unfired} due reminders not fired")) }
        }
    })
    .await;
    let twice = scalar(
        &mut db,
        "SELECT count(*) FROM (SELECT task_id FROM notifications GROUP BY task_id HAVING count(*) > 1) d",
    )
    .await;
    assert_eq!(twice, 0, "a reminder fired twice");
    let notifications = scalar(&mut db, "SELECT count(*) FROM notifications").await;
    assert!(notifications as usize >= s.reminders, "{notifications} notifications for {} reminders", s.reminders);
    eprintln!("scale-out: {notifications} reminders fired, each once");

    // One audit entry per event (everything the outbox holds, on all three topics).
    let events = scalar(&mut db, "SELECT count(*) FROM event_log").await;
    eventually(90, "the audit trail records every event", || {
        let url = pg.url.clone();
        async move {
            let mut db = PgConnection::connect(&url).await.map_err(|e| e.to_string())?;
            let audited = scalar(&mut db, "SELECT count(*) FROM audit_log").await;
            let events = scalar(&mut db, "SELECT count(*) FROM event_log").await;
            if audited == events { Ok(()) } else { Err(format!("{audited} audit entries, {events} events")) }
        }
    })
    .await;
    let events_now = scalar(&mut db, "SELECT count(*) FROM event_log").await;
    assert_eq!(
        scalar(&mut db, "SELECT count(DISTINCT event_id) FROM audit_log").await,
        events_now,
        "no event audited twice"
    );
    assert_eq!(
        scalar(
            &mut db,
            "SELECT count(*) FROM event_log e LEFT JOIN audit_log a ON a.event_id::text = e.event_id WHERE a.event_id IS NULL"
        )
        .await,
        0,
        "every event audited"
    );
    eprintln!("scale-out: {events_now} events (from {events} when the load ended), each audited once");

    // Every chain verifies, through either audit instance; nothing of another user.
    let http = reqwest::Client::new();
    let audit = *stack.addrs("audit").borrow();
    let notify = *stack.addrs("notification").borrow();
    for (n, u) in users.iter().enumerate() {
        let v: Value = http
            .get(format!("http://{}/api/v1/audit/verify", audit[n % 2]))
            .bearer_auth(&u.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["ok"], true, "user {n}: {v}");
        let own = scalar(&mut db, &format!("SELECT count(*) FROM audit_log WHERE user_id = '{}'", u.id)).await;
        assert_eq!(v["entries_checked"], own, "user {n}");
        let page: Value = http
            .get(format!("http://{}/api/v1/notifications?limit=200", notify[n % 2]))
            .bearer_auth(&u.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for item in page["items"].as_array().expect("a page of notifications") {
            assert_eq!(item["user_id"], u.id.as_str(), "user {n} sees only their notifications");
        }
    }

    // The same, for every chain at once, in SQL (docs/operations.md, "Back up and restore").
    let bad = scalar(&mut db, AUDIT_CHAINS_SQL).await;
    assert_eq!(bad, 0, "audit entries whose chain does not hold");

    // Every client got every change of its user once and in order, nothing else.
    let updates = scalar(&mut db, "SELECT count(*) FROM event_log WHERE topic LIKE '%task-updates'").await;
    let (expected, repeated) = task_updates_by_user(&dep, updates as usize).await;
    eventually(60, "every client received its user's changes", || {
        let ready = clients.iter().all(|(n, _, got, _)| {
            let want = expected.get(&users[*n].id).map_or(0, Vec::len);
            let g = got.lock().unwrap();
            let first = g.messages.first().map(|m| m.0.clone());
            let from = expected[&users[*n].id].iter().position(|id| Some(id) == first.as_ref()).unwrap_or(0);
            g.messages.len() >= want - from
        });
        async move { if ready { Ok(()) } else { Err("clients still behind".to_owned()) } }
    })
    .await;
    let _ = stop_tx.send(true);
    let mut reconnects = 0;
    let mut messages = 0;
    for (n, first, got, task) in clients {
        task.await.unwrap();
        let g = got.lock().unwrap();
        let user = &users[n];
        assert!(g.refused.is_empty(), "user {n} client {first}: refused: {:?}", g.refused);
        assert!(g.messages.iter().all(|m| m.1 == user.id), "user {n} client {first} got another user's event");
        let want = &expected[&user.id];
        let ids: Vec<&String> = g.messages.iter().map(|m| &m.0).collect();
        let from = want.iter().position(|id| id == ids[0]).expect("the first message is one of the user's events");
        assert!(from < 11, "user {n} client {first} started at its {from}th event: a warm-up, before the load");
        let want: Vec<&String> = want[from..].iter().collect();
        if ids != want {
            let dup = ids.len() - ids.iter().collect::<HashSet<_>>().len();
            let missing = want.iter().filter(|w| !ids.contains(w)).count();
            panic!(
                "user {n} client {first}: {} messages, {} expected; {dup} repeated, {missing} missing; first difference at {:?}",
                ids.len(),
                want.len(),
                ids.iter().zip(&want).position(|(a, b)| a != b)
            );
        }
        reconnects += g.reconnects;
        messages += ids.len();
    }
    assert!(reconnects >= USERS, "the clients of the killed sync instance reconnected ({reconnects})");
    eprintln!(
        "scale-out: {} WebSocket clients got {messages} messages, every change of their user once and in order; \
         {reconnects} reconnections with a cursor; {repeated} task-updates records on Kafka were repeats (relay restarts)",
        2 * USERS
    );

    // How long a killed instance's work waited: the longest audit delay of events
    // that occurred in the 10 s after the audit instance was killed.
    let (_, killed_at) = kills.iter().find(|(s, _)| *s == "audit").unwrap();
    let stall: f64 = sqlx::query(
        "SELECT COALESCE(EXTRACT(EPOCH FROM max(recorded_at - occurred_at)), 0)::float8 FROM audit_log \
         WHERE occurred_at BETWEEN $1 AND $1 + interval '10 seconds'",
    )
    .bind(*killed_at)
    .fetch_one(&mut db)
    .await
    .unwrap()
    .get(0);
    let normal: f64 = sqlx::query(
        "SELECT COALESCE(percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM recorded_at - occurred_at)::float8), 0)::float8 \
         FROM audit_log WHERE occurred_at < $1",
    )
    .bind(*killed_at)
    .fetch_one(&mut db)
    .await
    .unwrap()
    .get(0);
    eprintln!(
        "scale-out: rebalancing after kill -9 of an audit instance: events waited up to {stall:.1} s to be audited \
         (median delay before the kill {:.0} ms; session timeout {} s)",
        normal * 1000.0,
        SESSION_TIMEOUT_MS / 1000
    );
    eprintln!("scale-out: done in {:.0} s", t0.elapsed().as_secs_f64());
    drop(stack);
    let _ = std::fs::remove_dir_all(&logs);
}

/// Audit throughput with one and with two instances: the same backlog of 10,000 events
/// (written straight into the outbox, relayed to Kafka by `todo relay`) consumed
/// by a fresh audit group of one, then of two `audit-service` processes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "the scale-out step of scripts/test (needs PostgreSQL and Kafka; about 1 minute)"]
async fn audit_throughput_with_one_and_two_instances() {
    let logs = log_dir();
    let mut results = BTreeMap::new();
    for instances in [1usize, 2] {
        let pg = PgDb::create().await;
        let dep = Deployment::new(&pg.url, &logs);
        migrate(&dep);
        let changes = backlog(&dep, 5000).await;
        let mut db = PgConnection::connect(&pg.url).await.unwrap();
        let events = scalar(&mut db, "SELECT count(*) FROM event_log").await;
        assert!(events as usize >= 2 * changes);
        // The outbox to Kafka first, so that only the audit service is measured.
        let mut relay = dep.command(env!("CARGO_BIN_EXE_todo")).arg("relay").stderr(Stdio::null()).spawn().unwrap();
        wait_on_kafka(&dep, events as usize).await;
        relay.kill().ok();
        relay.wait().ok();

        let started = Instant::now();
        let mut procs = Vec::new();
        for i in 0..instances {
            procs.push(start(&dep, env!("CARGO_BIN_EXE_audit-service"), &format!("audit-bench-{instances}-{i}")).await);
        }
        eventually(120, "the audit backlog is consumed", || {
            let url = pg.url.clone();
            async move {
                let mut db = PgConnection::connect(&url).await.map_err(|e| e.to_string())?;
                let n = scalar(&mut db, "SELECT count(*) FROM audit_log").await;
                if n == events { Ok(()) } else { Err(format!("{n}/{events}")) }
            }
        })
        .await;
        let wall = started.elapsed().as_secs_f64();
        let busy: f64 =
            sqlx::query("SELECT EXTRACT(EPOCH FROM max(recorded_at) - min(recorded_at))::float8 FROM audit_log")
                .fetch_one(&mut db)
                .await
                .unwrap()
                .get(0);
        for mut p in procs {
            p.child.kill().ok();
            p.child.wait().ok();
        }
        let rate = events as f64 / busy.max(0.001);
        eprintln!(
            "scale-out: audit with {instances} instance(s): {events} events in {busy:.2} s from the first entry to the last \
             ({rate:.0} events/s), {wall:.1} s from start to the last entry"
        );
        results.insert(instances, rate);
    }
    eprintln!("scale-out: audit throughput, 2 instances / 1 instance = {:.2}", results[&2] / results[&1]);
    let _ = std::fs::remove_dir_all(&logs);
}
