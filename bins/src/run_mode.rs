//! The run mode, decided once from the configuration: which database, and
//! whether Kafka carries the events. Everything that differs by mode asks this.

use std::time::Duration;

use anyhow::{Context, bail};
use todo_kafka::KafkaConfig;

use crate::config::{Config, redact_url};

/// Where the data and the events live.
#[derive(Clone, Debug)]
pub enum RunMode {
    /// SQLite (a file in the data dir unless `DATABASE_URL=sqlite:...`) whose
    /// event table is the event log; one process.
    Embedded { sqlite_url: String },
    /// PostgreSQL; its event table is the event log.
    Postgres { url: String },
    /// PostgreSQL, its event table an outbox relayed to Apache Kafka, which
    /// carries the events.
    PostgresKafka { url: String, kafka: KafkaConfig },
}

impl RunMode {
    /// The mode `config` names (`DATABASE_URL`, `KAFKA_*`, `TODO_DATA_DIR`).
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let url = config
            .database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", config.data_dir.join("todo.db").display()));
        let embedded = url.starts_with("sqlite:");
        Ok(match (&config.kafka_bootstrap_servers, embedded) {
            (None, true) => RunMode::Embedded { sqlite_url: url },
            (None, false) => RunMode::Postgres { url },
            (Some(servers), false) => RunMode::PostgresKafka { url, kafka: kafka_config(config, servers)? },
            (Some(_), true) => bail!(
                "KAFKA_BOOTSTRAP_SERVERS needs DATABASE_URL=postgres://... (the outbox relayed to Kafka is \
                 PostgreSQL's event table); the database is {}",
                redact_url(&url)
            ),
        })
    }

    /// The database's URL.
    pub fn database_url(&self) -> &str {
        match self {
            RunMode::Embedded { sqlite_url } => sqlite_url,
            RunMode::Postgres { url } | RunMode::PostgresKafka { url, .. } => url,
        }
    }

    /// The Kafka clients' configuration, in the Kafka mode.
    pub fn kafka(&self) -> Option<&KafkaConfig> {
        match self {
            RunMode::PostgresKafka { kafka, .. } => Some(kafka),
            _ => None,
        }
    }

    /// Whether this is the embedded mode (a secret may be generated in the data dir).
    pub fn is_embedded(&self) -> bool {
        matches!(self, RunMode::Embedded { .. })
    }

    /// The mode's name, as the start line shows it.
    pub fn label(&self) -> &'static str {
        match self {
            RunMode::Embedded { .. } => "embedded",
            RunMode::Postgres { .. } => "PostgreSQL",
            RunMode::PostgresKafka { .. } => "PostgreSQL + Kafka",
        }
    }
}

/// The Kafka client configuration: every `KAFKA_*` setting, TLS and SASL
/// (`KAFKA_PROPERTIES`) included.
pub fn kafka_config(config: &Config, servers: &str) -> anyhow::Result<KafkaConfig> {
    let mut kc = KafkaConfig::new(servers.to_owned())
        .with_topic_prefix(config.kafka_topic_prefix.clone())
        .with_partitions(config.kafka_partitions)
        .with_session_timeout(Duration::from_millis(config.kafka_session_timeout_ms));
    kc.replication_factor = config.kafka_replication_factor;
    kc.client_id = config.kafka_client_id.clone();
    kc.request_timeout = Duration::from_millis(config.kafka_request_timeout_ms);
    kc.flush_timeout = Duration::from_millis(config.kafka_flush_timeout_ms);
    if let Some(props) = &config.kafka_properties {
        // Parsed by todo-kafka's own reader, so both agree on the format.
        let parsed = KafkaConfig::from_lookup(|name| (name == todo_kafka::env::PROPERTIES).then(|| props.clone()))
            .context("KAFKA_PROPERTIES")?;
        kc.properties = parsed.properties;
    }
    Ok(kc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(args: &[&str]) -> Config {
        use clap::Parser;
        let mut argv = vec!["todo"];
        argv.extend_from_slice(args);
        crate::config::Cli::try_parse_from(argv).unwrap().config.normalized()
    }

    /// The mode of a configuration with these two settings, whatever the
    /// environment of the test run says (scripts/test exports both).
    fn mode(database_url: Option<&str>, kafka: Option<&str>) -> anyhow::Result<RunMode> {
        let mut c = config(&["--data-dir", "/d"]);
        c.database_url = database_url.map(str::to_owned);
        c.kafka_bootstrap_servers = kafka.map(str::to_owned);
        RunMode::from_config(&c)
    }

    #[test]
    fn the_mode_follows_the_database_url_and_kafka() {
        let m = mode(None, None).unwrap();
        assert!(m.is_embedded() && m.kafka().is_none());
        assert_eq!((m.database_url(), m.label()), ("sqlite:///d/todo.db", "embedded"));
        let m = mode(Some("sqlite::memory:"), None).unwrap();
        assert!(m.is_embedded());
        let m = mode(Some("postgres://u:p@h/db"), None).unwrap();
        assert_eq!((m.is_embedded(), m.label()), (false, "PostgreSQL"));
        let m = mode(Some("postgres://u:p@h/db"), Some("b:9092")).unwrap();
        assert_eq!(m.kafka().map(|k| k.bootstrap_servers.as_str()), Some("b:9092"));
        assert_eq!((m.database_url(), m.label()), ("postgres://u:p@h/db", "PostgreSQL + Kafka"));
        let e = mode(None, Some("b:9092")).unwrap_err();
        assert!(e.to_string().contains("needs DATABASE_URL"), "{e}");
    }

    /// Every KAFKA_* setting reaches the clients the services build, TLS and SASL included.
    #[test]
    fn the_whole_kafka_configuration_is_wired() {
        let c = config(&[
            "--kafka-topic-prefix",
            "prod.",
            "--kafka-partitions",
            "12",
            "--kafka-replication-factor",
            "3",
            "--kafka-client-id",
            "chat-api-1",
            "--kafka-session-timeout-ms",
            "7000",
            "--kafka-request-timeout-ms",
            "2500",
            "--kafka-flush-timeout-ms",
            "9000",
            "--kafka-properties",
            "security.protocol=SASL_SSL;ssl.ca.location=/ca.crt;sasl.mechanism=SCRAM-SHA-512;sasl.password=hunter2",
        ]);
        let kc = kafka_config(&c, "b1:9093").unwrap();
        assert_eq!(kc.bootstrap_servers, "b1:9093");
        assert_eq!((kc.topic_prefix.as_str(), kc.partitions, kc.replication_factor), ("prod.", 12, 3));
        assert_eq!(kc.client_id, "chat-api-1");
        assert_eq!(kc.session_timeout, std::time::Duration::from_millis(7000));
        assert_eq!(kc.request_timeout, std::time::Duration::from_millis(2500));
        assert_eq!(kc.flush_timeout, std::time::Duration::from_millis(9000));
        assert_eq!(kc.properties.get("security.protocol").map(String::as_str), Some("SASL_SSL"));
        assert_eq!(kc.properties.get("sasl.password").map(String::as_str), Some("hunter2"));
        assert!(kafka_config(&config(&["--kafka-properties", "not a pair"]), "b:1").is_err());
    }
}
