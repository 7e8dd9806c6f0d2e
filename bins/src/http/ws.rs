//! `GET /ws`: live updates. Authenticated by the JWT in the `token` query
//! parameter or as `Sec-WebSocket-Protocol: bearer, <jwt>`; pushes each of the
//! user's `task-updates` events as one JSON CloudEvent per text message.

use std::time::Duration;

use axum::Router;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use todo_core::domain::UserId;
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

pub fn routes() -> Router<AppState> {
    Router::new().route("/ws", get(upgrade))
}

#[derive(Debug, Deserialize)]
struct WsParams {
    token: Option<String>,
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
    let ws = if params.token.is_none() { ws.protocols(["bearer"]) } else { ws };
    Ok(ws.on_upgrade(move |socket| serve(socket, state, user)))
}

async fn serve(mut socket: WebSocket, state: AppState, user: UserId) {
    let mut client = state.hub.connect(user);
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let mut last_pong = Instant::now();
    loop {
        tokio::select! {
            msg = client.messages.recv() => {
                let Some(text) = msg else { break };
                // A client that does not read blocks this send; the hub then fills its
                // queue and kicks it, which ends the send here too.
                tokio::select! {
                    r = socket.send(Message::Text(Utf8Bytes::from(&*text))) => if r.is_err() { break },
                    () = client.kicked.cancelled() => {
                        close(socket, CLOSE_TOO_SLOW, "too slow: messages were dropped").await;
                        return;
                    }
                }
            }
            () = client.kicked.cancelled() => {
                close(socket, CLOSE_TOO_SLOW, "too slow: messages were dropped").await;
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
async fn close(mut socket: WebSocket, code: u16, reason: &'static str) {
    let frame = Message::Close(Some(CloseFrame { code, reason: Utf8Bytes::from_static(reason) }));
    let _ = tokio::time::timeout(Duration::from_secs(1), socket.send(frame)).await;
}
