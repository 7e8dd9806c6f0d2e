//! Run with: KAFKA_BOOTSTRAP_SERVERS=localhost:9092 cargo run -p todo-kafka --example kafka_task_events
//!
//! Task events through Apache Kafka, as the services exchange them: tasks are
//! written to a SQLite store (each change and its events in one transaction,
//! the transactional outbox), the outbox relay publishes the events to Kafka,
//! and a consumer group reads them back and decodes them. Needs a running
//! broker (`scripts/kafka-local start` prints the variable to set); the topics
//! are created under a fresh prefix, so runs never see each other's records.

use std::time::Duration;

use anyhow::Context as _;
use todo_core::domain::{Email, TaskTitle, Timezone, User, UserId};
use todo_core::events::{CloudEvent, DomainEvent, EventFactory, Topic};
use todo_core::ports::{EventLog, StartFrom};
use todo_core::service::{NewTask, TaskService};
use todo_kafka::{KafkaConfig, KafkaEventLog, OutboxRelay, RelayConfig, ensure_topics};
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Fail loudly rather than wait for a broker that is not there.
    std::env::var("KAFKA_BOOTSTRAP_SERVERS")
        .context("KAFKA_BOOTSTRAP_SERVERS is not set: start a broker (scripts/kafka-local start) and export it")?;
    let prefix = format!("example-{}.", uuid::Uuid::new_v4().simple());
    let config = KafkaConfig::from_env()?.with_topic_prefix(prefix).with_partitions(1);
    ensure_topics(&config).await.context("create the topics")?;
    let kafka = KafkaEventLog::new(config)?;
    kafka.ping().await.context("reach the broker")?;

    // The write side: a store and its outbox.
    let store = todo_store::connect("sqlite::memory:").await?;
    store.migrate().await?;
    let ports = store.ports();
    let user = User {
        id: UserId::new(),
        email: Email::parse("ada@example.com")?,
        password_hash: String::new(),
        timezone: Timezone::default(),
        created_at: ports.clock.now(),
    };
    ports.users.create(&user).await?;
    let tasks = TaskService::new(ports.tasks, ports.users, ports.clock, EventFactory::new("/examples/kafka"));
    let task = tasks.create(user.id, NewTask::titled(TaskTitle::parse("water the plants")?)).await?;
    tasks.complete(user.id, task.id, Some(task.version)).await?;

    // Publish: the relay drains the outbox into Kafka until shut down.
    let shutdown = CancellationToken::new();
    let relay = OutboxRelay::new(ports.log.clone(), kafka.clone(), RelayConfig::default());
    let relaying = tokio::spawn({
        let shutdown = shutdown.clone();
        async move { relay.run(shutdown).await }
    });

    // Consume: consumer group "example-reader" on task-events.
    let topic = kafka.topic_names().name(Topic::TaskEvents);
    let mut sub = kafka.subscribe("example-reader", &[topic], StartFrom::Earliest).await?;
    for _ in 0..2 {
        let record =
            tokio::time::timeout(Duration::from_secs(30), sub.next()).await.context("no record within 30 s")??;
        let event = CloudEvent::from_json_bytes(&record.payload)?;
        let DomainEvent::Task(ty, data) = event.decode()? else { anyhow::bail!("not a task event: {}", event.ty) };
        println!(
            "{}[{}]@{} key={} {ty}: {:?} is {:?}",
            record.topic,
            record.partition,
            record.offset,
            record.key.as_deref().unwrap_or("-"),
            data.task_data.title.as_str(),
            data.task_data.status,
        );
        // Only after the record's effect is durable (here: printed).
        sub.commit(&record).await?;
    }
    sub.close().await?;

    shutdown.cancel();
    let stats = relaying.await??;
    println!("relay: {} read, {} published", stats.read, stats.published);
    kafka.flush().await?;
    store.close().await;
    Ok(())
}
