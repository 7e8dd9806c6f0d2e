//! Metrics of the Kafka adapters, through the `metrics` facade (the binary
//! installs an exporter, e.g. Prometheus). Call [`describe`] once at start-up
//! for HELP texts and units.

use std::collections::BTreeSet;

use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
use rdkafka::statistics::Statistics;

/// Records the relay published (broker-acknowledged); label `topic`.
pub const RELAY_PUBLISHED_TOTAL: &str = "todo_relay_published_total";
/// Seconds from handing a record to the producer to its acknowledgement,
/// retries included; label `topic`.
pub const RELAY_PUBLISH_LATENCY_SECONDS: &str = "todo_relay_publish_latency_seconds";
/// Relay failures; label `kind`: `produce`, `source`, `commit`.
pub const RELAY_ERRORS_TOTAL: &str = "todo_relay_errors_total";
/// Records the relay has handed to the producer and not yet seen acknowledged.
pub const RELAY_IN_FLIGHT: &str = "todo_relay_in_flight";
/// Records delivered to consumers; labels `group`, `topic`.
pub const CONSUMED_TOTAL: &str = "todo_kafka_consumed_total";
/// Records between a consumer's position and the partition's high watermark,
/// sampled every `statistics.interval.ms` (5 s); labels `group`, `topic`, `partition`.
pub const CONSUMER_LAG: &str = "todo_kafka_consumer_lag";
/// Records written to a dead-letter topic; label `topic` (the dead-letter topic).
pub const DLQ_TOTAL: &str = "todo_kafka_dlq_total";

/// Registers descriptions and units of every metric of this crate.
pub fn describe() {
    describe_counter!(RELAY_PUBLISHED_TOTAL, Unit::Count, "outbox records published to kafka and acknowledged");
    describe_histogram!(
        RELAY_PUBLISH_LATENCY_SECONDS,
        Unit::Seconds,
        "time from producing an outbox record to its acknowledgement"
    );
    describe_counter!(RELAY_ERRORS_TOTAL, Unit::Count, "outbox relay failures by kind (produce, source, commit)");
    describe_gauge!(RELAY_IN_FLIGHT, Unit::Count, "outbox records produced and not yet acknowledged");
    describe_counter!(CONSUMED_TOTAL, Unit::Count, "kafka records delivered to consumers");
    describe_gauge!(
        CONSUMER_LAG,
        Unit::Count,
        "records between a consumer group's position and the high watermark, per partition"
    );
    describe_counter!(DLQ_TOTAL, Unit::Count, "records written to dead-letter topics");
}

/// Lag per assigned partition in one librdkafka statistics sample:
/// high watermark minus the application's position (or the committed offset
/// before the first record was delivered).
pub(crate) fn partition_lags(stats: &Statistics) -> Vec<(String, i32, i64)> {
    let mut out = Vec::new();
    for (topic, t) in &stats.topics {
        for (&partition, p) in &t.partitions {
            // -1 is librdkafka's internal "unassigned" partition.
            if partition < 0 || p.fetch_state != "active" || p.hi_offset < 0 {
                continue;
            }
            let lag = if p.app_offset >= 0 {
                p.hi_offset - p.app_offset
            } else if p.committed_offset >= 0 {
                p.hi_offset - p.committed_offset
            } else {
                continue;
            };
            out.push((topic.clone(), partition, lag.max(0)));
        }
    }
    out
}

/// Publishes the lag gauges of `group` from one statistics sample; partitions
/// reported last time and no longer assigned go to 0, so a revoked partition
/// does not keep showing a stale lag.
pub(crate) fn record_lag(group: &str, stats: &Statistics, reported: &mut BTreeSet<(String, i32)>) {
    let lags = partition_lags(stats);
    let now: BTreeSet<(String, i32)> = lags.iter().map(|(t, p, _)| (t.clone(), *p)).collect();
    for (topic, partition) in reported.difference(&now) {
        metrics::gauge!(CONSUMER_LAG, "group" => group.to_owned(), "topic" => topic.clone(), "partition" => partition.to_string())
            .set(0.0);
    }
    for (topic, partition, lag) in lags {
        metrics::gauge!(CONSUMER_LAG, "group" => group.to_owned(), "topic" => topic, "partition" => partition.to_string())
            .set(lag as f64);
    }
    *reported = now;
}

#[cfg(test)]
mod tests {
    use rdkafka::statistics::{Partition, Topic};

    use super::*;

    fn partition(partition: i32, state: &str, hi: i64, app: i64, committed: i64) -> Partition {
        Partition {
            partition,
            fetch_state: state.to_owned(),
            hi_offset: hi,
            app_offset: app,
            committed_offset: committed,
            ..Partition::default()
        }
    }

    #[test]
    fn lag_is_high_watermark_minus_position() {
        let mut topic = Topic { topic: "t".to_owned(), ..Topic::default() };
        for p in [
            partition(-1, "active", 100, 0, -1001),
            partition(0, "active", 100, 40, 20),
            partition(1, "active", 10, -1001, 7),
            partition(2, "stopped", 10, 3, 3),
            partition(3, "active", 10, -1001, -1001),
        ] {
            topic.partitions.insert(p.partition, p);
        }
        let mut stats = Statistics::default();
        stats.topics.insert("t".to_owned(), topic);
        let mut lags = partition_lags(&stats);
        lags.sort();
        assert_eq!(lags, vec![("t".to_owned(), 0, 60), ("t".to_owned(), 1, 3)]);
    }
}
