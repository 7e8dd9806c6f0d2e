//! The distributed mode's guarantees on a real broker: every change reaches Kafka
//! in per-user order, poison records are dead-lettered, and a broker restart
//! loses nothing while the services recover by themselves.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use todo_core::events::{CloudEvent, Topic};
use todo_core::ports::{EventLog, Record, StartFrom, Subscription, dlq_headers};
use todo_tests::{Backend, Env, TestApp, eventually};

/// Reads `want` records (or what arrives within `secs`) of `topic` from the start.
async fn read_topic(log: &dyn EventLog, topic: &str, want: usize, secs: u64) -> Vec<Record> {
    let group = format!("reader-{}", uuid::Uuid::new_v4().simple());
    let mut sub: Box<dyn Subscription> =
        log.subscribe(&group, &[topic.to_owned()], StartFrom::Earliest).await.expect("subscribe");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    let mut out = Vec::new();
    while out.len() < want {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left.min(Duration::from_secs(5)), sub.next()).await {
            Ok(Ok(r)) => out.push(r),
            Ok(Err(e)) => panic!("reading {topic}: {e}"),
            Err(_) if tokio::time::Instant::now() >= deadline => break,
            Err(_) => {}
        }
    }
    let _ = sub.close().await;
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_api_changes_reach_kafka_in_order_per_user() {
    let app = TestApp::spawn(Backend::Kafka).await;
    let users = 20;
    let per_user = 100;
    let mut tokens = Vec::new();
    for u in 0..users {
        tokens.push(app.register(&format!("user{u}@example.com")).await);
    }
    let started = std::time::Instant::now();
    let writers = tokens.iter().enumerate().map(|(u, t)| {
        let app = &app;
        async move {
            // 10 tasks, then 90 renames: change n of user u is titled "u{u} c{n}".
            let mut ids = Vec::new();
            for n in 0..per_user {
                let title = format!("u{u} c{n:03}");
                if n < 10 {
                    ids.push(app.create_task(t, json!({"title": title})).await["id"].as_str().unwrap().to_owned());
                } else {
                    let id = &ids[n % 10];
                    let a = app
                        .call(Method::PATCH, &format!("/api/v1/tasks/{id}"), Some(t), Some(json!({"title": title})))
                        .await;
                    assert_eq!(a.status, StatusCode::OK);
                }
            }
        }
    });
    futures::future::join_all(writers).await;
    let written = started.elapsed();
    let topic = app.ports.log.topic_names().name(Topic::TaskEvents);
    let records = read_topic(&*app.ports.log, &topic, users * per_user, 60).await;
    eprintln!(
        "{} API changes in {:.1} s; {} records on {topic}",
        users * per_user,
        written.as_secs_f64(),
        records.len()
    );
    assert_eq!(records.len(), users * per_user, "exactly one task-events record per change");
    let mut last: HashMap<String, String> = HashMap::new();
    let mut ids = HashSet::new();
    for r in &records {
        let ev = CloudEvent::from_json_bytes(&r.payload).expect("a CloudEvent");
        assert!(ids.insert(ev.id), "no duplicate");
        assert_eq!(r.key.as_deref(), Some(ev.userid.to_string().as_str()), "the key is the user id");
        assert_eq!(r.header("ce_type"), Some(ev.ty.as_str()));
        let title = ev.data["task_data"]["title"].as_str().unwrap().to_owned();
        if let Some(prev) = last.insert(ev.userid.to_string(), title.clone()) {
            assert!(prev < title, "per-user order: {title} after {prev}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_records_are_dead_lettered_and_the_rest_processed() {
    todo_tests::init_logs();
    let app = TestApp::spawn(Backend::Kafka).await;
    let t = app.register("ada@example.com").await;
    let log = &app.ports.log;
    let topic = log.topic_names().name(Topic::TaskEvents);
    log.append(&topic, Some("poison"), b"{not json", &[]).await.unwrap();
    let mut v2 = CloudEvent::new(
        "/elsewhere",
        todo_core::events::EventType::TaskCreated,
        None,
        chrono::Utc::now(),
        todo_core::domain::UserId::new(),
        json!({}),
    );
    v2.ty = "todo.task.created.v2".into();
    log.append(&topic, Some("poison"), &v2.to_json_bytes(), &[]).await.unwrap();
    let task = app.create_task(&t, json!({"title": "after the poison"})).await;
    // Both consumer groups of task-events (recurring-task, audit) dead-letter both
    // poison records and go on: the audit trail gets the task created after them.
    let id = task["id"].as_str().unwrap().to_owned();
    eventually(60, "the task after the poison audited", || async {
        let items = app.get(&format!("/api/v1/audit?task_id={id}"), &t).await.body["items"].as_array().unwrap().len();
        (items >= 2).then_some(())
    })
    .await;
    let dlq = read_topic(&**log, &format!("{topic}.dlq"), 4, 30).await;
    assert_eq!(dlq.len(), 4, "two poison records × two groups");
    let mut seen = HashSet::new();
    for d in &dlq {
        let group = d.header(dlq_headers::CONSUMER_GROUP).unwrap().to_owned();
        let error = d.header(dlq_headers::ERROR).unwrap().to_owned();
        assert!(error.contains("not a CloudEvent") || error.contains("unsupported major version"), "{error}");
        assert_eq!(d.header(dlq_headers::ORIGINAL_TOPIC), Some(topic.as_str()));
        seen.insert((group, error.contains("major")));
    }
    assert_eq!(seen.len(), 4, "each group dead-letters each record once: {seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_restart_mid_stream_loses_nothing_and_services_recover() {
    let state = std::env::var("KAFKA_LOCAL_STATE")
        .expect("KAFKA_LOCAL_STATE names the broker of scripts/kafka-local (scripts/test sets it)");
    // The broker to ourselves while it restarts.
    let app = TestApp::on_env(std::sync::Arc::new(Env::kafka_exclusive().await), Default::default()).await;
    let t = app.register("ada@example.com").await;
    let total = 150;
    let restart = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/kafka-local");
        let out = tokio::process::Command::new(script)
            .arg("restart-broker")
            .env("KAFKA_LOCAL_STATE", state)
            .output()
            .await
            .expect("run scripts/kafka-local");
        assert!(out.status.success(), "restart-broker: {}", String::from_utf8_lossy(&out.stderr));
    });
    // The API keeps accepting changes while the broker is away: they wait in the outbox.
    for n in 0..total {
        app.create_task(&t, json!({"title": format!("during restart {n}")})).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    restart.await.expect("restart");
    // Every change reaches the audit service, which consumes from Kafka.
    let entries: Vec<Value> = eventually(120, "every change audited after the broker came back", || async {
        let page = app.get("/api/v1/audit?type=todo.task.created.v1&limit=200", &t).await;
        let items = page.body["items"].as_array().cloned().unwrap_or_default();
        (items.len() >= total).then_some(items)
    })
    .await;
    assert_eq!(entries.len(), total, "each created event audited once");
    assert_eq!(app.get("/api/v1/audit/verify", &t).await.body["ok"], true);
}
