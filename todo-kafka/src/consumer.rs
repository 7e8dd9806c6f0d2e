//! The at-least-once consumer: a group member whose positions move only when
//! the application says a record's effect is durable.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer};
use rdkafka::error::{KafkaError as RdKafkaError, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, Headers, Message};
use rdkafka::statistics::Statistics;
use todo_core::ports::{Record, StartFrom, Subscription};
use tracing::{debug, info, warn};

use crate::config::KafkaConfig;
use crate::error::{KafkaError, Result, is_transient_code};
use crate::metrics;
use crate::producer::{log_client_error, log_librdkafka};

/// Logs, rebalances and consumer-lag statistics of one group member.
pub(crate) struct ConsumerCtx {
    group: String,
    lag_reported: Mutex<BTreeSet<(String, i32)>>,
}

impl ClientContext for ConsumerCtx {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        log_librdkafka(level, fac, message);
    }

    fn error(&self, error: RdKafkaError, reason: &str) {
        log_client_error(&error, reason);
    }

    fn stats(&self, statistics: Statistics) {
        let mut reported = self.lag_reported.lock().unwrap_or_else(|e| e.into_inner());
        metrics::record_lag(&self.group, &statistics, &mut reported);
    }
}

impl ConsumerContext for ConsumerCtx {
    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(tpl) => {
                info!(group = %self.group, partitions = tpl.count(), "partitions assigned");
            }
            Rebalance::Revoke(tpl) => {
                info!(group = %self.group, partitions = tpl.count(), "partitions revoked");
            }
            Rebalance::Error(e) => warn!(group = %self.group, error = %e, "rebalance failed"),
        }
    }
}

/// One member of a consumer group on Kafka topics; see [`crate::KafkaEventLog`].
///
/// [`Subscription::commit`] stores the record's offset; librdkafka commits
/// stored offsets every second (`auto.commit.interval.ms`) and when the member
/// leaves. Leaving (a synchronous commit of the stored offsets, then the
/// leave-group request) happens on [`KafkaSubscription::close`] or on drop,
/// which blocks the current thread for it (at most the session timeout plus
/// two seconds; on a multi-thread runtime the worker hands its other tasks off).
pub struct KafkaSubscription {
    consumer: Option<StreamConsumer<ConsumerCtx>>,
    group: String,
    /// How long closing waits for the final commit and the leave.
    close_limit: Duration,
}

impl std::fmt::Debug for KafkaSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaSubscription").field("group", &self.group).finish_non_exhaustive()
    }
}

impl KafkaSubscription {
    /// Joins `group` on `topics`; the partition assignment arrives asynchronously.
    pub(crate) fn new(config: &KafkaConfig, group: &str, topics: &[String], start: StartFrom) -> Result<Self> {
        let ctx = ConsumerCtx { group: group.to_owned(), lag_reported: Mutex::new(BTreeSet::new()) };
        let consumer: StreamConsumer<ConsumerCtx> = config
            .consumer_config(group, start)
            .create_with_context(ctx)
            .map_err(KafkaError::creating("create consumer"))?;
        let names: Vec<&str> = topics.iter().map(String::as_str).collect();
        consumer.subscribe(&names).map_err(KafkaError::client("subscribe"))?;
        debug!(group, ?topics, ?start, "subscribed");
        Ok(Self {
            consumer: Some(consumer),
            group: group.to_owned(),
            close_limit: config.session_timeout + Duration::from_secs(2),
        })
    }

    /// The consumer group.
    pub fn group(&self) -> &str {
        &self.group
    }

    fn consumer(&self) -> &StreamConsumer<ConsumerCtx> {
        self.consumer.as_ref().expect("a subscription is open until dropped")
    }

    /// Commits the stored offsets and leaves the group without blocking the
    /// runtime; the partitions go to the other members at once instead of
    /// after `session.timeout.ms`. Waits at most the session timeout plus two
    /// seconds: with the cluster unreachable, the commit and the leave go on
    /// in the background.
    pub async fn close(mut self) -> Result<()> {
        let Some(consumer) = self.consumer.take() else {
            return Ok(());
        };
        let (group, limit) = (self.group.clone(), self.close_limit);
        tokio::task::spawn_blocking(move || close_bounded(consumer, &group, limit))
            .await
            .map_err(|e| KafkaError::Internal(format!("close task: {e}")))
    }
}

/// Commits stored offsets synchronously, then drops the consumer, which makes
/// rdkafka close it (final commit, leave the group) and wait until it is closed.
fn close(consumer: StreamConsumer<ConsumerCtx>, group: &str) {
    match consumer.commit_consumer_state(CommitMode::Sync) {
        Ok(()) => debug!(group, "committed stored offsets"),
        // Nothing stored since the last commit.
        Err(e) if e.rdkafka_error_code() == Some(RDKafkaErrorCode::NoOffset) => {}
        Err(e) => {
            warn!(group, error = %e, "final offset commit failed; records after the last commit will be redelivered");
        }
    }
    drop(consumer);
    debug!(group, "left the group");
}

/// [`close`] on a thread of its own, waiting for it at most `limit`: a
/// synchronous commit waits for the group coordinator for as long as it is
/// unreachable, and a `Drop` must not hang on that.
fn close_bounded(consumer: StreamConsumer<ConsumerCtx>, group: &str, limit: Duration) {
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let closing = std::thread::Builder::new().name("kafka-close".to_owned()).spawn({
        let group = group.to_owned();
        move || {
            close(consumer, &group);
            let _ = done.send(());
        }
    });
    match closing {
        Ok(thread) => match finished.recv_timeout(limit) {
            Ok(()) => {
                let _ = thread.join();
            }
            Err(_) => warn!(
                group,
                ?limit,
                "leaving the consumer group takes long (cluster unreachable?); going on in the background"
            ),
        },
        // The closure, and the consumer with it, was dropped: rdkafka closed it.
        Err(e) => {
            warn!(group, error = %e, "no thread to close the consumer on; closed without a final commit");
        }
    }
}

impl Drop for KafkaSubscription {
    fn drop(&mut self) {
        if let Some(consumer) = self.consumer.take() {
            let (group, limit) = (self.group.clone(), self.close_limit);
            crate::run_blocking(move || close_bounded(consumer, &group, limit));
        }
    }
}

#[async_trait]
impl Subscription for KafkaSubscription {
    /// The next record. Cancel-safe: dropping the future loses no record.
    /// Connection problems are not returned: librdkafka reconnects and the
    /// call keeps waiting.
    async fn next(&mut self) -> todo_core::Result<Record> {
        loop {
            match self.consumer().recv().await {
                Ok(message) => {
                    let record = to_record(&message);
                    ::metrics::counter!(metrics::CONSUMED_TOTAL, "group" => self.group.clone(), "topic" => record.topic.clone())
                        .increment(1);
                    return Ok(record);
                }
                Err(e) if e.rdkafka_error_code().is_some_and(is_transient_code) => {
                    debug!(group = %self.group, error = %e, "consumer waiting for the cluster");
                }
                Err(e) => return Err(KafkaError::client("consume")(e).into()),
            }
        }
    }

    /// Stores `record.offset + 1` for its partition (committed within a second,
    /// or when the subscription closes). A partition revoked by a rebalance
    /// since the record was read cannot be stored (librdkafka #3774): not an
    /// error, its new owner gets the record again.
    async fn close(self: Box<Self>) -> todo_core::Result<()> {
        KafkaSubscription::close(*self).await.map_err(Into::into)
    }

    async fn commit(&mut self, record: &Record) -> todo_core::Result<()> {
        match self.consumer().store_offset(&record.topic, record.partition, record.offset) {
            Ok(()) => Ok(()),
            Err(e)
                if matches!(
                    e.rdkafka_error_code(),
                    Some(RDKafkaErrorCode::State | RDKafkaErrorCode::UnknownPartition)
                ) =>
            {
                debug!(group = %self.group, topic = %record.topic, partition = record.partition, "partition no longer assigned; not storing its offset");
                Ok(())
            }
            Err(e) => Err(KafkaError::client("store offset")(e).into()),
        }
    }
}

/// A consumed message as the ports' [`Record`] (headers as UTF-8, lossily).
pub(crate) fn to_record(m: &BorrowedMessage<'_>) -> Record {
    let headers = m
        .headers()
        .map(|hs| {
            hs.iter()
                .map(|h| {
                    (h.key.to_owned(), h.value.map(|v| String::from_utf8_lossy(v).into_owned()).unwrap_or_default())
                })
                .collect()
        })
        .unwrap_or_default();
    Record {
        topic: m.topic().to_owned(),
        partition: m.partition(),
        offset: m.offset(),
        key: m.key().map(|k| String::from_utf8_lossy(k).into_owned()),
        payload: m.payload().map(<[u8]>::to_vec).unwrap_or_default(),
        headers,
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use rdkafka::mocking::MockCluster;
    use todo_core::ports::{EventLog, StartFrom};

    use crate::{KafkaConfig, KafkaEventLog};

    /// Leaving the group commits and closes; with the cluster gone it still
    /// returns within a bounded time instead of hanging the caller.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn closing_while_the_cluster_is_down_does_not_hang() {
        let mock = MockCluster::new(1).expect("mock cluster");
        mock.create_topic("t", 1, 1).expect("topic");
        let config = KafkaConfig::new(mock.bootstrap_servers()).with_session_timeout(Duration::from_secs(6));
        let log = KafkaEventLog::new(config).expect("client");
        log.append("t", Some("k"), b"x", &[]).await.expect("append");
        let mut sub = log.subscribe("g", &["t".to_owned()], StartFrom::Earliest).await.expect("subscribe");
        let r = tokio::time::timeout(Duration::from_secs(20), sub.next()).await.expect("record").expect("read");
        sub.commit(&r).await.expect("commit");
        mock.broker_down(1).expect("down");
        let started = Instant::now();
        drop(sub);
        let took = started.elapsed();
        println!("closed in {took:?} with the cluster down");
        assert!(took < Duration::from_secs(10), "close took {took:?}");
    }
}
