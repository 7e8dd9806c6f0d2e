//! A broker restart while the relay publishes: nothing is lost, and the relay
//! and a consumer recover without being restarted.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use todo_core::consumer::{self, EventHandler, RetryPolicy};
use todo_core::domain::UserId;
use todo_core::events::{CloudEvent, OutboxEvent, Topic};
use todo_core::memory::MemoryStore;
use todo_core::ports::{Change, EventLog, Record, TaskRepository};
use todo_core::{Error, Result};
use todo_kafka::{KafkaEventLog, OutboxRelay, RelayConfig};
use tokio_util::sync::CancellationToken;

use crate::support::{TestKafka, event, exclusive_broker};

#[derive(Default)]
struct Collect {
    ids: Mutex<HashSet<String>>,
    deliveries: AtomicUsize,
}

#[async_trait]
impl EventHandler for Collect {
    fn name(&self) -> String {
        "restart-watcher".into()
    }

    fn topics(&self) -> Vec<Topic> {
        Topic::ALL.to_vec()
    }

    async fn handle(&self, event: &CloudEvent, _record: &Record) -> Result<()> {
        self.deliveries.fetch_add(1, Ordering::Relaxed);
        if self.ids.lock().unwrap().insert(event.id.to_string()) {
            Ok(())
        } else {
            Err(Error::Duplicate(event.id.to_string()))
        }
    }
}

impl Collect {
    fn distinct(&self) -> usize {
        self.ids.lock().unwrap().len()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_and_consumer_ride_out_a_broker_restart() {
    let _broker = exclusive_broker().await;
    let kafka = TestKafka::new(3).await;
    let outbox = Arc::new(MemoryStore::new());
    let users: Vec<UserId> = (0..20).map(|_| UserId::new()).collect();

    // The application keeps writing, ~200 events/s, through the restart.
    let appended = Arc::new(AtomicUsize::new(0));
    let stop_writing = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn({
        let (outbox, appended, stop) = (outbox.clone(), appended.clone(), stop_writing.clone());
        async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let topic = Topic::ALL[n % 3];
                let user = users[n % users.len()];
                let ev = OutboxEvent { topic, key: user.to_string(), event: event(topic, user, n) };
                outbox.commit(Change { events: vec![ev], ..Change::default() }).await.expect("outbox commit");
                n += 1;
                appended.store(n, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    });

    // A record caught in flight by the restart is retried when the connection
    // comes back, but on a loaded machine librdkafka has been seen to hold one
    // until `message.timeout.ms` (60 s by default) before the relay produces it
    // again, past the recovery deadline below. 15 s bounds that worst case.
    let target =
        KafkaEventLog::new(kafka.config.clone().with_property("message.timeout.ms", "15000")).expect("kafka client");
    let relay = Arc::new(OutboxRelay::new(outbox.clone(), target.clone(), RelayConfig::default()));
    let shutdown = CancellationToken::new();
    let relaying = tokio::spawn({
        let (relay, shutdown) = (relay.clone(), shutdown.clone());
        async move { relay.run(shutdown).await }
    });
    let watcher = Arc::new(Collect::default());
    let consumer_log: Arc<dyn EventLog> = Arc::new(kafka.open());
    let consuming =
        tokio::spawn(consumer::run(consumer_log, watcher.clone(), RetryPolicy::default(), shutdown.clone()));

    // Steady state first.
    let deadline = Instant::now() + Duration::from_secs(30);
    while watcher.distinct() < 300 {
        assert!(Instant::now() < deadline, "no steady state before the restart");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let outage = kafka.restart_broker().await;
    let back = Instant::now();
    let appended_when_back = appended.load(Ordering::Relaxed);
    let published_when_back = relay.stats().published;
    let delivered_when_back = watcher.deliveries.load(Ordering::Relaxed);
    println!("broker restarted in {:.1} s; {appended_when_back} events written so far", outage.as_secs_f64());

    // Recovery: the relay publishes again, and the consumer catches up with
    // everything written up to the moment the broker was back.
    let mut relay_resumed = None;
    let mut consumer_resumed = None;
    let mut consumer_caught_up = None;
    let deadline = back + Duration::from_secs(60);
    while relay_resumed.is_none() || consumer_resumed.is_none() || consumer_caught_up.is_none() {
        assert!(
            Instant::now() < deadline,
            "no recovery within 60 s: relay {:?}, consumer saw {} of {appended_when_back}",
            relay.stats(),
            watcher.distinct()
        );
        if relay_resumed.is_none() && relay.stats().published > published_when_back {
            relay_resumed = Some(back.elapsed());
        }
        if consumer_resumed.is_none() && watcher.deliveries.load(Ordering::Relaxed) > delivered_when_back {
            consumer_resumed = Some(back.elapsed());
        }
        if consumer_caught_up.is_none() && watcher.distinct() >= appended_when_back {
            consumer_caught_up = Some(back.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // A little more traffic after the restart, then everything must arrive.
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop_writing.store(true, Ordering::Relaxed);
    writer.await.expect("writer");
    let total = appended.load(Ordering::Relaxed);
    let deadline = Instant::now() + Duration::from_secs(60);
    while watcher.distinct() < total {
        assert!(Instant::now() < deadline, "consumer saw {} of {total} events", watcher.distinct());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    shutdown.cancel();
    let stats = relaying.await.expect("relay task").expect("relay run");
    consuming.await.expect("consumer task").expect("consumer run");

    let expected: HashSet<String> = Topic::ALL
        .into_iter()
        .flat_map(|t| outbox.records(t))
        .map(|r| CloudEvent::from_json_bytes(&r.payload).expect("event").id.to_string())
        .collect();
    assert_eq!(expected.len(), total);
    assert_eq!(*watcher.ids.lock().unwrap(), expected, "every event written reached the consumer");
    println!(
        "broker restart: outage {:.1} s; after the broker was back: relay publishing again in {:.2} s, consumer receiving \
         again in {:.2} s, consumer caught up with the {appended_when_back} events written until then in {:.2} s; \
         {total} events, {} deliveries ({} duplicates), relay {stats:?}",
        outage.as_secs_f64(),
        relay_resumed.expect("resumed").as_secs_f64(),
        consumer_resumed.expect("resumed").as_secs_f64(),
        consumer_caught_up.expect("caught up").as_secs_f64(),
        watcher.deliveries.load(Ordering::Relaxed),
        watcher.deliveries.load(Ordering::Relaxed) - total,
    );
}
