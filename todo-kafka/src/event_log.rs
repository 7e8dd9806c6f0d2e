//! [`KafkaEventLog`]: the [`EventLog`] port on Apache Kafka.

use std::sync::Arc;

use async_trait::async_trait;
use todo_core::events::TopicNames;
use todo_core::ports::{EventLog, PartitionReader, StartFrom, Subscription};
use tracing::debug;

use crate::config::KafkaConfig;
use crate::consumer::KafkaSubscription;
use crate::error::Result;
use crate::metrics;
use crate::producer::KafkaProducer;
use crate::reader::KafkaPartitionReader;

/// The event log on Kafka: records keyed by user id on partitioned topics,
/// consumer groups with committed offsets, at-least-once delivery.
///
/// Cheap to clone (one idempotent producer shared by the clones). Each
/// [`EventLog::subscribe`] creates a consumer of its own. Create the topics
/// first with [`crate::ensure_topics`].
///
/// Shutdown: call [`KafkaEventLog::flush`] (or drop the last clone, which
/// blocks for up to [`KafkaConfig::flush_timeout`]) so that records queued by
/// dropped `append` futures are not purged.
#[derive(Clone)]
pub struct KafkaEventLog {
    inner: Arc<Inner>,
}

struct Inner {
    config: KafkaConfig,
    names: TopicNames,
    producer: KafkaProducer,
}

impl std::fmt::Debug for KafkaEventLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaEventLog").field("config", &self.inner.config).finish_non_exhaustive()
    }
}

impl KafkaEventLog {
    /// A log on the cluster of `config`. Connects lazily: use
    /// [`EventLog::ping`] to check the cluster answers.
    pub fn new(config: KafkaConfig) -> Result<Self> {
        let producer = KafkaProducer::new(&config)?;
        let names = config.topic_names();
        Ok(Self { inner: Arc::new(Inner { config, names, producer }) })
    }

    /// The configuration this log was built from.
    pub fn config(&self) -> &KafkaConfig {
        &self.inner.config
    }

    /// The shared idempotent producer (to pipeline many records, as the
    /// [`crate::OutboxRelay`] does).
    pub fn producer(&self) -> &KafkaProducer {
        &self.inner.producer
    }

    /// Like [`EventLog::subscribe`], with the concrete type, whose
    /// [`KafkaSubscription::close`] leaves the group without blocking.
    pub fn subscribe_kafka(&self, group: &str, topics: &[String], start: StartFrom) -> Result<KafkaSubscription> {
        KafkaSubscription::new(&self.inner.config, group, topics, start)
    }

    /// Waits until every record queued by this log's producer is acknowledged
    /// or failed, at most [`KafkaConfig::flush_timeout`].
    pub async fn flush(&self) -> Result<()> {
        self.inner.producer.flush(self.inner.config.flush_timeout).await
    }
}

#[async_trait]
impl EventLog for KafkaEventLog {
    fn topic_names(&self) -> &TopicNames {
        &self.inner.names
    }

    /// A new member of consumer group `group`. A group with committed offsets
    /// resumes after them; otherwise `auto.offset.reset` is `start`. Partitions
    /// are assigned asynchronously after this returns, so with
    /// [`StartFrom::Latest`] records appended before the assignment completes
    /// are not delivered.
    async fn subscribe(
        &self,
        group: &str,
        topics: &[String],
        start: StartFrom,
    ) -> todo_core::Result<Box<dyn Subscription>> {
        Ok(Box::new(self.subscribe_kafka(group, topics, start)?))
    }

    /// Produces one record and waits for the broker's acknowledgement (all
    /// in-sync replicas). Adds `ce_type` / `ce_id` headers when the payload is
    /// a CloudEvent and they are missing.
    async fn append(
        &self,
        topic: &str,
        key: Option<&str>,
        payload: &[u8],
        headers: &[(String, String)],
    ) -> todo_core::Result<()> {
        let delivered = self.inner.producer.send(topic, key, payload, headers).await?;
        debug!(topic, partition = delivered.partition, offset = delivered.offset, "appended");
        if topic.ends_with(".dlq") {
            ::metrics::counter!(metrics::DLQ_TOTAL, "topic" => topic.to_owned()).increment(1);
        }
        Ok(())
    }

    /// Fetches cluster metadata within [`KafkaConfig::request_timeout`].
    async fn ping(&self) -> todo_core::Result<()> {
        Ok(self.inner.producer.ping(self.inner.config.request_timeout).await?)
    }

    /// A [`KafkaPartitionReader`] at `from`.
    async fn read_partition(
        &self,
        topic: &str,
        partition: i32,
        from: i64,
    ) -> todo_core::Result<Option<Box<dyn PartitionReader>>> {
        Ok(Some(Box::new(KafkaPartitionReader::open(&self.inner.config, topic, partition, from).await?)))
    }
}
