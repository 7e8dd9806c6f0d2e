//! The web page as served: its routes, content types, caching and security
//! headers, every module it imports, and which processes serve it.

use std::sync::Arc;

use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use todo_core::memory::MemoryStore;
use todo_core::ports::Ports;
use todo_services::http::jwt::JwtKeys;
use todo_services::role::Role;
use todo_services::settings::WebConfig;
use todo_services::state::AppState;
use todo_tests::{Backend, JWT_SECRET, TestApp};

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.client.get(app.url(path)).send().await.expect("request")
}

fn header(res: &reqwest::Response, name: reqwest::header::HeaderName) -> &str {
    res.headers().get(&name).and_then(|v| v.to_str().ok()).unwrap_or_else(|| panic!("{} has no {name}", res.url()))
}

/// The sources a CSP directive allows.
fn directive<'a>(csp: &'a str, name: &str) -> Vec<&'a str> {
    csp.split(';')
        .map(str::trim)
        .find_map(|d| d.strip_prefix(name).filter(|rest| rest.starts_with(' ')))
        .unwrap_or_else(|| panic!("no {name} in {csp}"))
        .split_whitespace()
        .collect()
}

#[tokio::test]
async fn page_and_assets_are_served_with_types_and_a_strict_policy() {
    let app = TestApp::spawn(Backend::Memory).await;
    let res = get(&app, "/").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, CONTENT_TYPE), "text/html; charset=utf-8");
    assert_eq!(header(&res, CACHE_CONTROL), "no-cache");
    assert_eq!(header(&res, reqwest::header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    let csp = header(&res, CONTENT_SECURITY_POLICY).to_owned();
    assert_eq!(directive(&csp, "default-src"), ["'none'"]);
    assert_eq!(directive(&csp, "script-src"), ["'self'"]);
    assert_eq!(directive(&csp, "style-src"), ["'self'"]);
    assert_eq!(directive(&csp, "frame-ancestors"), ["'none'"]);
    let host = app.addr.to_string();
    let connect = directive(&csp, "connect-src");
    assert!(connect.contains(&"'self'"), "{csp}");
    assert!(connect.contains(&format!("ws://{host}").as_str()), "the page's WebSocket is allowed: {csp}");
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");

    let html = res.text().await.unwrap();
    assert!(html.contains(r#"<script type="module" src="/app.js"></script>"#), "the HTML loads /app.js");
    assert!(html.contains(r#"<link rel="stylesheet" href="/app.css">"#), "the HTML loads /app.css");
    assert!(html.contains(r#"<meta name="todo-sync-url" content="">"#), "same-origin WebSocket by default");
    assert!(!html.contains("{{"), "every placeholder is filled");
    assert!(!html.contains(" style=") && !html.contains("<style"), "no inline styles (the CSP forbids them)");

    let css = get(&app, "/app.css").await;
    assert_eq!(css.status(), StatusCode::OK);
    assert_eq!(header(&css, CONTENT_TYPE), "text/css; charset=utf-8");
    assert!(header(&css, CONTENT_SECURITY_POLICY).contains("default-src 'none'"));
    assert!(css.text().await.unwrap().contains("prefers-color-scheme: dark"));

    let icon = get(&app, "/favicon.svg").await;
    assert_eq!(icon.status(), StatusCode::OK);
    assert_eq!(header(&icon, CONTENT_TYPE), "image/svg+xml");

    // Every module reachable from /app.js is served as JavaScript, and every one
    // is preloaded by the HTML.
    let mut queue = vec!["/app.js".to_owned()];
    let mut seen = std::collections::BTreeSet::new();
    while let Some(path) = queue.pop() {
        if !seen.insert(path.clone()) {
            continue;
        }
        let res = get(&app, &path).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&res, CONTENT_TYPE), "text/javascript; charset=utf-8", "{path}");
        assert!(header(&res, CONTENT_SECURITY_POLICY).contains("script-src 'self'"), "{path}");
        let js = res.text().await.unwrap();
        assert!(!js.contains("innerHTML") && !js.contains("eval("), "{path} builds no markup from strings");
        for import in imports(&js) {
            queue.push(resolve(&path, &import));
        }
    }
    assert!(seen.len() >= 10, "the page is split into modules: {seen:?}");
    for module in seen.iter().filter(|m| *m != "/app.js") {
        assert!(html.contains(&format!(r#"<link rel="modulepreload" href="{module}">"#)), "{module} is preloaded");
    }
}

/// The specifiers of `import ... from '...'` lines.
fn imports(js: &str) -> Vec<String> {
    js.lines()
        .map(str::trim)
        .filter(|l| l.starts_with("import ") || l.starts_with("} from "))
        .filter_map(|l| l.split(" from ").nth(1))
        .map(|s| s.trim().trim_end_matches(';').trim_matches(|c| c == '\'' || c == '"').to_owned())
        .collect()
}

/// `./x.js` relative to `/js/views/a.js`.
fn resolve(from: &str, spec: &str) -> String {
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for seg in spec.split('/') {
        match seg {
            "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

#[tokio::test]
async fn assets_revalidate_with_etags() {
    let app = TestApp::spawn(Backend::Memory).await;
    for path in ["/", "/app.js", "/app.css"] {
        let res = get(&app, path).await;
        let etag = header(&res, ETAG).to_owned();
        let again = app.client.get(app.url(path)).header(IF_NONE_MATCH, &etag).send().await.unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert!(again.headers().contains_key(CONTENT_SECURITY_POLICY));
        let other = app.client.get(app.url(path)).header(IF_NONE_MATCH, "\"stale\"").send().await.unwrap();
        assert_eq!(other.status(), StatusCode::OK, "{path}");
    }
    // Unknown paths stay JSON 404s, not the page.
    let missing = get(&app, "/nope.js").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(header(&missing, CONTENT_TYPE), "application/json");
}

/// Serves `role` on a socket; returns its base URL.
async fn serve_role(role: Role, web: WebConfig) -> (String, tokio_util::sync::CancellationToken) {
    let ports = Ports::from_one(Arc::new(MemoryStore::new()));
    let mut state = AppState::new(&ports, JwtKeys::new(JWT_SECRET, 3600), None, vec![]);
    state.web = Arc::new(web);
    let router = todo_services::http::router_for(role, state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    let token = stop.clone();
    tokio::spawn(async move { axum::serve(listener, router).with_graceful_shutdown(token.cancelled_owned()).await });
    (format!("http://{addr}"), stop)
}

#[tokio::test]
async fn chat_api_serves_the_page_pointing_at_the_other_services() {
    let web =
        WebConfig::parse(Some("ws://localhost:8001/ws"), Some("http://localhost:8002"), Some("http://localhost:8003"))
            .unwrap();
    let (base, stop) = serve_role(Role::ChatApi, web).await;
    let res = reqwest::get(format!("{base}/")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let csp = header(&res, CONTENT_SECURITY_POLICY).to_owned();
    let connect = directive(&csp, "connect-src");
    for origin in ["ws://localhost:8001", "http://localhost:8002", "http://localhost:8003"] {
        assert!(connect.contains(&origin), "{origin} allowed: {csp}");
    }
    let html = res.text().await.unwrap();
    assert!(html.contains(r#"<meta name="todo-sync-url" content="ws://localhost:8001/ws">"#));
    assert!(html.contains(r#"<meta name="todo-audit-url" content="http://localhost:8002/">"#));
    stop.cancel();

    // The other services serve no page.
    for role in [Role::Sync, Role::Audit, Role::Notification, Role::RecurringTask] {
        let (base, stop) = serve_role(role, WebConfig::default()).await;
        let res = reqwest::get(format!("{base}/")).await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{role:?}");
        stop.cancel();
    }
}
