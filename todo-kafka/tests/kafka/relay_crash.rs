//! Stopping and crashing the relay mid-stream loses nothing; duplicates it
//! leaves in Kafka are absorbed by an idempotent handler.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rand::Rng;
use todo_core::consumer::{self, EventHandler, RetryPolicy};
use todo_core::events::{CloudEvent, Topic};
use todo_core::ports::{EventLog, Record};
use todo_core::{Error, Result};
use todo_kafka::{OutboxRelay, RelayConfig};
use tokio_util::sync::CancellationToken;

use crate::relay::filled_outbox;
use crate::support::{
    TestKafka, assert_first_occurrences_in_order, distinct_events_reach, event_id, read_all, shared_broker,
};

/// Applies each event's effect once: remembers the ids it has seen.
#[derive(Default)]
struct DedupeHandler {
    seen: Mutex<HashSet<String>>,
    effects: Mutex<HashMap<String, u32>>,
    duplicates: Mutex<u64>,
}

#[async_trait]
impl EventHandler for DedupeHandler {
    fn name(&self) -> String {
        "effects".into()
    }

    fn topics(&self) -> Vec<Topic> {
        Topic::ALL.to_vec()
    }

    async fn handle(&self, event: &CloudEvent, _record: &Record) -> Result<()> {
        let id = event.id.to_string();
        if !self.seen.lock().unwrap().insert(id.clone()) {
            *self.duplicates.lock().unwrap() += 1;
            return Err(Error::Duplicate(id));
        }
        *self.effects.lock().unwrap().entry(id).or_default() += 1;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_stopped_or_crashed_mid_stream_loses_nothing() {
    let _broker = shared_broker().await;
    const N: usize = 12_000;
    // A shallow pipeline, so each run gets only part of the way.
    let config = RelayConfig { max_in_flight: 100, commit_every: 50, ..RelayConfig::default() };
    let kafka = TestKafka::new(3).await;
    let outbox = filled_outbox(N, 20).await;
    let mut rng = rand::thread_rng();
    let mut mid_stream = 0;
    let started = Instant::now();

    for round in 0..8 {
        let graceful = round % 2 == 0;
        // A new process each round: new producer, new relay.
        let target = kafka.open();
        let relay = Arc::new(OutboxRelay::new(outbox.clone(), target.clone(), config.clone()));
        let shutdown = CancellationToken::new();
        let task = tokio::spawn({
            let (relay, shutdown) = (relay.clone(), shutdown.clone());
            async move { relay.run(shutdown).await }
        });
        // Until the relay is under way (or found nothing left), then a random moment later.
        let under_way = Instant::now();
        while relay.stats().published == 0 && under_way.elapsed() < Duration::from_secs(5) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        tokio::time::sleep(Duration::from_millis(rng.gen_range(0..20))).await;
        let at = relay.stats();
        if graceful {
            shutdown.cancel();
            task.await.expect("relay task").expect("relay run");
        } else {
            task.abort();
            assert!(task.await.expect_err("aborted").is_cancelled());
        }
        if at.published > 0 {
            mid_stream += 1;
        }
        println!("round {round}: {} after {at:?}", if graceful { "cancelled" } else { "aborted" });
        // Dropping the last handle flushes what the producer still holds, as a
        // process exit does not: either way the uncommitted tail is published again.
        drop(relay);
        drop(target);
    }

    // The last run drains the rest.
    let target = kafka.open();
    let relay = Arc::new(OutboxRelay::new(outbox.clone(), target.clone(), config));
    let shutdown = CancellationToken::new();
    let task = tokio::spawn({
        let (relay, shutdown) = (relay.clone(), shutdown.clone());
        async move { relay.run(shutdown).await }
    });

    let records = read_all(
        &target,
        &kafka.catalog_topics(),
        Duration::from_secs(60),
        Duration::from_secs(1),
        distinct_events_reach(N),
    )
    .await;
    shutdown.cancel();
    let last = task.await.expect("relay task").expect("relay run");
    assert!(last.read > 0, "the stops came before the end of the outbox");
    assert_eq!(mid_stream, 8, "every stop came while the relay was publishing");
    let ids: HashSet<String> = records.iter().map(event_id).collect();
    assert_eq!(ids.len(), N, "every outbox record reached kafka at least once");
    let duplicates = records.len() - N;
    assert_first_occurrences_in_order(&records);
    println!(
        "relay crash test: {N} events, 8 stops (4 graceful, 4 aborted, {mid_stream} mid-stream), \
         {} records in kafka, {duplicates} duplicates, {:.1} s",
        records.len(),
        started.elapsed().as_secs_f64()
    );

    // An idempotent handler driven by the consumer runner applies each effect once.
    let handler = Arc::new(DedupeHandler::default());
    let shutdown = CancellationToken::new();
    let log: Arc<dyn EventLog> = Arc::new(target.clone());
    let runner = tokio::spawn(consumer::run(log, handler.clone(), RetryPolicy::default(), shutdown.clone()));
    let deadline = Instant::now() + Duration::from_secs(60);
    while (*handler.duplicates.lock().unwrap() as usize) + handler.effects.lock().unwrap().len() < records.len() {
        assert!(Instant::now() < deadline, "the runner did not see every record");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    shutdown.cancel();
    runner.await.expect("runner task").expect("runner");
    let effects = handler.effects.lock().unwrap();
    assert_eq!(effects.len(), N, "one effect per event");
    assert!(effects.values().all(|&n| n == 1), "no effect applied twice");
    assert_eq!(*handler.duplicates.lock().unwrap() as usize, duplicates, "each duplicate recognised");
}
