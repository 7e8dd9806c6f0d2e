//! Configuration of the Kafka adapters: environment variables with documented
//! defaults (12-factor), and the librdkafka client configurations built from them.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use rdkafka::ClientConfig;
use todo_core::events::TopicNames;
use todo_core::ports::StartFrom;
use tracing::warn;

use crate::error::{KafkaError, Result};

/// Environment variable names read by [`KafkaConfig::from_env`].
pub mod env {
    pub const BOOTSTRAP_SERVERS: &str = "KAFKA_BOOTSTRAP_SERVERS";
    pub const TOPIC_PREFIX: &str = "KAFKA_TOPIC_PREFIX";
    pub const PARTITIONS: &str = "KAFKA_PARTITIONS";
    pub const REPLICATION_FACTOR: &str = "KAFKA_REPLICATION_FACTOR";
    pub const CLIENT_ID: &str = "KAFKA_CLIENT_ID";
    pub const SESSION_TIMEOUT_MS: &str = "KAFKA_SESSION_TIMEOUT_MS";
    pub const REQUEST_TIMEOUT_MS: &str = "KAFKA_REQUEST_TIMEOUT_MS";
    pub const FLUSH_TIMEOUT_MS: &str = "KAFKA_FLUSH_TIMEOUT_MS";
    pub const PROPERTIES: &str = "KAFKA_PROPERTIES";
}

/// How to reach Kafka and how to lay out and use its topics.
///
/// Every field has a default ([`KafkaConfig::default`]) and an environment
/// variable ([`KafkaConfig::from_env`]). `Debug` never prints the values of
/// secret-looking librdkafka properties (passwords, keys, tokens, JAAS configs).
#[derive(Clone, PartialEq, Eq)]
pub struct KafkaConfig {
    /// Brokers to bootstrap from, `host:port[,host:port...]`.
    /// Env `KAFKA_BOOTSTRAP_SERVERS`; default `localhost:9092`.
    pub bootstrap_servers: String,
    /// Prefix of every topic name (`<prefix>task-events`, ...), to share a cluster
    /// between environments or tests. Env `KAFKA_TOPIC_PREFIX`; default empty.
    pub topic_prefix: String,
    /// Partitions of the topics [`crate::ensure_topics`] creates. More partitions,
    /// more consumers of one group can work in parallel; order holds per key (user).
    /// Env `KAFKA_PARTITIONS`; default 6.
    pub partitions: i32,
    /// Replication factor of the topics [`crate::ensure_topics`] creates (3 in a
    /// production cluster). Env `KAFKA_REPLICATION_FACTOR`; default 1.
    pub replication_factor: i32,
    /// `client.id` of every client, shown in broker logs and quotas.
    /// Env `KAFKA_CLIENT_ID`; default `todo-events`.
    pub client_id: String,
    /// Consumer `session.timeout.ms`: how long the group waits for a silent member
    /// before giving its partitions to others (a crashed consumer's records wait
    /// this long). Env `KAFKA_SESSION_TIMEOUT_MS`; default 10000 (10 s).
    pub session_timeout: Duration,
    /// Timeout of metadata requests ([`crate::KafkaEventLog`]'s `ping`), topic
    /// administration and each wait for metadata. Env `KAFKA_REQUEST_TIMEOUT_MS`;
    /// default 5000 (5 s).
    pub request_timeout: Duration,
    /// How long closing a producer waits for records still queued to be
    /// acknowledged (dropping one without flushing would lose them).
    /// Env `KAFKA_FLUSH_TIMEOUT_MS`; default 30000 (30 s).
    pub flush_timeout: Duration,
    /// Extra librdkafka properties for every client (producer, consumer, admin),
    /// e.g. `security.protocol`, `sasl.mechanism`, `compression.type`.
    /// Env `KAFKA_PROPERTIES`: `key=value` pairs separated by `;` or newlines;
    /// default none. They override this crate's tuning defaults
    /// (`linger.ms`, `message.timeout.ms`, `auto.commit.interval.ms`,
    /// `statistics.interval.ms`, `reconnect.backoff.max.ms`, ...) but
    /// not the settings the delivery guarantees rest on (`enable.idempotence`,
    /// `acks`, `enable.auto.offset.store`, `enable.auto.commit`, `group.id`,
    /// `auto.offset.reset`), which are always ours.
    pub properties: BTreeMap<String, String>,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        Self {
            bootstrap_servers: "localhost:9092".to_owned(),
            topic_prefix: String::new(),
            partitions: 6,
            replication_factor: 1,
            client_id: "todo-events".to_owned(),
            session_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(5),
            flush_timeout: Duration::from_secs(30),
            properties: BTreeMap::new(),
        }
    }
}

impl fmt::Debug for KafkaConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let properties: BTreeMap<&str, &str> = self
            .properties
            .iter()
            .map(|(k, v)| (k.as_str(), if is_secret(k) { "<redacted>" } else { v.as_str() }))
            .collect();
        f.debug_struct("KafkaConfig")
            .field("bootstrap_servers", &self.bootstrap_servers)
            .field("topic_prefix", &self.topic_prefix)
            .field("partitions", &self.partitions)
            .field("replication_factor", &self.replication_factor)
            .field("client_id", &self.client_id)
            .field("session_timeout", &self.session_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("flush_timeout", &self.flush_timeout)
            .field("properties", &properties)
            .finish()
    }
}

/// Whether a librdkafka property holds a secret (never logged or printed).
pub(crate) fn is_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["password", "secret", "key", "token", "jaas", "credential"].iter().any(|s| key.contains(s))
}

/// Properties the guarantees rest on: always set by this crate.
const FORCED: [&str; 6] =
    ["enable.idempotence", "acks", "enable.auto.offset.store", "enable.auto.commit", "group.id", "auto.offset.reset"];

impl KafkaConfig {
    /// A default configuration for the brokers at `bootstrap_servers`.
    pub fn new(bootstrap_servers: impl Into<String>) -> Self {
        Self { bootstrap_servers: bootstrap_servers.into(), ..Self::default() }
    }

    /// Reads the `KAFKA_*` environment variables (see each field), defaults for
    /// those unset.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`KafkaConfig::from_env`], reading variables through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let mut c = Self::default();
        if let Some(v) = get(env::BOOTSTRAP_SERVERS) {
            c.bootstrap_servers = v;
        }
        if let Some(v) = lookup(env::TOPIC_PREFIX) {
            c.topic_prefix = v.trim().to_owned();
        }
        if let Some(v) = get(env::PARTITIONS) {
            c.partitions = positive(env::PARTITIONS, &v)?;
        }
        if let Some(v) = get(env::REPLICATION_FACTOR) {
            c.replication_factor = positive(env::REPLICATION_FACTOR, &v)?;
        }
        if let Some(v) = get(env::CLIENT_ID) {
            c.client_id = v;
        }
        if let Some(v) = get(env::SESSION_TIMEOUT_MS) {
            c.session_timeout = millis(env::SESSION_TIMEOUT_MS, &v)?;
        }
        if let Some(v) = get(env::REQUEST_TIMEOUT_MS) {
            c.request_timeout = millis(env::REQUEST_TIMEOUT_MS, &v)?;
        }
        if let Some(v) = get(env::FLUSH_TIMEOUT_MS) {
            c.flush_timeout = millis(env::FLUSH_TIMEOUT_MS, &v)?;
        }
        if let Some(v) = get(env::PROPERTIES) {
            c.properties = parse_properties(&v)?;
        }
        Ok(c)
    }

    /// This configuration with `prefix` as topic prefix.
    pub fn with_topic_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.topic_prefix = prefix.into();
        self
    }

    /// This configuration with `partitions` partitions for new topics.
    pub fn with_partitions(mut self, partitions: i32) -> Self {
        self.partitions = partitions;
        self
    }

    /// This configuration with consumer `session.timeout.ms` = `timeout`.
    pub fn with_session_timeout(mut self, timeout: Duration) -> Self {
        self.session_timeout = timeout;
        self
    }

    /// This configuration with the extra librdkafka property `key` = `value`.
    pub fn with_property(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.properties.insert(key.into(), value.into());
        self
    }

    /// The physical topic names under [`KafkaConfig::topic_prefix`].
    pub fn topic_names(&self) -> TopicNames {
        TopicNames::new(self.topic_prefix.clone())
    }

    /// Settings shared by every client, then the extra properties.
    fn client_config(&self, defaults: &[(&str, String)]) -> ClientConfig {
        let mut cfg = ClientConfig::new();
        cfg.set("bootstrap.servers", &self.bootstrap_servers).set("client.id", &self.client_id);
        for (k, v) in defaults {
            cfg.set(*k, v);
        }
        for (k, v) in &self.properties {
            if FORCED.contains(&k.as_str()) {
                warn!(property = %k, "ignoring a kafka property the delivery guarantees depend on");
                continue;
            }
            cfg.set(k, v);
        }
        cfg
    }

    /// The idempotent producer: `enable.idempotence=true` (which brings `acks=all`,
    /// unbounded retries and ordered delivery per partition), keys hashed like the
    /// Java client does so every client puts a user on the same partition.
    pub(crate) fn producer_config(&self) -> ClientConfig {
        let mut cfg = self.client_config(&[
            ("partitioner", "murmur2_random".to_owned()),
            ("linger.ms", "5".to_owned()),
            // A record not acknowledged within a minute fails (librdkafka: 5 min),
            // so `append` callers hear of an outage; the relay produces it again.
            ("message.timeout.ms", "60000".to_owned()),
            ("reconnect.backoff.max.ms", "1000".to_owned()),
        ]);
        cfg.set("enable.idempotence", "true").set("acks", "all");
        cfg
    }

    /// An at-least-once consumer in `group`: the application stores an offset only
    /// after the record's effect is durable; librdkafka commits stored offsets
    /// every second and when the consumer closes.
    pub(crate) fn consumer_config(&self, group: &str, start: StartFrom) -> ClientConfig {
        let session_ms = self.session_timeout.as_millis().max(1);
        let heartbeat_ms = (session_ms / 3).clamp(1, 3000);
        let mut cfg = self.client_config(&[
            ("session.timeout.ms", session_ms.to_string()),
            ("heartbeat.interval.ms", heartbeat_ms.to_string()),
            ("auto.commit.interval.ms", "1000".to_owned()),
            ("statistics.interval.ms", "5000".to_owned()),
            ("reconnect.backoff.max.ms", "1000".to_owned()),
        ]);
        cfg.set("group.id", group).set("enable.auto.commit", "true").set("enable.auto.offset.store", "false").set(
            "auto.offset.reset",
            match start {
                StartFrom::Earliest => "earliest",
                StartFrom::Latest => "latest",
            },
        );
        cfg
    }

    /// The admin client of [`crate::ensure_topics`].
    pub(crate) fn admin_config(&self) -> ClientConfig {
        self.client_config(&[])
    }

    /// A consumer that reads partitions it is assigned, in no consumer group's
    /// name: it never joins a group nor commits (resuming live updates).
    pub(crate) fn reader_config(&self) -> ClientConfig {
        let mut cfg = self
            .client_config(&[("reconnect.backoff.max.ms", "1000".to_owned()), ("fetch.wait.max.ms", "100".to_owned())]);
        cfg.set("group.id", "todo-events-partition-reader")
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest");
        cfg
    }
}

fn positive(name: &str, v: &str) -> Result<i32> {
    v.parse::<i32>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| KafkaError::Config(format!("{name}={v:?}: expected a positive integer")))
}

fn millis(name: &str, v: &str) -> Result<Duration> {
    v.parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .map(Duration::from_millis)
        .ok_or_else(|| KafkaError::Config(format!("{name}={v:?}: expected a positive number of milliseconds")))
}

/// `key=value` pairs separated by `;` or newlines; blank entries and `#` comments skipped.
fn parse_properties(s: &str) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let entries = s.split([';', '\n']).map(str::trim).filter(|e| !e.is_empty() && !e.starts_with('#'));
    for (i, entry) in entries.enumerate() {
        // The entry itself is not echoed: it may hold a secret.
        let (k, v) = entry
            .split_once('=')
            .ok_or_else(|| KafkaError::Config(format!("{}: entry {} is not key=value", env::PROPERTIES, i + 1)))?;
        out.insert(k.trim().to_owned(), v.trim().to_owned());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn from(vars: &[(&str, &str)]) -> Result<KafkaConfig> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        KafkaConfig::from_lookup(|k| vars.get(k).cloned())
    }

    #[test]
    fn defaults_when_nothing_is_set() {
        let c = from(&[]).unwrap();
        assert_eq!(c, KafkaConfig::default());
        assert_eq!(c.bootstrap_servers, "localhost:9092");
        assert_eq!(c.topic_prefix, "");
        assert_eq!(c.partitions, 6);
        assert_eq!(c.replication_factor, 1);
        assert_eq!(c.client_id, "todo-events");
        assert_eq!(c.session_timeout, Duration::from_secs(10));
    }

    #[test]
    fn reads_every_variable() {
        let c = from(&[
            ("KAFKA_BOOTSTRAP_SERVERS", "b1:9092,b2:9092"),
            ("KAFKA_TOPIC_PREFIX", "staging."),
            ("KAFKA_PARTITIONS", "12"),
            ("KAFKA_REPLICATION_FACTOR", "3"),
            ("KAFKA_CLIENT_ID", "chat-api"),
            ("KAFKA_SESSION_TIMEOUT_MS", "6000"),
            ("KAFKA_REQUEST_TIMEOUT_MS", "2000"),
            ("KAFKA_FLUSH_TIMEOUT_MS", "1000"),
            ("KAFKA_PROPERTIES", "security.protocol=SASL_SSL; sasl.password = hunter2\ncompression.type=lz4;"),
        ])
        .unwrap();
        assert_eq!(c.bootstrap_servers, "b1:9092,b2:9092");
        assert_eq!(c.topic_names().name(todo_core::events::Topic::TaskEvents), "staging.task-events");
        assert_eq!((c.partitions, c.replication_factor), (12, 3));
        assert_eq!(c.client_id, "chat-api");
        assert_eq!(c.session_timeout, Duration::from_millis(6000));
        assert_eq!(c.request_timeout, Duration::from_millis(2000));
        assert_eq!(c.flush_timeout, Duration::from_millis(1000));
        assert_eq!(c.properties.get("sasl.password").map(String::as_str), Some("hunter2"));
        assert_eq!(c.properties.len(), 3);
    }

    #[test]
    fn bad_values_are_config_errors() {
        for (k, v) in [("KAFKA_PARTITIONS", "0"), ("KAFKA_REPLICATION_FACTOR", "x"), ("KAFKA_SESSION_TIMEOUT_MS", "-5")]
        {
            let e = from(&[(k, v)]).unwrap_err();
            assert!(matches!(&e, KafkaError::Config(m) if m.contains(k)), "{e}");
        }
        let e = from(&[("KAFKA_PROPERTIES", "linger.ms")]).unwrap_err();
        assert!(matches!(e, KafkaError::Config(_)));
    }

    #[test]
    fn debug_hides_secrets() {
        let c = KafkaConfig::new("b:9092")
            .with_property("sasl.password", "hunter2")
            .with_property("sasl.oauthbearer.client.secret", "s3cr3t")
            .with_property("ssl.key.pem", "-----BEGIN")
            .with_property("linger.ms", "20");
        let shown = format!("{c:?}");
        for secret in ["hunter2", "s3cr3t", "BEGIN"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("linger.ms") && shown.contains("20"), "{shown}");
    }

    #[test]
    fn guarantees_cannot_be_overridden() {
        let c = KafkaConfig::default()
            .with_property("enable.auto.offset.store", "true")
            .with_property("acks", "1")
            .with_property("linger.ms", "50");
        let consumer = c.consumer_config("g", StartFrom::Latest);
        assert_eq!(consumer.get("enable.auto.offset.store"), Some("false"));
        assert_eq!(consumer.get("enable.auto.commit"), Some("true"));
        assert_eq!(consumer.get("auto.offset.reset"), Some("latest"));
        assert_eq!(consumer.get("group.id"), Some("g"));
        let producer = c.producer_config();
        assert_eq!(producer.get("acks"), Some("all"));
        assert_eq!(producer.get("enable.idempotence"), Some("true"));
        assert_eq!(producer.get("linger.ms"), Some("50"), "tuning defaults can be overridden");
    }

    #[test]
    fn heartbeat_fits_the_session() {
        let c = KafkaConfig::default().with_session_timeout(Duration::from_millis(6000));
        assert_eq!(c.consumer_config("g", StartFrom::Earliest).get("heartbeat.interval.ms"), Some("2000"));
        assert_eq!(
            KafkaConfig::default().consumer_config("g", StartFrom::Earliest).get("heartbeat.interval.ms"),
            Some("3000")
        );
    }
}
