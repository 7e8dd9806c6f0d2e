//! The outbox relay publishes everything once, in order, with headers.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use todo_core::domain::UserId;
use todo_core::events::{OutboxEvent, Topic};
use todo_core::memory::MemoryStore;
use todo_core::ports::{Change, EventLog, StartFrom, TaskRepository};
use todo_kafka::{OutboxRelay, RelayConfig};
use tokio_util::sync::CancellationToken;

use crate::support::{
    TestKafka, assert_cloudevent_record, assert_first_occurrences_in_order, count_reaches, event, event_id, read_all,
    shared_broker,
};

/// Fills an in-memory outbox with `n` events of `users` users spread over the
/// three topics, committed three per change (as task changes do).
pub async fn filled_outbox(n: usize, users: usize) -> Arc<MemoryStore> {
    let store = Arc::new(MemoryStore::new());
    let users: Vec<UserId> = (0..users).map(|_| UserId::new()).collect();
    let events: Vec<OutboxEvent> = (0..n)
        .map(|i| {
            let topic = Topic::ALL[i % 3];
            let user = users[(i / 3) % users.len()];
            OutboxEvent { topic, key: user.to_string(), event: event(topic, user, i) }
        })
        .collect();
    for chunk in events.chunks(3) {
        store.commit(Change { events: chunk.to_vec(), ..Change::default() }).await.expect("outbox commit");
    }
    store
}

/// How long reading (and committing) the whole outbox takes without Kafka:
/// the baseline the relay's figure is compared with.
async fn source_read_time(outbox: &MemoryStore, n: usize) -> Duration {
    let names = outbox.topic_names();
    let topics: Vec<String> = Topic::ALL.into_iter().map(|t| names.name(t)).collect();
    let started = Instant::now();
    let mut sub = outbox.subscribe("baseline", &topics, StartFrom::Earliest).await.expect("subscribe");
    for _ in 0..n {
        let r = sub.next().await.expect("read");
        sub.commit(&r).await.expect("commit");
    }
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_publishes_every_outbox_record_in_order() {
    let _broker = shared_broker().await;
    const N: usize = 2000;
    let kafka = TestKafka::new(3).await;
    let outbox = filled_outbox(N, 20).await;
    let baseline = source_read_time(&outbox, N).await;
    let target = kafka.open();
    // Warm the producer's connection so the figure measures the relay, not the first metadata request.
    target.ping().await.expect("ping");

    let relay = Arc::new(OutboxRelay::new(outbox.clone(), target.clone(), RelayConfig::default()));
    let shutdown = CancellationToken::new();
    let started = Instant::now();
    let task = tokio::spawn({
        let (relay, shutdown) = (relay.clone(), shutdown.clone());
        async move { relay.run(shutdown).await }
    });
    let published_in = loop {
        let s = relay.stats();
        if s.published as usize >= N {
            break started.elapsed();
        }
        assert!(started.elapsed() < Duration::from_secs(60), "relay stuck at {s:?}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    // The source is idle now: the last positions are committed without waiting for more records.
    while (relay.stats().committed as usize) < N {
        assert!(started.elapsed() < Duration::from_secs(60), "positions not committed: {:?}", relay.stats());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    shutdown.cancel();
    let stats = task.await.expect("relay task").expect("relay run");
    assert_eq!(stats.published as usize, N, "each record published once: {stats:?}");
    assert_eq!(stats.committed as usize, N, "every position committed: {stats:?}");
    assert_eq!(stats.retried, 0);
    println!(
        "relay: {N} records published in {:.3} s = {:.0} records/s; reading the in-memory outbox alone takes {:.3} s \
         ({:.0} records/s): relay/source-read time ratio {:.2}",
        published_in.as_secs_f64(),
        N as f64 / published_in.as_secs_f64(),
        baseline.as_secs_f64(),
        N as f64 / baseline.as_secs_f64(),
        published_in.as_secs_f64() / baseline.as_secs_f64(),
    );

    let records =
        read_all(&target, &kafka.catalog_topics(), Duration::from_secs(60), Duration::from_secs(1), count_reaches(N))
            .await;
    assert_eq!(records.len(), N, "exactly {N} records in kafka");
    let ids: HashSet<String> = records.iter().map(event_id).collect();
    assert_eq!(ids.len(), N, "no duplicates");
    let source: HashSet<String> =
        Topic::ALL.into_iter().flat_map(|t| outbox.records(t)).map(|r| event_id(&r)).collect();
    assert_eq!(ids, source, "kafka holds exactly the outbox's events");
    for r in &records {
        assert_cloudevent_record(r);
        let topic = kafka.names().topic_of(&r.topic).expect("a catalog topic");
        assert_eq!(r.header("ce_type"), Some(crate::support::type_for(topic).as_str()), "record on its catalog topic");
    }
    assert_first_occurrences_in_order(&records);

    // A restarted relay finds nothing left to publish.
    let again = OutboxRelay::new(outbox, target, RelayConfig::default());
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop.cancel();
    });
    let stats = again.run(shutdown).await.expect("relay run");
    assert_eq!(stats.read, 0, "committed positions survive a relay restart");
}
