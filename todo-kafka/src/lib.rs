//! # todo-kafka
//!
//! Apache Kafka adapters of the [`todo_core`] ports, on rdkafka (librdkafka):
//!
//! - [`KafkaEventLog`]: the [`EventLog`](todo_core::ports::EventLog) port. An
//!   idempotent producer (`enable.idempotence=true`, `acks=all`, key = user id,
//!   `ce_type` / `ce_id` headers) and at-least-once consumer groups (an offset
//!   is stored only when the application commits a record, after its effect is
//!   durable). Drive handlers over it with [`todo_core::consumer::run`], which
//!   dead-letters poison records to `<topic>.dlq`.
//! - [`OutboxRelay`]: drains the transactional outbox (any source `EventLog`,
//!   in production todo-store's SQL log) into Kafka, pipelined, committing the
//!   source position only after the broker acknowledged.
//! - [`ensure_topics`]: creates the catalog topics and their dead-letter topics.
//! - [`KafkaConfig`]: `KAFKA_*` environment variables with documented defaults.
//! - [`metrics`]: the metric names (relay throughput, latency and errors;
//!   consumed records, consumer lag, dead letters).
//!
//! Delivery is at least once: after a crash a record may arrive twice, so
//! handlers are idempotent. Order holds per key (user) within a topic.
//!
//! ## Configuration
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `KAFKA_BOOTSTRAP_SERVERS` | `localhost:9092` | brokers to bootstrap from |
//! | `KAFKA_TOPIC_PREFIX` | empty | prefix of every topic name |
//! | `KAFKA_PARTITIONS` | 6 | partitions of created topics |
//! | `KAFKA_REPLICATION_FACTOR` | 1 | replication factor of created topics |
//! | `KAFKA_CLIENT_ID` | `todo-events` | `client.id` |
//! | `KAFKA_SESSION_TIMEOUT_MS` | 10000 | consumer `session.timeout.ms` |
//! | `KAFKA_REQUEST_TIMEOUT_MS` | 5000 | ping, metadata and admin timeout |
//! | `KAFKA_FLUSH_TIMEOUT_MS` | 30000 | how long closing a producer waits for queued records |
//! | `KAFKA_PROPERTIES` | none | extra librdkafka properties, `k=v;k=v` (e.g. SASL/TLS) |
//!
//! ```
//! use todo_core::events::Topic;
//! use todo_kafka::KafkaConfig;
//!
//! let env = [
//!     ("KAFKA_BOOTSTRAP_SERVERS", "kafka-1:9092,kafka-2:9092"),
//!     ("KAFKA_TOPIC_PREFIX", "staging."),
//!     ("KAFKA_PROPERTIES", "security.protocol=SASL_SSL;sasl.password=hunter2"),
//! ];
//! let config = KafkaConfig::from_lookup(|name| env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string()))?;
//! assert_eq!(config.topic_names().name(Topic::TaskEvents), "staging.task-events");
//! assert_eq!(config.topic_names().dlq(Topic::TaskEvents), "staging.task-events.dlq");
//! assert!(!format!("{config:?}").contains("hunter2")); // secrets are never printed
//! # Ok::<(), todo_kafka::KafkaError>(())
//! ```
//!
//! ## Shutdown
//!
//! Cancel the relay's token and await it (it waits for its records in flight
//! and commits), [`KafkaSubscription::close`] consumers (or drop them: a
//! bounded blocking close), then [`KafkaEventLog::flush`].
//!
//! ```no_run
//! use std::sync::Arc;
//! use todo_core::events::Topic;
//! use todo_core::ports::{EventLog, StartFrom, Subscription};
//! use todo_kafka::{KafkaConfig, KafkaEventLog, OutboxRelay, RelayConfig, ensure_topics};
//! use tokio_util::sync::CancellationToken;
//!
//! # async fn example(outbox: Arc<dyn EventLog>) -> anyhow::Result<()> {
//! // KAFKA_BOOTSTRAP_SERVERS, KAFKA_TOPIC_PREFIX, KAFKA_PARTITIONS, ...
//! let config = KafkaConfig::from_env()?;
//! ensure_topics(&config).await?;
//! let kafka = KafkaEventLog::new(config)?;
//! kafka.ping().await?;
//!
//! // Publish the outbox until shutdown.
//! let shutdown = CancellationToken::new();
//! let relay = OutboxRelay::new(outbox, kafka.clone(), RelayConfig::default());
//! let relaying = tokio::spawn({
//!     let shutdown = shutdown.clone();
//!     async move { relay.run(shutdown).await }
//! });
//!
//! // Read task changes as consumer group "sync".
//! let topics = [kafka.topic_names().name(Topic::TaskUpdates)];
//! let mut sub = kafka.subscribe("sync", &topics, StartFrom::Latest).await?;
//! let record = sub.next().await?;
//! println!("{:?} {}", record.key, String::from_utf8_lossy(&record.payload));
//! sub.commit(&record).await?; // after the effect is durable
//!
//! shutdown.cancel();
//! relaying.await??;
//! kafka.flush().await?;
//! # Ok(())
//! # }
//! ```

mod admin;
mod config;
mod consumer;
mod error;
mod event_log;
pub mod metrics;
mod producer;
mod reader;
mod relay;

pub use admin::{all_topic_names, create_topics, ensure_topics};
pub use config::{KafkaConfig, env};
pub use consumer::KafkaSubscription;
pub use error::{KafkaError, Result};
pub use event_log::KafkaEventLog;
pub use producer::{Delivered, KafkaProducer, PendingDelivery, headers, with_cloudevent_headers};
pub use reader::KafkaPartitionReader;
pub use relay::{OutboxRelay, RelayConfig, RelayStats};

// The README's example is compiled with the doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// Runs blocking `f` from synchronous code that may sit on a Tokio worker
/// (a `Drop`): on a multi-thread runtime the worker hands its other tasks off
/// first; elsewhere (current-thread runtime, no runtime) it just runs.
pub(crate) fn run_blocking<T>(f: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}
