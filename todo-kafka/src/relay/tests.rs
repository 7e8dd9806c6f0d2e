use std::collections::{HashMap, HashSet};

use rdkafka::mocking::MockCluster;
use todo_core::domain::UserId;
use todo_core::events::{CloudEvent, EventType, OutboxEvent, TopicNames};
use todo_core::memory::MemoryStore;
use todo_core::ports::{Change, TaskRepository};

use super::*;
use crate::{KafkaConfig, all_topic_names};

#[test]
fn backoff_doubles_up_to_the_cap() {
    let c = RelayConfig {
        initial_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_secs(1),
        ..RelayConfig::default()
    };
    let waits: Vec<u128> = (1..=6).map(|n| c.backoff(n).as_millis()).collect();
    assert_eq!(waits, [100, 200, 400, 800, 1000, 1000]);
}

/// librdkafka's in-process mock broker, down while the relay starts: every
/// delivery times out and is produced again, in order, once it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_deliveries_are_produced_again_in_order() {
    const N: usize = 300;
    let mock = MockCluster::new(1).expect("mock cluster");
    let names = TopicNames::default();
    for topic in all_topic_names(&names) {
        mock.create_topic(&topic, 2, 1).expect("topic");
    }
    let outbox = Arc::new(MemoryStore::new());
    let users: Vec<UserId> = (0..7).map(|_| UserId::new()).collect();
    for n in 0..N {
        let user = users[n % users.len()];
        let ty = [EventType::TaskCreated, EventType::ReminderScheduled, EventType::TaskChanged][n % 3];
        let event = CloudEvent::new("/t", ty, None, chrono::Utc::now(), user, serde_json::json!({ "n": n }));
        let change = Change {
            events: vec![OutboxEvent { topic: ty.topic(), key: user.to_string(), event }],
            ..Change::default()
        };
        outbox.commit(change).await.expect("outbox");
    }

    mock.broker_down(1).expect("broker down");
    let config = KafkaConfig::new(mock.bootstrap_servers())
        .with_property("message.timeout.ms", "300")
        .with_session_timeout(Duration::from_secs(6));
    let target = KafkaEventLog::new(config).expect("client");
    let relay_config = RelayConfig {
        max_in_flight: 50,
        initial_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(200),
        ..RelayConfig::default()
    };
    let relay = Arc::new(OutboxRelay::new(outbox.clone(), target.clone(), relay_config));
    let shutdown = CancellationToken::new();
    let task = tokio::spawn({
        let (relay, shutdown) = (relay.clone(), shutdown.clone());
        async move { relay.run(shutdown).await }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    while relay.stats().retried < 100 {
        assert!(Instant::now() < deadline, "no retries while the broker is down: {:?}", relay.stats());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(relay.stats().committed, 0, "nothing committed while nothing is acknowledged");
    mock.broker_up(1).expect("broker up");
    while relay.stats().committed < N as u64 {
        assert!(Instant::now() < deadline, "relay did not recover: {:?}", relay.stats());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    shutdown.cancel();
    let stats = task.await.expect("task").expect("run");
    assert!(stats.retried > 0);

    let topics: Vec<String> = Topic::ALL.into_iter().map(|t| names.name(t)).collect();
    let mut sub = target.subscribe("check", &topics, StartFrom::Earliest).await.expect("subscribe");
    let mut seen = HashSet::new();
    let mut last: HashMap<(String, String), u64> = HashMap::new();
    while seen.len() < N {
        let r = tokio::time::timeout(Duration::from_secs(20), sub.next()).await.expect("record").expect("read");
        let ev = CloudEvent::from_json_bytes(&r.payload).expect("event");
        if seen.insert(ev.id) {
            let n = ev.data["n"].as_u64().expect("n");
            let key = (r.topic.clone(), r.key.clone().expect("key"));
            if let Some(prev) = last.insert(key, n) {
                assert!(prev < n, "per-key order broken: {n} after {prev}");
            }
        }
    }
}
