//! Settings the HTTP layer runs with, parsed and checked from [`crate::config::Config`]
//! at start (a bad value is refused with a message naming the variable). They are
//! plain values: the handlers' state holds them, the configuration checks them.

use reqwest::Url;

/// Largest accepted request body.
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// Who may reach `/mcp`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct McpSettings {
    /// `Host` values accepted (`name` or `name:port`).
    pub allowed_hosts: Vec<String>,
    /// Browser origins accepted; none: any request with an `Origin` is refused.
    pub allowed_origins: Vec<String>,
}

impl Default for McpSettings {
    /// Loopback only, no browser origins (the SDK's own default for hosts).
    fn default() -> Self {
        Self { allowed_hosts: vec!["localhost".into(), "127.0.0.1".into(), "::1".into()], allowed_origins: vec![] }
    }
}

impl McpSettings {
    /// Checks `TODO_MCP_ALLOWED_HOSTS` and `TODO_MCP_ALLOWED_ORIGINS`.
    pub fn parse(hosts: &[String], origins: &[String]) -> Result<Self, String> {
        let hosts: Vec<String> = hosts.iter().map(|h| h.trim().to_owned()).filter(|h| !h.is_empty()).collect();
        if hosts.is_empty() {
            return Err(
                "TODO_MCP_ALLOWED_HOSTS must list at least one host (the names clients use to reach /mcp)".into()
            );
        }
        for h in &hosts {
            if h.contains('*') || h.contains('/') || h.contains(char::is_whitespace) {
                return Err(format!(
                    "TODO_MCP_ALLOWED_HOSTS: {h:?} is not a host name or host:port (no wildcards, schemes or paths)"
                ));
            }
        }
        let origins: Vec<String> = origins.iter().map(|o| o.trim().to_owned()).filter(|o| !o.is_empty()).collect();
        for o in &origins {
            let valid = o == "null" || o.starts_with("http://") || o.starts_with("https://");
            if !valid || o == "*" || o.ends_with('/') {
                return Err(format!(
                    "TODO_MCP_ALLOWED_ORIGINS: {o:?} is not an origin (scheme://host[:port], or :* for any port)"
                ));
            }
        }
        Ok(Self { allowed_hosts: hosts, allowed_origins: origins })
    }
}

/// Where feeds are served from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FeedSettings {
    /// The public base URL (`TODO_PUBLIC_URL`); `None`: `http://` and the request's `Host`.
    pub public_url: Option<Url>,
}

impl FeedSettings {
    pub fn parse(public_url: Option<&str>) -> Result<Self, String> {
        let Some(v) = public_url.map(str::trim).filter(|v| !v.is_empty()) else { return Ok(Self::default()) };
        let u = Url::parse(v).map_err(|e| format!("TODO_PUBLIC_URL {v:?} is not a URL: {e}"))?;
        if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() || u.query().is_some() {
            return Err(format!(
                "TODO_PUBLIC_URL {v:?} must be an http(s) URL without a query, e.g. https://todo.example.com"
            ));
        }
        Ok(Self { public_url: Some(u) })
    }
}

/// Where the page finds the services that the process serving it may not run.
/// In the embedded mode every field is `None`: everything is on the page's origin.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WebConfig {
    /// WebSocket URL of live updates (`ws://host:8001/ws`, the sync service).
    pub sync_url: Option<Url>,
    /// Base URL of `/api/v1/audit` (the audit service).
    pub audit_url: Option<Url>,
    /// Base URL of `/api/v1/notifications` (the notification service).
    pub notifications_url: Option<Url>,
}

impl WebConfig {
    /// Checks the configured URLs: `ws`/`wss` for the sync service, `http`/`https`
    /// for the others. Empty strings count as unset.
    pub fn parse(sync: Option<&str>, audit: Option<&str>, notifications: Option<&str>) -> Result<Self, String> {
        fn url(name: &str, value: Option<&str>, schemes: &[&str]) -> Result<Option<Url>, String> {
            let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else { return Ok(None) };
            let u = Url::parse(v).map_err(|e| format!("{name} {v:?} is not a URL: {e}"))?;
            if !schemes.contains(&u.scheme()) || u.host_str().is_none() {
                return Err(format!("{name} {v:?} must be an absolute {} URL", schemes.join(" or ")));
            }
            Ok(Some(u))
        }
        Ok(Self {
            sync_url: url("TODO_WEB_SYNC_URL", sync, &["ws", "wss"])?,
            audit_url: url("TODO_WEB_AUDIT_URL", audit, &["http", "https"])?,
            notifications_url: url("TODO_WEB_NOTIFICATIONS_URL", notifications, &["http", "https"])?,
        })
    }

    /// The origins besides the page's own that the page may connect to.
    pub fn extra_origins(&self) -> Vec<String> {
        let mut origins: Vec<String> = [&self.sync_url, &self.audit_url, &self.notifications_url]
            .into_iter()
            .flatten()
            .map(|u| u.origin().ascii_serialization())
            .collect();
        origins.sort();
        origins.dedup();
        origins
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_origins_are_explicit() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(McpSettings::parse(&s(&["todo.example.com", "localhost:8000"]), &[]).is_ok());
        assert!(McpSettings::parse(&s(&[]), &[]).is_err());
        assert!(McpSettings::parse(&s(&["*"]), &[]).is_err());
        assert!(McpSettings::parse(&s(&["https://x"]), &[]).is_err());
        assert!(McpSettings::parse(&s(&["x"]), &s(&["https://app.example.com", "http://localhost:*"])).is_ok());
        assert!(McpSettings::parse(&s(&["x"]), &s(&["*"])).is_err());
        assert!(McpSettings::parse(&s(&["x"]), &s(&["app.example.com"])).is_err());
    }

    #[test]
    fn public_urls_are_checked() {
        assert!(FeedSettings::parse(None).unwrap().public_url.is_none());
        assert!(FeedSettings::parse(Some("https://todo.example.com")).is_ok());
        assert!(FeedSettings::parse(Some("ftp://x")).is_err());
        assert!(FeedSettings::parse(Some("https://x/?a=b")).is_err());
    }

    #[test]
    fn web_urls_have_the_right_schemes() {
        assert!(WebConfig::parse(Some("http://localhost:8001/ws"), None, None).is_err());
        assert!(WebConfig::parse(None, Some("ws://localhost:8002"), None).is_err());
        assert!(WebConfig::parse(None, None, Some("localhost:8003")).is_err());
        assert_eq!(WebConfig::parse(Some(" "), None, None).unwrap(), WebConfig::default());
    }
}
