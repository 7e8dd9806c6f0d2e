//! Topic administration: the catalog topics and their dead-letter topics.

use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::error::RDKafkaErrorCode;
use todo_core::events::{Topic, TopicNames};
use tracing::{info, warn};

use crate::config::KafkaConfig;
use crate::error::{KafkaError, Result};
use crate::producer::TracingContext;

/// How long [`ensure_topics`] waits for new topics to show up in metadata with
/// a leader for every partition.
const METADATA_WAIT: Duration = Duration::from_secs(30);

/// The physical names of every topic this system uses: `task-events`,
/// `reminders`, `task-updates` and their `.dlq` topics, under `names`' prefix.
pub fn all_topic_names(names: &TopicNames) -> Vec<String> {
    Topic::ALL.into_iter().flat_map(|t| [names.name(t), names.dlq(t)]).collect()
}

/// Creates the catalog topics and their dead-letter topics (with the configured
/// prefix, partitions and replication factor) unless they exist, then waits
/// until the cluster's metadata shows each of them with a leader for every
/// partition. Idempotent: an existing topic is left as it is (a warning says so
/// when it has fewer partitions than configured). Topics replicated 3 times or
/// more get `min.insync.replicas=2`, so an `acks=all` write survives a broker loss.
///
/// Returns the physical topic names.
pub async fn ensure_topics(config: &KafkaConfig) -> Result<Vec<String>> {
    let names = all_topic_names(&config.topic_names());
    create_topics(config, &names).await?;
    Ok(names)
}

/// Creates `names` as [`ensure_topics`] does.
pub async fn create_topics(config: &KafkaConfig, names: &[String]) -> Result<()> {
    let admin: AdminClient<TracingContext> = config
        .admin_config()
        .create_with_context(TracingContext)
        .map_err(KafkaError::creating("create admin client"))?;
    let min_isr = (config.replication_factor >= 3).then_some(("min.insync.replicas", "2"));
    let new_topics: Vec<NewTopic<'_>> = names
        .iter()
        .map(|name| {
            let topic = NewTopic::new(name, config.partitions, TopicReplication::Fixed(config.replication_factor));
            match min_isr {
                Some((k, v)) => topic.set(k, v),
                None => topic,
            }
        })
        .collect();
    let options = AdminOptions::new()
        .request_timeout(Some(config.request_timeout))
        .operation_timeout(Some(config.request_timeout));
    // A broker that is busy or just restarted may time the request out: asking
    // again is safe (existing topics are left alone), until the metadata deadline.
    let deadline = Instant::now() + METADATA_WAIT;
    let results = loop {
        match admin.create_topics(&new_topics, &options).await {
            Ok(results) => break results,
            Err(e) if Instant::now() + config.request_timeout < deadline => {
                warn!(error = %e, "creating topics failed; asking again");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => return Err(KafkaError::client("create topics")(e)),
        }
    };
    for result in results {
        match result {
            Ok(name) => {
                info!(topic = %name, partitions = config.partitions, replication = config.replication_factor, "created topic");
            }
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => return Err(KafkaError::CreateTopic { topic, code }),
        }
    }
    wait_for_metadata(admin, names.to_vec(), config.partitions, config.request_timeout).await
}

/// Polls metadata until every topic has a leader for each of its partitions.
async fn wait_for_metadata(
    admin: AdminClient<TracingContext>,
    names: Vec<String>,
    partitions: i32,
    request_timeout: Duration,
) -> Result<()> {
    tokio::task::spawn_blocking(move || {
        let deadline = Instant::now() + METADATA_WAIT;
        let mut warned = false;
        loop {
            let missing = match admin.inner().fetch_metadata(None, request_timeout) {
                Ok(md) => {
                    let mut missing = Vec::new();
                    for name in &names {
                        match md.topics().iter().find(|t| t.name() == name) {
                            Some(t) if t.error().is_none() && !t.partitions().is_empty()
                                && t.partitions().iter().all(|p| p.leader() >= 0 && p.error().is_none()) =>
                            {
                                let have = t.partitions().len();
                                if have < partitions as usize && !warned {
                                    warn!(topic = %name, have, want = partitions, "existing topic has fewer partitions than configured");
                                }
                            }
                            _ => missing.push(name.clone()),
                        }
                    }
                    warned = true;
                    missing
                }
                Err(e) if Instant::now() >= deadline => return Err(KafkaError::client("metadata")(e)),
                Err(_) => names.clone(),
            };
            if missing.is_empty() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(KafkaError::Timeout { op: "waiting for topic metadata", timeout: METADATA_WAIT });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    })
    .await
    .map_err(|e| KafkaError::Internal(format!("metadata task: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_topics_under_the_prefix() {
        assert_eq!(
            all_topic_names(&TopicNames::new("t1.")),
            [
                "t1.task-events",
                "t1.task-events.dlq",
                "t1.reminders",
                "t1.reminders.dlq",
                "t1.task-updates",
                "t1.task-updates.dlq"
            ]
        );
    }
}
