//! The Tokio runtime the module owns: the Kafka adapters are async, Python
//! callers are not. Started on first use, lives as long as the process.
//!
//! Not fork-safe (no Tokio runtime is): a process forked after the first Kafka
//! call must not use the parent's publishers or consumers.

use std::future::Future;
use std::sync::OnceLock;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use tokio::runtime::Runtime;

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// The module's multi-thread runtime (two workers: the clients' own I/O runs on
/// librdkafka's threads, the runtime only drives futures and timers).
pub fn runtime() -> PyResult<&'static Runtime> {
    if let Some(rt) = RUNTIME.get() {
        return Ok(rt);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("todo-events")
        .enable_all()
        .build()
        .map_err(|e| PyRuntimeError::new_err(format!("starting the tokio runtime failed: {e}")))?;
    // Two threads may race to start it; the loser's runtime is dropped unused.
    Ok(RUNTIME.get_or_init(|| rt))
}

/// Runs `fut` to completion on the module's runtime with the GIL released, so
/// other Python threads run while this one waits on the network.
pub fn block_on<F>(py: Python<'_>, fut: F) -> PyResult<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    let rt = runtime()?;
    Ok(py.detach(|| rt.block_on(fut)))
}
