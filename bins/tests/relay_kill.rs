//! Kill -9 the outbox relay process at random points while 2,000 changes are
//! committed; restart it each time. Every committed change must reach Kafka;
//! duplicates are counted; a consumer's effects (the audit trail) are exactly once.
//! Needs DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS (scripts/test provides both).

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use todo_core::consumer::{self, RetryPolicy};
use todo_core::domain::{Email, TaskTitle, Timezone, User, UserId};
use todo_core::events::{CloudEvent, EventFactory, Topic, TopicNames};
use todo_core::ports::{EventLog, StartFrom, Subscription, SystemClock};
use todo_core::service::audit::{AuditRecorder, AuditService};
use todo_core::service::{NewTask, TaskPatch, TaskService};
use todo_kafka::{KafkaConfig, KafkaEventLog};
use todo_store::StoreOptions;
use todo_store::testing::PgDb;
use tokio_util::sync::CancellationToken;

const CHANGES: usize = 2000;
const USERS: usize = 10;

fn relay(db: &str, kafka: &str, prefix: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_todo"))
        .arg("relay")
        .env("DATABASE_URL", db)
        .env("KAFKA_BOOTSTRAP_SERVERS", kafka)
        .env("KAFKA_TOPIC_PREFIX", prefix)
        .env("KAFKA_PARTITIONS", "3")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start `todo relay`")
}

/// Every event id in `topics`, reading until `want` distinct ids or `secs` pass.
async fn ids_on(log: &dyn EventLog, topics: Vec<String>, want: usize, secs: u64) -> (usize, HashSet<String>) {
    let group = format!("check-{}", uuid::Uuid::new_v4().simple());
    let mut sub: Box<dyn Subscription> = log.subscribe(&group, &topics, StartFrom::Earliest).await.expect("subscribe");
    let (mut total, mut ids) = (0, HashSet::new());
    let deadline = Instant::now() + Duration::from_secs(secs);
    while ids.len() < want && Instant::now() < deadline {
        if let Ok(Ok(r)) = tokio::time::timeout(Duration::from_secs(2), sub.next()).await {
            total += 1;
            ids.insert(CloudEvent::from_json_bytes(&r.payload).expect("an event").id.to_string());
        }
    }
    let _ = sub.close().await;
    (total, ids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn relay_killed_at_random_loses_nothing_and_effects_are_exactly_once() {
    let servers = std::env::var("KAFKA_BOOTSTRAP_SERVERS")
        .expect("KAFKA_BOOTSTRAP_SERVERS is not set: start a broker with `export $(scripts/kafka-local start)`");
    let db = PgDb::create().await;
    let prefix = format!("k{}.", uuid::Uuid::new_v4().simple());
    let names = TopicNames::new(prefix.clone());
    let store = todo_store::connect_with(&db.url, &StoreOptions { topic_names: names.clone(), ..Default::default() })
        .await
        .expect("connect");
    store.migrate().await.expect("migrate");
    let kafka_config = KafkaConfig::new(servers.clone()).with_topic_prefix(prefix.clone()).with_partitions(3);
    todo_kafka::ensure_topics(&kafka_config).await.expect("topics");

    let tasks =
        TaskService::new(store.tasks(), store.users(), Arc::new(SystemClock), EventFactory::new("/todo/chat-api"));
    let mut users = Vec::new();
    for u in 0..USERS {
        let user = User {
            id: UserId::new(),
            email: Email::parse(&format!("u{u}@example.com")).unwrap(),
            password_hash: String::new(),
            timezone: Timezone::default(),
            created_at: chrono::Utc::now(),
        };
        store.users().create(&user).await.unwrap();
        users.push(user.id);
    }

    // Writers: CHANGES changes (creates, then renames), committed while the relay is killed.
    let writer = {
        let tasks = tasks.clone();
        let users = users.clone();
        tokio::spawn(async move {
            let per_user = CHANGES / USERS;
            let writers = users.into_iter().map(|user| {
                let tasks = tasks.clone();
                tokio::spawn(async move {
                    let mut ids = Vec::new();
                    for n in 0..per_user {
                        let title = TaskTitle::parse(&format!("change {n}")).unwrap();
                        if n < 5 {
                            ids.push(tasks.create(user, NewTask::titled(title)).await.unwrap().id);
                        } else {
                            let patch = TaskPatch { title: Some(title), ..Default::default() };
                            tasks.update(user, ids[n % 5], patch, None).await.unwrap();
                        }
                    }
                })
            });
            for w in writers {
                w.await.unwrap();
            }
        })
    };

    let mut child = relay(&db.url, &servers, &prefix);
    let mut kills = 0;
    while (kills < 8 && !writer.is_finished()) || kills < 3 {
        let wait = rand::thread_rng().gen_range(300..1500);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        child.kill().expect("kill -9 the relay"); // SIGKILL: no cleanup, no final commit
        child.wait().ok();
        kills += 1;
        child = relay(&db.url, &servers, &prefix);
    }
    writer.await.unwrap();

    // The truth: every event committed to the outbox.
    let sql_log = store.event_log();
    let all_topics: Vec<String> = Topic::ALL.iter().map(|t| names.name(*t)).collect();
    let (_, committed) = ids_on(&*sql_log, all_topics.clone(), usize::MAX, 5).await;
    assert_eq!(committed.len(), 2 * CHANGES, "each change: one task-events and one task-updates event");

    let kafka = KafkaEventLog::new(kafka_config).expect("kafka");
    let (total, published) = ids_on(&kafka, all_topics, committed.len(), 120).await;
    child.kill().ok();
    child.wait().ok();
    let missing: Vec<_> = committed.difference(&published).take(5).collect();
    assert!(
        missing.is_empty(),
        "{} committed events never reached Kafka, e.g. {missing:?}",
        committed.len() - published.len()
    );
    let duplicates = total - published.len();
    eprintln!(
        "relay killed {kills} times: {} events committed, {total} records on Kafka, {duplicates} duplicates",
        committed.len()
    );

    // A consumer of those duplicated records applies each effect once.
    let recorder = Arc::new(AuditRecorder::new(store.audit(), Arc::new(SystemClock)));
    let shutdown = CancellationToken::new();
    let run = tokio::spawn(consumer::run(Arc::new(kafka), recorder, RetryPolicy::default(), shutdown.clone()));
    let audit = AuditService::new(store.audit());
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut recorded = 0;
    while Instant::now() < deadline {
        recorded = 0;
        for u in &users {
            let r = audit.verify(*u).await.unwrap();
            assert!(r.ok, "chain of {u} verifies");
            recorded += r.entries_checked as usize;
        }
        if recorded >= committed.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    shutdown.cancel();
    run.await.unwrap().unwrap();
    assert_eq!(recorded, committed.len(), "every event audited exactly once despite {duplicates} duplicate records");
}
