//! The error type of this crate, and how it maps onto [`todo_core::Error`].

use std::time::Duration;

use rdkafka::error::{KafkaError as RdKafkaError, RDKafkaErrorCode};

/// `Result` with this crate's [`KafkaError`].
pub type Result<T, E = KafkaError> = std::result::Result<T, E>;

/// What went wrong talking to Kafka.
#[derive(Debug, thiserror::Error)]
pub enum KafkaError {
    /// A configuration value is missing or does not parse.
    #[error("invalid kafka configuration: {0}")]
    Config(String),
    /// librdkafka reported an error while doing `op`.
    #[error("kafka {op} failed: {source}")]
    Client {
        /// What we were doing, e.g. `produce`, `create consumer`.
        op: &'static str,
        #[source]
        source: RdKafkaError,
    },
    /// `op` did not finish within `timeout`.
    #[error("kafka {op} timed out after {timeout:?}")]
    Timeout { op: &'static str, timeout: Duration },
    /// The broker refused to create a topic.
    #[error("creating topic {topic} failed: {code}")]
    CreateTopic { topic: String, code: RDKafkaErrorCode },
    /// The source event log of the outbox relay failed.
    #[error("outbox relay source: {0}")]
    Source(#[source] todo_core::Error),
    /// A bug or a broken invariant (e.g. a background task panicked).
    #[error("internal error: {0}")]
    Internal(String),
}

impl KafkaError {
    /// Wraps a librdkafka error raised while doing `op`.
    pub(crate) fn client(op: &'static str) -> impl FnOnce(RdKafkaError) -> KafkaError {
        move |source| KafkaError::Client { op, source }
    }

    /// Wraps an error raised while creating a client, without echoing the value
    /// of a rejected property when it may be a secret.
    pub(crate) fn creating(op: &'static str) -> impl FnOnce(RdKafkaError) -> KafkaError {
        move |source| match source {
            RdKafkaError::ClientConfig(_, desc, key, _value) => {
                let why = if crate::config::is_secret(&key) { "invalid value (not shown)".to_owned() } else { desc };
                KafkaError::Config(format!("{key}: {why}"))
            }
            source => KafkaError::Client { op, source },
        }
    }

    /// The librdkafka error code, if there is one.
    pub fn code(&self) -> Option<RDKafkaErrorCode> {
        match self {
            KafkaError::Client { source, .. } => source.rdkafka_error_code(),
            KafkaError::CreateTopic { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Whether retrying later may succeed: the broker is unreachable, slow, or
    /// moving leadership around. Such errors become [`todo_core::Error::Unavailable`].
    pub fn is_transient(&self) -> bool {
        match self {
            KafkaError::Timeout { .. } => true,
            KafkaError::Source(e) => e.is_transient(),
            KafkaError::Client { source: RdKafkaError::Canceled, .. } => true,
            _ => self.code().is_some_and(is_transient_code),
        }
    }
}

/// Error codes that mean "the cluster cannot be reached or is not ready", as
/// opposed to "this request is wrong".
pub(crate) fn is_transient_code(code: RDKafkaErrorCode) -> bool {
    use RDKafkaErrorCode as C;
    matches!(
        code,
        C::BrokerTransportFailure
            | C::AllBrokersDown
            | C::Resolve
            | C::OperationTimedOut
            | C::TimedOutQueue
            | C::MessageTimedOut
            | C::RequestTimedOut
            | C::QueueFull
            | C::WaitingForCoordinator
            | C::NetworkException
            | C::LeaderNotAvailable
            | C::NotLeaderForPartition
            | C::CoordinatorNotAvailable
            | C::NotCoordinator
            | C::CoordinatorLoadInProgress
            | C::NotEnoughReplicas
            | C::NotEnoughReplicasAfterAppend
            | C::NotController
            | C::BrokerNotAvailable
            | C::ReplicaNotAvailable
            | C::RebalanceInProgress
            | C::KafkaStorageError
            | C::FencedLeaderEpoch
            | C::UnknownLeaderEpoch
            | C::OffsetNotAvailable
            | C::PreferredLeaderNotAvailable
            | C::ThrottlingQuotaExceeded
    )
}

impl From<KafkaError> for todo_core::Error {
    fn from(e: KafkaError) -> Self {
        match e {
            KafkaError::Source(inner) => inner,
            e if e.is_transient() => todo_core::Error::Unavailable(e.to_string()),
            e => todo_core::Error::Internal(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreachable_broker_is_unavailable() {
        let e = KafkaError::client("produce")(RdKafkaError::MessageProduction(RDKafkaErrorCode::MessageTimedOut));
        assert!(e.is_transient());
        assert!(matches!(todo_core::Error::from(e), todo_core::Error::Unavailable(_)));
        let e = KafkaError::Timeout { op: "ping", timeout: Duration::from_secs(1) };
        assert!(matches!(todo_core::Error::from(e), todo_core::Error::Unavailable(_)));
        let e = KafkaError::client("metadata")(RdKafkaError::MetadataFetch(RDKafkaErrorCode::AllBrokersDown));
        assert!(matches!(todo_core::Error::from(e), todo_core::Error::Unavailable(_)));
    }

    #[test]
    fn a_wrong_request_is_internal() {
        let e = KafkaError::client("produce")(RdKafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge));
        assert!(!e.is_transient());
        assert!(matches!(todo_core::Error::from(e), todo_core::Error::Internal(_)));
        let e = KafkaError::Config("KAFKA_PARTITIONS: not a number".into());
        assert!(matches!(todo_core::Error::from(e), todo_core::Error::Internal(_)));
    }

    #[test]
    fn source_errors_pass_through() {
        let e = KafkaError::Source(todo_core::Error::Unavailable("db down".into()));
        assert!(e.is_transient());
        assert!(matches!(todo_core::Error::from(e), todo_core::Error::Unavailable(m) if m == "db down"));
    }
}
