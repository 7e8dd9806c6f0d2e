//! The idempotent producer: records keyed by user id, CloudEvents headers, a
//! delivery report per record, and a flush (never a silent purge) on shutdown.

use std::future::Future;
use std::pin::Pin;
use std::sync::RwLock;
use std::task::{Context, Poll};
use std::time::Duration;

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::{KafkaError as RdKafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer};
use todo_core::events::CloudEvent;
use tracing::{debug, error, info, warn};

use crate::config::KafkaConfig;
use crate::error::{KafkaError, Result, is_transient_code};

/// CloudEvents attributes copied into record headers (Kafka protocol binding).
pub mod headers {
    /// The event's `type`, e.g. `todo.task.created.v1`.
    pub const CE_TYPE: &str = "ce_type";
    /// The event's `id`.
    pub const CE_ID: &str = "ce_id";
    /// What the value is: [`STRUCTURED`] (the CloudEvents Kafka protocol binding's
    /// mark of structured content mode).
    pub const CONTENT_TYPE: &str = "content-type";
    /// A CloudEvent in the JSON event format, as the record value.
    pub const STRUCTURED: &str = "application/cloudevents+json";
}

/// Where the broker stored an acknowledged record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivered {
    pub partition: i32,
    pub offset: i64,
}

/// The delivery report of one queued record: resolves once the broker
/// acknowledged it (all in-sync replicas) or librdkafka gave up on it.
#[must_use = "a record is only known to be stored once its delivery resolves"]
pub struct PendingDelivery {
    inner: DeliveryFuture,
}

impl Future for PendingDelivery {
    type Output = Result<Delivered>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.inner).poll(cx).map(|r| match r {
            Ok(Ok(d)) => Ok(Delivered { partition: d.partition, offset: d.offset }),
            Ok(Err((e, _message))) => Err(KafkaError::client("produce")(e)),
            // The producer was dropped (purged) before reporting.
            Err(_canceled) => Err(KafkaError::client("produce")(RdKafkaError::Canceled)),
        })
    }
}

/// librdkafka's logs and global errors, into `tracing`. Connection failures
/// are warnings, not errors: librdkafka reconnects by itself.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TracingContext;

impl ClientContext for TracingContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        log_librdkafka(level, fac, message);
    }

    fn error(&self, error: RdKafkaError, reason: &str) {
        log_client_error(&error, reason);
    }
}

pub(crate) fn log_librdkafka(level: RDKafkaLogLevel, fac: &str, message: &str) {
    match level {
        // A failed connection (facility FAIL) is retried by librdkafka: a warning.
        RDKafkaLogLevel::Error if fac == "FAIL" => warn!(target: "librdkafka", fac, "{message}"),
        RDKafkaLogLevel::Emerg | RDKafkaLogLevel::Alert | RDKafkaLogLevel::Critical | RDKafkaLogLevel::Error => {
            error!(target: "librdkafka", fac, "{message}");
        }
        RDKafkaLogLevel::Warning => warn!(target: "librdkafka", fac, "{message}"),
        RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
            info!(target: "librdkafka", fac, "{message}");
        }
        RDKafkaLogLevel::Debug => debug!(target: "librdkafka", fac, "{message}"),
    }
}

pub(crate) fn log_client_error(error: &RdKafkaError, reason: &str) {
    if error.rdkafka_error_code().is_some_and(is_transient_code) {
        // librdkafka has logged the failure itself (facility FAIL) and retries.
        debug!(target: "librdkafka", %error, reason, "kafka connection problem; retrying");
    } else {
        error!(target: "librdkafka", %error, reason, "kafka client error");
    }
}

type Inner = FutureProducer<TracingContext>;

/// An idempotent Kafka producer (`enable.idempotence=true`, `acks=all`): no
/// duplicates from its own retries, order kept per partition.
///
/// Records are queued with [`KafkaProducer::enqueue`] in call order; each comes
/// back with a [`PendingDelivery`]. Dropping the producer flushes what is still
/// queued for up to [`KafkaConfig::flush_timeout`] (librdkafka itself would purge
/// it); [`KafkaProducer::flush`] does the same without blocking the runtime.
pub struct KafkaProducer {
    inner: RwLock<Inner>,
    config: KafkaConfig,
}

impl std::fmt::Debug for KafkaProducer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaProducer").field("config", &self.config).finish_non_exhaustive()
    }
}

impl KafkaProducer {
    /// A producer for the brokers of `config`. Connects lazily.
    pub fn new(config: &KafkaConfig) -> Result<Self> {
        Ok(Self { inner: RwLock::new(create(config)?), config: config.clone() })
    }

    fn current(&self) -> Inner {
        self.inner.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Queues one record, in call order, and returns its delivery report. Waits
    /// while librdkafka's local queue is full. `headers` are sent as given, plus
    /// `ce_type` / `ce_id` read from the payload when it is a CloudEvent and they
    /// are not there already.
    pub async fn enqueue(
        &self,
        topic: &str,
        key: Option<&str>,
        payload: &[u8],
        headers: &[(String, String)],
    ) -> Result<PendingDelivery> {
        let headers = with_cloudevent_headers(payload, headers);
        let producer = self.current();
        let mut wait = Duration::from_millis(1);
        loop {
            let mut record = FutureRecord::<str, [u8]>::to(topic).payload(payload).headers(owned_headers(&headers));
            if let Some(key) = key {
                record = record.key(key);
            }
            match producer.send_result(record) {
                Ok(inner) => return Ok(PendingDelivery { inner }),
                Err((RdKafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_millis(100));
                }
                Err((e, _)) => {
                    self.recover_if_fatal();
                    return Err(KafkaError::client("produce")(e));
                }
            }
        }
    }

    /// Queues one record and waits for the broker's acknowledgement.
    pub async fn send(
        &self,
        topic: &str,
        key: Option<&str>,
        payload: &[u8],
        headers: &[(String, String)],
    ) -> Result<Delivered> {
        let result = self.enqueue(topic, key, payload, headers).await?.await;
        if result.is_err() {
            self.recover_if_fatal();
        }
        result
    }

    /// Replaces the producer after a fatal error (the idempotent producer can
    /// no longer guarantee its sequence): records not yet acknowledged are
    /// reported failed and must be sent again. Returns whether it did.
    pub fn recover_if_fatal(&self) -> bool {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        let Some((code, reason)) = inner.client().fatal_error() else {
            return false;
        };
        error!(%code, reason, "kafka producer hit a fatal error; replacing it");
        match create(&self.config) {
            Ok(fresh) => {
                *inner = fresh;
                true
            }
            Err(e) => {
                error!(error = %e, "replacing the kafka producer failed");
                false
            }
        }
    }

    /// Records queued or in flight (not yet acknowledged or failed).
    pub fn in_flight(&self) -> i32 {
        self.current().in_flight_count()
    }

    /// Waits (on a blocking thread) until every queued record was acknowledged
    /// or failed, at most `timeout`.
    pub async fn flush(&self, timeout: Duration) -> Result<()> {
        let producer = self.current();
        tokio::task::spawn_blocking(move || producer.flush(timeout))
            .await
            .map_err(|e| KafkaError::Internal(format!("flush task: {e}")))?
            .map_err(|e| match e.rdkafka_error_code() {
                Some(RDKafkaErrorCode::OperationTimedOut) => KafkaError::Timeout { op: "flush", timeout },
                _ => KafkaError::client("flush")(e),
            })
    }

    /// Fetches cluster metadata (on a blocking thread), at most `timeout`.
    pub(crate) async fn ping(&self, timeout: Duration) -> Result<()> {
        let producer = self.current();
        tokio::task::spawn_blocking(move || producer.client().fetch_metadata(None, timeout).map(|_| ()))
            .await
            .map_err(|e| KafkaError::Internal(format!("metadata task: {e}")))?
            .map_err(|e| match e.rdkafka_error_code() {
                Some(RDKafkaErrorCode::OperationTimedOut) => KafkaError::Timeout { op: "metadata", timeout },
                _ => KafkaError::client("metadata")(e),
            })
    }
}

impl Drop for KafkaProducer {
    fn drop(&mut self) {
        let inner = self.inner.get_mut().unwrap_or_else(|e| e.into_inner());
        let queued = inner.in_flight_count();
        if queued == 0 {
            return;
        }
        let timeout = self.config.flush_timeout;
        debug!(queued, "flushing the kafka producer before dropping it");
        if let Err(e) = crate::run_blocking(|| inner.flush(timeout)) {
            error!(error = %e, lost = inner.in_flight_count(), "kafka producer dropped with records not acknowledged");
        }
    }
}

fn create(config: &KafkaConfig) -> Result<Inner> {
    config.producer_config().create_with_context(TracingContext).map_err(KafkaError::creating("create producer"))
}

fn owned_headers(headers: &[(String, String)]) -> OwnedHeaders {
    headers.iter().fold(OwnedHeaders::new_with_capacity(headers.len()), |h, (k, v)| {
        h.insert(Header { key: k.as_str(), value: Some(v.as_bytes()) })
    })
}

/// `headers`, plus `ce_type`, `ce_id` and `content-type:
/// application/cloudevents+json` (structured content mode, as the CloudEvents
/// Kafka protocol binding marks it) when `payload` is a CloudEvent and they are
/// missing. Records that already carry `ce_type` and `ce_id` (the outbox's) are
/// taken for CloudEvents without parsing.
pub fn with_cloudevent_headers(payload: &[u8], headers: &[(String, String)]) -> Vec<(String, String)> {
    let has = |name: &str| headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
    let mut out = headers.to_vec();
    if has(headers::CE_TYPE) && has(headers::CE_ID) {
        if !has(headers::CONTENT_TYPE) {
            out.push((headers::CONTENT_TYPE.to_owned(), headers::STRUCTURED.to_owned()));
        }
        return out;
    }
    if let Ok(ev) = CloudEvent::from_json_bytes(payload) {
        if !has(headers::CE_TYPE) {
            out.push((headers::CE_TYPE.to_owned(), ev.ty));
        }
        if !has(headers::CE_ID) {
            out.push((headers::CE_ID.to_owned(), ev.id.to_string()));
        }
        if !has(headers::CONTENT_TYPE) {
            out.push((headers::CONTENT_TYPE.to_owned(), headers::STRUCTURED.to_owned()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use todo_core::domain::UserId;
    use todo_core::events::EventType;

    use super::*;

    fn event() -> CloudEvent {
        CloudEvent::new("/t", EventType::TaskChanged, None, chrono::Utc::now(), UserId::new(), serde_json::json!({}))
    }

    #[test]
    fn cloudevent_headers_are_added() {
        let ev = event();
        let h = with_cloudevent_headers(&ev.to_json_bytes(), &[("x".into(), "1".into())]);
        assert_eq!(
            h,
            vec![
                ("x".to_owned(), "1".to_owned()),
                ("ce_type".to_owned(), "todo.task.changed.v1".to_owned()),
                ("ce_id".to_owned(), ev.id.to_string()),
                ("content-type".to_owned(), "application/cloudevents+json".to_owned()),
            ]
        );
        let outbox = [("ce_type".to_owned(), "t".to_owned()), ("ce_id".to_owned(), "i".to_owned())];
        let h = with_cloudevent_headers(b"not parsed", &outbox);
        assert_eq!(h[2], ("content-type".to_owned(), "application/cloudevents+json".to_owned()));
    }

    #[test]
    fn existing_headers_win_and_other_payloads_get_none() {
        let ev = event();
        let given = vec![("ce_type".to_owned(), "custom".to_owned())];
        let h = with_cloudevent_headers(&ev.to_json_bytes(), &given);
        assert_eq!(h[0], ("ce_type".to_owned(), "custom".to_owned()));
        assert_eq!(h[1], ("ce_id".to_owned(), ev.id.to_string()));
        assert_eq!(h[2].0, "content-type");
        assert_eq!(h.len(), 3);
        assert!(with_cloudevent_headers(b"{not json", &[]).is_empty());
    }
}
