//! Poison records on a Kafka topic consumed by the runner go to `<topic>.dlq`
//! with the error, and the records after them are processed.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use todo_core::consumer::{self, EventHandler, RetryPolicy};
use todo_core::domain::UserId;
use todo_core::events::{CloudEvent, EventType, Topic};
use todo_core::ports::{EventLog, Record, dlq_headers};
use todo_core::{Error, Result};
use tokio_util::sync::CancellationToken;

use crate::support::{TestKafka, count_reaches, read_all, shared_broker};

struct Recorder {
    seen: Mutex<Vec<u64>>,
}

#[async_trait]
impl EventHandler for Recorder {
    fn name(&self) -> String {
        "recurring-task".into()
    }

    fn topics(&self) -> Vec<Topic> {
        vec![Topic::TaskEvents]
    }

    async fn handle(&self, event: &CloudEvent, _record: &Record) -> Result<()> {
        let n = event.data["n"].as_u64().ok_or_else(|| Error::Internal("no n".into()))?;
        self.seen.lock().unwrap().push(n);
        Ok(())
    }
}

fn created(user: UserId, n: u64) -> CloudEvent {
    CloudEvent::new("/test", EventType::TaskCreated, None, chrono::Utc::now(), user, serde_json::json!({ "n": n }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_records_are_dead_lettered_and_the_rest_processed() {
    let _broker = shared_broker().await;
    let kafka = TestKafka::new(3).await;
    let log = kafka.open();
    let topic = kafka.names().name(Topic::TaskEvents);
    let user = UserId::new();
    let key = user.to_string();
    let mut v2 = created(user, 99);
    v2.ty = "todo.task.created.v2".into();
    log.append(&topic, Some(&key), &created(user, 1).to_json_bytes(), &[]).await.expect("append");
    log.append(&topic, Some(&key), b"{not json", &[]).await.expect("append");
    log.append(&topic, Some(&key), &v2.to_json_bytes(), &[]).await.expect("append");
    log.append(&topic, Some(&key), &created(user, 2).to_json_bytes(), &[]).await.expect("append");

    let handler = Arc::new(Recorder { seen: Mutex::new(Vec::new()) });
    let shutdown = CancellationToken::new();
    let shared: Arc<dyn EventLog> = Arc::new(log.clone());
    let runner = tokio::spawn(consumer::run(shared, handler.clone(), RetryPolicy::default(), shutdown.clone()));
    let deadline = Instant::now() + Duration::from_secs(30);
    while handler.seen.lock().unwrap().len() < 2 {
        assert!(Instant::now() < deadline, "records after the poison ones were not handled");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    shutdown.cancel();
    runner.await.expect("runner task").expect("runner");
    assert_eq!(*handler.seen.lock().unwrap(), vec![1, 2], "v1 events handled, in order, around the poison");

    let dlq = kafka.names().dlq(Topic::TaskEvents);
    let dead = read_all(&log, &[dlq], Duration::from_secs(30), Duration::from_millis(500), count_reaches(2)).await;
    assert_eq!(dead.len(), 2, "exactly the two poison records are dead letters");
    assert_eq!(dead[0].payload, b"{not json".to_vec());
    assert!(
        dead[0].header(dlq_headers::ERROR).is_some_and(|e| e.contains("not a CloudEvent")),
        "{:?}",
        dead[0].headers
    );
    assert_eq!(dead[1].payload, v2.to_json_bytes());
    assert!(dead[1].header(dlq_headers::ERROR).is_some_and(|e| e.contains("unsupported major version")));
    assert_eq!(
        dead[1].header("ce_type"),
        Some("todo.task.created.v2"),
        "the dead letter keeps its CloudEvents headers"
    );
    for d in &dead {
        assert_eq!(d.key.as_deref(), Some(key.as_str()));
        assert_eq!(d.header(dlq_headers::ORIGINAL_TOPIC), Some(topic.as_str()));
        assert_eq!(d.header(dlq_headers::CONSUMER_GROUP), Some("recurring-task"));
        assert!(d.header(dlq_headers::ORIGINAL_OFFSET).is_some_and(|o| o.parse::<i64>().is_ok()));
    }
}
