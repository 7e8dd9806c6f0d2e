//! The relay's reader: a task that reads the outbox ahead of the producer and
//! commits source positions between its reads.

use std::time::Duration;

use todo_core::ports::{Record, Subscription};
use tokio::sync::{mpsc, oneshot};
use tracing::warn;

use super::{READ_BATCH, RelayConfig};
use crate::metrics;

/// How many batches the reader fetches ahead of the producer.
pub(super) const READ_AHEAD: usize = 2;

/// The relay's side of the reading task. Dropped without [`Source::stop`] (the
/// relay's future was cancelled), it aborts the task, which drops the subscription.
pub(super) struct Source {
    pub(super) commits: mpsc::Sender<(Vec<Record>, oneshot::Sender<todo_core::Result<()>>)>,
    pub(super) reader: Option<tokio::task::JoinHandle<Box<dyn Subscription>>>,
}

impl Drop for Source {
    fn drop(&mut self) {
        if let Some(reader) = self.reader.take() {
            reader.abort();
        }
    }
}

impl Source {
    /// Commits `records` (in read order) on the subscription, between its reads.
    pub(super) async fn commit(&self, records: Vec<Record>) -> todo_core::Result<()> {
        let (reply, done) = oneshot::channel();
        let gone = || todo_core::Error::Internal("the outbox reader stopped".into());
        self.commits.send((records, reply)).await.map_err(|_| gone())?;
        done.await.map_err(|_| gone())?
    }

    /// Stops the reader (it finishes a commit in progress) and drops the subscription.
    pub(super) async fn stop(mut self) {
        let Some(reader) = self.reader.take() else { return };
        let (placeholder, _) = mpsc::channel(1);
        drop(std::mem::replace(&mut self.commits, placeholder));
        match reader.await {
            Ok(sub) => drop(sub),
            Err(e) => warn!(error = %e, "the outbox reader task failed"),
        }
    }
}

/// Reads `sub` ahead into `out`, a batch at a time, and commits positions as the
/// relay asks (a commit never waits for new records). Failures of the source are
/// retried with backoff. Ends when the relay drops its channels.
pub(super) async fn read_ahead(
    mut sub: Box<dyn Subscription>,
    out: mpsc::Sender<Vec<Record>>,
    mut commits: mpsc::Receiver<(Vec<Record>, oneshot::Sender<todo_core::Result<()>>)>,
    config: RelayConfig,
) -> Box<dyn Subscription> {
    let mut failures = 0u32;
    loop {
        tokio::select! {
            biased;
            request = commits.recv() => match request {
                Some((records, reply)) => {
                    let _ = reply.send(sub.commit_batch(&records).await);
                }
                None => return sub,
            },
            permit = out.reserve() => {
                let Ok(permit) = permit else {
                    // The relay stops reading; it may still commit.
                    while let Some((records, reply)) = commits.recv().await {
                        let _ = reply.send(sub.commit_batch(&records).await);
                    }
                    return sub;
                };
                tokio::select! {
                    biased;
                    request = commits.recv() => match request {
                        // The pending read is dropped (cancel-safe) and taken up again.
                        Some((records, reply)) => {
                            let _ = reply.send(sub.commit_batch(&records).await);
                        }
                        None => return sub,
                    },
                    // What the source has ready, without lingering: a zero-linger read
                    // is cancel-safe, so a commit request may interrupt it.
                    read = sub.next_batch(READ_BATCH, Duration::ZERO) => match read {
                        Ok(records) => {
                            failures = 0;
                            permit.send(records);
                        }
                        Err(e) => {
                            drop(permit);
                            failures += 1;
                            ::metrics::counter!(metrics::RELAY_ERRORS_TOTAL, "kind" => "source").increment(1);
                            warn!(error = %e, attempt = failures, "reading the outbox failed; retrying");
                            tokio::time::sleep(config.backoff(failures)).await;
                        }
                    },
                }
            }
        }
    }
}
