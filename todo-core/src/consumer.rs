//! The consumer runner: drives one [`EventHandler`] over an [`EventLog`]
//! subscription with at-least-once semantics, a batch of records at a time.
//!
//! For each batch (up to [`RunOptions::batch_max`] records, gathered for at most
//! [`RunOptions::linger`] after the first): parse the CloudEvents (an unparseable
//! record or an unsupported major version is dead-lettered), hand the rest to
//! [`EventHandler::handle_batch`] with the subscription's [`Checkpoint`], and
//! commit the group's position only after the handler returned, i.e. after its
//! effects are durable. A store that holds the group's log commits the position in
//! the effects' own transaction; otherwise the position is committed after.
//!
//! Failures: a dependency being down ([`Error::Unavailable`]) is not the records'
//! fault, and the batch is retried with exponential backoff until it comes back.
//! Any other error splits the batch: each record is handled alone, tried
//! [`RetryPolicy::max_attempts`] times, then dead-lettered, and the consumer moves
//! on. [`Error::Duplicate`] means the effect already exists: done.
//!
//! Lag: `todo_consumer_lag_records{group}` (records after the group's position,
//! as the log reports it) and `todo_consumer_lag_seconds{group}` (age of the
//! oldest record not yet processed; 0 once caught up), also kept in a
//! [`LagBoard`] for health endpoints.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::Utc;
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, error, info_span, warn};

use crate::events::{CloudEvent, EventError, Topic};
use crate::ports::{Checkpoint, EventLog, Record, StartFrom, Subscription};
use crate::{Error, Result};

/// A record and the event it carries.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    /// The event, parsed from the record.
    pub event: CloudEvent,
    /// The record as read from the log (topic, partition, offset).
    pub record: Record,
}

/// Reacts to events. Implementations are idempotent: a record may be delivered
/// more than once (after a crash before its commit).
#[async_trait]
pub trait EventHandler: Send + Sync {
    /// The consumer group, also the tracing span name (e.g. `recurring-task`).
    fn name(&self) -> String;

    /// The catalog topics this handler reads.
    fn topics(&self) -> Vec<Topic>;

    /// Where a new group starts.
    fn start_from(&self) -> StartFrom {
        StartFrom::Earliest
    }

    /// Applies one event's effect durably, or fails. Never panics.
    async fn handle(&self, event: &CloudEvent, record: &Record) -> Result<()>;

    /// Most records handed to [`EventHandler::handle_batch`] at once. The default,
    /// 1, hands records over one at a time, each retried and dead-lettered alone.
    /// A handler whose batches are all-or-nothing (or whose per-record effects are
    /// idempotent, as every handler's must be) raises it: after a failed batch, its
    /// records are handled again one by one.
    fn max_batch(&self) -> usize {
        1
    }

    /// Applies the effects of a batch durably, all or nothing, and with
    /// `checkpoint` in the same transaction where the store allows it (pass it to
    /// the store's write; see [`Checkpoint`]). The default handles each event in
    /// turn with [`EventHandler::handle`], treating [`Error::Duplicate`] as done,
    /// and leaves the checkpoint to the runner; handlers whose effects can share a
    /// transaction override it.
    async fn handle_batch(&self, batch: &[Delivery], checkpoint: Option<&Checkpoint>) -> Result<()> {
        let _ = checkpoint;
        for d in batch {
            match self.handle(&d.event, &d.record).await {
                Ok(()) | Err(Error::Duplicate(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// How handler failures are retried.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Attempts at a failing record before it is dead-lettered.
    pub max_attempts: u32,
    /// Wait after the first failure; doubles each time.
    pub initial_backoff: Duration,
    /// Longest wait between attempts.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_attempts: 5, initial_backoff: Duration::from_millis(100), max_backoff: Duration::from_secs(5) }
    }
}

impl RetryPolicy {
    fn backoff(&self, attempt: u32) -> Duration {
        self.initial_backoff.saturating_mul(1 << attempt.min(16)).min(self.max_backoff)
    }
}

/// The lag of one consumer group, as its runner last saw it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Lag {
    /// Records after the group's position (`None`: the log does not say).
    pub records: Option<u64>,
    /// Age of the oldest record not yet processed, in seconds (0 when caught up).
    pub seconds: f64,
}

/// The lag of every consumer group a process runs, for health endpoints.
#[derive(Clone, Debug, Default)]
pub struct LagBoard(Arc<Mutex<BTreeMap<String, Lag>>>);

impl LagBoard {
    /// An empty board.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every group's lag, by group name.
    pub fn snapshot(&self) -> BTreeMap<String, Lag> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set(&self, group: &str, lag: Lag) {
        metrics::gauge!("todo_consumer_lag_seconds", "group" => group.to_owned()).set(lag.seconds);
        if let Some(n) = lag.records {
            metrics::gauge!("todo_consumer_lag_records", "group" => group.to_owned()).set(n as f64);
        }
        self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(group.to_owned(), lag);
    }
}

/// How a runner reads and retries.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// How often and how long a failing record is retried before it is dead-lettered.
    pub retry: RetryPolicy,
    /// Most records in one batch. Default 256.
    pub batch_max: usize,
    /// After the first record of a batch, how long to wait for more. Default 2 ms:
    /// records already waiting are taken at once, and a trickle is not held up.
    pub linger: Duration,
    /// Where the runner reports its lag.
    pub lag: LagBoard,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self { retry: RetryPolicy::default(), batch_max: 256, linger: Duration::from_millis(2), lag: LagBoard::new() }
    }
}

/// How often the lag in records is asked of the log.
const LAG_QUERY_EVERY: Duration = Duration::from_secs(1);

/// What became of one record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The handler's effect is done.
    Handled,
    /// The effect already existed.
    Duplicate,
    /// Given up on (the reason): the record went to the dead-letter topic.
    DeadLettered(String),
}

/// Runs `handler` until `shutdown` is cancelled, with default [`RunOptions`] and
/// `retry`. The batch in flight when shutdown comes is finished and committed first.
pub async fn run(
    log: Arc<dyn EventLog>,
    handler: Arc<dyn EventHandler>,
    retry: RetryPolicy,
    shutdown: CancellationToken,
) -> Result<()> {
    run_with(log, handler, RunOptions { retry, ..RunOptions::default() }, shutdown).await
}

/// Runs `handler` until `shutdown` is cancelled. The batch in flight when shutdown
/// comes is finished and committed first.
pub async fn run_with(
    log: Arc<dyn EventLog>,
    handler: Arc<dyn EventHandler>,
    options: RunOptions,
    shutdown: CancellationToken,
) -> Result<()> {
    let group = handler.name();
    let span = info_span!("consumer", group = %group);
    async move {
        let retry = options.retry;
        let topics: Vec<String> = handler.topics().into_iter().map(|t| log.topic_names().name(t)).collect();
        let mut sub = loop {
            match log.subscribe(&group, &topics, handler.start_from()).await {
                Ok(s) => break s,
                Err(e) if e.is_transient() => {
                    warn!(error = %e, "subscribe failed; retrying");
                    tokio::select! {
                        () = shutdown.cancelled() => return Ok(()),
                        () = tokio::time::sleep(retry.max_backoff) => continue,
                    }
                }
                Err(e) => return Err(e),
            }
        };
        let runner = Runner { log: &*log, handler: &*handler, group: &group, options: &options, shutdown: &shutdown };
        let batch_max = options.batch_max.min(handler.max_batch()).max(1);
        let mut failures = 0u32;
        let mut lag_asked = Instant::now() - LAG_QUERY_EVERY;
        loop {
            let records = tokio::select! {
                () = shutdown.cancelled() => return close(sub).await,
                r = sub.next_batch(batch_max, options.linger) => r,
            };
            let records = match records {
                Ok(r) => r,
                Err(e) => {
                    failures += 1;
                    warn!(error = %e, "reading the log failed; retrying");
                    tokio::select! {
                        () = shutdown.cancelled() => return close(sub).await,
                        () = tokio::time::sleep(retry.backoff(failures)) => continue,
                    }
                }
            };
            failures = 0;
            let Some(outcomes) = runner.process_batch(&mut *sub, &records).await else {
                return close(sub).await;
            };
            for outcome in &outcomes {
                metrics::counter!("todo_consumer_records_total", "group" => group.clone(), "outcome" => outcome_label(outcome))
                    .increment(1);
            }
            metrics::histogram!("todo_consumer_batch_records", "group" => group.clone()).record(records.len() as f64);
            if records.len() < batch_max {
                // Everything that was waiting has been processed.
                options.lag.set(&group, Lag { records: Some(0), seconds: 0.0 });
            } else if lag_asked.elapsed() >= LAG_QUERY_EVERY {
                lag_asked = Instant::now();
                let records = sub.lag().await.unwrap_or_else(|e| {
                    debug!(error = %e, "asking the log for the lag failed");
                    None
                });
                let seconds = options.lag.snapshot().get(&group).map_or(0.0, |l| l.seconds);
                options.lag.set(&group, Lag { records, seconds });
            }
        }
    }
    .instrument(span)
    .await
}

/// Leaves the group; a failure to do so cleanly only means redelivery.
async fn close(sub: Box<dyn Subscription>) -> Result<()> {
    if let Err(e) = sub.close().await {
        warn!(error = %e, "leaving the consumer group failed");
    }
    Ok(())
}

fn outcome_label(o: &Outcome) -> &'static str {
    match o {
        Outcome::Handled => "handled",
        Outcome::Duplicate => "duplicate",
        Outcome::DeadLettered(_) => "dead_lettered",
    }
}

/// One runner's borrowed context.
struct Runner<'a> {
    log: &'a dyn EventLog,
    handler: &'a dyn EventHandler,
    group: &'a str,
    options: &'a RunOptions,
    shutdown: &'a CancellationToken,
}

impl Runner<'_> {
    /// Handles and commits `records`; `None` if shutdown interrupted an outage
    /// (nothing after the last commit is committed; it is redelivered).
    async fn process_batch(&self, sub: &mut dyn Subscription, records: &[Record]) -> Option<Vec<Outcome>> {
        let Some(last) = records.last() else { return Some(vec![]) };
        let mut outcomes = Vec::with_capacity(records.len());
        let mut deliveries = Vec::with_capacity(records.len());
        for record in records {
            match parse(record) {
                Ok(event) => deliveries.push(Delivery { event, record: record.clone() }),
                // Poison records have no effect to order with the others: out first.
                Err(reason) => outcomes.push(dead_letter(self.log, self.group, record, &reason, self.shutdown).await?),
            }
        }
        // The age of the oldest event in hand (each record is parsed once).
        if let Some(oldest) = deliveries.first() {
            let seconds = (Utc::now() - oldest.event.time).num_milliseconds().max(0) as f64 / 1000.0;
            let records = self.options.lag.snapshot().get(self.group).and_then(|l| l.records);
            self.options.lag.set(self.group, Lag { records, seconds });
        }
        if !deliveries.is_empty() {
            outcomes.extend(self.handle(sub, &deliveries).await?);
        }
        commit(sub, last, records, self.options.retry, self.shutdown).await;
        Some(outcomes)
    }

    /// The whole batch at once, retried while its store is unavailable; on any
    /// other failure, each record alone.
    async fn handle(&self, sub: &mut dyn Subscription, batch: &[Delivery]) -> Option<Vec<Outcome>> {
        let retry = self.options.retry;
        let mut attempt = 0u32;
        loop {
            let checkpoint = sub.checkpoint(&batch.last().expect("a batch").record);
            match self.handler.handle_batch(batch, checkpoint.as_ref()).await {
                Ok(()) => return Some(vec![Outcome::Handled; batch.len()]),
                Err(e) if e.is_transient() => {
                    attempt += 1;
                    warn!(error = %e, records = batch.len(), attempt, "handler unavailable; retrying the batch");
                    tokio::select! {
                        () = self.shutdown.cancelled() => return None,
                        () = tokio::time::sleep(retry.backoff(attempt - 1)) => {}
                    }
                }
                Err(e) if batch.len() == 1 => return Some(vec![self.one(Some(&mut *sub), &batch[0], Some(e)).await?]),
                Err(e) => {
                    debug!(error = %e, records = batch.len(), "batch failed; handling its records one by one");
                    let mut outcomes = Vec::with_capacity(batch.len());
                    for d in batch {
                        outcomes.push(self.one(Some(&mut *sub), d, None).await?);
                    }
                    return Some(outcomes);
                }
            }
        }
    }

    /// One record, alone: tried (unless `first` is the outcome of a first try),
    /// retried, then dead-lettered.
    async fn one(&self, sub: Option<&mut dyn Subscription>, d: &Delivery, first: Option<Error>) -> Option<Outcome> {
        let retry = self.options.retry;
        let mut attempt = 0u32;
        let mut last = first;
        loop {
            let e = match last.take() {
                Some(e) => e,
                None => {
                    let checkpoint = sub.as_ref().and_then(|s| s.checkpoint(&d.record));
                    match self.handler.handle_batch(std::slice::from_ref(d), checkpoint.as_ref()).await {
                        Ok(()) => return Some(Outcome::Handled),
                        Err(e) => e,
                    }
                }
            };
            attempt += 1;
            if let Error::Duplicate(key) = &e {
                debug!(%key, id = %d.event.id, "already processed");
                return Some(Outcome::Duplicate);
            }
            if !e.is_transient() && attempt >= retry.max_attempts {
                error!(error = %e, id = %d.event.id, ty = %d.event.ty, attempt, "handler failed; dead-lettering");
                return dead_letter(self.log, self.group, &d.record, &e.to_string(), self.shutdown).await;
            }
            warn!(error = %e, id = %d.event.id, ty = %d.event.ty, attempt, "handler failed; retrying");
            tokio::select! {
                () = self.shutdown.cancelled() => return None,
                () = tokio::time::sleep(retry.backoff(attempt - 1)) => {}
            }
        }
    }
}

/// The record's event, or why it cannot be handled.
fn parse(record: &Record) -> std::result::Result<CloudEvent, String> {
    match CloudEvent::from_json_bytes(&record.payload) {
        Ok(ev) => match ev.event_type() {
            Err(e @ EventError::UnsupportedVersion(_)) => Err(e.to_string()),
            _ => Ok(ev),
        },
        Err(e) => Err(e.to_string()),
    }
}

/// Commits the batch ending at `last` unless a store already did, retrying
/// transient failures (the records would only be redelivered, which handlers
/// tolerate, but committing keeps redelivery small).
async fn commit(
    sub: &mut dyn Subscription,
    last: &Record,
    records: &[Record],
    retry: RetryPolicy,
    shutdown: &CancellationToken,
) {
    for attempt in 0.. {
        match sub.commit_batch(records).await {
            Ok(()) => return,
            Err(e) => {
                warn!(error = %e, topic = %last.topic, offset = last.offset, "commit failed");
                if shutdown.is_cancelled() || attempt >= retry.max_attempts {
                    return;
                }
                tokio::time::sleep(retry.backoff(attempt)).await;
            }
        }
    }
}

/// Handles one record: `None` if shutdown interrupted a dependency outage (the
/// record stays uncommitted and will be redelivered). Commits nothing.
pub async fn process(
    log: &dyn EventLog,
    handler: &dyn EventHandler,
    group: &str,
    record: &Record,
    retry: RetryPolicy,
    shutdown: &CancellationToken,
) -> Option<Outcome> {
    let event = match parse(record) {
        Ok(ev) => ev,
        Err(reason) => return dead_letter(log, group, record, &reason, shutdown).await,
    };
    let options = RunOptions { retry, ..RunOptions::default() };
    let runner = Runner { log, handler, group, options: &options, shutdown };
    runner.one(None, &Delivery { event, record: record.clone() }, None).await
}

async fn dead_letter(
    log: &dyn EventLog,
    group: &str,
    record: &Record,
    error: &str,
    shutdown: &CancellationToken,
) -> Option<Outcome> {
    warn!(topic = %record.topic, offset = record.offset, error, "dead-lettering record");
    let mut wait = Duration::from_millis(100);
    loop {
        match log.dead_letter(record, group, error).await {
            Ok(()) => return Some(Outcome::DeadLettered(error.to_owned())),
            Err(e) => {
                warn!(error = %e, "dead-lettering failed; retrying");
                tokio::select! {
                    () = shutdown.cancelled() => return None,
                    () = tokio::time::sleep(wait) => {}
                }
                wait = (wait * 2).min(Duration::from_secs(5));
            }
        }
    }
}
