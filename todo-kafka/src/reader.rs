//! [`KafkaPartitionReader`]: one partition read from an offset on, by a
//! consumer that is assigned the partition and belongs to no consumer group's
//! membership (it never subscribes nor commits). The sync service uses it to
//! replay a user's `task-updates` after a resume cursor.

use std::time::Duration;

use async_trait::async_trait;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use todo_core::ports::{PartitionReader, Record};
use tracing::debug;

use crate::config::KafkaConfig;
use crate::consumer::to_record;
use crate::error::{KafkaError, Result, is_transient_code};

/// Reads one partition in offset order; see [`PartitionReader`].
pub struct KafkaPartitionReader {
    consumer: Option<StreamConsumer>,
    topic: String,
    partition: i32,
    bounds: (i64, i64),
    position: i64,
}

impl std::fmt::Debug for KafkaPartitionReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaPartitionReader")
            .field("topic", &self.topic)
            .field("partition", &self.partition)
            .field("position", &self.position)
            .finish_non_exhaustive()
    }
}

impl KafkaPartitionReader {
    /// Opens `topic`'s partition `partition` at `from` (or at its oldest
    /// retained record, if `from` is older). A partition that does not exist
    /// has the bounds `(0, 0)` and yields nothing.
    pub async fn open(config: &KafkaConfig, topic: &str, partition: i32, from: i64) -> Result<Self> {
        let consumer: StreamConsumer =
            config.reader_config().create().map_err(KafkaError::creating("create partition reader"))?;
        let timeout = config.request_timeout;
        let (consumer, bounds) = tokio::task::spawn_blocking({
            let topic = topic.to_owned();
            move || {
                let bounds = watermarks(&consumer, &topic, partition, timeout);
                (consumer, bounds)
            }
        })
        .await
        .map_err(|e| KafkaError::Internal(format!("watermarks task: {e}")))?;
        let exists = bounds?;
        let bounds = exists.unwrap_or((0, 0));
        let position = from.max(bounds.0);
        if exists.is_some() {
            let mut tpl = TopicPartitionList::new();
            tpl.add_partition_offset(topic, partition, Offset::Offset(position))
                .map_err(KafkaError::client("assign partition"))?;
            consumer.assign(&tpl).map_err(KafkaError::client("assign partition"))?;
        }
        debug!(topic, partition, from, ?bounds, "partition reader open");
        Ok(Self { consumer: Some(consumer), topic: topic.to_owned(), partition, bounds, position })
    }

    fn consumer(&self) -> &StreamConsumer {
        self.consumer.as_ref().expect("a reader has its consumer until dropped")
    }
}

/// `(low, high)` of the partition, if it exists.
fn watermarks(consumer: &StreamConsumer, topic: &str, partition: i32, timeout: Duration) -> Result<Option<(i64, i64)>> {
    let metadata = consumer.fetch_metadata(Some(topic), timeout).map_err(KafkaError::client("fetch metadata"))?;
    let exists = metadata
        .topics()
        .iter()
        .any(|t| t.name() == topic && t.error().is_none() && t.partitions().iter().any(|p| p.id() == partition));
    if !exists {
        return Ok(None);
    }
    consumer.fetch_watermarks(topic, partition, timeout).map(Some).map_err(KafkaError::client("fetch watermarks"))
}

impl Drop for KafkaPartitionReader {
    fn drop(&mut self) {
        if let Some(consumer) = self.consumer.take() {
            // Closing talks to the broker: not on a runtime worker's time.
            crate::run_blocking(move || drop(consumer));
        }
    }
}

#[async_trait]
impl PartitionReader for KafkaPartitionReader {
    fn bounds(&self) -> (i64, i64) {
        self.bounds
    }

    /// Connection problems are not returned: librdkafka reconnects and the
    /// call keeps waiting. Cancel-safe, as `StreamConsumer::recv` is.
    async fn next(&mut self) -> todo_core::Result<Record> {
        loop {
            match self.consumer().recv().await {
                Ok(m) if m.partition() == self.partition && m.offset() >= self.position => {
                    let record = to_record(&m);
                    self.position = record.offset + 1;
                    return Ok(record);
                }
                Ok(_) => {}
                Err(e) if e.rdkafka_error_code().is_some_and(is_transient_code) => {
                    debug!(topic = %self.topic, partition = self.partition, error = %e, "partition reader waiting for the cluster");
                }
                Err(e) if e.rdkafka_error_code() == Some(RDKafkaErrorCode::PartitionEOF) => {}
                Err(e) => return Err(KafkaError::client("read partition")(e).into()),
            }
        }
    }

    fn position(&self) -> i64 {
        self.position
    }
}
