//! Shared test context: a reachable broker, fresh topics per test, event
//! builders and readers.

use std::collections::HashMap;
use std::sync::Once;
use std::time::{Duration, Instant};

use todo_core::domain::UserId;
use todo_core::events::{CloudEvent, EventType, Topic, TopicNames};
use todo_core::ports::{EventLog, Record, StartFrom};
use todo_kafka::{KafkaConfig, KafkaEventLog, ensure_topics};
use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

const HOW_TO_START: &str = "start a local broker with `export $(scripts/kafka-local start)` from the workspace root \
     (or enable the `testcontainers` feature on a machine with a Docker engine)";

/// Tests share one broker; the broker-restart test takes it exclusively.
static BROKER: RwLock<()> = RwLock::const_new(());

/// Shared use of the broker (every test but the restart test).
pub async fn shared_broker() -> RwLockReadGuard<'static, ()> {
    BROKER.read().await
}

/// Exclusive use of the broker (the restart test).
pub async fn exclusive_broker() -> RwLockWriteGuard<'static, ()> {
    BROKER.write().await
}

pub fn init_tracing() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn,librdkafka=off".into()),
            )
            .with_test_writer()
            .try_init();
    });
}

/// A fresh topic prefix on the test broker, its topics created.
pub struct TestKafka {
    pub config: KafkaConfig,
    #[cfg(feature = "testcontainers")]
    container: Option<containers::Kafka>,
}

impl TestKafka {
    /// Topics with `partitions` partitions under a random prefix.
    pub async fn new(partitions: i32) -> Self {
        init_tracing();
        #[cfg(feature = "testcontainers")]
        let (bootstrap, container) = match std::env::var("KAFKA_BOOTSTRAP_SERVERS") {
            Ok(b) if !b.trim().is_empty() => (b, None),
            _ => {
                let c = containers::Kafka::start().await;
                (c.bootstrap(), Some(c))
            }
        };
        #[cfg(not(feature = "testcontainers"))]
        let bootstrap = match std::env::var("KAFKA_BOOTSTRAP_SERVERS") {
            Ok(b) if !b.trim().is_empty() => b,
            _ => panic!("KAFKA_BOOTSTRAP_SERVERS is not set: these tests need a real Kafka broker; {HOW_TO_START}"),
        };
        let prefix = format!("t{}.", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let config = KafkaConfig::new(bootstrap.clone())
            .with_topic_prefix(prefix)
            .with_partitions(partitions)
            .with_session_timeout(Duration::from_secs(6));
        let log = KafkaEventLog::new(config.clone()).expect("kafka client");
        if let Err(e) = log.ping().await {
            panic!("the Kafka broker at {bootstrap} does not answer ({e}); {HOW_TO_START}");
        }
        ensure_topics(&config).await.expect("create topics");
        Self {
            config,
            #[cfg(feature = "testcontainers")]
            container,
        }
    }

    pub fn names(&self) -> TopicNames {
        self.config.topic_names()
    }

    /// A new handle on the log (a process (re)starting).
    pub fn open(&self) -> KafkaEventLog {
        KafkaEventLog::new(self.config.clone()).expect("kafka client")
    }

    /// The physical names of the three catalog topics.
    pub fn catalog_topics(&self) -> Vec<String> {
        Topic::ALL.into_iter().map(|t| self.names().name(t)).collect()
    }

    /// Stops the broker gracefully and starts it again on the same data and
    /// ports; returns how long it was away.
    pub async fn restart_broker(&self) -> Duration {
        #[cfg(feature = "testcontainers")]
        if let Some(c) = &self.container {
            return c.restart().await;
        }
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/kafka-local");
        let started = Instant::now();
        let out =
            tokio::task::spawn_blocking(move || std::process::Command::new(script).arg("restart-broker").output())
                .await
                .expect("restart task")
                .expect("run scripts/kafka-local");
        assert!(
            out.status.success(),
            "scripts/kafka-local restart-broker failed (this test needs the broker started by scripts/kafka-local, \
             with the same KAFKA_LOCAL_STATE): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        started.elapsed()
    }
}

/// The event type used for test events on `topic`.
pub fn type_for(topic: Topic) -> EventType {
    match topic {
        Topic::TaskEvents => EventType::TaskUpdated,
        Topic::Reminders => EventType::ReminderScheduled,
        Topic::TaskUpdates => EventType::TaskChanged,
    }
}

/// A CloudEvent of `user` carrying sequence number `n` in `data.n`.
pub fn event(topic: Topic, user: UserId, n: usize) -> CloudEvent {
    CloudEvent::new(
        "/test",
        type_for(topic),
        Some(n.to_string()),
        chrono::Utc::now(),
        user,
        serde_json::json!({ "n": n }),
    )
}

/// `data.n` of a test event.
pub fn seq(r: &Record) -> usize {
    let ev = CloudEvent::from_json_bytes(&r.payload).expect("test records are CloudEvents");
    ev.data["n"].as_u64().expect("data.n") as usize
}

/// Reads `topics` as a new group from the start until `done` (told of each
/// record as it arrives) says so, then for `quiet` more (to see late
/// duplicates). Panics after `wait`.
pub async fn read_all(
    log: &KafkaEventLog,
    topics: &[String],
    wait: Duration,
    quiet: Duration,
    mut done: impl FnMut(&Record) -> bool,
) -> Vec<Record> {
    let group = format!("reader-{}", uuid::Uuid::new_v4().simple());
    let mut sub = log.subscribe(&group, topics, StartFrom::Earliest).await.expect("subscribe");
    let mut out = Vec::new();
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, sub.next()).await {
            Ok(Ok(r)) => {
                let finished = done(&r);
                out.push(r);
                if finished {
                    break;
                }
            }
            Ok(Err(e)) => {
                eprintln!("read error (retrying): {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(_) => panic!("timed out after {wait:?} with {} records read", out.len()),
        }
    }
    while let Ok(r) = tokio::time::timeout(quiet, sub.next()).await {
        out.push(r.expect("read"));
    }
    out
}

/// A `done` for [`read_all`]: `n` records.
pub fn count_reaches(n: usize) -> impl FnMut(&Record) -> bool {
    let mut seen = 0;
    move |_| {
        seen += 1;
        seen >= n
    }
}

/// A `done` for [`read_all`]: `n` distinct events.
pub fn distinct_events_reach(n: usize) -> impl FnMut(&Record) -> bool {
    let mut ids = std::collections::HashSet::new();
    move |r| {
        ids.insert(event_id(r));
        ids.len() >= n
    }
}

/// The CloudEvent id of a record.
pub fn event_id(r: &Record) -> String {
    CloudEvent::from_json_bytes(&r.payload).expect("CloudEvent").id.to_string()
}

/// Checks per-(topic, key) order of first occurrences: within a key, each new
/// event comes after the ones seen before (duplicates may repeat older ones).
pub fn assert_first_occurrences_in_order(records: &[Record]) {
    let mut seen = std::collections::HashSet::new();
    let mut last: HashMap<(String, String), usize> = HashMap::new();
    for r in records {
        if !seen.insert(event_id(r)) {
            continue;
        }
        let key = (r.topic.clone(), r.key.clone().expect("records have keys"));
        let n = seq(r);
        if let Some(prev) = last.insert(key.clone(), n) {
            assert!(prev < n, "{key:?}: event {n} first seen after {prev}: per-key order broken");
        }
    }
}

/// Checks the record carries its event's `ce_type` / `ce_id` and the user key.
pub fn assert_cloudevent_record(r: &Record) {
    let ev = CloudEvent::from_json_bytes(&r.payload).expect("CloudEvent");
    assert_eq!(r.header("ce_type"), Some(ev.ty.as_str()), "ce_type header");
    assert_eq!(r.header("ce_id"), Some(ev.id.to_string().as_str()), "ce_id header");
    assert_eq!(r.key.as_deref(), Some(ev.userid.to_string().as_str()), "key = user id");
}

#[cfg(feature = "testcontainers")]
mod containers {
    //! Apache Kafka in a container, for machines with a Docker engine and no
    //! KAFKA_BOOTSTRAP_SERVERS. The host port is fixed at creation so that a
    //! stopped and restarted container keeps its advertised address.

    use std::time::{Duration, Instant};

    use testcontainers_modules::kafka::apache::{self, KAFKA_PORT};
    use testcontainers_modules::testcontainers::runners::AsyncRunner;
    use testcontainers_modules::testcontainers::{ContainerAsync, ImageExt};

    pub struct Kafka {
        container: ContainerAsync<apache::Kafka>,
        port: u16,
    }

    impl Kafka {
        pub async fn start() -> Self {
            let port =
                std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
            let container = apache::Kafka::default()
                .with_mapped_port(port, KAFKA_PORT)
                .start()
                .await
                .expect("KAFKA_BOOTSTRAP_SERVERS is unset and starting Kafka with testcontainers failed (is a Docker engine running?)");
            Self { container, port }
        }

        pub fn bootstrap(&self) -> String {
            format!("127.0.0.1:{}", self.port)
        }

        pub async fn restart(&self) -> Duration {
            let started = Instant::now();
            self.container.stop_with_timeout(Some(20)).await.expect("stop the kafka container");
            self.container.start().await.expect("start the kafka container again");
            started.elapsed()
        }
    }
}
