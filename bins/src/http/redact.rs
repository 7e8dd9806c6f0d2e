//! Secrets out of request logs: the request span (tower-http's trace layer)
//! records the URI with the calendar feed's secret and any `token` query value
//! replaced, so a debug log never holds a working feed address or credential.

use std::borrow::Cow;

use axum::http::{Request, Uri};
use tower_http::trace::MakeSpan;
use tracing::Span;

/// Where calendar feeds are served: the path segment after it is a secret.
const FEED_PREFIX: &str = "/api/v1/calendar/";
/// Feed management paths under [`FEED_PREFIX`] that are not secrets.
const FEED_ACTIONS: &[&str] = &["rotate"];

/// `request` spans like tower-http's default (method, URI, version; at DEBUG),
/// with [`redact`]ed URIs.
#[derive(Clone, Copy, Debug, Default)]
pub struct RedactedSpan;

impl<B> MakeSpan<B> for RedactedSpan {
    fn make_span(&mut self, req: &Request<B>) -> Span {
        tracing::debug_span!("request", method = %req.method(), uri = %redact(req.uri()), version = ?req.version())
    }
}

/// `uri` as it may be logged.
pub fn redact(uri: &Uri) -> Cow<'_, str> {
    let path = uri.path();
    let secret_path =
        path.strip_prefix(FEED_PREFIX).is_some_and(|rest| !rest.is_empty() && !FEED_ACTIONS.contains(&rest));
    let secret_query = uri.query().is_some_and(|q| q.split('&').any(is_secret_pair));
    if !secret_path && !secret_query {
        return Cow::Borrowed(uri.path_and_query().map_or(path, |pq| pq.as_str()));
    }
    let mut out = if secret_path { format!("{FEED_PREFIX}<secret>") } else { path.to_owned() };
    if let Some(q) = uri.query() {
        out.push('?');
        let pairs: Vec<Cow<'_, str>> = q
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if is_secret_pair(p) => Cow::Owned(format!("{k}=<secret>")),
                _ => Cow::Borrowed(p),
            })
            .collect();
        out.push_str(&pairs.join("&"));
    }
    Cow::Owned(out)
}

fn is_secret_pair(pair: &str) -> bool {
    let key = pair.split_once('=').map_or(pair, |(k, _)| k);
    matches!(key.to_ascii_lowercase().as_str(), "token" | "access_token" | "secret")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> String {
        redact(&s.parse().unwrap()).into_owned()
    }

    #[test]
    fn feed_secrets_and_tokens_are_redacted() {
        let secret = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde";
        assert_eq!(r(&format!("/api/v1/calendar/{secret}.ics")), "/api/v1/calendar/<secret>");
        assert_eq!(
            r(&format!("/api/v1/calendar/{secret}.ics?components=vtodo")),
            "/api/v1/calendar/<secret>?components=vtodo"
        );
        assert_eq!(r("/api/v1/calendar/rotate"), "/api/v1/calendar/rotate");
        assert_eq!(r("/api/v1/calendar"), "/api/v1/calendar");
        assert_eq!(r("/ws?token=eyJabc&after=3"), "/ws?token=<secret>&after=3");
        assert_eq!(r("/api/v1/tasks?status=all&q=x"), "/api/v1/tasks?status=all&q=x");
    }
}
