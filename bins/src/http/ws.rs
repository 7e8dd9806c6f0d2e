//! `GET /ws`: live updates. Authenticated by the JWT sent as
//! `Sec-WebSocket-Protocol: bearer, <jwt>` (never in the URL, which ends up in
//! logs); pushes each of the user's `task-updates` events as one JSON CloudEvent
//! per text message, with the extension attribute `cursor`. `?after=<cursor>`
//! resumes after that message, on any sync instance ([`todo_core::service::live`]).
//!
//! Limits: the upgrade draws from the user's request rate limit; a user holds at
//! most `TODO_WS_MAX_PER_USER` sockets (the next is closed with
//! [`CLOSE_TOO_MANY_SOCKETS`]); a client message larger than
//! `TODO_WS_MAX_MESSAGE_BYTES` ends the connection; a socket is closed with
//! [`CLOSE_TOKEN_EXPIRED`] when its token expires.

use std::time::Duration;

use axum::Router;
use axum::extract::RawQuery;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use todo_core::domain::UserId;
use todo_core::events::Topic;
use todo_core::service::live::{LiveCursor, LiveError, LiveStream, ResumeError};
use tokio::time::Instant;

use super::error::{ApiError, ApiResult};
use super::limit::SocketSlot;
use crate::state::AppState;

/// How often the server pings.
const PING_EVERY: Duration = Duration::from_secs(20);
/// A client that answers no ping for this long is gone.
const PONG_TIMEOUT: Duration = Duration::from_secs(60);
/// Close code for a client dropped for not keeping up (RFC 6455: try again later).
pub const CLOSE_TOO_SLOW: u16 = 1013;
/// Close code for a client that stopped answering pings (policy violation).
pub const CLOSE_UNRESPONSIVE: u16 = 1008;
/// Close code for a socket over the user's `TODO_WS_MAX_PER_USER`.
pub const CLOSE_TOO_MANY_SOCKETS: u16 = 4429;
/// Close code for a socket whose token expired: sign in again and reconnect.
pub const CLOSE_TOKEN_EXPIRED: u16 = 4401;
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

/// The token of `Sec-WebSocket-Protocol: bearer, <jwt>`.
fn token(headers: &HeaderMap) -> Option<&str> {
    let protocols = headers.get("sec-websocket-protocol")?.to_str().ok()?;
    let mut parts = protocols.split(',').map(str::trim);
    (parts.next()? == "bearer").then(|| parts.next()).flatten()
}

/// The `after=<cursor>` of the query, if any.
fn after(query: Option<&str>) -> ApiResult<Option<LiveCursor>> {
    let Some(value) = query.into_iter().flat_map(|q| q.split('&')).find_map(|p| p.strip_prefix("after=")) else {
        return Ok(None);
    };
    value.parse::<LiveCursor>().map(Some).map_err(|e| ApiError::bad_request(e.to_string()))
}

async fn upgrade(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> ApiResult<Response> {
    if query.as_deref().is_some_and(|q| q.split('&').any(|p| p == "token" || p.starts_with("token="))) {
        return Err(ApiError::bad_request(
            "tokens in the URL are not accepted (URLs end up in logs): send Sec-WebSocket-Protocol: bearer, <token>",
        ));
    }
    let token = token(&headers)
        .ok_or_else(|| ApiError::unauthorized("missing token: send Sec-WebSocket-Protocol: bearer, <token>"))?;
    let (user, expires_at) = state.jwt.verify_until(token)?;
    if let Some(limit) = &state.rate_limit {
        limit.check(&user)?;
    }
    let after = after(query.as_deref())?;
    let max = state.limits.ws_max_message_bytes;
    let slot = state.ws_sockets.take(user, state.limits.ws_max_per_user);
    let ws = ws.protocols(["bearer"]).max_message_size(max).max_frame_size(max);
    Ok(ws.on_upgrade(move |socket| async move {
        match slot {
            Some(slot) => serve(socket, state, user, after, expires_at, slot).await,
            None => {
                metrics::counter!("todo_ws_refused_total").increment(1);
                close(socket, CLOSE_TOO_MANY_SOCKETS, "too many connections").await;
            }
        }
    }))
}

async fn serve(
    socket: WebSocket,
    state: AppState,
    user: UserId,
    after: Option<LiveCursor>,
    expires_at: chrono::DateTime<chrono::Utc>,
    _slot: SocketSlot,
) {
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
    forward(socket, stream, expires_at).await;
}

async fn forward(mut socket: WebSocket, mut stream: LiveStream, expires_at: chrono::DateTime<chrono::Utc>) {
    const TOO_SLOW: &str = "too slow: messages were dropped";
    let kicked = stream.kicked().clone();
    let lifetime = (expires_at - chrono::Utc::now()).to_std().unwrap_or(Duration::ZERO);
    let expired = tokio::time::sleep(lifetime);
    tokio::pin!(expired);
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
            () = &mut expired => {
                close(socket, CLOSE_TOKEN_EXPIRED, "token expired").await;
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
