//! Stopping: the signal that asks a process to stop, and the order it stops in.

use std::time::Duration;

use todo_kafka::KafkaEventLog;
use todo_store::Store;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Resolves when the process is asked to stop (Ctrl-C or SIGTERM).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}

/// The background tasks of a process and the token that stops them.
#[derive(Clone, Default)]
pub struct Background {
    pub tracker: TaskTracker,
    pub shutdown: CancellationToken,
}

impl Background {
    /// Resolves when the process is asked to stop or a task cancelled `shutdown`.
    pub async fn stopping(&self) {
        tokio::select! {
            () = shutdown_signal() => {}
            () = self.shutdown.cancelled() => {}
        }
    }

    /// Stops in order, once HTTP has stopped: consumers finish their record, the
    /// relay and scheduler stop (15 s at most), Kafka flushes, the store closes.
    pub async fn stop(self, store: &Store, kafka: Option<&KafkaEventLog>) {
        self.shutdown.cancel();
        self.tracker.close();
        if tokio::time::timeout(Duration::from_secs(15), self.tracker.wait()).await.is_err() {
            tracing::warn!("background tasks did not stop within 15 s");
        }
        if let Some(k) = kafka {
            let _ = k.flush().await;
        }
        store.close().await;
    }
}
