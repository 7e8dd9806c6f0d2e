//! The HTTP server: HTTP/1.1 (with upgrades, for WebSockets) on hyper, with the
//! limits `axum::serve` does not have: a deadline for a request's headers (a
//! slowloris connection that trickles them is closed), a cap on open
//! connections (one over it gets 503 and is closed at once), and the peer
//! address of every request as `ConnectInfo<SocketAddr>`.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

/// Limits of the server itself (the per-request ones are middleware).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerLimits {
    /// Time a client has to send a request's headers (`TODO_HEADER_TIMEOUT_SECS`, 10 s).
    pub header_read_timeout: Duration,
    /// Open connections, WebSockets included (`TODO_MAX_CONNECTIONS`, 1024).
    pub max_connections: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self { header_read_timeout: Duration::from_secs(10), max_connections: 1024 }
    }
}

/// How long shutdown waits for open requests to finish.
const DRAIN: Duration = Duration::from_secs(10);

/// Opens a listening socket whose accept queue holds as many pending
/// connections as the server may have open (`max_connections`; the kernel caps it
/// at `net.core.somaxconn`). `TcpListener::bind` asks for 128: a burst of a few
/// hundred connects overflowed that queue, the kernel dropped the SYNs, and every
/// client caught in it waited a whole second for its retransmit.
pub fn listen(addr: std::net::SocketAddr, limits: &ServerLimits) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(u32::try_from(limits.max_connections.max(128)).unwrap_or(u32::MAX))
}

/// What a connection over the cap is told before it is closed.
const OVER_CAPACITY: &[u8] =
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\n\
connection: close\r\ncontent-length: 89\r\n\r\n\
{\"error\":{\"code\":\"unavailable\",\"message\":\"too many open connections; try again shortly\"}}";

/// Serves `router` on `listener` until `shutdown` resolves, then lets open
/// requests finish (at most 10 s).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let closing = CancellationToken::new();
    let connections = TaskTracker::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout).keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before accept:
                    // back off a little instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            metrics::counter!("todo_http_connections_refused_total").increment(1);
            tokio::spawn(refuse(stream));
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            let router = router.clone();
            async move { Ok::<_, Infallible>(IntoOk::into_ok(router.oneshot(req.map(axum::body::Body::new)).await)) }
        });
        let connection = http.serve_connection(TokioIo::new(stream), service).with_upgrades();
        let closing = closing.clone();
        connections.spawn(async move {
            tokio::pin!(connection);
            let ended = tokio::select! {
                ended = connection.as_mut() => ended,
                () = closing.cancelled() => {
                    // Finish the request in flight, then close.
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            // Errors here are the client's (reset, timed out headers, bad HTTP).
            if let Err(e) = ended {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    closing.cancel();
    connections.close();
    if tokio::time::timeout(DRAIN, connections.wait()).await.is_err() {
        tracing::warn!("open connections did not finish within {DRAIN:?}");
    }
    Ok(())
}

/// Tells a connection over the cap to come back later, and closes it.
async fn refuse(mut stream: TcpStream) {
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        stream.write_all(OVER_CAPACITY).await?;
        stream.shutdown().await
    })
    .await;
}

/// `Result<T, Infallible>` into `T`.
trait IntoOk<T> {
    fn into_ok(self) -> T;
}

impl<T> IntoOk<T> for Result<T, Infallible> {
    fn into_ok(self) -> T {
        match self {
            Ok(v) => v,
            Err(never) => match never {},
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_is_well_formed() {
        let text = std::str::from_utf8(OVER_CAPACITY).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("content-length: {}", body.len())), "{head}");
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["error"]["code"], "unavailable");
    }

    /// The accept queue is as long as the connection cap, not the 128 of
    /// `TcpListener::bind` (read back with `ss`).
    #[tokio::test]
    async fn the_accept_queue_is_as_long_as_the_connection_cap() {
        let limits = ServerLimits { max_connections: 1000, ..ServerLimits::default() };
        let listener = listen("127.0.0.1:0".parse().unwrap(), &limits).unwrap();
        let port = listener.local_addr().unwrap().port();
        let somaxconn: u32 = std::fs::read_to_string("/proc/sys/net/core/somaxconn").unwrap().trim().parse().unwrap();
        // For a listening socket, `ss` shows the accept queue's length as Send-Q.
        let ss = std::process::Command::new("ss").args(["-ltnH", &format!("sport = :{port}")]).output().unwrap();
        let line = String::from_utf8_lossy(&ss.stdout).to_string();
        let backlog: u32 = line.split_whitespace().nth(2).unwrap().parse().unwrap();
        assert_eq!(backlog, 1000.min(somaxconn), "{line}");
    }
}
