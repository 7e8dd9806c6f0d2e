//! `GET /ws`: live updates. Authenticated by the JWT in the `token` query
//! parameter or as `Sec-WebSocket-Protocol: bearer, <jwt>`; pushes each of the
//! user's `task-updates` events as one JSON CloudEvent per text message, with
//! the extension attribute `cursor`. `?after=<cursor>` resumes after that
//! message, on any sync instance ([`todo_core::service::live`]).

use std::time::Duration;

use axum::Router;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use todo_core::domain::UserId;
use todo_core::events::Topic;
use todo_core::service::live::{LiveCursor, LiveError, LiveStream, ResumeError};
use tokio::time::Instant;

use super::error::{ApiError, ApiResult};
use crate::state::AppState;

/// How often the server pings.
const PING_EVERY: Duration = Duration::from_secs(20);
/// A client that answers no ping for this long is gone.
const PONG_TIMEOUT: Duration = Duration::from_secs(60);
/// Close code for a client dropped for not keeping up (RFC 6455: try again later).
pub const CLOSE_TOO_SLOW: u16 = 1013;
/// Close code for a client that stopped answering pings (policy violation).
pub const CLOSE_UNRESPONSIVE: u16 = 1008;
/// Close code when the log could not be read: resume with the last cursor.
pub const CLOSE_RETRY: u16 = 1011;
/// Close code for a cursor that cannot be resumed from (its records are gone, or
/// this deployment's log cannot replay): reload over REST, connect without `after`.
pub const CLOSE_CURSOR_EXPIRED: u16 = 4410;
/// Close code for a cursor that names no record of this log.
pub const CLOSE_CURSOR_UNKNOWN: u16 = 4400;

pub fn routes() -> Router<AppState> {
    Router::new().route("/ws", get(upgrade))
}

#[derive(Debug, Deserialize)]
struct WsParams {
    token: Option<String>,
    /// The `cursor` of the last message the client has.
    after: Option<String>,
}

/// The token from `?token=` or from `Sec-WebSocket-Protocol: bearer, <jwt>`.
fn token<'a>(params: &'a WsParams, headers: &'a HeaderMap) -> Option<&'a str> {
    if let Some(t) = params.token.as_deref() {
        return Some(t);
    }
    let protocols = headers.get("sec-websocket-protocol")?.to_str().ok()?;
    let mut parts = protocols.split(',').map(str::trim);
    (parts.next()? == "bearer").then(|| parts.next()).flatten()
}

async fn upgrade(
    State(state): State<AppState>,
    Query(params): Query<WsParams>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> ApiResult<Response> {
    let token = token(&params, &headers).ok_or_else(|| ApiError::unauthorized("missing token"))?;
    let user = state.jwt.verify(token)?;
    let after = match params.after.as_deref() {
        Some(a) => Some(a.parse::<LiveCursor>().map_err(|e| ApiError::bad_request(e.to_string()))?),
        None => None,
    };
    let ws = if params.token.is_none() { ws.protocols(["bearer"]) } else { ws };
    Ok(ws.on_upgrade(move |socket| serve(socket, state, user, after)))
}

async fn serve(socket: WebSocket, state: AppState, user: UserId, after: Option<LiveCursor>) {
    let stream = match after {
        None => LiveStream::new(&state.hub, user),
        Some(cursor) => {
            let topic = state.live_log.topic_names().name(Topic::TaskUpdates);
            match LiveStream::resume(&state.hub, &*state.live_log, &topic, user, cursor).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::info!(user = %user, %cursor, error = %e, "resume refused");
                    let code = match e {
                        ResumeError::Expired(_) => CLOSE_CURSOR_EXPIRED,
                        ResumeError::Unknown(_) => CLOSE_CURSOR_UNKNOWN,
                        ResumeError::Unavailable(_) => CLOSE_RETRY,
                    };
                    close(socket, code, &e.to_string()).await;
                    return;
                }
            }
        }
    };
    forward(socket, stream).await;
}

async fn forward(mut socket: WebSocket, mut stream: LiveStream) {
    const TOO_SLOW: &str = "too slow: messages were dropped";
    let kicked = stream.kicked().clone();
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let mut last_pong = Instant::now();
    loop {
        tokio::select! {
            msg = stream.next() => {
                let text = match msg {
                    Ok(Some(m)) => m.text,
                    Ok(None) => break,
                    Err(LiveError::TooSlow) => {
                        close(socket, CLOSE_TOO_SLOW, TOO_SLOW).await;
                        return;
                    }
                    Err(e @ LiveError::Replay(_)) => {
                        tracing::warn!(error = %e, "live replay failed");
                        close(socket, CLOSE_RETRY, "replay failed: resume with the last cursor").await;
                        return;
                    }
                };
                // A client that does not read blocks this send; the hub then fills its
                // queue and kicks it, which ends the send here too.
                tokio::select! {
                    r = socket.send(Message::Text(Utf8Bytes::from(&*text))) => if r.is_err() { break },
                    () = kicked.cancelled() => {
                        close(socket, CLOSE_TOO_SLOW, TOO_SLOW).await;
                        return;
                    }
                }
            }
            () = kicked.cancelled() => {
                close(socket, CLOSE_TOO_SLOW, TOO_SLOW).await;
                return;
            }
            _ = ping.tick() => {
                if last_pong.elapsed() > PONG_TIMEOUT {
                    close(socket, CLOSE_UNRESPONSIVE, "no pong").await;
                    return;
                }
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    break;
                }
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Pong(_))) => last_pong = Instant::now(),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => last_pong = Instant::now(),
            },
        }
    }
}

/// Sends a close frame, giving up after a second (the client may not be reading).
/// The reason is cut to the 123 bytes a close frame allows.
async fn close(mut socket: WebSocket, code: u16, reason: &str) {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let frame = Message::Close(Some(CloseFrame { code, reason: Utf8Bytes::from(&reason[..end]) }));
    let _ = tokio::time::timeout(Duration::from_secs(1), socket.send(frame)).await;
}
