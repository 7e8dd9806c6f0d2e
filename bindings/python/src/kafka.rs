//! Kafka: `Publisher`, `Consumer`, `Record` and `ensure_topics`, on
//! [`todo_kafka::KafkaEventLog`] (idempotent producer, at-least-once consumer).
//!
//! Topic names given to these classes are base names under the `topic_prefix`
//! (`"task-events"`, or a `Topic`); `Record.topic` is the physical name.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use todo_core::events::Topic;
use todo_core::ports::{EventLog, Record, StartFrom, Subscription};
use todo_kafka::{KafkaConfig, KafkaEventLog, KafkaSubscription};

use crate::error::{Error, Result};
use crate::events::{JsonText, PyCloudEvent, PyTopic, validate};
use crate::runtime::{block_on, runtime};

/// How long one wait inside `Consumer.poll` lasts before Python gets a chance
/// to raise `KeyboardInterrupt`.
const POLL_SLICE: Duration = Duration::from_millis(200);

/// A topic given as a `Topic` or as a base name.
#[derive(FromPyObject)]
pub enum TopicArg {
    Catalog(PyTopic),
    Name(String),
}

impl TopicArg {
    /// The physical name under `prefix`.
    fn physical(&self, prefix: &str) -> String {
        match self {
            TopicArg::Catalog(t) => format!("{prefix}{}", Topic::from(*t).as_str()),
            TopicArg::Name(n) => format!("{prefix}{n}"),
        }
    }
}

/// A librdkafka configuration for `bootstrap_servers` and `topic_prefix`: the
/// `KAFKA_*` environment variables the services read (client id, timeouts, and
/// `KAFKA_PROPERTIES` with TLS and SASL settings) under our defaults, then the
/// extra `properties` given here, which win.
fn config(
    bootstrap_servers: &str,
    topic_prefix: &str,
    properties: Option<HashMap<String, String>>,
) -> Result<KafkaConfig> {
    let from_env = KafkaConfig::from_env()?;
    let base = KafkaConfig {
        bootstrap_servers: bootstrap_servers.to_owned(),
        topic_prefix: topic_prefix.to_owned(),
        ..from_env
    };
    Ok(properties.into_iter().flatten().fold(base, |c, (k, v)| c.with_property(k, v)))
}

/// A timeout in seconds as a `Duration`.
fn seconds(timeout: f64, field: &'static str) -> Result<Duration> {
    Duration::try_from_secs_f64(timeout)
        .map_err(|_| Error::invalid(field, format!("{field} must be a non-negative number of seconds; got {timeout}")))
}

/// Creates the catalog topics and their dead-letter topics (`task-events`,
/// `task-events.dlq`, ...) under `topic_prefix` unless they exist, and waits
/// until every partition has a leader. Returns the physical names. Raises
/// `KafkaError`.
#[pyfunction]
#[pyo3(signature = (bootstrap_servers, topic_prefix = "", *, partitions = 6, replication_factor = 1, properties = None))]
pub fn ensure_topics(
    py: Python<'_>,
    bootstrap_servers: &str,
    topic_prefix: &str,
    partitions: i32,
    replication_factor: i32,
    properties: Option<HashMap<String, String>>,
) -> PyResult<Vec<String>> {
    let mut config = config(bootstrap_servers, topic_prefix, properties)?.with_partitions(partitions);
    config.replication_factor = replication_factor;
    Ok(block_on(py, todo_kafka::ensure_topics(&config))?.map_err(Error::from)?)
}

/// Publishes events to Kafka with the idempotent producer (`acks=all`): each
/// call returns once the broker has stored the record.
///
/// Record key = the event's `userid` (per-user order); `ce_type` and `ce_id`
/// headers are added. Use as a context manager, or call `close()`, so queued
/// records are flushed.
#[pyclass(name = "Publisher", module = "todo_events", frozen)]
pub struct PyPublisher {
    log: Mutex<Option<KafkaEventLog>>,
}

impl From<KafkaEventLog> for PyPublisher {
    fn from(log: KafkaEventLog) -> Self {
        Self { log: Mutex::new(Some(log)) }
    }
}

impl PyPublisher {
    /// The open log (a cheap clone), or `Closed`.
    fn log(&self) -> Result<KafkaEventLog> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone().ok_or(Error::Closed("publisher"))
    }
}

#[pymethods]
impl PyPublisher {
    /// A publisher for the brokers `bootstrap_servers` (`host:port[,...]`),
    /// writing to topics under `topic_prefix`. `properties` are extra
    /// librdkafka settings (e.g. `security.protocol`). Connects lazily: see `ping()`.
    #[new]
    #[pyo3(signature = (bootstrap_servers, topic_prefix = "", *, properties = None))]
    fn py_new(
        bootstrap_servers: &str,
        topic_prefix: &str,
        properties: Option<HashMap<String, String>>,
    ) -> Result<Self> {
        Ok(KafkaEventLog::new(config(bootstrap_servers, topic_prefix, properties)?)?.into())
    }

    /// The topic prefix.
    #[getter]
    fn topic_prefix(&self) -> Result<String> {
        Ok(self.log()?.config().topic_prefix.clone())
    }

    /// Publishes `event` after checking it completely (`CloudEvent.validate()`)
    /// to `topic` (a `Topic` or base name under the prefix; default: the topic
    /// of the event's type), keyed by its `userid`. Returns `(partition, offset)`.
    /// Raises `EventError` for an invalid event and `KafkaError`.
    #[pyo3(signature = (event, topic = None))]
    fn publish(&self, py: Python<'_>, event: &PyCloudEvent, topic: Option<TopicArg>) -> PyResult<(i32, i64)> {
        let log = self.log()?;
        let event = event.inner();
        validate(event)?;
        let topic = match topic {
            Some(t) => t.physical(&log.config().topic_prefix),
            None => log.topic_names().name(event.event_type().map_err(Error::from)?.topic()),
        };
        let key = event.userid.to_string();
        let payload = event.to_json_bytes();
        let delivered = block_on(py, log.producer().send(&topic, Some(&key), &payload, &[]))?.map_err(Error::from)?;
        Ok((delivered.partition, delivered.offset))
    }

    /// Publishes any record: `payload` (`bytes` or `str`) with `key` and
    /// `headers` to `topic` (a `Topic` or base name under the prefix). When the
    /// payload is a CloudEvent, `ce_type` / `ce_id` headers are added if missing.
    /// Returns `(partition, offset)`. Raises `KafkaError`.
    #[pyo3(signature = (topic, key, payload, headers = None))]
    fn publish_raw(
        &self,
        py: Python<'_>,
        topic: TopicArg,
        key: Option<String>,
        payload: JsonText,
        headers: Option<HashMap<String, String>>,
    ) -> PyResult<(i32, i64)> {
        let log = self.log()?;
        let topic = topic.physical(&log.config().topic_prefix);
        let payload = payload.bytes();
        let mut headers: Vec<(String, String)> = headers.into_iter().flatten().collect();
        headers.sort();
        let delivered =
            block_on(py, log.producer().send(&topic, key.as_deref(), payload, &headers))?.map_err(Error::from)?;
        Ok((delivered.partition, delivered.offset))
    }

    /// Waits until every queued record is acknowledged or failed, at most
    /// `timeout` seconds (default: 30). Raises `KafkaError` on timeout.
    #[pyo3(signature = (timeout = None))]
    fn flush(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<()> {
        let log = self.log()?;
        let timeout = match timeout {
            Some(t) => seconds(t, "timeout")?,
            None => log.config().flush_timeout,
        };
        Ok(block_on(py, log.producer().flush(timeout))?.map_err(Error::from)?)
    }

    /// Checks that the cluster answers a metadata request (within 5 s).
    /// Raises `KafkaError`.
    fn ping(&self, py: Python<'_>) -> PyResult<()> {
        let log = self.log()?;
        Ok(block_on(py, async { log.ping().await })?.map_err(Error::from)?)
    }

    /// Flushes and closes the producer. Further calls raise `TodoEventsError`.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let taken = self.log.lock().unwrap_or_else(|e| e.into_inner()).take();
        match taken {
            Some(log) => Ok(block_on(py, async move { log.flush().await })?.map_err(Error::from)?),
            None => Ok(()),
        }
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        match self.log.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            Some(log) => format!(
                "Publisher(bootstrap_servers={:?}, topic_prefix={:?})",
                log.config().bootstrap_servers,
                log.config().topic_prefix
            ),
            None => "Publisher(closed)".to_owned(),
        }
    }
}

/// One record read from Kafka, as delivered (possibly more than once).
#[pyclass(name = "Record", module = "todo_events", frozen, skip_from_py_object)]
#[derive(Clone, Debug)]
pub struct PyRecord {
    inner: Record,
}

impl From<Record> for PyRecord {
    fn from(inner: Record) -> Self {
        Self { inner }
    }
}

impl From<PyRecord> for Record {
    fn from(r: PyRecord) -> Self {
        r.inner
    }
}

#[pymethods]
impl PyRecord {
    /// The physical topic name (with the prefix).
    #[getter]
    fn topic(&self) -> &str {
        &self.inner.topic
    }

    /// The partition.
    #[getter]
    fn partition(&self) -> i32 {
        self.inner.partition
    }

    /// The offset within the partition.
    #[getter]
    fn offset(&self) -> i64 {
        self.inner.offset
    }

    /// The record key (the user id for our events), if any.
    #[getter]
    fn key(&self) -> Option<&str> {
        self.inner.key.as_deref()
    }

    /// The payload bytes.
    #[getter]
    fn payload<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.payload)
    }

    /// The headers (a fresh dict; for a repeated name the last value wins).
    #[getter]
    fn headers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (k, v) in &self.inner.headers {
            dict.set_item(k, v)?;
        }
        Ok(dict)
    }

    /// The first value of header `name`, if present.
    fn header(&self, name: &str) -> Option<&str> {
        self.inner.header(name)
    }

    /// The payload as a `CloudEvent` (envelope checked). Raises `EventError`.
    fn event(&self) -> Result<PyCloudEvent> {
        Ok(todo_core::events::CloudEvent::from_json_bytes(&self.inner.payload)?.into())
    }

    fn __repr__(&self) -> String {
        format!(
            "Record(topic={:?}, partition={}, offset={}, key={:?}, payload=<{} bytes>)",
            self.inner.topic,
            self.inner.partition,
            self.inner.offset,
            self.inner.key,
            self.inner.payload.len()
        )
    }
}

/// A member of a Kafka consumer group, at least once: a record's offset is
/// committed only after `commit(record)` (call it once the record's effect is
/// durable); uncommitted records come again after a restart or rebalance.
///
/// Use as a context manager, or call `close()`, to commit and leave the group
/// at once (otherwise the group waits for the session timeout).
#[pyclass(name = "Consumer", module = "todo_events", frozen)]
pub struct PyConsumer {
    sub: Mutex<Option<KafkaSubscription>>,
    group: String,
    topics: Vec<String>,
}

impl PyConsumer {
    /// Runs `f` on the open subscription, or fails with `Closed`.
    fn with_sub<T>(&self, f: impl FnOnce(&mut KafkaSubscription) -> T) -> Result<T> {
        let mut guard = self.sub.lock().unwrap_or_else(|e| e.into_inner());
        guard.as_mut().map(f).ok_or(Error::Closed("consumer"))
    }
}

#[pymethods]
impl PyConsumer {
    /// Joins consumer group `group` on `topics` (each a `Topic` or a base name
    /// under `topic_prefix`). A new group starts at the oldest record when
    /// `from_beginning`, else at records published after it joined; a group
    /// with committed offsets resumes after them. `properties` are extra
    /// librdkafka settings. Raises `KafkaError`.
    #[new]
    #[pyo3(signature = (bootstrap_servers, group, topics, from_beginning = true, topic_prefix = "", *, properties = None))]
    fn py_new(
        py: Python<'_>,
        bootstrap_servers: &str,
        group: String,
        topics: Vec<TopicArg>,
        from_beginning: bool,
        topic_prefix: &str,
        properties: Option<HashMap<String, String>>,
    ) -> PyResult<Self> {
        let config = config(bootstrap_servers, topic_prefix, properties)?;
        let topics: Vec<String> = topics.iter().map(|t| t.physical(topic_prefix)).collect();
        let start = if from_beginning { StartFrom::Earliest } else { StartFrom::Latest };
        // The stream consumer registers with the runtime it is created on.
        let sub = block_on(py, async {
            let log = KafkaEventLog::new(config)?;
            log.subscribe_kafka(&group, &topics, start)
        })?
        .map_err(Error::from)?;
        Ok(Self { sub: Mutex::new(Some(sub)), group, topics })
    }

    /// The consumer group.
    #[getter]
    fn group(&self) -> &str {
        &self.group
    }

    /// The physical topic names subscribed to.
    #[getter]
    fn topics(&self) -> Vec<String> {
        self.topics.clone()
    }

    /// The next record, waiting at most `timeout` seconds (`None`: until one
    /// comes); `None` when none came in time. The GIL is released while
    /// waiting and Ctrl-C interrupts the wait. Raises `KafkaError` on a
    /// consumer error (e.g. a subscribed topic does not exist); the consumer
    /// stays usable.
    #[pyo3(signature = (timeout = None))]
    fn poll(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<PyRecord>> {
        let rt = runtime()?;
        let deadline = timeout.map(|t| seconds(t, "timeout")).transpose()?.map(|t| std::time::Instant::now() + t);
        loop {
            let slice =
                deadline.map_or(POLL_SLICE, |d| d.saturating_duration_since(std::time::Instant::now()).min(POLL_SLICE));
            // `next()` is cancel-safe: a wait cut short by the timeout loses no record.
            let got = py.detach(|| {
                self.with_sub(|sub| rt.block_on(async { tokio::time::timeout(slice, sub.next()).await.ok() }))
            })?;
            match got {
                Some(Ok(record)) => return Ok(Some(record.into())),
                Some(Err(e)) => return Err(Error::from(e).into()),
                None => {}
            }
            py.check_signals()?;
            if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                return Ok(None);
            }
        }
    }

    /// Marks `record` (and everything before it in its partition) as processed
    /// by the group; committed within a second and on `close()`. Call it only
    /// after the record's effect is durable.
    fn commit(&self, py: Python<'_>, record: &PyRecord) -> PyResult<()> {
        let rt = runtime()?;
        let record = &record.inner;
        py.detach(|| self.with_sub(|sub| rt.block_on(sub.commit(record))))?.map_err(Error::from)?;
        Ok(())
    }

    /// Commits what was marked and leaves the group (its partitions go to the
    /// other members at once). Idempotent.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let taken = self.sub.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(sub) = taken {
            block_on(py, sub.close())?.map_err(Error::from)?;
        }
        Ok(())
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        let open = self.sub.lock().unwrap_or_else(|e| e.into_inner()).is_some();
        format!("Consumer(group={:?}, topics={:?}{})", self.group, self.topics, if open { "" } else { ", closed" })
    }
}
