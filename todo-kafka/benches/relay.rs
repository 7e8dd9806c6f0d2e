//! The outbox relay against a raw producer, for `scripts/bench`.
//!
//! Run with: `cargo bench -p todo-kafka --bench relay -- <bootstrap> <database url> <records>`
//!
//! Fills a PostgreSQL outbox with `records` task events (three per change, as task
//! changes write them, several users), then times
//! - the raw baseline: an rdkafka `FutureProducer` with the relay's settings
//!   (`enable.idempotence=true`, `acks=all`, `linger.ms=5`) sending the same
//!   records (topics, keys, payloads, headers), every delivery awaited;
//! - the relay: [`OutboxRelay`] from that outbox to fresh topics, until every
//!   record is acknowledged and its source position committed.
//!
//! and, for the breakdown, the source alone (the outbox read and committed as a
//! consumer group would, no broker). Prints `read`, `raw` and `relay`, each in
//! records/s.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use todo_core::domain::UserId;
use todo_core::events::{CloudEvent, EventType, OutboxEvent, Topic, TopicNames};
use todo_core::ports::{Change, EventLog};
use todo_kafka::{KafkaConfig, KafkaEventLog, OutboxRelay, RelayConfig, ensure_topics};
use tokio_util::sync::CancellationToken;

/// As the `todo` binaries: allocation-heavy paths (rdkafka frees on its own threads).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let [bootstrap, url, n] = args.as_slice() else {
        return Err("usage: relay <bootstrap> <database url> <records>".into());
    };
    let n: usize = n.parse()?;
    let store = todo_store::connect(url).await?;
    store.migrate().await?;
    let outbox = store.event_log();
    let users: Vec<UserId> = (0..50).map(|_| UserId::new()).collect();
    let events: Vec<OutboxEvent> = (0..n)
        .map(|i| {
            let topic = Topic::ALL[i % 3];
            let user = users[(i / 3) % users.len()];
            let ty = [EventType::TaskCreated, EventType::ReminderScheduled, EventType::TaskChanged][i % 3];
            let data = serde_json::json!({"n": i, "title": "a task of a typical size", "padding": "x".repeat(600)});
            OutboxEvent {
                topic,
                key: user.to_string(),
                event: CloudEvent::new("/bench", ty, None, chrono::Utc::now(), user, data),
            }
        })
        .collect();
    let tasks = store.tasks();
    let mut commits = Vec::new();
    for chunk in events.chunks(3) {
        let (tasks, chunk) = (tasks.clone(), chunk.to_vec());
        commits.push(tokio::spawn(async move { tasks.commit(Change { events: chunk, ..Change::default() }).await }));
    }
    for c in commits {
        c.await??;
    }

    // The source alone: read and commit the whole outbox as a consumer group.
    let topics: Vec<String> = Topic::ALL.into_iter().map(|t| outbox.topic_names().name(t)).collect();
    let started = Instant::now();
    let mut sub = outbox.subscribe("bench-read", &topics, todo_core::ports::StartFrom::Earliest).await?;
    for i in 0..n {
        let r = sub.next().await?;
        if i % 500 == 499 || i == n - 1 {
            sub.commit(&r).await?;
        }
    }
    drop(sub);
    let read = n as f64 / started.elapsed().as_secs_f64();

    let prefix = |what: &str| format!("bench{}-{what}.", &uuid_like());
    // Raw: the same records, straight from memory to the broker.
    let raw_config = KafkaConfig::new(bootstrap.clone()).with_topic_prefix(prefix("raw")).with_partitions(6);
    ensure_topics(&raw_config).await?;
    let names = TopicNames::new(raw_config.topic_prefix.clone());
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("partitioner", "murmur2_random")
        .create()?;
    let prepared: Vec<(String, Vec<u8>, String)> =
        events.iter().map(|e| (names.name(e.topic), e.payload(), e.event.id.to_string())).collect();
    let started = Instant::now();
    let mut pending = std::collections::VecDeque::with_capacity(n);
    for (e, (topic, payload, id)) in events.iter().zip(&prepared) {
        loop {
            let headers = OwnedHeaders::new()
                .insert(Header { key: "ce_type", value: Some(e.event.ty.as_str()) })
                .insert(Header { key: "ce_id", value: Some(id.as_str()) });
            let record = FutureRecord::to(topic).key(e.key.as_str()).payload(payload).headers(headers);
            match producer.send_result(record) {
                Ok(delivery) => {
                    pending.push_back(delivery);
                    break;
                }
                // The local queue is full: wait for the oldest delivery.
                Err((e, _)) if pending.is_empty() => return Err(e.into()),
                Err(_) => {
                    let oldest = pending.pop_front().expect("a pending delivery");
                    oldest.await?.map_err(|(e, _)| e)?;
                }
            }
        }
    }
    for p in pending {
        p.await?.map_err(|(e, _)| e)?;
    }
    let raw = n as f64 / started.elapsed().as_secs_f64();

    // The relay: from the outbox table to the broker, positions committed.
    let config = KafkaConfig::new(bootstrap.clone()).with_topic_prefix(prefix("relay")).with_partitions(6);
    ensure_topics(&config).await?;
    let target = KafkaEventLog::new(config)?;
    target.ping().await?;
    let relay = Arc::new(OutboxRelay::new(outbox.clone(), target.clone(), RelayConfig::default()));
    let shutdown = CancellationToken::new();
    let started = Instant::now();
    let run = tokio::spawn({
        let (relay, shutdown) = (relay.clone(), shutdown.clone());
        async move { relay.run(shutdown).await }
    });
    while (relay.stats().committed as usize) < n {
        if started.elapsed() > Duration::from_secs(300) {
            return Err(format!("relay stuck: {:?}", relay.stats()).into());
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let relayed = n as f64 / started.elapsed().as_secs_f64();
    shutdown.cancel();
    run.await??;
    target.flush().await?;
    println!("read {read:.1}");
    println!("raw {raw:.1}");
    println!("relay {relayed:.1}");
    Ok(())
}

fn uuid_like() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
    )
}
