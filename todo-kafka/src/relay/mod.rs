//! The outbox relay: drains a source event log (the SQL outbox) into Kafka,
//! committing the source position only after the broker acknowledged.
//!
//! Pipeline: records are read in source order and handed to the idempotent
//! producer at once, up to [`RelayConfig::max_in_flight`] unacknowledged;
//! delivery reports are awaited in read order, so everything before the oldest
//! unacknowledged record is acknowledged, and the source position of each
//! partition is committed up to its newest acknowledged record (in batches).
//! A failed delivery is never skipped: the relay lets the other in-flight
//! records settle, waits, and produces again from the failed record on, in the
//! original order (records after it may then appear twice in Kafka; consumers
//! are idempotent).

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::FutureExt;
use todo_core::events::Topic;
use todo_core::ports::{EventLog, Record, StartFrom, Subscription};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, error, info, info_span, warn};

use crate::KafkaEventLog;
use crate::error::{KafkaError, Result};
use crate::metrics;
use crate::producer::Delivered;

mod source;

use source::{READ_AHEAD, Source, read_ahead};

/// Tuning of the [`OutboxRelay`].
#[derive(Clone, Debug)]
pub struct RelayConfig {
    /// Consumer group on the source log. Default `outbox-relay`.
    pub group: String,
    /// Records produced and not yet acknowledged, at most. Default 1000.
    pub max_in_flight: usize,
    /// Commit the source position after this many acknowledged records...
    /// Default 2000 (one write of the position; a crash re-publishes at most this many).
    pub commit_every: usize,
    /// ...or once the oldest uncommitted acknowledgement is this old.
    /// Default 200 ms.
    pub commit_interval: Duration,
    /// Wait after the first failure; doubles on each further one. Default 100 ms.
    pub initial_backoff: Duration,
    /// Longest wait between retries. Default 5 s.
    pub max_backoff: Duration,
    /// On shutdown, how long to wait for records in flight to be acknowledged
    /// before committing what was. Default 30 s.
    pub drain_timeout: Duration,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            group: "outbox-relay".to_owned(),
            max_in_flight: 1000,
            commit_every: 2000,
            commit_interval: Duration::from_millis(200),
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            drain_timeout: Duration::from_secs(30),
        }
    }
}

impl RelayConfig {
    fn backoff(&self, failures: u32) -> Duration {
        self.initial_backoff.saturating_mul(1 << failures.saturating_sub(1).min(16)).min(self.max_backoff)
    }
}

/// Counters of one relay, since it was created (over all its runs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RelayStats {
    /// Records read from the source (re-reads after a restart included).
    pub read: u64,
    /// Records acknowledged by the broker (re-sends included).
    pub published: u64,
    /// Acknowledged records whose source position was committed.
    pub committed: u64,
    /// Records produced again after a failed delivery.
    pub retried: u64,
}

#[derive(Default)]
struct Counters {
    read: AtomicU64,
    published: AtomicU64,
    committed: AtomicU64,
    retried: AtomicU64,
}

/// Publishes the records of a source [`EventLog`] (the transactional outbox)
/// to Kafka, at least once and in order per key.
///
/// The relay reads the three catalog topics of the source as consumer group
/// [`RelayConfig::group`] and produces each record to the same catalog topic in
/// Kafka (the name under the target's prefix, so an outbox written without a
/// prefix can feed `KAFKA_TOPIC_PREFIX=staging.`), with the same key (the user
/// id), payload and headers, plus `ce_type` / `ce_id`.
///
/// Two relays must not drain one source concurrently: per-key order would
/// break. The SQL logs of todo-store give a group one member at a time.
///
/// Positions are committed every [`RelayConfig::commit_every`] acknowledged
/// records, once the oldest uncommitted acknowledgement is
/// [`RelayConfig::commit_interval`] old, and at shutdown; after a crash, at most
/// that uncommitted tail is published again. While the source is idle, the
/// relay interrupts its wait for the next record to commit, so the source's
/// [`Subscription::next`] must be cancel-safe (a dropped call loses no record),
/// as the SQL logs', the in-memory log's and [`crate::KafkaSubscription`]'s are.
pub struct OutboxRelay {
    source: Arc<dyn EventLog>,
    target: KafkaEventLog,
    config: RelayConfig,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for OutboxRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxRelay")
            .field("target", &self.target)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

type Delivery = Pin<Box<dyn Future<Output = Result<Delivered>> + Send>>;

/// Most records taken from the source at once.
const READ_BATCH: usize = 1000;

/// A record handed to the producer, not yet acknowledged.
struct InFlight {
    record: Record,
    target_topic: String,
    first_sent: Instant,
    delivery: Delivery,
}

/// The relay's working state within one run.
#[derive(Default)]
struct Pipeline {
    in_flight: VecDeque<InFlight>,
    /// Newest acknowledged, uncommitted record per source (topic, partition).
    /// Per source partition, its newest acknowledged, uncommitted record, in the
    /// order they were acknowledged (the read order).
    acked: Vec<Record>,
    uncommitted: u64,
    oldest_uncommitted: Option<Instant>,
    produce_failures: u32,
}

impl OutboxRelay {
    /// A relay from `source` to the topics of `target`.
    pub fn new(source: Arc<dyn EventLog>, target: KafkaEventLog, config: RelayConfig) -> Self {
        Self { source, target, config, counters: Arc::default() }
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> RelayStats {
        RelayStats {
            read: self.counters.read.load(Ordering::Relaxed),
            published: self.counters.published.load(Ordering::Relaxed),
            committed: self.counters.committed.load(Ordering::Relaxed),
            retried: self.counters.retried.load(Ordering::Relaxed),
        }
    }

    /// Relays until `shutdown` is cancelled, then stops reading, waits for the
    /// records in flight (at most [`RelayConfig::drain_timeout`]), commits the
    /// source position of those acknowledged, and returns the counters.
    ///
    /// Failures of the source or of Kafka are retried with backoff, forever:
    /// an error is returned only when the source refuses the subscription for
    /// good (a non-transient error).
    pub async fn run(&self, shutdown: CancellationToken) -> Result<RelayStats> {
        let span = info_span!("outbox_relay", group = %self.config.group);
        self.run_inner(shutdown).instrument(span).await
    }

    async fn run_inner(&self, shutdown: CancellationToken) -> Result<RelayStats> {
        let Some(sub) = self.subscribe(&shutdown).await? else {
            return Ok(self.stats());
        };
        info!("outbox relay started");
        // The source is read ahead on a task of its own, so that the next batch is
        // fetched while this one is produced and acknowledged.
        let (batches_tx, mut batches) = mpsc::channel(READ_AHEAD);
        let (commits, commit_requests) = mpsc::channel(1);
        let reader = tokio::spawn(read_ahead(sub, batches_tx, commit_requests, self.config.clone()));
        let source = Source { commits, reader: Some(reader) };
        let mut p = Pipeline::default();
        loop {
            if self.commit_due(&p) {
                self.commit(&source, &mut p).await;
            }
            let room = p.in_flight.len() < self.config.max_in_flight;
            ::metrics::gauge!(metrics::RELAY_IN_FLIGHT).set(p.in_flight.len() as f64);
            // Everything read is acknowledged and the source has nothing new: a
            // commit that comes due must not wait for the next record.
            let idle_commit_at = match (p.in_flight.is_empty(), p.oldest_uncommitted) {
                (true, Some(oldest)) => Some(oldest + self.config.commit_interval),
                _ => None,
            };
            tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                delivered = front_delivery(&mut p.in_flight) => {
                    // Take every acknowledgement already in, then look at the rest.
                    let mut next = Some(delivered);
                    let mut acked = 0u64;
                    while let Some(delivered) = next.take() {
                        match delivered {
                            Ok(d) => {
                                self.acked(&mut p, d);
                                acked += 1;
                                next = p.in_flight.front_mut().and_then(|f| (&mut f.delivery).now_or_never());
                            }
                            Err(e) => {
                                self.record_acked(acked);
                                acked = 0;
                                if !self.retry_from_failure(&mut p, &e, &shutdown).await {
                                    break;
                                }
                            }
                        }
                    }
                    self.record_acked(acked);
                    if shutdown.is_cancelled() {
                        break;
                    }
                },
                batch = batches.recv(), if room => {
                    let Some(records) = batch else { break };
                    self.counters.read.fetch_add(records.len() as u64, Ordering::Relaxed);
                    for record in records {
                        let in_flight = self.produce(record, None).await;
                        p.in_flight.push_back(in_flight);
                    }
                }
                () = sleep_until(idle_commit_at) => self.commit(&source, &mut p).await,
            }
        }
        // Batches read ahead and not produced are dropped: nothing after the last
        // acknowledged record is committed, so the source delivers them again.
        drop(batches);
        self.drain(&mut p).await;
        self.commit(&source, &mut p).await;
        source.stop().await;
        ::metrics::gauge!(metrics::RELAY_IN_FLIGHT).set(0.0);
        let stats = self.stats();
        info!(published = stats.published, committed = stats.committed, "outbox relay stopped");
        Ok(stats)
    }

    /// Subscribes to the catalog topics of the source; `None` on shutdown.
    async fn subscribe(&self, shutdown: &CancellationToken) -> Result<Option<Box<dyn Subscription>>> {
        let names = self.source.topic_names();
        let topics: Vec<String> = Topic::ALL.into_iter().map(|t| names.name(t)).collect();
        let mut failures = 0;
        loop {
            let attempt = tokio::select! {
                () = shutdown.cancelled() => return Ok(None),
                s = self.source.subscribe(&self.config.group, &topics, StartFrom::Earliest) => s,
            };
            match attempt {
                Ok(sub) => return Ok(Some(sub)),
                Err(e) if e.is_transient() => {
                    failures += 1;
                    ::metrics::counter!(metrics::RELAY_ERRORS_TOTAL, "kind" => "source").increment(1);
                    warn!(error = %e, attempt = failures, "subscribing to the outbox failed; retrying");
                    if !sleep_or_cancel(self.config.backoff(failures), shutdown).await {
                        return Ok(None);
                    }
                }
                Err(e) => return Err(KafkaError::Source(e)),
            }
        }
    }

    /// The Kafka topic of a source record: the same catalog topic under the
    /// target's prefix (a name outside the catalog is kept as it is).
    fn target_topic(&self, source_topic: &str) -> String {
        match self.source.topic_names().topic_of(source_topic) {
            Some(topic) => self.target.topic_names().name(topic),
            None => source_topic.to_owned(),
        }
    }

    /// Hands `record` to the producer. A record the producer refuses becomes an
    /// already-failed delivery, retried in order like any other failure.
    async fn produce(&self, record: Record, first_sent: Option<Instant>) -> InFlight {
        let target_topic = self.target_topic(&record.topic);
        let delivery = self.send(&target_topic, &record).await;
        InFlight { record, target_topic, first_sent: first_sent.unwrap_or_else(Instant::now), delivery }
    }

    /// Queues `record` on `topic`; the producer adds `ce_type` / `ce_id`.
    async fn send(&self, topic: &str, record: &Record) -> Delivery {
        match self.target.producer().enqueue(topic, record.key.as_deref(), &record.payload, &record.headers).await {
            Ok(pending) => Box::pin(pending),
            Err(e) => Box::pin(std::future::ready(Err(e))),
        }
    }

    /// Counts `n` acknowledgements handled at once.
    fn record_acked(&self, n: u64) {
        if n > 0 {
            ::metrics::counter!(metrics::RELAY_PUBLISHED_TOTAL).increment(n);
            self.counters.published.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Takes the acknowledged front record out of the pipeline (the caller counts it
    /// with [`OutboxRelay::record_acked`]).
    fn acked(&self, p: &mut Pipeline, delivered: Delivered) {
        let entry = p.in_flight.pop_front().expect("an acknowledged record is in flight");
        p.produce_failures = 0;
        let topic = entry.target_topic;
        ::metrics::histogram!(metrics::RELAY_PUBLISH_LATENCY_SECONDS).record(entry.first_sent.elapsed().as_secs_f64());
        debug!(%topic, partition = delivered.partition, offset = delivered.offset, "published");
        let r = entry.record;
        // A source that redelivers after an error may hand back older records:
        // the position never moves backwards.
        match p.acked.iter().position(|a| a.topic == r.topic && a.partition == r.partition) {
            Some(i) if p.acked[i].offset < r.offset => {
                p.acked.remove(i);
                p.acked.push(r);
            }
            Some(_) => {}
            None => p.acked.push(r),
        }
        p.uncommitted += 1;
        p.oldest_uncommitted.get_or_insert_with(Instant::now);
    }

    /// The oldest record in flight failed: let the others settle, wait, and
    /// produce all of them again in order. `false` if shutdown came meanwhile.
    async fn retry_from_failure(&self, p: &mut Pipeline, e: &KafkaError, shutdown: &CancellationToken) -> bool {
        p.produce_failures += 1;
        ::metrics::counter!(metrics::RELAY_ERRORS_TOTAL, "kind" => "produce").increment(1);
        let front = p.in_flight.front().expect("a failed record is in flight");
        warn!(error = %e, topic = %front.target_topic, attempt = p.produce_failures, in_flight = p.in_flight.len(),
            "publishing failed; producing again from the failed record");
        // Copies of later records still in flight land before the re-sent ones,
        // so the last copy of each key's records is in order.
        for entry in p.in_flight.iter_mut().skip(1) {
            let _ = tokio::time::timeout(self.config.drain_timeout, &mut entry.delivery).await;
        }
        self.target.producer().recover_if_fatal();
        if !sleep_or_cancel(self.config.backoff(p.produce_failures), shutdown).await {
            // Nothing in flight is known to be acknowledged now: drop it all so
            // the shutdown path commits only what was acknowledged before.
            p.in_flight.clear();
            return false;
        }
        let failed: Vec<InFlight> = p.in_flight.drain(..).collect();
        self.counters.retried.fetch_add(failed.len() as u64, Ordering::Relaxed);
        for entry in failed {
            let again = self.produce(entry.record, Some(entry.first_sent)).await;
            p.in_flight.push_back(again);
        }
        true
    }

    /// Waits for the records in flight, in order, until one fails or
    /// [`RelayConfig::drain_timeout`] passes.
    async fn drain(&self, p: &mut Pipeline) {
        let deadline = tokio::time::Instant::now() + self.config.drain_timeout;
        while let Some(front) = p.in_flight.front_mut() {
            match tokio::time::timeout_at(deadline, &mut front.delivery).await {
                Ok(Ok(d)) => {
                    self.acked(p, d);
                    self.record_acked(1);
                }
                Ok(Err(e)) => {
                    warn!(error = %e, unacknowledged = p.in_flight.len(), "publishing failed during shutdown; the rest is published after a restart");
                    break;
                }
                Err(_) => {
                    warn!(
                        unacknowledged = p.in_flight.len(),
                        "records still in flight at shutdown; they are published again after a restart"
                    );
                    break;
                }
            }
        }
        p.in_flight.clear();
    }

    fn commit_due(&self, p: &Pipeline) -> bool {
        p.uncommitted >= self.config.commit_every as u64
            || p.oldest_uncommitted.is_some_and(|t| t.elapsed() >= self.config.commit_interval)
    }

    /// Commits the source position of each partition up to its newest
    /// acknowledged record. A failed commit is kept for the next attempt (the
    /// records would only be published again).
    async fn commit(&self, source: &Source, p: &mut Pipeline) {
        if p.acked.is_empty() {
            return;
        }
        // One commit for the lot: a log with one commit order (the SQL outbox)
        // stores the last position once, a partitioned one each partition's.
        match source.commit(p.acked.clone()).await {
            Ok(()) => {
                p.acked.clear();
                self.counters.committed.fetch_add(p.uncommitted, Ordering::Relaxed);
                p.uncommitted = 0;
                p.oldest_uncommitted = None;
            }
            Err(e) => {
                ::metrics::counter!(metrics::RELAY_ERRORS_TOTAL, "kind" => "commit").increment(1);
                error!(error = %e, records = p.acked.len(), "committing the outbox position failed");
                // Try again after another interval.
                p.oldest_uncommitted = Some(Instant::now());
            }
        }
    }
}

/// The delivery report of the oldest record in flight; pending while none is.
async fn front_delivery(in_flight: &mut VecDeque<InFlight>) -> Result<Delivered> {
    match in_flight.front_mut() {
        Some(front) => (&mut front.delivery).await,
        None => std::future::pending().await,
    }
}

/// Waits until `at`; pending forever when there is no `at`.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// Sleeps `d`; `false` if `shutdown` came first.
async fn sleep_or_cancel(d: Duration, shutdown: &CancellationToken) -> bool {
    tokio::select! {
        () = shutdown.cancelled() => false,
        () = tokio::time::sleep(d) => true,
    }
}

#[cfg(test)]
mod tests;
