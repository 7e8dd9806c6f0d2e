//! The web page: a single-page app (plain HTML, ES modules and CSS from
//! `src/web/`, no build step) embedded in the binary and served at `/`.
//!
//! Every response carries a strict `Content-Security-Policy`: scripts, styles and
//! connections only from this origin (plus the WebSocket of this host and the
//! services named in [`WebConfig`]), no inline code, no framing, and Trusted Types
//! enforced, so the page cannot turn data into markup. Assets are small and have no
//! content hash in their names, so they are sent with `Cache-Control: no-cache` and
//! a strong `ETag`: a reload costs one `304` per file.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use reqwest::Url;

use crate::settings::WebConfig;
use crate::state::AppState;

/// One embedded file.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($file:literal, $content_type:expr) => {
        Asset {
            path: concat!("/", $file),
            content_type: $content_type,
            body: include_bytes!(concat!("../web/", $file)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// Everything the page loads besides the HTML. A module missing here is a 404 in
/// the browser; the integration test follows every `import` to catch that.
const ASSETS: &[Asset] = &[
    asset!("app.js", JS),
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("favicon.svg", "image/svg+xml"),
    asset!("js/api.js", JS),
    asset!("js/dom.js", JS),
    asset!("js/format.js", JS),
    asset!("js/live.js", JS),
    asset!("js/recurrence.js", JS),
    asset!("js/state.js", JS),
    asset!("js/views/audit.js", JS),
    asset!("js/views/auth.js", JS),
    asset!("js/views/chat.js", JS),
    asset!("js/views/connections.js", JS),
    asset!("js/views/editor.js", JS),
    asset!("js/views/filters.js", JS),
    asset!("js/views/notifications.js", JS),
    asset!("js/views/tasks.js", JS),
];

const INDEX_HTML: &str = include_str!("../web/index.html");

/// A body ready to serve: bytes, type and validator.
struct Prepared {
    content_type: &'static str,
    body: Bytes,
    etag: HeaderValue,
}

impl Prepared {
    fn new(content_type: &'static str, body: Bytes) -> Self {
        // Any stable digest will do: the ETag only has to change when the bytes do.
        let mut h = std::hash::DefaultHasher::new();
        body.hash(&mut h);
        let etag = HeaderValue::from_str(&format!("\"{:016x}\"", h.finish())).expect("hex is a valid header");
        Self { content_type, body, etag }
    }
}

/// The page's routes: `/` and every asset.
pub fn routes(config: &WebConfig) -> Router<AppState> {
    // The HTML names the configured service URLs in <meta> tags, so it is rendered
    // once here rather than per request.
    let page = Arc::new(Prepared::new("text/html; charset=utf-8", Bytes::from(render_index(config))));
    let connect = Arc::new(config.extra_origins());
    let mut router = {
        let connect = connect.clone();
        Router::new().route("/", get(move |headers: HeaderMap| async move { serve(&page, &connect, &headers) }))
    };
    for a in ASSETS {
        let prepared = Arc::new(Prepared::new(a.content_type, Bytes::from_static(a.body)));
        let connect = connect.clone();
        router =
            router.route(a.path, get(move |headers: HeaderMap| async move { serve(&prepared, &connect, &headers) }));
    }
    router
}

fn serve(p: &Prepared, extra_connect: &[String], req: &HeaderMap) -> Response {
    let host = req.get(header::HOST).and_then(|h| h.to_str().ok());
    let csp = HeaderValue::from_str(&content_security_policy(host, extra_connect))
        .expect("the policy is built from checked parts");
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::ETAG, p.etag.clone());
    let fresh = req
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim().trim_start_matches("W/") == p.etag));
    if fresh {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(p.content_type));
    (StatusCode::OK, headers, p.body.clone()).into_response()
}

/// The policy of every page response. `'self'` covers same-origin WebSockets in
/// CSP 3, but older engines need `ws://host` spelled out; the host comes from the
/// request and is used only if it is a plain `host[:port]`.
pub fn content_security_policy(host: Option<&str>, extra_connect: &[String]) -> String {
    let mut connect = vec!["'self'".to_owned()];
    if let Some(h) = host.filter(|h| is_plain_host(h)) {
        connect.push(format!("ws://{h}"));
        connect.push(format!("wss://{h}"));
    }
    connect.extend(extra_connect.iter().cloned());
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; \
         connect-src {}; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; \
         require-trusted-types-for 'script'; trusted-types 'none'",
        connect.join(" ")
    )
}

/// `host`, `host:port`, `[v6]:port`: nothing that could end a CSP source.
fn is_plain_host(h: &str) -> bool {
    !h.is_empty() && h.len() <= 255 && h.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
}

/// `index.html` with the configured service URLs filled in (empty: same origin).
fn render_index(config: &WebConfig) -> String {
    let value = |u: &Option<Url>| u.as_ref().map(|u| escape_attr(u.as_str())).unwrap_or_default();
    INDEX_HTML
        .replace("{{sync_url}}", &value(&config.sync_url))
        .replace("{{audit_url}}", &value(&config.audit_url))
        .replace("{{notifications_url}}", &value(&config.notifications_url))
}

fn escape_attr(s: &str) -> String {
    s.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;").replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_allows_this_hosts_websocket_and_configured_services() {
        let cfg = WebConfig::parse(Some("ws://localhost:8001/ws"), Some("http://localhost:8002/"), None).unwrap();
        let csp = content_security_policy(Some("127.0.0.1:8000"), &cfg.extra_origins());
        assert!(
            csp.contains(
                "connect-src 'self' ws://127.0.0.1:8000 wss://127.0.0.1:8000 http://localhost:8002 ws://localhost:8001;"
            ),
            "{csp}"
        );
        assert!(csp.starts_with("default-src 'none'; script-src 'self'; style-src 'self';"));
        assert!(!csp.contains("unsafe"));
    }

    #[test]
    fn odd_hosts_stay_out_of_the_policy() {
        let csp = content_security_policy(Some("evil.com; script-src *"), &[]);
        assert!(csp.contains("connect-src 'self';"), "{csp}");
        assert!(!csp.contains("evil"));
    }

    #[test]
    fn index_names_configured_urls_escaped() {
        let cfg = WebConfig::parse(Some("ws://localhost:8001/ws?a=1&b=\"2\""), None, None).unwrap();
        let html = render_index(&cfg);
        assert!(html.contains(r#"<meta name="todo-sync-url" content="ws://localhost:8001/ws?a=1&amp;b=%222%22">"#));
        assert!(html.contains(r#"<meta name="todo-audit-url" content="">"#));
        assert!(!render_index(&WebConfig::default()).contains("{{"));
    }
}
