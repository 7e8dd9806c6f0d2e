//! The consumer runner: drives one [`EventHandler`] over an [`EventLog`]
//! subscription with at-least-once semantics.
//!
//! For each record: parse the CloudEvent (unparseable or an unsupported major
//! version: dead-letter it), hand it to the handler, and commit the position only
//! after the handler returned, i.e. after its effect is durable. Handler errors are
//! retried with exponential backoff: a dependency being down ([`Error::Unavailable`])
//! is not the record's fault and is retried until it comes back; any other error is
//! tried [`RetryPolicy::max_attempts`] times, then the record is dead-lettered and
//! the consumer moves on. [`Error::Duplicate`] means the effect already exists: done.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, error, info_span, warn};

use crate::events::{CloudEvent, EventError, Topic};
use crate::ports::{EventLog, Record, StartFrom, Subscription};
use crate::{Error, Result};

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

    /// Applies the event's effect durably, or fails. Never panics.
    async fn handle(&self, event: &CloudEvent, record: &Record) -> Result<()>;
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

/// What became of one record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Handled,
    /// The effect already existed.
    Duplicate,
    DeadLettered(String),
}

/// Runs `handler` until `shutdown` is cancelled. The record in flight when
/// shutdown comes is finished and committed first.
pub async fn run(
    log: Arc<dyn EventLog>,
    handler: Arc<dyn EventHandler>,
    retry: RetryPolicy,
    shutdown: CancellationToken,
) -> Result<()> {
    let group = handler.name();
    let span = info_span!("consumer", group = %group);
    async move {
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
        let mut failures = 0u32;
        loop {
            let record = tokio::select! {
                () = shutdown.cancelled() => return close(sub).await,
                r = sub.next() => r,
            };
            let record = match record {
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
            let outcome = process(&*log, &*handler, &group, &record, retry, &shutdown).await;
            let Some(outcome) = outcome else { return close(sub).await };
            metrics::counter!("todo_consumer_records_total", "group" => group.clone(), "outcome" => outcome_label(&outcome))
                .increment(1);
            commit(&mut *sub, &record, retry, &shutdown).await;
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

/// Commits, retrying transient failures (the record would only be redelivered,
/// which handlers tolerate, but committing keeps redelivery small).
async fn commit(sub: &mut dyn Subscription, record: &Record, retry: RetryPolicy, shutdown: &CancellationToken) {
    for attempt in 0.. {
        match sub.commit(record).await {
            Ok(()) => return,
            Err(e) => {
                warn!(error = %e, topic = %record.topic, offset = record.offset, "commit failed");
                if shutdown.is_cancelled() || attempt >= retry.max_attempts {
                    return;
                }
                tokio::time::sleep(retry.backoff(attempt)).await;
            }
        }
    }
}

/// Handles one record: `None` if shutdown interrupted a dependency outage (the
/// record stays uncommitted and will be redelivered).
pub async fn process(
    log: &dyn EventLog,
    handler: &dyn EventHandler,
    group: &str,
    record: &Record,
    retry: RetryPolicy,
    shutdown: &CancellationToken,
) -> Option<Outcome> {
    let event = match CloudEvent::from_json_bytes(&record.payload) {
        Ok(ev) => match ev.event_type() {
            Err(e @ EventError::UnsupportedVersion(_)) => {
                return dead_letter(log, group, record, &e.to_string(), shutdown).await;
            }
            _ => ev,
        },
        Err(e) => return dead_letter(log, group, record, &e.to_string(), shutdown).await,
    };
    let mut attempt = 0u32;
    loop {
        match handler.handle(&event, record).await {
            Ok(()) => return Some(Outcome::Handled),
            Err(Error::Duplicate(key)) => {
                debug!(%key, id = %event.id, "already processed");
                return Some(Outcome::Duplicate);
            }
            Err(e) => {
                attempt += 1;
                let outage = e.is_transient();
                if !outage && attempt >= retry.max_attempts {
                    error!(error = %e, id = %event.id, ty = %event.ty, attempt, "handler failed; dead-lettering");
                    return dead_letter(log, group, record, &e.to_string(), shutdown).await;
                }
                warn!(error = %e, id = %event.id, ty = %event.ty, attempt, "handler failed; retrying");
                tokio::select! {
                    () = shutdown.cancelled() => return None,
                    () = tokio::time::sleep(retry.backoff(attempt - 1)) => {}
                }
            }
        }
    }
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
