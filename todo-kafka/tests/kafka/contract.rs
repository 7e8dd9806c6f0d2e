//! The event-log contract of todo-core, on Kafka.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use todo_core::contract::event_log::{LogFixture, run_all};
use todo_core::ports::EventLog;

use crate::support::{TestKafka, shared_broker};

/// Every `open` is a new client (a restarted process) on the same topics.
struct KafkaFixture {
    kafka: TestKafka,
}

#[async_trait]
impl LogFixture for KafkaFixture {
    async fn open(&self) -> Arc<dyn EventLog> {
        Arc::new(self.kafka.open())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_event_log_passes_the_contract() {
    let _broker = shared_broker().await;
    let started = Instant::now();
    // Three partitions, so per-key order is checked across partitions.
    run_all(|| async { Box::new(KafkaFixture { kafka: TestKafka::new(3).await }) as Box<dyn LogFixture> }).await;
    println!("contract suite on kafka: {:.1} s", started.elapsed().as_secs_f64());
}
